#!/usr/bin/python3
"""Writes tests/reference/lr_scheduler.json: the learning rates torch 1.13's
schedulers give, epoch by epoch, and each scheduler's state_dict half-way, so
tests/test_lr_scheduler.cpp can check stylegrad's schedulers to the last bit
and their state_dict keys without PyTorch.

    /usr/bin/python3 scripts/make_scheduler_reference.py   # Debian's python3-torch

Each case: "lrs", the lr of each of the optimizer's two groups after the
scheduler is made and after each step; "metrics" for ReduceLROnPlateau, the
values passed to step(); "mid", the number of steps after which "state_mid"
(the scheduler's state_dict) was taken. JSON has no infinity: the
state_dicts' infinite numbers are written as the strings "Infinity" and
"-Infinity", as stylegrad writes them.
"""
import json
import math
import os
import warnings

import torch
from torch.optim import lr_scheduler

warnings.simplefilter("ignore")  # torch warns that optimizer.step() had no gradients to use

EPOCHS = 24
MID = 9
# A loss that improves, stalls, improves a little (below the threshold), then stalls again.
METRICS = [1.0, 0.9, 0.95, 0.91, 0.905, 0.92, 0.8, 0.85, 0.86, 0.87, 0.88, 0.79, 0.795, 0.80, 0.81, 0.82, 0.83,
           0.84, 0.70, 0.71, 0.72, 0.73, 0.74, 0.75]


def cyclegan_rule(epoch_count, n_epochs, n_epochs_decay):
    # junyanz/pytorch-CycleGAN-and-pix2pix, models/networks.py, get_scheduler, lr_policy 'linear'
    def lambda_rule(epoch):
        return 1.0 - max(0, epoch + epoch_count - n_epochs) / float(n_epochs_decay + 1)
    return lambda_rule


def make_optimizer():
    a = torch.nn.Parameter(torch.zeros(2))
    b = torch.nn.Parameter(torch.zeros(3))
    return torch.optim.SGD([{"params": [a], "lr": 0.1}, {"params": [b], "lr": 0.02}], lr=0.1)


def cases():
    def resumed_cosine(opt):
        for g in opt.param_groups:
            g["initial_lr"] = g["lr"] * 2
        return lr_scheduler.CosineAnnealingLR(opt, T_max=6, eta_min=0.0, last_epoch=2)

    return {
        "lambda_exp": lambda opt: lr_scheduler.LambdaLR(opt, lambda e: 0.95 ** e),
        "lambda_per_group": lambda opt: lr_scheduler.LambdaLR(opt, [lambda e: 0.95 ** e, lambda e: 1.0 / (e + 1)]),
        "cyclegan_linear": lambda opt: lr_scheduler.LambdaLR(opt, cyclegan_rule(1, 8, 12)),
        "cyclegan_linear_resumed": lambda opt: lr_scheduler.LambdaLR(opt, cyclegan_rule(5, 8, 12)),
        "step": lambda opt: lr_scheduler.StepLR(opt, step_size=3, gamma=0.5),
        "step_default_gamma": lambda opt: lr_scheduler.StepLR(opt, step_size=4),
        "cosine": lambda opt: lr_scheduler.CosineAnnealingLR(opt, T_max=5, eta_min=0.001),
        "cosine_long": lambda opt: lr_scheduler.CosineAnnealingLR(opt, T_max=7),
        "cosine_resumed": resumed_cosine,
        "plateau_min_rel": lambda opt: lr_scheduler.ReduceLROnPlateau(
            opt, mode="min", factor=0.5, patience=2, threshold=0.01, cooldown=1, min_lr=[0.001, 0.004]),
        "plateau_max_abs": lambda opt: lr_scheduler.ReduceLROnPlateau(
            opt, mode="max", factor=0.2, patience=1, threshold=0.05, threshold_mode="abs", min_lr=0.002, eps=1e-3),
        "plateau_cyclegan": lambda opt: lr_scheduler.ReduceLROnPlateau(
            opt, mode="min", factor=0.2, threshold=0.01, patience=5),
        "plateau_min_abs": lambda opt: lr_scheduler.ReduceLROnPlateau(
            opt, mode="min", factor=0.3, patience=0, threshold=0.02, threshold_mode="abs", cooldown=2),
        "plateau_max_rel": lambda opt: lr_scheduler.ReduceLROnPlateau(opt, mode="max", patience=3, threshold=0.1),
    }


def jsonable(v):
    if isinstance(v, float) and math.isinf(v):
        return "Infinity" if v > 0 else "-Infinity"
    if isinstance(v, (list, tuple)):
        return [jsonable(x) for x in v]
    if isinstance(v, dict):
        return {k: jsonable(x) for k, x in v.items()}
    return v


def run(make):
    opt = make_optimizer()
    sched = make(opt)
    plateau = isinstance(sched, lr_scheduler.ReduceLROnPlateau)
    lrs = [[g["lr"] for g in opt.param_groups]]
    state_mid = None
    for epoch in range(EPOCHS):
        opt.step()
        if plateau:
            sched.step(METRICS[epoch])
        else:
            sched.step()
        lrs.append([g["lr"] for g in opt.param_groups])
        if epoch + 1 == MID:
            state_mid = jsonable(sched.state_dict())
    out = {"lrs": lrs, "mid": MID, "state_mid": state_mid}
    if plateau:
        out["metrics"] = METRICS
    return out


def main():
    result = {name: run(make) for name, make in cases().items()}
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "reference", "lr_scheduler.json")
    with open(out, "w") as f:
        json.dump(result, f, indent=1, allow_nan=False)
        f.write("\n")
    print("wrote", os.path.normpath(out))


if __name__ == "__main__":
    main()
