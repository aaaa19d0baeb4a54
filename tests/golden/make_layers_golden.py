#!/usr/bin/python3
"""Generates tests/golden/layers_golden.h: what torch computes for every activation and loss
descent has, forward and backward, and loss curves of small models trained from torch's
initial weights on real data sets (scikit-learn's bundled ones).

Run with Debian's torch and scikit-learn (python3-torch, python3-sklearn):
    /usr/bin/python3 tests/golden/make_layers_golden.py
The tests themselves never need either.
"""
import os

import numpy as np
import torch
import torch.nn.functional as F
from sklearn import datasets

HERE = os.path.dirname(os.path.abspath(__file__))
torch.set_num_threads(1)
torch.manual_seed(0)

out = []


def emit(name, values, ctype="uint32_t"):
    a = np.ascontiguousarray(np.asarray(values, dtype=np.float32 if ctype == "uint32_t" else np.int32))
    words = a.view(np.uint32) if ctype == "uint32_t" else a
    fmt = (lambda w: "0x%08x" % w) if ctype == "uint32_t" else str
    out.append("static const %s %s[] = {" % (ctype, name))
    flat = [fmt(int(w)) for w in words.ravel()]
    for i in range(0, len(flat), 8):
        out.append("    " + ", ".join(flat[i:i + 8]) + ",")
    out.append("};")


# --- Activations: a grid over where each function bends, and beyond; random output gradients.
x = np.concatenate([np.linspace(-10, 10, 401), [-100, -30, -1e-3, -1e-7, 0.0, 1e-7, 1e-3, 30, 100]]).astype(np.float32)
g = np.random.RandomState(1).uniform(-1, 1, x.size).astype(np.float32)
emit("kActX", x)
emit("kActGrad", g)
ACTIVATIONS = [
    ("relu", lambda t: torch.relu(t)),
    ("leaky_relu", lambda t: F.leaky_relu(t, 0.01)),
    ("leaky_relu_neg", lambda t: F.leaky_relu(t, -0.2)),
    ("tanh", torch.tanh),
    ("sigmoid", torch.sigmoid),
    ("gelu", lambda t: F.gelu(t)),
    ("gelu_tanh", lambda t: F.gelu(t, approximate="tanh")),
    ("identity", lambda t: t * 1.0),
]
for name, f in ACTIVATIONS:
    t = torch.tensor(x, requires_grad=True)
    y = f(t)
    y.backward(torch.tensor(g))
    emit("kAct_%s_y" % name, y.detach().numpy())
    emit("kAct_%s_dx" % name, t.grad.numpy())
out.append("constexpr int kActN = %d;" % x.size)

# --- Losses on random outputs: 7 rows x 3 outputs (element losses), 7 rows x 5 classes.
rs = np.random.RandomState(2)
z = (rs.standard_normal((7, 3)) * 2).astype(np.float32)
zc = (rs.standard_normal((7, 5)) * 2).astype(np.float32)
t_reg = (rs.standard_normal((7, 3)) * 2).astype(np.float32)
t_bin = rs.uniform(0, 1, (7, 3)).astype(np.float32)
t_bin[:, 0] = np.round(t_bin[:, 0])  # hard and soft labels
labels = rs.randint(0, 5, 7).astype(np.int32)
emit("kLossZ", z)
emit("kLossZc", zc)
emit("kLossTReg", t_reg)
emit("kLossTBin", t_bin)
emit("kLossLabels", labels, "int32_t")
LOSSES = [
    ("mse", z, t_reg, lambda a, b: F.mse_loss(a, b)),
    ("l1", z, t_reg, lambda a, b: F.l1_loss(a, b)),
    ("huber", z, t_reg, lambda a, b: F.huber_loss(a, b, delta=1.0)),
    ("huber_05", z, t_reg, lambda a, b: F.huber_loss(a, b, delta=0.5)),
    ("bce", z, t_bin, lambda a, b: F.binary_cross_entropy_with_logits(a, b)),
    ("bce_pw", z, t_bin, lambda a, b: F.binary_cross_entropy_with_logits(a, b, pos_weight=torch.full((3,), 2.5))),
    ("nll", zc, labels, lambda a, b: F.nll_loss(F.log_softmax(a, 1), b)),
    ("ce", zc, labels, lambda a, b: F.cross_entropy(a, b)),
    ("ce_smooth", zc, labels, lambda a, b: F.cross_entropy(a, b, label_smoothing=0.1)),
]
for name, zz, tt, f in LOSSES:
    a = torch.tensor(zz, requires_grad=True)
    b = torch.tensor(tt).long() if tt.dtype == np.int32 else torch.tensor(tt)
    loss = f(a, b)
    loss.backward()
    emit("kLoss_%s" % name, [loss.item()])
    emit("kLoss_%s_dz" % name, a.grad.numpy())

# --- Curves: per-step losses from torch's initial weights, fixed batch order, on real data.
ACT = {"tanh": torch.nn.Tanh, "sigmoid": torch.nn.Sigmoid, "gelu": torch.nn.GELU, "relu": torch.nn.ReLU}


