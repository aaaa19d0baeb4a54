#!/usr/bin/python3
"""Generates the golden files the tests compare against, with torch.optim.

Run with Debian's torch (python3-torch): /usr/bin/python3 tests/golden/make_golden.py
Writes tests/golden/optim_golden.h and tests/golden/mlp_*.  The tests themselves never need torch.

NAdam: Debian's torch 1.13 multiplies mu_t into the momentum product twice in its default path
(fixed in torch 2.0, pytorch#92699). The `nadam_step` below is torch 2.x's single-tensor update,
written with the same torch operations, so the golden trajectory is the 2.x one.
"""
import gzip
import json
import math
import os
import struct
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
N, STEPS = 37, 12  # 37: not a multiple of any vector width; 12 steps: past RAdam's warm-up (t = 6)

# (case name, preset, hyperparameters by torch name); the C++ test applies the same names.
CASES = [
    ("sgd", "sgd", {"lr": 0.1}),
    ("sgd_wd", "sgd", {"lr": 0.1, "weight_decay": 0.05}),
    ("momentum_dampening_wd", "sgd", {"lr": 0.05, "momentum": 0.9, "dampening": 0.3, "weight_decay": 0.01}),
    ("nesterov_wd", "sgd", {"lr": 0.05, "momentum": 0.8, "nesterov": True, "weight_decay": 0.02}),
    ("adagrad", "adagrad", {"lr": 0.1}),
    ("adagrad_decay_init_wd", "adagrad", {"lr": 0.1, "lr_decay": 0.05, "initial_accumulator_value": 0.2,
                                          "weight_decay": 0.03, "eps": 1e-6}),
    ("adadelta", "adadelta", {}),
    ("adadelta_lr_wd", "adadelta", {"lr": 0.5, "rho": 0.8, "eps": 1e-4, "weight_decay": 0.02}),
    ("rmsprop", "rmsprop", {"lr": 0.01, "alpha": 0.9}),
    ("rmsprop_centered_momentum_wd", "rmsprop", {"lr": 0.01, "alpha": 0.95, "momentum": 0.7, "centered": True,
                                                 "weight_decay": 0.05, "eps": 1e-6}),
    ("rmsprop_momentum", "rmsprop", {"lr": 0.01, "momentum": 0.5}),
    ("rmsprop_centered", "rmsprop", {"lr": 0.01, "centered": True}),
    ("adam", "adam", {"lr": 0.01}),
    ("adam_amsgrad_wd", "adam", {"lr": 0.01, "amsgrad": True, "weight_decay": 0.1, "beta1": 0.8, "beta2": 0.99}),
    ("adamw", "adamw", {"lr": 0.01}),
    ("adamw_amsgrad", "adamw", {"lr": 0.01, "amsgrad": True, "weight_decay": 0.2}),
    ("adamax", "adamax", {}),
    ("adamax_wd", "adamax", {"lr": 0.01, "weight_decay": 0.1, "beta2": 0.9, "eps": 1e-3}),
    ("nadam", "nadam", {}),
    ("nadam_wd_decay", "nadam", {"lr": 0.01, "weight_decay": 0.05, "momentum_decay": 0.01}),
    ("radam", "radam", {"lr": 0.01}),
    ("radam_wd", "radam", {"lr": 0.01, "weight_decay": 0.1, "beta2": 0.99}),
]


def torch_optimizer(preset, hp, params):
    hp = dict(hp)
    betas = (hp.pop("beta1", 0.9), hp.pop("beta2", 0.999))
    if preset == "sgd":
        return torch.optim.SGD(params, **hp)
    if preset == "adagrad":
        return torch.optim.Adagrad(params, **hp)
    if preset == "adadelta":
        return torch.optim.Adadelta(params, **hp)
    if preset == "rmsprop":
        return torch.optim.RMSprop(params, **hp)
    if preset == "adam":
        return torch.optim.Adam(params, betas=betas, **hp)
    if preset == "adamw":
        return torch.optim.AdamW(params, betas=betas, **hp)
    if preset == "adamax":
        return torch.optim.Adamax(params, betas=betas, **hp)
    if preset == "radam":
        return torch.optim.RAdam(params, betas=betas, **hp)
    if preset == "nadam":
        return NAdam2(params, betas=betas, **hp)
    raise ValueError(preset)


