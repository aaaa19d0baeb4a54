#!/usr/bin/python3
"""Generates the --net references: torch nn.Sequential models trained on the bundled MNIST digits from
torch's own initial weights, in order (no shuffle), batch 256, 3 epochs; their initial state_dicts as
safetensors (nn.Sequential's names: 1.weight, 3.bias, ...) and their per-step losses.

Run with Debian's torch (python3-torch):  /usr/bin/python3 tests/golden/make_net_golden.py
"""
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_golden import HERE, ROOT, read_idx, write_curve, write_safetensors  # noqa: E402

nn = torch.nn
# name, the --net spec, the modules, the optimizer (descent's --optimizer flags in the test)
NETS = [
    ("tanh_relu", "flatten,linear(100),tanh,linear(100),relu,linear(10)",
     lambda: [nn.Flatten(), nn.Linear(784, 100), nn.Tanh(), nn.Linear(100, 100), nn.ReLU(), nn.Linear(100, 10)],
     lambda p: torch.optim.Adam(p, lr=1e-3)),
    ("nobias_leaky", "flatten,linear(64,bias=false),leakyrelu(0.2),linear(10)",
     lambda: [nn.Flatten(), nn.Linear(784, 64, bias=False), nn.LeakyReLU(0.2), nn.Linear(64, 10)],
     lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9)),
]


def main():
    torch.set_num_threads(1)
    data = os.path.join(ROOT, "data")
    x = torch.from_numpy(read_idx(os.path.join(data, "train-images-idx3-ubyte.gz")).astype(np.float32)) / 256
    x = x.reshape(-1, 1, 28, 28)  # IDX images are [1, 28, 28] samples
    y = torch.from_numpy(read_idx(os.path.join(data, "train-labels-idx1-ubyte.gz")).astype(np.int64))
    for name, spec, modules, make in NETS:
        torch.manual_seed(0)
        net = nn.Sequential(*modules())
        write_safetensors(os.path.join(HERE, "net_torch_%s_init.safetensors" % name), net.state_dict())
        write_curve("net_torch_%s_losses.csv" % name, net, make(net.parameters()), torch.nn.functional.cross_entropy, x, y)


if __name__ == "__main__":
    main()