def params_of(linears):
    return np.concatenate([np.concatenate([m.weight.detach().numpy().ravel()] +
                                          ([m.bias.detach().numpy()] if m.bias is not None else []))
                           for m in linears])


def curve(name, features, targets, sizes, act, loss_fn, make_opt, steps, batch, frozen=0, modules=None):
    """modules: a function making the nn.Sequential's modules (after torch.manual_seed(7));
    default Linear layers of `sizes` with `act` between them."""
    torch.manual_seed(7)
    layers = []
    for i in range(len(sizes or []) - 1):
        layers.append(torch.nn.Linear(sizes[i], sizes[i + 1]))
        if i + 2 < len(sizes):
            layers.append(ACT[act]())
    if modules:
        torch.manual_seed(7)
        layers = modules()
    net = torch.nn.Sequential(*layers)
    linears = [m for m in net if isinstance(m, torch.nn.Linear)]
    init = params_of(linears)
    for m in linears[:frozen]:
        m.requires_grad_(False)
    opt = make_opt([p for p in net.parameters() if p.requires_grad])
    X = torch.tensor(features)
    Y = torch.as_tensor(targets)
    n = X.shape[0]
    losses = []
    for s in range(steps):
        b = (s * batch) % n
        opt.zero_grad()
        loss = loss_fn(net(X[b:b + batch]), Y[b:b + batch])
        loss.backward()
        opt.step()
        losses.append(loss.item())
    final = params_of(linears)
    emit("kCurve_%s_init" % name, init)
    emit("kCurve_%s_losses" % name, losses)
    emit("kCurve_%s_final" % name, final)
    out.append("constexpr int kCurve_%s_steps = %d;" % (name, steps))


ROWS = 256  # samples kept of each data set (batch 32: 8 steps an epoch)
diabetes = datasets.load_diabetes()  # 10 standardized-ish features, a disease-progression target
Xd = diabetes.data[:ROWS].astype(np.float32) * 10
yd = ((diabetes.target[:ROWS] - 150) / 80).astype(np.float32).reshape(-1, 1)
emit("kDiabetesX", Xd)
emit("kDiabetesY", yd)
cancer = datasets.load_breast_cancer()  # 30 features, benign/malignant
Xc = cancer.data[:ROWS]
Xc = ((Xc - Xc.mean(0)) / Xc.std(0)).astype(np.float32)
yc = cancer.target[:ROWS].astype(np.float32).reshape(-1, 1)
emit("kCancerX", Xc)
emit("kCancerY", yc)
digits = datasets.load_digits()  # 8x8 images, values 0..16
Xg = (digits.data[:ROWS] / 16).astype(np.float32)
yg = digits.target[:ROWS].astype(np.int64)
emit("kDigitsX", Xg)
emit("kDigitsY", yg.astype(np.int32), "int32_t")
out.append("constexpr int kRows = %d;" % ROWS)

curve("tanh_mse", Xd, yd, [10, 16, 1], "tanh", F.mse_loss,
      lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9), 120, 32)
curve("sigmoid_bce", Xc, yc, [30, 16, 1], "sigmoid", F.binary_cross_entropy_with_logits,
      lambda p: torch.optim.Adam(p, lr=0.01), 120, 32)
curve("gelu_ce", Xg, torch.tensor(yg), [64, 32, 10], "gelu",
      lambda a, b: F.cross_entropy(a, b, label_smoothing=0.1),
      lambda p: torch.optim.Adam(p, lr=0.01), 120, 32)
curve("frozen_relu_nll", Xg, torch.tensor(yg), [64, 32, 16, 10], "relu",
      lambda a, b: F.nll_loss(F.log_softmax(a, 1), b),
      lambda p: torch.optim.Adam(p, lr=0.01), 120, 32, frozen=1)

# Layer lists: an activation of its own after each Linear, a Linear without bias, an
# activation on the outputs.
curve("list_mixed_ce", Xg, torch.tensor(yg), None, None, F.cross_entropy,
      lambda p: torch.optim.Adam(p, lr=0.01), 120, 32,
      modules=lambda: [torch.nn.Linear(64, 32), torch.nn.Tanh(), torch.nn.Linear(32, 16, bias=False),
                       torch.nn.LeakyReLU(0.2), torch.nn.Linear(16, 10)])
curve("list_sigmoid_out_mse", Xd, yd, None, None, F.mse_loss,
      lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9), 120, 32,
      modules=lambda: [torch.nn.Linear(10, 16), torch.nn.GELU(), torch.nn.Linear(16, 1), torch.nn.Sigmoid()])

with open(os.path.join(HERE, "layers_golden.h"), "w") as f:
    f.write("// Generated by tests/golden/make_layers_golden.py with torch %s; do not edit.\n" % torch.__version__)
    f.write("// Float values as their IEEE bits.\n#pragma once\n#include <stdint.h>\n\nnamespace golden {\n\n")
    f.write("\n".join(out))
    f.write("\n\n}  // namespace golden\n")
