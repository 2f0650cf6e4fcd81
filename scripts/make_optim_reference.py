#!/usr/bin/python3
"""Writes tests/reference/optim.txt: what torch.optim's SGD, Adam and LBFGS do
on a small fixed problem, so tests/test_optim.cpp can check stylegrad's
optimizers step for step without PyTorch.

    /usr/bin/python3 scripts/make_optim_reference.py   # Debian's python3-torch

Format: one line per record, "<name> <n> <v1> ... <vn>" with float64 values
printed with 17 significant digits.
"""
import os
import torch

torch.set_default_dtype(torch.float64)
START = [-1.2, 1.0, 0.5, -0.3]


def rosenbrock(x):
    # sum over i of (1 - x_i)^2 + 100 (x_{i+1} - x_i^2)^2
    return ((1 - x[:-1]) ** 2).sum() + 100 * ((x[1:] - x[:-1] ** 2) ** 2).sum()


def run_first_order(make_opt, steps):
    x = torch.tensor(START, requires_grad=True)
    opt = make_opt([x])
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        loss = rosenbrock(x)
        loss.backward()
        losses.append(loss.item())
        opt.step()
    return losses, x.detach().tolist()


def run_lbfgs(**kw):
    x = torch.tensor(START, requires_grad=True)
    opt = torch.optim.LBFGS([x], **kw)
    losses = []

    def closure():
        opt.zero_grad()
        loss = rosenbrock(x)
        loss.backward()
        losses.append(loss.item())
        return loss

    opt.step(closure)
    opt.step(closure)  # a second call continues from the kept history
    return losses, x.detach().tolist()


def main():
    records = {}
    cases = {
        "sgd": lambda p: torch.optim.SGD(p, lr=1e-3),
        "sgd_momentum": lambda p: torch.optim.SGD(p, lr=1e-3, momentum=0.9, dampening=0.1, weight_decay=0.01),
        "sgd_nesterov": lambda p: torch.optim.SGD(p, lr=1e-3, momentum=0.9, nesterov=True),
        "adam": lambda p: torch.optim.Adam(p, lr=0.05),
        "adam_wd": lambda p: torch.optim.Adam(p, lr=0.05, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1),
    }
    for name, make in cases.items():
        records[name + "_losses"], records[name + "_final"] = run_first_order(make, 15)
    records["lbfgs_losses"], records["lbfgs_final"] = run_lbfgs(lr=1, max_iter=20, history_size=5)
    records["lbfgs_lr_losses"], records["lbfgs_lr_final"] = run_lbfgs(lr=0.5, max_iter=7, history_size=100)

    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "reference", "optim.txt")
    with open(out, "w") as f:
        for name, values in records.items():
            f.write(name + " " + str(len(values)) + " " + " ".join("%.17g" % v for v in values) + "\n")
    print("wrote", os.path.normpath(out))


if __name__ == "__main__":
    main()