class NAdam2:
    """torch 2.x NAdam (single tensor), one parameter tensor."""

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, momentum_decay=4e-3):
        (self.p,) = params
        self.lr, (self.beta1, self.beta2), self.eps = lr, betas, eps
        self.weight_decay, self.momentum_decay = weight_decay, momentum_decay
        self.step_t = torch.tensor(0.0)
        self.mu_product = torch.tensor(1.0)
        self.exp_avg = torch.zeros_like(self.p)
        self.exp_avg_sq = torch.zeros_like(self.p)

    @torch.no_grad()
    def step(self):
        param, grad = self.p, self.p.grad
        self.step_t += 1
        step = self.step_t.item()
        bias_correction2 = 1 - self.beta2 ** step
        if self.weight_decay != 0:
            grad = grad.add(param, alpha=self.weight_decay)
        mu = self.beta1 * (1. - 0.5 * (0.96 ** (step * self.momentum_decay)))
        mu_next = self.beta1 * (1. - 0.5 * (0.96 ** ((step + 1) * self.momentum_decay)))
        self.mu_product *= mu
        mu_product_next = self.mu_product * mu_next  # 2.x; 1.13 had * mu * mu_next
        self.exp_avg.mul_(self.beta1).add_(grad, alpha=1 - self.beta1)
        self.exp_avg_sq.mul_(self.beta2).addcmul_(grad, grad, value=1 - self.beta2)
        denom = self.exp_avg_sq.div(bias_correction2).sqrt().add_(self.eps)
        param.addcdiv_(grad, denom, value=-self.lr * (1. - mu) / (1. - self.mu_product.item()))
        param.addcdiv_(self.exp_avg, denom, value=-self.lr * mu_next / (1. - mu_product_next.item()))


def gradient_sequence(gen):
    grads = []
    for t in range(STEPS):
        g = torch.randn(N, generator=gen) * (0.5 + t % 3)
        g[t % N] = 0.0           # exact zeros exercise eps placement
        g[(5 * t + 3) % N] *= 30  # and a few large values
        grads.append(g)
    return grads


def bits(t):
    return [struct.unpack("<I", struct.pack("<f", float(x)))[0] for x in t.reshape(-1).tolist()]


def c_array(name, values):
    rows = [", ".join("0x%08x" % v for v in values[i:i + 6]) for i in range(0, len(values), 6)]
    return "static const uint32_t %s[] = {\n    %s};\n" % (name, ",\n    ".join(rows))


def write_optim_golden():
    gen = torch.Generator().manual_seed(20261125)
    init = torch.randn(N, generator=gen)
    grads = gradient_sequence(gen)
    out = ["// Generated by tests/golden/make_golden.py with torch %s; do not edit.\n" % torch.__version__,
           "// Each case: parameters after every one of %d steps, fed the same gradients.\n" % STEPS,
           "#pragma once\n#include <stdint.h>\n\n",
           "namespace golden {\n\nconstexpr int kOptimN = %d, kOptimSteps = %d;\n\n" % (N, STEPS),
           c_array("kOptimInit", bits(init)),
           c_array("kOptimGrads", [b for g in grads for b in bits(g)])]
    table = []
    for name, preset, hp in CASES:
        p = init.clone().requires_grad_(True)
        opt = torch_optimizer(preset, hp, [p])
        trajectory = []
        for g in grads:
            p.grad = g.clone()
            opt.step()
            trajectory += bits(p.detach())
        out.append(c_array("kTrajectory_" + name, trajectory))
        hp_text = ", ".join('{"%s", %r}' % (k, float(v)) for k, v in hp.items())
        table.append('    {"%s", "%s", {%s}, kTrajectory_%s},' % (name, preset, hp_text, name))
    out.append("\nstruct Hyperparameter {\n  const char* name;\n  double value;\n};\n")
    out.append("struct OptimCase {\n  const char* name;\n  const char* preset;\n"
               "  Hyperparameter hp[8];\n  const uint32_t* trajectory;\n};\n\n")
    out.append("static const OptimCase kOptimCases[] = {\n%s\n};\n\n}  // namespace golden\n" % "\n".join(table))
    with open(os.path.join(HERE, "optim_golden.h"), "w") as f:
        f.write("".join(out))


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = struct.unpack(">" + "I" * dims, data[4:4 + 4 * dims])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


