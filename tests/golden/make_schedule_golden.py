#!/usr/bin/python3
"""Generates tests/golden/schedule_golden.h: torch.optim.lr_scheduler learning-rate sequences and
torch.nn.utils.clip_grad_norm_ / clip_grad_value_ results that tests/schedule_test.cc checks.

Run with Debian's torch (python3-torch): /usr/bin/python3 tests/golden/make_schedule_golden.py
"""
import os

import torch
from torch.optim import lr_scheduler as S

HERE = os.path.dirname(os.path.abspath(__file__))
STEPS = 200


def hexs(values):
    return ", ".join(float(v).hex() for v in values)


def sequence(make, optimizer="sgd", lr=0.1, metrics=None):
    """The rate before each of STEPS steps (and momentum / beta1), stepping as a training loop does."""
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=lr, momentum=0.9) if optimizer == "sgd" else torch.optim.Adam([p], lr=lr)
    sched = make(opt)
    lrs, moms = [], []
    for i in range(STEPS):
        g = opt.param_groups[0]
        lrs.append(g["lr"])
        moms.append(g["momentum"] if "momentum" in g else g["betas"][0])
        opt.step()
        sched.step(metrics[i]) if metrics else sched.step()
    return lrs, moms


def plateau_metrics():
    """A loss that falls, stalls and wobbles: exercises patience, threshold and cooldown."""
    out, state = [], 12345
    for i in range(STEPS):
        state = (state * 1103515245 + 12345) % 2**31
        noise = (state / 2**31 - 0.5) * 0.02
        out.append(max(0.3, 2.0 / (1 + i / 15)) + noise)
    return out


def linear_then_cosine(opt, warmup, start_factor, t_max, eta_min):
    return S.SequentialLR(opt, [S.LinearLR(opt, start_factor=start_factor, total_iters=warmup),
                                S.CosineAnnealingLR(opt, T_max=t_max, eta_min=eta_min)], milestones=[warmup])


M = plateau_metrics()
# (name, C++ initialisation of the schedule, torch constructor, optimizer, metrics)
CASES = [
    ("step", "StepLR s; s.step_size = 30;", lambda o: S.StepLR(o, step_size=30), "sgd", None),
    ("step_gamma", "StepLR s; s.step_size = 7; s.gamma = 0.7;", lambda o: S.StepLR(o, 7, gamma=0.7), "sgd", None),
    ("multistep", "MultiStepLR s; s.milestones[0] = 20; s.milestones[1] = 50; s.milestones[2] = 50; "
     "s.milestones[3] = 120; s.num_milestones = 4; s.gamma = 0.3;",
     lambda o: S.MultiStepLR(o, milestones=[20, 50, 50, 120], gamma=0.3), "sgd", None),
    ("exponential", "ExponentialLR s; s.gamma = 0.97;", lambda o: S.ExponentialLR(o, gamma=0.97), "sgd", None),
    ("cosine", "CosineAnnealingLR s; s.T_max = 200;", lambda o: S.CosineAnnealingLR(o, T_max=200), "sgd", None),
    ("cosine_restart", "CosineAnnealingLR s; s.T_max = 45; s.eta_min = 0.001;",
     lambda o: S.CosineAnnealingLR(o, T_max=45, eta_min=0.001), "sgd", None),
    ("warmup_cosine", "WarmupCosineLR s; s.warmup_steps = 20; s.T_max = 180;",
     lambda o: linear_then_cosine(o, 20, 1.0 / 3, 180, 0.0), "sgd", None),
    ("warmup_cosine_eta", "WarmupCosineLR s; s.warmup_steps = 33; s.start_factor = 0.01; s.T_max = 100; "
     "s.eta_min = 1e-4;", lambda o: linear_then_cosine(o, 33, 0.01, 100, 1e-4), "sgd", None),
    ("onecycle", "OneCycleLR s; s.max_lr = 0.5; s.total_steps = 200;",
     lambda o: S.OneCycleLR(o, max_lr=0.5, total_steps=200), "sgd", None),
    ("onecycle_adam_three_linear", "OneCycleLR s; s.max_lr = 0.01; s.total_steps = 250; s.pct_start = 0.25; "
     "s.anneal_cos = false; s.three_phase = true; s.base_momentum = 0.8; s.max_momentum = 0.9;",
     lambda o: S.OneCycleLR(o, max_lr=0.01, total_steps=250, pct_start=0.25, anneal_strategy="linear",
                            three_phase=True, base_momentum=0.8, max_momentum=0.9), "adam", None),
    ("plateau", "ReduceLROnPlateau s; s.patience = 5;", lambda o: S.ReduceLROnPlateau(o, patience=5), "sgd", M),
    ("plateau_abs_cooldown", "ReduceLROnPlateau s; s.patience = 2; s.factor = 0.5; s.threshold = 0.01; "
     "s.threshold_abs = true; s.cooldown = 3; s.min_lr = 0.004;",
     lambda o: S.ReduceLROnPlateau(o, patience=2, factor=0.5, threshold=0.01, threshold_mode="abs", cooldown=3,
                                   min_lr=0.004), "sgd", M),
    ("plateau_max", "ReduceLROnPlateau s; s.mode_max = true; s.patience = 3;",
     lambda o: S.ReduceLROnPlateau(o, mode="max", patience=3), "sgd", [-m for m in M]),
]


