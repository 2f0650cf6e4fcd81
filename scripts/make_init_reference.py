#!/usr/bin/env python3
"""Writes what PyTorch does for the Module API and torch.nn.init, for
tests/test_module.cpp and tests/test_init.cpp (run with Debian's python3-torch:
/usr/bin/python3 scripts/make_init_reference.py; deterministic).

tests/reference/module.txt: for one nested model (a Sequential in a ModuleList
in a custom Module, a module shared by two parents), torch's named_modules()
(name and class), state_dict() keys in order, and the order apply() visits.

tests/reference/init.txt, one fact a line:
  fan SHAPE FAN_IN FAN_OUT
  gain NONLINEARITY PARAM|none VALUE
  kaiming_normal_ SHAPE A MODE NONLINEARITY STD
  kaiming_uniform_ SHAPE A MODE NONLINEARITY BOUND
  xavier_normal_ SHAPE GAIN STD
  xavier_uniform_ SHAPE GAIN BOUND
  default_conv2d IN OUT KERNEL WEIGHT_BOUND BIAS_BOUND
  orthogonal_ SHAPE GAIN N M... N W...
The std and bound are the arguments torch's own init function passes to
Tensor.normal_ / Tensor.uniform_ (recorded by wrapping those two methods), not
a formula written here. For orthogonal_, M is the rows x cols normal matrix
orthogonal_ draws (drawn again from the same seed) and W its result, float64.
"""
import math
import os

import torch
import torch.nn as nn
import torch.nn.init as init

HERE = os.path.dirname(os.path.abspath(__file__))
OUT_DIR = os.path.join(HERE, "..", "tests", "reference")


def shape_str(shape):
    return "x".join(str(s) for s in shape)


def num(x):
    return repr(float(x))


# ---- the Module API -------------------------------------------------------

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 4, 3)
        self.act = nn.ReLU()
        self.blocks = nn.ModuleList([
            nn.Sequential(nn.Conv2d(4, 4, 3, padding=1), nn.InstanceNorm2d(4, affine=True), nn.ReLU()),
            nn.Sequential(nn.Conv2d(4, 4, 3, padding=1, bias=False), nn.BatchNorm2d(4), nn.LeakyReLU(0.2)),
        ])
        self.head = nn.Sequential(nn.ReflectionPad2d(1), nn.Conv2d(4, 3, 3), self.act, nn.Tanh())
        self.gain = nn.Parameter(torch.ones(3))
        self.register_buffer("step", torch.zeros(()))


def module_lines():
    net = Net()
    lines = []
    names = {}
    for name, m in net.named_modules():
        names.setdefault(id(m), name)
        lines.append('module "%s" %s' % (name, type(m).__name__))
    for key in net.state_dict().keys():
        lines.append('state "%s"' % key)
    net.apply(lambda m: lines.append('apply "%s"' % names[id(m)]))
    return lines


# ---- torch.nn.init --------------------------------------------------------

# the last one is large enough for the C++ test to check the drawn values' statistics
SHAPES = [(8, 3, 3, 3), (16, 8, 5, 5), (4, 6, 1, 1), (5, 7), (7, 5), (3, 4, 2), (256, 128, 3, 3)]
NONLINEARITIES = ["linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
                  "conv_transpose3d", "sigmoid", "tanh", "relu", "leaky_relu", "selu"]

recorded = []
_normal, _uniform = torch.Tensor.normal_, torch.Tensor.uniform_


def recording_normal_(self, mean=0.0, std=1.0, *args, **kwargs):
    recorded.append(("normal", mean, std))
    return _normal(self, mean, std, *args, **kwargs)


def recording_uniform_(self, a=0.0, b=1.0, *args, **kwargs):
    recorded.append(("uniform", a, b))
    return _uniform(self, a, b, *args, **kwargs)