class SimpleNet(torch.nn.Module):
    """The notebook's model: its state_dict names are the ones descent reads and writes."""

    def __init__(self, sizes=(784, 100, 100, 10)):
        super().__init__()
        self.linears = torch.nn.ModuleList(torch.nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))

    def forward(self, x):
        for i, layer in enumerate(self.linears):
            x = layer(x)
            if i + 1 < len(self.linears):
                x = torch.relu(x)
        return torch.log_softmax(x, dim=-1)


def write_safetensors(path, tensors):
    header, blobs, offset = {"__metadata__": {"format": "pt"}}, [], 0
    for name, t in tensors.items():
        i64 = t.dtype == torch.int64  # batch norm's num_batches_tracked
        raw = t.detach().contiguous().numpy().astype("<i8" if i64 else "<f4").tobytes()
        header[name] = {"dtype": "I64" if i64 else "F32", "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


# The notebook's configurations checked end to end (curves of 3 epochs, no shuffle).
MLP_RUNS = [("adam", lambda p: torch.optim.Adam(p, lr=1e-3)),
            ("nesterov", lambda p: torch.optim.SGD(p, lr=0.01, momentum=0.9, nesterov=True)),
            ("rmsprop", lambda p: torch.optim.RMSprop(p, lr=1e-3, alpha=0.9))]


def write_mlp_golden():
    data = os.path.join(ROOT, "data")
    x = torch.from_numpy(read_idx(os.path.join(data, "train-images-idx3-ubyte.gz")).reshape(-1, 784).astype(np.float32)) / 256
    y = torch.from_numpy(read_idx(os.path.join(data, "train-labels-idx1-ubyte.gz")).astype(np.int64))
    torch.manual_seed(0)
    init = SimpleNet().state_dict()
    write_safetensors(os.path.join(HERE, "mlp_torch_init.safetensors"), init)
    for name, make in MLP_RUNS:
        net = SimpleNet()
        net.load_state_dict(init)
        write_curve("mlp_torch_%s_losses.csv" % name, net, make(net.parameters()), torch.nn.functional.nll_loss, x, y)


def write_curve(file, net, opt, loss_fn, x, y, epochs=3, batch=256):
    """Trains net on (x, y) in order, `batch` rows a step; writes step,epoch,batch,loss to HERE/file."""
    rows = ["step,epoch,batch,loss"]
    step = 0
    for epoch in range(epochs):
        for b, start in enumerate(range(0, len(x), batch)):
            opt.zero_grad()
            loss = loss_fn(net(x[start:start + batch]), y[start:start + batch])
            loss.backward()
            opt.step()
            step += 1
            rows.append("%d,%d,%d,%.9g" % (step, epoch + 1, b + 1, loss.item()))
    with open(os.path.join(HERE, file), "w") as f:
        f.write("\n".join(rows) + "\n")


if __name__ == "__main__":
    torch.set_num_threads(1)
    write_optim_golden()
    write_mlp_golden()
    print("wrote", HERE, file=sys.stderr)