def clip_cases():
    """Gradients of three tensors (sizes not multiples of a vector), clipped by torch."""
    gen = torch.Generator().manual_seed(7)
    shapes = [(37, 11), (37,), (5, 37)]
    grads = [torch.randn(s, generator=gen) * 0.3 for s in shapes]
    flat = torch.cat([g.reshape(-1) for g in grads])
    out = []
    for max_norm in (0.5, 3.0, 1e3):
        ps = [torch.nn.Parameter(torch.zeros(s)) for s in shapes]
        for p, g in zip(ps, grads):
            p.grad = g.clone()
        total = torch.nn.utils.clip_grad_norm_(ps, max_norm)
        out.append(("norm", max_norm, float(total), torch.cat([p.grad.reshape(-1) for p in ps])))
    for clip in (0.1, 0.45):
        ps = [torch.nn.Parameter(torch.zeros(s)) for s in shapes]
        for p, g in zip(ps, grads):
            p.grad = g.clone()
        torch.nn.utils.clip_grad_value_(ps, clip)
        out.append(("value", clip, 0.0, torch.cat([p.grad.reshape(-1) for p in ps])))
    return flat, [s for s in shapes], out


def main():
    lines = ["// Generated by tests/golden/make_schedule_golden.py with torch " + torch.__version__ + "; do not edit.",
             "#include <stddef.h>", "namespace golden {", f"constexpr int kScheduleSteps = {STEPS};",
             f"constexpr double kPlateauMetrics[{STEPS}] = {{{hexs(M)}}};"]
    for name, init, make, optimizer, metrics in CASES:
        lrs, moms = sequence(make, optimizer, 0.1, metrics)
        lines.append(f"constexpr double k_{name}_lr[{STEPS}] = {{{hexs(lrs)}}};")
        lines.append(f"constexpr double k_{name}_momentum[{STEPS}] = {{{hexs(moms)}}};")
    flat, shapes, clips = clip_cases()
    lines.append(f"constexpr size_t kClipSizes[3] = {{{', '.join(str(int(torch.Size(s).numel())) for s in shapes)}}};")
    lines.append(f"constexpr float kClipGrads[{flat.numel()}] = {{{', '.join(float(v).hex() + 'f' for v in flat)}}};")
    lines.append("struct ClipCase { bool by_norm; double limit; float total_norm; float grads[%d]; };" % flat.numel())
    lines.append(f"constexpr ClipCase kClipCases[{len(clips)}] = {{")
    for kind, limit, total, g in clips:
        lines.append(f"  {{{'true' if kind == 'norm' else 'false'}, {float(limit).hex()}, {float(total).hex()}f, "
                     f"{{{', '.join(float(v).hex() + 'f' for v in g)}}}}},")
    lines.append("};")
    lines.append("}  // namespace golden")
    lines.append("#define DESCENT_SCHEDULE_CASES(X) \\")
    lines += [f"  X({name}, {init}) \\" for name, init, *_ in CASES]
    lines.append("")
    with open(os.path.join(HERE, "schedule_golden.h"), "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
