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
    ("batchnorm2d", (2, 7, 7), "conv2d(4,3),batchnorm2d,relu,flatten,linear(3)"),
    ("batchnorm2d_options", (3, 8, 8), "conv2d(4,3,bias=false),batchnorm2d(eps=0.001,momentum=0.25,affine=false),relu,"
                                       "avgpool2d(2),flatten,linear(3)"),
    ("batchnorm1d_features", (12,), "linear(8),batchnorm1d,tanh,linear(3)"),
    ("batchnorm1d_sequence", (3, 10), "conv1d(4,3),batchnorm1d,relu,flatten,batchnorm1d(momentum=0.5),linear(3)"),
    ("batchnorm_first", (2, 6, 6), "batchnorm2d,conv2d(3,3),relu,flatten,linear(3)"),
]
ROWS = 6

# name, spec (on [1, 28, 28] digits), steps
CURVES = [
    ("lenet", "conv2d(6,5,padding=2),relu,maxpool2d(2),conv2d(16,5),relu,maxpool2d(2),flatten,linear(120),relu,"
              "linear(84),relu,linear(10)", 40),
    ("separable", "conv2d(8,3,stride=2,padding=1,bias=false),batchnorm2d,relu,conv2d(8,3,padding=1,groups=8,bias=false),"
                  "batchnorm2d,relu,conv2d(16,1),relu,avgpool2d(2),conv2d(16,3,padding='same',groups=16),conv2d(24,1),"
                  "batchnorm2d,tanh,adaptiveavgpool2d(1),flatten,linear(10)", 40),
]
# A Conv1d net on motion-sensor-like windows ([3, 32]: three axes, 32 readings), from a CSV.
WINDOWS_SPEC = "conv1d(8,5,padding=2),batchnorm1d,relu,maxpool1d(2),conv1d(16,3),relu,adaptiveavgpool1d(1),flatten,linear(4)"


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
    modules = []
    for item in items:
        with torch.no_grad():
            now = nn.Sequential(*modules)(torch.zeros(2, *shape)).shape
        channels, features = now[1], int(np.prod(now[1:]))
        name, _, rest = item.partition("(")
        call = lambda *a, **k: (a, k)  # noqa: E731
        args, kw = eval("call(" + rest, {"call": call, "false": False, "true": True}) if rest else ((), {})
        if name in ("conv2d", "conv1d"):
            cls = nn.Conv2d if name == "conv2d" else nn.Conv1d
            modules.append(cls(channels, *args, **kw))
        elif name == "linear":
            modules.append(nn.Linear(features, *args, **kw))
        elif name in ("batchnorm2d", "batchnorm1d"):
            modules.append((nn.BatchNorm2d if name == "batchnorm2d" else nn.BatchNorm1d)(channels, *args, **kw))
        elif name == "dropout":
            modules.append(nn.Dropout(*args, **kw))
        elif name == "leakyrelu":
            modules.append(nn.LeakyReLU(*args, **kw))
        else:
            modules.append({"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "gelu": nn.GELU,
                            "flatten": nn.Flatten, "maxpool2d": nn.MaxPool2d, "maxpool1d": nn.MaxPool1d,
                            "avgpool2d": nn.AvgPool2d, "avgpool1d": nn.AvgPool1d,
                            "adaptiveavgpool2d": nn.AdaptiveAvgPool2d,
                            "adaptiveavgpool1d": nn.AdaptiveAvgPool1d}[name](*args, **kw))
    for m in modules:  # the shape probes above ran batch norm in training mode
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            m.reset_running_stats()
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
        # After the step (SGD, lr 1): batch norm's running statistics, and the evaluation-mode loss.
        with torch.no_grad():
            for p in net.parameters():
                p -= p.grad
        buffers = {n: b for n, b in net.state_dict().items() if "running" in n}
        if buffers:
            write_safetensors(os.path.join(OUT, name + "_running.safetensors"), buffers)
        net.eval()
        with torch.no_grad():
            eval_loss = nn.functional.cross_entropy(net(x), y).item()
        with open(os.path.join(OUT, name + ".txt"), "w") as f:
            f.write("%s\n%s\n%.9g\n%.9g\n" % (",".join(map(str, shape)), spec, loss.item(), eval_loss))


def curve(net, x, y, steps, batch=64, epochs_of=None):
    """Adam, in order; steps past the data's end (epochs_of samples) start it again."""
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    losses = []
    per_epoch = (epochs_of or len(x)) // batch
    for s in range(steps):
        opt.zero_grad()
        b = s % per_epoch
        loss = nn.functional.cross_entropy(net(x[b * batch:(b + 1) * batch]), y[b * batch:(b + 1) * batch])
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


def write_windows():
    """Four kinds of motion (still, walking, running, shaking) as noisy three-axis readings."""
    rng = np.random.default_rng(7)
    n, length = 384, 32
    t = np.arange(length) / 8.0
    x = np.zeros((n, 3, length), np.float32)
    y = rng.integers(0, 4, n)
    for i in range(n):
        freq, amp = [(0.0, 0.0), (0.5, 1.0), (1.2, 2.0), (3.0, 0.7)][y[i]]
        phase = rng.uniform(0, 2 * np.pi, 3)
        for a in range(3):
            x[i, a] = amp * np.sin(2 * np.pi * freq * t + phase[a]) + (a == 2) + rng.normal(0, 0.3, length)
    with open(os.path.join(OUT, "windows.csv"), "w") as f:
        f.write("activity," + ",".join("%s%d" % (axis, k) for axis in "xyz" for k in range(length)) + "\n")
        for i in range(n):
            f.write("%d," % y[i] + ",".join("%.6g" % v for v in x[i].flatten()) + "\n")
    data = np.loadtxt(os.path.join(OUT, "windows.csv"), delimiter=",", skiprows=1, dtype=np.float32)
    xs = torch.from_numpy(data[:, 1:].reshape(n, 3, length))
    ys = torch.from_numpy(data[:, 0].astype(np.int64))
    torch.manual_seed(0)
    net = build(WINDOWS_SPEC, (3, length))
    write_safetensors(os.path.join(OUT, "curve_windows_init.safetensors"), net.state_dict())
    init = {k: v.clone() for k, v in net.state_dict().items()}
    a = curve(net, xs, ys, 2 * n // 32, batch=32, epochs_of=n)
    net.load_state_dict(init)
    with torch.backends.mkldnn.flags(enabled=False):
        b = curve(net, xs, ys, 2 * n // 32, batch=32, epochs_of=n)
    with open(os.path.join(OUT, "curve_windows.csv"), "w") as f:
        f.write("# %s\nstep,loss,loss_ref\n" % WINDOWS_SPEC)
        for s in range(len(a)):
            f.write("%d,%.9g,%.9g\n" % (s + 1, a[s], b[s]))


if __name__ == "__main__":
    torch.set_num_threads(1)
    os.makedirs(OUT, exist_ok=True)
    write_steps()
    write_curves()
    write_windows()
