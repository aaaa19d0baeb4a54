#!/usr/bin/python3
"""Generates the convolution references (tests/cnn_test.cc) with Debian's torch (python3-torch):

  /usr/bin/python3 tests/golden/make_cnn_golden.py

1. One step per layer configuration: a small nn.Sequential spelled as a --net spec, its initial
   state_dict, a CSV batch of random inputs with class labels, torch's cross-entropy loss on it and
   its gradients (as safetensors under the parameters' names): forward and backward of every layer
   kind and argument, checked through `descent train --optimizer sgd --lr 1` for one step.
2. Curves: CNNs trained on the bundled MNIST digits from torch's initial weights, in order, batch 64,
   Adam, with oneDNN on and off (columns loss and loss_ref): torch agrees with itself only so far
   (NOTES.md), and the test compares only the steps where it does.
"""
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_golden import HERE, ROOT, read_idx, write_safetensors  # noqa: E402

nn = torch.nn
OUT = os.path.join(HERE, "cnn")

# name, input shape, spec (descent's --net; the torch modules are built from it)
STEPS = [
    ("conv_basic", (2, 7, 7), "conv2d(4,3),relu,flatten,linear(3)"),
    ("conv_stride_pad_nobias", (2, 9, 8), "conv2d(6,3,stride=2,padding=1,bias=false),tanh,flatten,linear(3)"),
    ("conv_dilation_same", (2, 8, 8), "conv2d(4,3,padding='same',dilation=2),sigmoid,flatten,linear(3)"),
    ("conv_even_same", (3, 6, 7), "conv2d(4,2,padding='same'),relu,conv2d(3,4,stride=3),flatten,linear(3)"),
    ("conv_groups", (4, 6, 6), "conv2d(6,3,padding=1,groups=2),relu,conv2d(6,1,groups=3),flatten,linear(3)"),
    ("depthwise", (4, 6, 6), "conv2d(4,3,padding=1,groups=4),relu,conv2d(8,1),gelu,flatten,linear(3)"),
    ("maxpool", (3, 8, 8), "conv2d(4,3,padding=1),relu,maxpool2d(2),flatten,linear(3)"),
    ("maxpool_stride_pad", (2, 9, 9), "maxpool2d(3,stride=2,padding=1),conv2d(4,3),relu,flatten,linear(3)"),
    ("maxpool_dilation", (2, 9, 9), "conv2d(3,1),maxpool2d(2,dilation=2),relu,flatten,linear(3)"),
    ("avgpool", (2, 8, 8), "conv2d(4,3,padding=1),avgpool2d(2),tanh,flatten,linear(3)"),
    ("avgpool_pad", (2, 9, 9), "conv2d(3,3),avgpool2d(3,stride=2,padding=1),flatten,linear(3)"),
    ("avgpool_pad_exclude", (2, 9, 9), "conv2d(3,3),avgpool2d(3,stride=2,padding=1,count_include_pad=false),flatten,linear(3)"),
    ("global_avg", (3, 7, 7), "conv2d(8,3,padding=1),relu,adaptiveavgpool2d(1),flatten,linear(3)"),
    ("conv1d", (3, 20), "conv1d(4,3,padding=1),relu,maxpool1d(2),conv1d(6,5,stride=2,groups=2),flatten,linear(3)"),
    ("conv1d_avg", (2, 16), "conv1d(4,4,padding='same',dilation=2),avgpool1d(3,stride=1,padding=1),relu,adaptiveavgpool1d(1),flatten,linear(3)"),
]
ROWS = 6

# name, spec (on [1, 28, 28] digits), steps
CURVES = [
    ("lenet", "conv2d(6,5,padding=2),relu,maxpool2d(2),conv2d(16,5),relu,maxpool2d(2),flatten,linear(120),relu,"
              "linear(84),relu,linear(10)", 40),
    ("separable", "conv2d(8,3,stride=2,padding=1),relu,conv2d(8,3,padding=1,groups=8),conv2d(16,1),relu,"
                  "avgpool2d(2),conv2d(16,3,padding='same',groups=16),conv2d(24,1),tanh,adaptiveavgpool2d(1),"
                  "flatten,linear(10)", 40),
]


