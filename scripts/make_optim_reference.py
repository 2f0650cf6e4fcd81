#!/usr/bin/python3
"""Writes what torch.optim does on a small fixed problem, so stylegrad's
optimizers can be checked step for step without PyTorch:

  tests/reference/optim.txt         SGD, Adam, AdamW, LBFGS, parameter groups
                                    (tests/test_optim.cpp, tests/test_optim_state.cpp)
  tests/reference/optim_state.json  the layout of torch's optimizer state_dicts:
                                    group hyper-parameters, state keys and shapes
  tests/reference/{adam,sgd,lbfgs}_state_dict.pt  torch.save(optimizer.state_dict())
                                    half-way through a run, which stylegrad loads and continues

    /usr/bin/python3 scripts/make_optim_reference.py   # Debian's python3-torch

optim.txt: one line per record, "<name> <n> <v1> ... <vn>" with float64 values
printed with 17 significant digits.
"""
import json
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


def rosenbrock_split(a, b):
    return rosenbrock(torch.cat([a, b]))


def run_groups(make_opt, steps):
    # Two parameters (the first two and the last two coordinates) in two groups.
    a = torch.tensor(START[:2], requires_grad=True)
    b = torch.tensor(START[2:], requires_grad=True)
    opt = make_opt(a, b)
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        loss = rosenbrock_split(a, b)
        loss.backward()
        losses.append(loss.item())
        opt.step()
    return losses, a.detach().tolist(), b.detach().tolist()


def resume(directory, records, name, make_opt, calls):
    """`calls` optimizer steps, torch.save(state_dict) to <name>_state_dict.pt,
    `calls` more: stylegrad loads the file into a fresh optimizer and must
    continue as torch did. Records the parameters at the save, the losses of
    every closure call after it, and the final parameters."""
    a = torch.tensor(START[:2], requires_grad=True)
    b = torch.tensor(START[2:], requires_grad=True)
    opt = make_opt(a, b)
    losses = []

    def closure():
        opt.zero_grad()
        loss = rosenbrock_split(a, b)
        loss.backward()
        losses.append(loss.item())
        return loss

    for _ in range(calls):
        opt.step(closure)
    torch.save(opt.state_dict(), os.path.join(directory, name + "_state_dict.pt"))
    records["torch_" + name + "_a_start"] = a.detach().tolist()
    records["torch_" + name + "_b_start"] = b.detach().tolist()
    losses.clear()
    for _ in range(calls):
        opt.step(closure)
    records["torch_" + name + "_losses"] = list(losses)
    records["torch_" + name + "_a_final"] = a.detach().tolist()
    records["torch_" + name + "_b_final"] = b.detach().tolist()


def resume_cases(directory, records):
    # Adam: two groups, 0-d step tensors; SGD without momentum: momentum_buffer None;
    # L-BFGS: lists of tensors (old_dirs), 0-d tensors (ro, H_diag), the scratch list al.
    resume(directory, records, "adam", lambda a, b: torch.optim.Adam(
        [{"params": [a], "lr": 0.05}, {"params": [b], "lr": 0.02, "weight_decay": 0.1}], betas=(0.8, 0.99)), 5)
    resume(directory, records, "sgd", lambda a, b: torch.optim.SGD([a, b], lr=1e-3), 5)
    resume(directory, records, "lbfgs", lambda a, b: torch.optim.LBFGS([a, b], lr=1, max_iter=4, history_size=3), 1)


def describe(v):
    """A state_dict value as JSON: tensors as {"shape": [...]}, tuples as lists."""
    if isinstance(v, torch.Tensor):
        return {"shape": list(v.shape)}
    if isinstance(v, (list, tuple)):
        return [describe(x) for x in v]
    if isinstance(v, dict):
        return {str(k): describe(x) for k, x in v.items()}
    return v


def state_layouts():
    """torch's state_dict of each optimizer after three steps (L-BFGS: one call)."""
    def make(name):
        a = torch.tensor(START[:2], requires_grad=True)
        b = torch.tensor(START[2:], requires_grad=True)
        if name == "sgd":
            opt = torch.optim.SGD([{"params": [a]}, {"params": [b], "lr": 0.01}], lr=1e-3, momentum=0.9)
        elif name == "adam":
            opt = torch.optim.Adam([{"params": [a]}, {"params": [b], "lr": 0.01}], lr=0.05)
        elif name == "adam_amsgrad":
            opt = torch.optim.Adam([a, b], lr=0.05, amsgrad=True)
        elif name == "adamw":
            opt = torch.optim.AdamW([{"params": [a]}, {"params": [b], "weight_decay": 0.1}], lr=0.05)
        else:
            opt = torch.optim.LBFGS([a, b], lr=1, max_iter=4, history_size=5)
        return opt, a, b

    out = {}
    for name in ["sgd", "adam", "adam_amsgrad", "adamw", "lbfgs"]:
        opt, a, b = make(name)

        def closure():
            opt.zero_grad()
            loss = rosenbrock_split(a, b)
            loss.backward()
            return loss

        for _ in range(1 if name == "lbfgs" else 3):
            opt.step(closure)
        out[name] = describe(opt.state_dict())
    return out


def main():
    directory = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "reference")
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

    more_cases = {
        "adamw": lambda p: torch.optim.AdamW(p, lr=0.05),
        "adamw_wd": lambda p: torch.optim.AdamW(p, lr=0.05, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1),
        "adam_amsgrad": lambda p: torch.optim.Adam(p, lr=0.05, weight_decay=0.1, amsgrad=True),
        "adamw_amsgrad": lambda p: torch.optim.AdamW(p, lr=0.05, amsgrad=True),
    }
    for name, make in more_cases.items():
        records[name + "_losses"], records[name + "_final"] = run_first_order(make, 15)
    group_cases = {
        "groups_adamw": lambda a, b: torch.optim.AdamW(
            [{"params": [a], "lr": 0.05, "weight_decay": 0.1}, {"params": [b], "lr": 0.01, "weight_decay": 0.0}]),
        "groups_adam": lambda a, b: torch.optim.Adam(
            [{"params": [a], "lr": 0.05}, {"params": [b], "lr": 0.02, "weight_decay": 0.1}], betas=(0.8, 0.99)),
        "groups_sgd": lambda a, b: torch.optim.SGD(
            [{"params": [a], "lr": 1e-3, "momentum": 0.9}, {"params": [b], "lr": 2e-3, "weight_decay": 0.01,
                                                            "momentum": 0.5, "nesterov": True}]),
    }
    for name, make in group_cases.items():
        records[name + "_losses"], records[name + "_final_a"], records[name + "_final_b"] = run_groups(make, 15)
    resume_cases(directory, records)

    out = os.path.join(directory, "optim.txt")
    with open(out, "w") as f:
        for name, values in records.items():
            f.write(name + " " + str(len(values)) + " " + " ".join("%.17g" % v for v in values) + "\n")
    print("wrote", os.path.normpath(out))
    out = os.path.join(directory, "optim_state.json")
    with open(out, "w") as f:
        json.dump(state_layouts(), f, indent=1, allow_nan=False)
        f.write("\n")
    print("wrote", os.path.normpath(out))
    for name in ["adam", "sgd", "lbfgs"]:
        print("wrote", os.path.normpath(os.path.join(directory, name + "_state_dict.pt")))


if __name__ == "__main__":
    main()