def spreads_of(fn, *args, **kwargs):
    """The std (normal) or bound (uniform, symmetric) of each draw torch's `fn` makes."""
    recorded.clear()
    torch.Tensor.normal_, torch.Tensor.uniform_ = recording_normal_, recording_uniform_
    try:
        fn(*args, **kwargs)
    finally:
        torch.Tensor.normal_, torch.Tensor.uniform_ = _normal, _uniform
    spreads = []
    for kind, lo, hi in recorded:
        assert lo == (0 if kind == "normal" else -hi), recorded
        spreads.append(hi)
    return spreads


def spread_of(fn, *args, **kwargs):
    spreads = spreads_of(fn, *args, **kwargs)
    assert len(spreads) == 1, spreads
    return spreads[0]


def init_lines():
    lines = []
    for s in SHAPES:
        fan_in, fan_out = init._calculate_fan_in_and_fan_out(torch.empty(s))
        lines.append("fan %s %d %d" % (shape_str(s), fan_in, fan_out))
    for nl in NONLINEARITIES:
        params = [None, 0.2, 0, math.sqrt(5)] if nl == "leaky_relu" else [None]
        for p in params:
            lines.append("gain %s %s %s" % (nl, "none" if p is None else num(p), num(init.calculate_gain(nl, p))))

    kaiming_args = [(0, "fan_in", "leaky_relu"), (0.2, "fan_in", "leaky_relu"), (0, "fan_out", "relu"),
                    (math.sqrt(5), "fan_in", "leaky_relu"), (0, "fan_in", "tanh"), (0.3, "fan_out", "linear")]
    for s in SHAPES:
        for a, mode, nl in kaiming_args:
            for fn in (init.kaiming_normal_, init.kaiming_uniform_):
                spread = spread_of(fn, torch.empty(s), a=a, mode=mode, nonlinearity=nl)
                lines.append("%s %s %s %s %s %s" % (fn.__name__, shape_str(s), num(a), mode, nl, num(spread)))
        for gain in (1.0, 0.02, init.calculate_gain("relu")):
            for fn in (init.xavier_normal_, init.xavier_uniform_):
                spread = spread_of(fn, torch.empty(s), gain=gain)
                lines.append("%s %s %s %s" % (fn.__name__, shape_str(s), num(gain), num(spread)))

    # torch's default initialisation of a Conv2d: kaiming_uniform_(a=sqrt(5)) for the weight
    for cin, cout, k in [(3, 64, 7), (128, 256, 3)]:
        weight_bound, bias_bound = spreads_of(nn.Conv2d, cin, cout, k)
        lines.append("default_conv2d %d %d %d %s %s" % (cin, cout, k, num(weight_bound), num(bias_bound)))

    # tall, wide, square, and a conv weight (4 rows x 18 columns: wide)
    for seed, (s, gain) in enumerate([((6, 3), 1.0), ((3, 6), 1.0), ((5, 5), 0.02), ((4, 2, 3, 3), 0.5)]):
        rows = s[0]
        cols = math.prod(s) // rows
        torch.manual_seed(100 + seed)
        m = torch.empty(rows, cols, dtype=torch.float64).normal_(0, 1)
        torch.manual_seed(100 + seed)
        w = init.orthogonal_(torch.empty(s, dtype=torch.float64), gain=gain)
        # M is the matrix orthogonal_ drew: Q of its QR (R's diagonal made positive) gives W.
        a = m.t() if rows < cols else m
        q, r = torch.linalg.qr(a)
        q = q * torch.diag(r).sign()
        q = q.t() if rows < cols else q
        assert torch.allclose(q * gain, w.reshape(rows, cols), atol=1e-12), "orthogonal_ drew another matrix"
        mv, wv = m.flatten().tolist(), w.flatten().tolist()
        lines.append("orthogonal_ %s %s %d %s %d %s" % (shape_str(s), num(gain), len(mv), " ".join(map(num, mv)),
                                                          len(wv), " ".join(map(num, wv))))
    return lines


def write(name, lines):
    path = os.path.join(OUT_DIR, name)
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    print("wrote", os.path.relpath(path), "(%d lines, torch %s)" % (len(lines), torch.__version__))


if __name__ == "__main__":
    torch.manual_seed(0)
    write("module.txt", module_lines())
    write("init.txt", init_lines())