def build(spec, shape):
    """torch modules for a --net spec on samples of `shape`."""
    items, depth, cur = [], 0, ""
    for ch in spec:
        depth += ch == "("
        depth -= ch == ")"
        if ch == "," and depth == 0:
            items.append(cur)
            cur = ""
        else:
            cur += ch
    items.append(cur)
    channels, features, modules = shape[0], int(np.prod(shape)), []
    for item in items:
        name, _, rest = item.partition("(")
        call = lambda *a, **k: (a, k)  # noqa: E731
        args, kw = eval("call(" + rest, {"call": call, "false": False, "true": True}) if rest else ((), {})
        if name in ("conv2d", "conv1d"):
            cls = nn.Conv2d if name == "conv2d" else nn.Conv1d
            modules.append(cls(channels, *args, **kw))
            channels = args[0]
        elif name == "linear":
            modules.append(nn.Linear(features, *args, **kw))
        else:
            modules.append({"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "gelu": nn.GELU,
                            "flatten": nn.Flatten, "maxpool2d": nn.MaxPool2d, "maxpool1d": nn.MaxPool1d,
                            "avgpool2d": nn.AvgPool2d, "avgpool1d": nn.AvgPool1d,
                            "adaptiveavgpool2d": nn.AdaptiveAvgPool2d,
                            "adaptiveavgpool1d": nn.AdaptiveAvgPool1d}[name](*args, **kw))
        with torch.no_grad():
            features = int(np.prod(nn.Sequential(*modules)(torch.zeros(1, *shape)).shape[1:]))
    return nn.Sequential(*modules)


def write_steps():
    for k, (name, shape, spec) in enumerate(STEPS):
        torch.manual_seed(100 + k)
        net = build(spec, shape)
        write_safetensors(os.path.join(OUT, name + "_init.safetensors"), net.state_dict())
        x = torch.randn(ROWS, *shape)
        y = torch.randint(0, 3, (ROWS,))
        with open(os.path.join(OUT, name + ".csv"), "w") as f:
            f.write("label," + ",".join("x%d" % i for i in range(x[0].numel())) + "\n")
            for r in range(ROWS):
                f.write("%d," % y[r] + ",".join("%.9g" % v for v in x[r].flatten().tolist()) + "\n")
        loss = nn.functional.cross_entropy(net(x), y)
        loss.backward()
        write_safetensors(os.path.join(OUT, name + "_grad.safetensors"),
                          {n: p.grad for n, p in net.named_parameters()})
        with open(os.path.join(OUT, name + ".txt"), "w") as f:
            f.write("%s\n%s\n%.9g\n" % (",".join(map(str, shape)), spec, loss.item()))


def curve(net, x, y, steps, batch=64):
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    losses = []
    for s in range(steps):
        opt.zero_grad()
        loss = nn.functional.cross_entropy(net(x[s * batch:(s + 1) * batch]), y[s * batch:(s + 1) * batch])
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


def write_curves():
    data = os.path.join(ROOT, "data")
    x = torch.from_numpy(read_idx(os.path.join(data, "train-images-idx3-ubyte.gz")).astype(np.float32)) / 256
    x = x.reshape(-1, 1, 28, 28)
    y = torch.from_numpy(read_idx(os.path.join(data, "train-labels-idx1-ubyte.gz")).astype(np.int64))
    for name, spec, steps in CURVES:
        torch.manual_seed(0)
        net = build(spec, (1, 28, 28))
        write_safetensors(os.path.join(OUT, "curve_%s_init.safetensors" % name), net.state_dict())
        init = {k: v.clone() for k, v in net.state_dict().items()}
        a = curve(net, x, y, steps)
        net.load_state_dict(init)
        with torch.backends.mkldnn.flags(enabled=False):
            b = curve(net, x, y, steps)
        with open(os.path.join(OUT, "curve_%s.csv" % name), "w") as f:
            f.write("# %s\nstep,loss,loss_ref\n" % spec)
            for s in range(steps):
                f.write("%d,%.9g,%.9g\n" % (s + 1, a[s], b[s]))


if __name__ == "__main__":
    torch.set_num_threads(1)
    os.makedirs(OUT, exist_ok=True)
    write_steps()
    write_curves()
