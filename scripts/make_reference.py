#!/usr/bin/python3
"""Writes tests/reference/<family>.safetensors: what PyTorch computes for every
stylegrad op that has a torch equivalent (forward output and input gradients,
in float64), so that tests/test_reference.cpp can cross-check the engine
against PyTorch. The files are committed: the build and CI never run this
script and never need torch.

Regenerate them (only after adding or changing a case) with Debian's
python3-torch (torch 1.13, CPU) and numpy:

    /usr/bin/python3 scripts/make_reference.py

The output is deterministic: every family has its own fixed seed.

Layout of a family file (safetensors, written by write_safetensors below):

    <case>/input<i>       the op's i-th argument, in call order: float64, or
                          I64 (indices, class labels) / BOOL (masks)
    <case>/output         the op's output (its first one, for ops with several)
    <case>/grad_output    a fixed random cotangent v, when any input is differentiable
    <case>/grad_input<i>  d<output, v>/d input<i>, for each input that requires grad
    <case>/<other>        other results to compare, e.g. max's "indices",
                          batch_norm's updated "running_mean" and "running_var"
    __metadata__: {"<case>": '{"op": "<stylegrad op>", <attribute>: <value>, ...}'}

Attribute names are what test_reference.cpp reads; it fails a case when an
attribute is missing or left unread, so the two sides cannot drift apart.
Also writes tests/reference/safetensors_dtypes.safetensors (F16/BF16/... made
by torch) for tests/test_safetensors.cpp.
"""
import json
import os
import sys

import torch
import torch.nn.functional as F

F64 = torch.float64
REFERENCE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "reference")


# ---------------------------------------------------------------- safetensors

SAFETENSORS_DTYPES = {torch.float64: "F64", torch.float32: "F32", torch.float16: "F16",
                      torch.bfloat16: "BF16", torch.int64: "I64", torch.bool: "BOOL"}


def tensor_bytes(t):
    t = t.detach().contiguous()
    if t.dtype in (torch.float16, torch.bfloat16):
        t = t.view(torch.int16)  # numpy has no bfloat16: move the raw 16-bit patterns
    return t.numpy().tobytes()  # native order, checked to be little-endian in main()


def write_safetensors(path, tensors, metadata):
    """tensors: dict name -> torch tensor (kept in order); metadata: dict str -> str."""
    header = {"__metadata__": metadata} if metadata else {}
    blobs, offset = [], 0
    for name, t in tensors.items():
        data = tensor_bytes(t)
        header[name] = {"dtype": SAFETENSORS_DTYPES[t.dtype], "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)  # pad so the data starts 8-byte aligned, as the reference writer does
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(len(text).to_bytes(8, "little"))
        f.write(text)
        for data in blobs:
            f.write(data)
    os.replace(tmp, path)


# ---------------------------------------------------------------- cases

class Family:
    """The cases of one file. Inputs are drawn from the family's own generator."""

    def __init__(self, name, seed):
        self.name = name
        self.gen = torch.Generator().manual_seed(seed)
        self.tensors = {}
        self.metadata = {}

    # --- inputs ---
    def uniform(self, *shape, lo=-1.0, hi=1.0):
        return torch.rand(shape, generator=self.gen, dtype=F64) * (hi - lo) + lo

    def normal(self, *shape):
        return torch.randn(shape, generator=self.gen, dtype=F64)

    def away_from(self, *shape, points=(0.0,), gap=0.05, lo=-1.0, hi=1.0):
        """Uniform values kept at least `gap` away from each of `points` (kinks, clamp
        bounds), so that both engines take the same side of the kink."""
        x = self.uniform(*shape, lo=lo, hi=hi)
        for p in points:
            near = (x - p).abs() < gap
            x = torch.where(near, x + torch.sign(x - p + 1e-300) * 2 * gap, x)
        return x

    def index(self, *shape, high):
        return torch.randint(0, high, shape, generator=self.gen, dtype=torch.int64)

    def mask(self, *shape):
        return torch.rand(shape, generator=self.gen) < 0.5

    # --- one case ---
    def case(self, name, op, inputs, fn, attrs=None, constant=()):
        """fn(*inputs) -> output, or (output, {name: other result}). Float inputs
        require grad unless their position is in `constant`."""
        assert "/" not in name and name not in self.metadata, name
        inputs = [x.detach().clone() for x in inputs]
        differentiable = [i for i, x in enumerate(inputs) if x.is_floating_point() and i not in constant]
        for i in differentiable:
            inputs[i].requires_grad_(True)
        result = fn(*inputs)
        output, others = result if isinstance(result, tuple) else (result, {})

        for i, x in enumerate(inputs):
            self.tensors[f"{name}/input{i}"] = x.detach()
        self.tensors[f"{name}/output"] = output.detach()
        if differentiable:
            grad_output = torch.randn(output.shape, generator=self.gen, dtype=F64).to(output.dtype)
            grads = torch.autograd.grad(output, [inputs[i] for i in differentiable], grad_output,
                                        allow_unused=True)
            self.tensors[f"{name}/grad_output"] = grad_output
            for i, g in zip(differentiable, grads):
                self.tensors[f"{name}/grad_input{i}"] = torch.zeros_like(inputs[i]) if g is None else g.detach()
        for other, t in others.items():
            self.tensors[f"{name}/{other}"] = t.detach()
        self.metadata[name] = json.dumps(dict(op=op, **(attrs or {})), sort_keys=True)

    def write(self):
        path = os.path.join(REFERENCE_DIR, self.name + ".safetensors")
        write_safetensors(path, self.tensors, self.metadata)
        print(f"wrote {os.path.normpath(path)}: {len(self.metadata)} cases, {os.path.getsize(path)} bytes")


def elementwise():
    f = Family("elementwise", 1)
    x = lambda: f.uniform(3, 4)
    positive = lambda: f.uniform(3, 4, lo=0.5, hi=2.0)
    kinked = lambda: f.away_from(3, 4)
    f.case("neg", "neg", [x()], torch.neg)
    f.case("exp", "exp", [x()], torch.exp)
    f.case("log", "log", [positive()], torch.log)
    f.case("sqrt", "sqrt", [positive()], torch.sqrt)
    f.case("rsqrt", "rsqrt", [positive()], torch.rsqrt)
    f.case("abs", "abs", [kinked()], torch.abs)
    f.case("sign", "sign", [kinked()], torch.sign, constant=(0,))  # stylegrad's sign has no gradient
    for tag, p, make in [("square", 2.0, x), ("cube", 3.0, x), ("zero", 0.0, x),
                         ("sqrt", 0.5, positive), ("neg_fraction", -1.5, positive)]:
        f.case(f"pow_{tag}", "pow", [make()], lambda a, p=p: torch.pow(a, p), {"exponent": p})
    f.case("relu", "relu", [kinked()], torch.relu)
    f.case("leaky_relu", "leaky_relu", [kinked()], lambda a: F.leaky_relu(a, 0.2), {"negative_slope": 0.2})
    f.case("tanh", "tanh", [f.uniform(3, 4, lo=-3, hi=3)], torch.tanh)
    f.case("sigmoid", "sigmoid", [f.uniform(3, 4, lo=-4, hi=4)], torch.sigmoid)
    f.case("softplus", "softplus", [f.uniform(3, 4, lo=-6, hi=6)], F.softplus)
    f.case("clamp", "clamp", [f.away_from(3, 4, points=(-0.5, 0.3))], lambda a: torch.clamp(a, -0.5, 0.3),
           {"min": -0.5, "max": 0.3})
    f.case("add_scalar", "add_scalar", [x()], lambda a: a + 0.75, {"scalar": 0.75})
    f.case("mul_scalar", "mul_scalar", [x()], lambda a: a * -1.5, {"scalar": -1.5})

    # binary ops, same shape and broadcast both ways (gradients are summed back)
    shapes = [("same", (3, 4), (3, 4)), ("row", (3, 4), (4,)), ("outer", (2, 1, 4), (3, 1)),
              ("0d", (), (2, 3))]
    for tag, sa, sb in shapes:
        f.case(f"add_{tag}", "add", [f.uniform(*sa), f.uniform(*sb)], torch.add)
        f.case(f"sub_{tag}", "sub", [f.uniform(*sa), f.uniform(*sb)], torch.sub)
        f.case(f"mul_{tag}", "mul", [f.uniform(*sa), f.uniform(*sb)], torch.mul)
        f.case(f"div_{tag}", "div", [f.uniform(*sa), f.away_from(*sb, gap=0.3)], torch.div)
        # maximum: torch splits the gradient of ties in half, stylegrad gives it to a; avoid near-ties
        a, b = f.uniform(*sa), f.uniform(*sb)
        while ((a - b).abs() < 0.02).any():
            a, b = f.uniform(*sa), f.uniform(*sb)
        f.case(f"maximum_{tag}", "maximum", [a, b], torch.maximum)

    # comparisons: bool outputs, no gradient
    a, b = f.uniform(3, 4), f.uniform(4)
    f.case("gt", "gt", [a, b], torch.gt, constant=(0, 1))
    f.case("gt_scalar", "gt_scalar", [f.away_from(3, 4, points=(0.25,))], lambda a: a > 0.25, {"scalar": 0.25},
           constant=(0,))
    f.case("lt_scalar", "lt_scalar", [f.away_from(3, 4, points=(-0.25,))], lambda a: a < -0.25,
           {"scalar": -0.25}, constant=(0,))
    a = f.uniform(3, 4)
    b = torch.where(f.mask(3, 4), a, f.uniform(3, 4))  # about half equal
    f.case("eq", "eq", [a, b], torch.eq, constant=(0, 1))

    # Added after the cases above, so that their draws (and values) stay as they were.
    for tag, sa, sb in shapes:
        # minimum: as maximum, away from ties (torch halves a tie's gradient, stylegrad gives it to a)
        a, b = f.uniform(*sa), f.uniform(*sb)
        while ((a - b).abs() < 0.02).any():
            a, b = f.uniform(*sa), f.uniform(*sb)
        f.case(f"minimum_{tag}", "minimum", [a, b], torch.minimum)
    a = f.uniform(3, 4)
    b = torch.where(f.mask(3, 4), a, f.uniform(3, 4))  # about half equal: ties decide ge and le
    f.case("lt", "lt", [a, b], torch.lt, constant=(0, 1))
    f.case("ge", "ge", [a, b], torch.ge, constant=(0, 1))
    f.case("le", "le", [a, b], torch.le, constant=(0, 1))
    a, b = f.uniform(2, 1, 4), f.uniform(3, 1)
    f.case("ge_broadcast", "ge", [a, b], torch.ge, constant=(0, 1))
    f.case("le_broadcast", "le", [a, b], torch.le, constant=(0, 1))
    x = f.uniform(3, 4)
    x[0, :2] = 0.25  # exactly the scalar
    f.case("ge_scalar", "ge_scalar", [x], lambda a: a >= 0.25, {"scalar": 0.25}, constant=(0,))
    f.case("le_scalar", "le_scalar", [x], lambda a: a <= 0.25, {"scalar": 0.25}, constant=(0,))
    return f


def index():
    f = Family("index", 2)
    f.case("where_broadcast", "where", [f.mask(3, 4), f.uniform(3, 4), f.uniform(4)], torch.where)
    f.case("where_scalar_branch", "where", [f.mask(3, 1), f.uniform(), f.uniform(3, 4)], torch.where)
    f.case("masked_fill", "masked_fill", [f.uniform(3, 4), f.mask(4)],
           lambda x, m: x.masked_fill(m, 0.25), {"value": 0.25})
    f.case("gather_dim1", "gather", [f.uniform(2, 4), f.index(2, 3, high=4)],
           lambda x, i: torch.gather(x, 1, i), {"dim": 1})
    f.case("gather_dim0_3d", "gather", [f.uniform(3, 2, 2), f.index(4, 2, 1, high=3)],
           lambda x, i: torch.gather(x, 0, i), {"dim": 0})
    f.case("gather_neg_dim", "gather", [f.uniform(2, 3, 4), f.index(2, 2, 5, high=4)],
           lambda x, i: torch.gather(x, -1, i), {"dim": -1})
    f.case("scatter_add_collisions", "scatter_add", [f.index(3, 2, high=2), f.uniform(3, 2)],
           lambda i, s: torch.zeros(2, 2, dtype=F64).scatter_add(0, i, s), {"shape": [2, 2], "dim": 0})
    f.case("scatter_add_dim1", "scatter_add", [f.index(2, 4, high=3), f.uniform(2, 4)],
           lambda i, s: torch.zeros(3, 3, dtype=F64).scatter_add(1, i, s), {"shape": [3, 3], "dim": 1})
    f.case("cat_dim1_three", "cat", [f.uniform(2, 1), f.uniform(2, 3), f.uniform(2, 2)],
           lambda *xs: torch.cat(xs, 1), {"dim": 1})
    f.case("cat_dim0", "cat", [f.uniform(1, 3), f.uniform(2, 3)], lambda *xs: torch.cat(xs, 0), {"dim": 0})
    f.case("cat_neg_dim", "cat", [f.uniform(2, 2, 1), f.uniform(2, 2, 3)], lambda *xs: torch.cat(xs, -1),
           {"dim": -1})
    f.case("stack_dim0", "stack", [f.uniform(2, 3), f.uniform(2, 3)], lambda *xs: torch.stack(xs, 0), {"dim": 0})
    f.case("stack_last", "stack", [f.uniform(2, 3), f.uniform(2, 3), f.uniform(2, 3)],
           lambda *xs: torch.stack(xs, 2), {"dim": 2})
    f.case("stack_neg_dim", "stack", [f.uniform(3), f.uniform(3)], lambda *xs: torch.stack(xs, -1), {"dim": -1})
    for tag, shape, dims in [("dim1", (3, 4), [1]), ("dims_0_2", (2, 3, 4), [0, 2]), ("neg_dim", (2, 3, 4), [-2]),
                             ("all", (2, 3, 4), [2, 0, 1]), ("none", (3, 2), [])]:
        f.case(f"flip_{tag}", "flip", [f.uniform(*shape)], lambda x, d=dims: torch.flip(x, d), {"dims": dims})
    return f


def reduce():
    f = Family("reduce", 3)
    x = lambda: f.uniform(2, 3, 4)
    for tag, dims, keepdim in [("all", [], False), ("dim1", [1], False), ("dims02_keepdim", [0, 2], True),
                               ("neg_dim", [-1], False)]:
        # torch reduces everything when dim is omitted; stylegrad when the list is empty
        kw = {"dim": dims, "keepdim": keepdim} if dims else {}
        f.case(f"sum_{tag}", "sum", [x()], lambda a, kw=kw: torch.sum(a, **kw), {"dims": dims, "keepdim": keepdim})
        f.case(f"mean_{tag}", "mean", [x()], lambda a, kw=kw: torch.mean(a, **kw),
               {"dims": dims, "keepdim": keepdim})
    for tag, dims, correction, keepdim in [("all", [], 1, False), ("dim1_biased_keepdim", [1], 0, True),
                                           ("dims02", [0, 2], 1, False)]:
        f.case(f"var_{tag}", "var", [x()],
               lambda a, d=dims, c=correction, k=keepdim: torch.var(a, dim=d or None, correction=c, keepdim=k),
               {"dims": dims, "correction": correction, "keepdim": keepdim})
    for tag, dim, keepdim in [("dim1", 1, False), ("dim0_keepdim", 0, True), ("neg_dim", -1, False)]:
        def max_dim(a, dim=dim, keepdim=keepdim):
            values, indices = torch.max(a, dim, keepdim)
            return values, {"indices": indices}
        f.case(f"max_{tag}", "max_dim", [x()], max_dim, {"dim": dim, "keepdim": keepdim})
    f.case("max_all", "max_all", [x()], torch.max)
    for tag, src, dst in [("rows", (2, 3, 4), [3, 1]), ("leading", (2, 3), [1, 3]), ("scalar", (2, 3), [])]:
        f.case(f"sum_to_{tag}", "sum_to", [f.uniform(*src)], lambda a, d=dst: a.sum_to_size(d), {"shape": dst})
    return f


def view():
    f = Family("view", 4)
    x = lambda: f.uniform(2, 3, 4)
    f.case("reshape_infer", "reshape", [x()], lambda a: a.reshape(4, -1), {"shape": [4, -1]})
    f.case("reshape_add_dims", "reshape", [f.uniform(6)], lambda a: a.reshape(2, 1, 3), {"shape": [2, 1, 3]})
    f.case("permute", "permute", [x()], lambda a: a.permute(2, 0, 1), {"order": [2, 0, 1]})
    f.case("transpose", "transpose", [x()], lambda a: a.transpose(0, 2), {"dim0": 0, "dim1": 2})
    f.case("transpose_neg", "transpose", [x()], lambda a: a.transpose(-1, -2), {"dim0": -1, "dim1": -2})
    f.case("narrow", "narrow", [x()], lambda a: a.narrow(1, 1, 2), {"dim": 1, "start": 1, "length": 2})
    f.case("expand", "expand", [f.uniform(3, 1)], lambda a: a.expand(2, 3, 4), {"shape": [2, 3, 4]})
    f.case("expand_keep", "expand", [f.uniform(2, 1, 4)], lambda a: a.expand(2, 3, -1), {"shape": [2, 3, -1]})
    f.case("unsqueeze", "unsqueeze", [f.uniform(3, 2)], lambda a: a.unsqueeze(1), {"dim": 1})
    f.case("unsqueeze_neg", "unsqueeze", [f.uniform(3, 2)], lambda a: a.unsqueeze(-1), {"dim": -1})
    f.case("squeeze", "squeeze", [f.uniform(3, 1, 2)], lambda a: a.squeeze(1), {"dim": 1})
    f.case("contiguous", "contiguous", [x()], lambda a: a.contiguous())
    f.case("clone", "clone", [x()], torch.clone)
    f.case("to_float32", "to_dtype", [f.uniform(3, 4)], lambda a: a.to(torch.float32), {"dtype": "float32"})
    return f


def matmul():
    f = Family("matmul", 5)
    f.case("matmul_2d", "matmul", [f.uniform(3, 4), f.uniform(4, 5)], torch.matmul)
    f.case("matmul_batch_broadcast", "matmul", [f.uniform(2, 3, 4), f.uniform(4, 5)], torch.matmul)
    f.case("matmul_batch_both", "matmul", [f.uniform(2, 1, 3, 4), f.uniform(3, 4, 2)], torch.matmul)
    f.case("bmm", "bmm", [f.uniform(2, 3, 4), f.uniform(2, 4, 5)], torch.bmm)
    f.case("linear_bias", "linear", [f.uniform(5, 3), f.uniform(4, 3), f.uniform(4)], F.linear, {"bias": True})
    f.case("linear_3d_no_bias", "linear", [f.uniform(2, 5, 3), f.uniform(4, 3)], F.linear, {"bias": False})
    f.case("gram_batched", "gram", [f.uniform(2, 3, 6)], lambda v: v @ v.transpose(-1, -2))
    return f


def conv():
    f = Family("conv", 6)

    def conv2d(name, x, w, bias, stride=(1, 1), padding=(0, 0), dilation=(1, 1), groups=1):
        attrs = {"stride": list(stride), "padding": list(padding), "dilation": list(dilation), "groups": groups,
                 "bias": bias}
        inputs = [f.uniform(*x), f.uniform(*w)] + ([f.uniform(w[0])] if bias else [])
        f.case(name, "conv2d", inputs,
               lambda x, w, b=None: F.conv2d(x, w, b, stride, padding, dilation, groups), attrs)

    conv2d("conv2d_basic", (2, 3, 5, 5), (4, 3, 3, 3), True, padding=(1, 1))
    conv2d("conv2d_stride_asym_pad", (1, 2, 7, 6), (3, 2, 3, 2), True, stride=(2, 1), padding=(1, 0))
    conv2d("conv2d_dilation", (1, 2, 7, 7), (2, 2, 3, 3), False, stride=(1, 2), padding=(2, 1), dilation=(2, 1))
    conv2d("conv2d_groups", (2, 4, 5, 5), (6, 2, 3, 3), True, padding=(1, 1), groups=2)
    conv2d("conv2d_depthwise", (1, 3, 6, 6), (3, 1, 3, 3), False, stride=(2, 2), padding=(1, 1), groups=3)
    conv2d("conv2d_1x1", (2, 3, 4, 4), (5, 3, 1, 1), True)

    def conv_transpose2d(name, x, w, bias, stride=(1, 1), padding=(0, 0), output_padding=(0, 0), dilation=(1, 1),
                         groups=1):
        attrs = {"stride": list(stride), "padding": list(padding), "output_padding": list(output_padding),
                 "dilation": list(dilation), "groups": groups, "bias": bias}
        inputs = [f.uniform(*x), f.uniform(*w)] + ([f.uniform(w[1] * groups)] if bias else [])
        f.case(name, "conv_transpose2d", inputs,
               lambda x, w, b=None: F.conv_transpose2d(x, w, b, stride, padding, output_padding, groups, dilation),
               attrs)

    conv_transpose2d("conv_transpose2d_basic", (2, 3, 4, 4), (3, 2, 3, 3), True, padding=(1, 1))
    conv_transpose2d("conv_transpose2d_stride2_output_padding", (1, 2, 3, 4), (2, 3, 3, 3), True, stride=(2, 2),
                     padding=(1, 1), output_padding=(1, 1))
    conv_transpose2d("conv_transpose2d_groups_dilation", (1, 4, 3, 3), (4, 2, 3, 2), True, stride=(2, 2),
                     padding=(1, 0), output_padding=(1, 1), dilation=(2, 1), groups=2)
    conv_transpose2d("conv_transpose2d_asym_stride", (2, 2, 3, 3), (2, 2, 2, 3), False, stride=(1, 3),
                     output_padding=(0, 2))

    def conv2d_weight_grad(name, x, weight_shape, stride=(1, 1), padding=(0, 0), dilation=(1, 1), groups=1):
        # By definition: d/dW of sum(conv2d(x, W) * grad_y), itself differentiable in x and grad_y.
        def fn(x, gy):
            w = torch.zeros(weight_shape, dtype=F64, requires_grad=True)
            y = F.conv2d(x, w, None, stride, padding, dilation, groups)
            return torch.autograd.grad(y, w, gy, create_graph=True)[0]
        x = f.uniform(*x)
        y_shape = F.conv2d(x, torch.zeros(weight_shape), None, stride, padding, dilation, groups).shape
        f.case(name, "conv2d_weight_grad", [x, f.uniform(*y_shape)], fn,
               {"weight_shape": list(weight_shape), "stride": list(stride), "padding": list(padding),
                "dilation": list(dilation), "groups": groups})

    conv2d_weight_grad("conv2d_weight_grad_basic", (2, 3, 5, 5), (4, 3, 3, 3))
    # (6 + 2 - 3) % 2 == 1: the last input row and column are never read
    conv2d_weight_grad("conv2d_weight_grad_strided_groups", (1, 4, 6, 6), (4, 2, 3, 3), stride=(2, 2),
                       padding=(1, 1), groups=2)
    conv2d_weight_grad("conv2d_weight_grad_dilation", (1, 2, 6, 5), (3, 2, 3, 2), stride=(1, 2), dilation=(2, 1))
    return f


def pool():
    f = Family("pool", 7)

    def max_pool(name, x, kernel, stride, padding=(0, 0), dilation=(1, 1), ceil_mode=False, with_indices=False):
        attrs = {"kernel": list(kernel), "stride": list(stride), "padding": list(padding),
                 "dilation": list(dilation), "ceil_mode": ceil_mode}

        def fn(x):
            y, i = F.max_pool2d(x, kernel, stride, padding, dilation, ceil_mode, return_indices=True)
            return (y, {"indices": i}) if with_indices else y
        f.case(name, "max_pool2d_with_indices" if with_indices else "max_pool2d", [f.normal(*x)], fn, attrs)

    max_pool("max_pool2d_basic", (2, 2, 4, 4), (2, 2), (2, 2))
    max_pool("max_pool2d_overlap_pad", (1, 2, 5, 5), (3, 3), (1, 1), padding=(1, 1))
    max_pool("max_pool2d_asym", (1, 1, 7, 5), (3, 2), (2, 1), padding=(1, 0))
    max_pool("max_pool2d_dilation", (1, 2, 7, 7), (3, 3), (2, 2), padding=(1, 1), dilation=(2, 2))
    max_pool("max_pool2d_ceil", (1, 2, 5, 5), (2, 2), (2, 2), ceil_mode=True)
    # ceil_mode: a last window that would start in the right padding is dropped (5 -> 3, not 4)
    max_pool("max_pool2d_ceil_pad", (1, 1, 5, 5), (2, 2), (2, 2), padding=(1, 1), ceil_mode=True)
    max_pool("max_pool2d_with_indices", (2, 2, 5, 4), (3, 2), (2, 2), padding=(1, 1), with_indices=True)
    max_pool("max_pool2d_with_indices_ceil_dilation", (1, 2, 6, 6), (2, 2), (2, 2), dilation=(2, 1),
             ceil_mode=True, with_indices=True)

    def avg_pool(name, x, kernel, stride, padding=(0, 0), ceil_mode=False, count_include_pad=True):
        attrs = {"kernel": list(kernel), "stride": list(stride), "padding": list(padding), "ceil_mode": ceil_mode,
                 "count_include_pad": count_include_pad}
        f.case(name, "avg_pool2d", [f.normal(*x)],
               lambda x: F.avg_pool2d(x, kernel, stride, padding, ceil_mode, count_include_pad), attrs)

    avg_pool("avg_pool2d_basic", (2, 2, 4, 4), (2, 2), (2, 2))
    avg_pool("avg_pool2d_pad_counted", (1, 2, 5, 5), (3, 3), (1, 1), padding=(1, 1))
    avg_pool("avg_pool2d_pad_not_counted", (1, 2, 5, 5), (3, 3), (1, 1), padding=(1, 1), count_include_pad=False)
    avg_pool("avg_pool2d_asym", (1, 1, 5, 7), (2, 3), (1, 2), padding=(1, 1))
    # ceil_mode: windows hanging past the padded input are clipped; with
    # count_include_pad the divisor still counts the padding they cover
    avg_pool("avg_pool2d_ceil_pad_counted", (1, 1, 6, 6), (3, 3), (2, 2), padding=(1, 1), ceil_mode=True)
    avg_pool("avg_pool2d_ceil_pad_not_counted", (1, 1, 6, 6), (3, 3), (2, 2), padding=(1, 1), ceil_mode=True,
             count_include_pad=False)
    avg_pool("avg_pool2d_ceil", (1, 2, 5, 5), (2, 2), (2, 2), ceil_mode=True)
    return f


def pad():
    f = Family("pad", 8)
    torch_mode = {"zeros": "constant", "reflect": "reflect", "replicate": "replicate"}

    def pad2d(name, x, left, right, top, bottom, mode, value=0.0):
        # stylegrad pads (left, right, top, bottom), the order of torch's F.pad for the last two dims
        kw = {"value": value} if mode == "zeros" else {}
        f.case(name, "pad2d", [f.uniform(*x)],
               lambda x: F.pad(x, (left, right, top, bottom), mode=torch_mode[mode], **kw),
               {"pad": [left, right, top, bottom], "mode": mode, "value": value})

    pad2d("pad2d_zeros", (1, 2, 3, 4), 1, 2, 0, 3, "zeros")
    pad2d("pad2d_constant_value", (2, 1, 2, 3), 2, 0, 1, 1, "zeros", value=0.5)
    pad2d("pad2d_reflect", (1, 2, 4, 5), 2, 1, 1, 2, "reflect")
    pad2d("pad2d_reflect_max", (1, 1, 3, 3), 2, 2, 2, 2, "reflect")  # reflect allows pad <= size - 1
    pad2d("pad2d_reflect_3d", (2, 4, 3), 1, 2, 3, 0, "reflect")  # [C,H,W]: the last two dims
    pad2d("pad2d_replicate", (1, 2, 3, 4), 3, 1, 0, 2, "replicate")
    pad2d("pad2d_replicate_wide", (1, 2, 2, 3), 4, 4, 3, 3, "replicate")
    return f


def upsample():
    f = Family("upsample", 9)
    sizes = [("up2x", (1, 2, 3, 3), (6, 6)), ("up_fraction", (1, 1, 3, 4), (5, 7)), ("down", (1, 1, 5, 6), (3, 4)),
             ("to_one_row", (2, 1, 3, 4), (1, 5))]
    for tag, x, size in sizes:
        f.case(f"nearest_{tag}", "upsample_nearest2d", [f.uniform(*x)],
               lambda x, s=size: F.interpolate(x, size=s, mode="nearest"), {"size": list(size)})
        for align_corners in (False, True):
            f.case(f"bilinear_{tag}_align_corners_{str(align_corners).lower()}", "upsample_bilinear2d",
                   [f.uniform(*x)],
                   lambda x, s=size, a=align_corners: F.interpolate(x, size=s, mode="bilinear", align_corners=a),
                   {"size": list(size), "align_corners": align_corners})
    return f


def norm():
    f = Family("norm", 10)

    def instance_norm(name, x, affine, eps=1e-5):
        c = x[1]
        inputs = [f.normal(*x) * 2 + 0.5] + ([f.uniform(c, lo=0.5, hi=1.5), f.uniform(c)] if affine else [])
        f.case(name, "instance_norm", inputs,
               lambda x, w=None, b=None: F.instance_norm(x, weight=w, bias=b, eps=eps),
               {"affine": affine, "eps": eps})

    instance_norm("instance_norm_affine", (2, 3, 4, 4), True)
    instance_norm("instance_norm_plain", (2, 3, 4, 5), False, eps=1e-3)
    instance_norm("instance_norm_3d", (2, 3, 6), True)

    def batch_norm(name, x, training, affine=True, running_stats=True, momentum=0.1, eps=1e-5):
        c = x[1]
        inputs = [f.normal(*x) * 2 + 0.5]
        if affine:
            inputs += [f.uniform(c, lo=0.5, hi=1.5), f.uniform(c)]
        if running_stats:
            inputs += [f.uniform(c), f.uniform(c, lo=0.5, hi=2.0)]  # running mean, running variance
        n_affine = 2 if affine else 0

        def fn(*inputs):
            x = inputs[0]
            w, b = (inputs[1], inputs[2]) if affine else (None, None)
            rm, rv = (inputs[1 + n_affine].clone(), inputs[2 + n_affine].clone()) if running_stats else (None, None)
            y = F.batch_norm(x, rm, rv, w, b, training, momentum, eps)  # updates rm, rv in place when training
            return (y, {"running_mean": rm, "running_var": rv}) if running_stats else y
        constant = (1 + n_affine, 2 + n_affine) if running_stats else ()
        f.case(name, "batch_norm", inputs, fn,
               {"training": training, "affine": affine, "running_stats": running_stats, "momentum": momentum,
                "eps": eps}, constant=constant)

    batch_norm("batch_norm_train", (3, 2, 3, 3), True)
    batch_norm("batch_norm_train_2d", (5, 3), True, momentum=0.3, eps=1e-3)
    batch_norm("batch_norm_eval", (3, 2, 3, 3), False)
    batch_norm("batch_norm_train_plain", (4, 3, 2, 2), True, affine=False, running_stats=False)
    return f


def softmax():
    f = Family("softmax", 11)
    for tag, x, dim in [("dim1", (3, 5), 1), ("dim0", (3, 5), 0), ("3d_last", (2, 3, 4), -1), ("3d_mid", (2, 3, 4), 1)]:
        f.case(f"softmax_{tag}", "softmax", [f.uniform(*x, lo=-2, hi=2)], lambda a, d=dim: torch.softmax(a, d),
               {"dim": dim})
        f.case(f"log_softmax_{tag}", "log_softmax", [f.uniform(*x, lo=-2, hi=2)],
               lambda a, d=dim: torch.log_softmax(a, d), {"dim": dim})
    # large logits: exp would overflow without the max subtraction
    f.case("softmax_large", "softmax", [f.uniform(3, 4, lo=-800, hi=800)], lambda a: torch.softmax(a, 1), {"dim": 1})
    f.case("log_softmax_large", "log_softmax", [f.uniform(3, 4, lo=-800, hi=800)],
           lambda a: torch.log_softmax(a, 1), {"dim": 1})
    f.case("cross_entropy", "cross_entropy", [f.uniform(4, 5, lo=-2, hi=2), f.index(4, high=5)], F.cross_entropy)
    f.case("cross_entropy_spatial", "cross_entropy", [f.uniform(2, 3, 2, 2, lo=-2, hi=2), f.index(2, 2, 2, high=3)],
           F.cross_entropy)
    return f


def loss():
    f = Family("loss", 12)
    # targets are constants (as in training); only the prediction's gradient is compared
    x = f.uniform(3, 4)
    f.case("l1_loss", "l1_loss", [x, x + f.away_from(3, 4, gap=0.05)], F.l1_loss, constant=(1,))
    f.case("mse_loss", "mse_loss", [f.uniform(3, 4), f.uniform(3, 4)], F.mse_loss, constant=(1,))
    f.case("bce_with_logits_soft", "bce_with_logits", [f.uniform(3, 4, lo=-3, hi=3), f.uniform(3, 4, lo=0, hi=1)],
           F.binary_cross_entropy_with_logits, constant=(1,))
    f.case("bce_with_logits_hard", "bce_with_logits", [f.uniform(2, 5, lo=-30, hi=30), f.mask(2, 5).to(F64)],
           F.binary_cross_entropy_with_logits, constant=(1,))
    return f


def safetensors_dtypes():
    """Tensors of every dtype the reader converts, with float64 copies of their exact values."""
    tensors = {}
    f16 = torch.tensor([0.0, -0.0, 1.0, -2.5, 65504.0, 2.0 ** -14, 2.0 ** -24, 3 * 2.0 ** -20, float("inf"),
                        float("-inf"), 0.1, -1000.25], dtype=torch.float16).reshape(3, 4)
    bf16 = torch.tensor([0.0, -0.0, 1.0, -2.5, 3.3895313892515355e38, 2.0 ** -126, 2.0 ** -133, float("inf"),
                         float("-inf"), 0.1, 1e10, -7.0], dtype=torch.bfloat16).reshape(2, 6)
    tensors["f16"] = f16
    tensors["f16_as_f64"] = f16.to(F64)
    tensors["f16_nan"] = torch.tensor([float("nan")], dtype=torch.float16)
    tensors["bf16"] = bf16
    tensors["bf16_as_f64"] = bf16.to(F64)
    tensors["bf16_nan"] = torch.tensor([float("nan")], dtype=torch.bfloat16)
    gen = torch.Generator().manual_seed(13)
    tensors["f32"] = torch.randn(2, 3, generator=gen, dtype=torch.float32)
    tensors["f32_as_f64"] = tensors["f32"].to(F64)
    tensors["f64"] = torch.randn(4, generator=gen, dtype=F64)
    tensors["i64"] = torch.tensor([[-3, 0, 2 ** 40], [-(2 ** 62), 7, 2 ** 63 - 1]], dtype=torch.int64)
    tensors["bool"] = torch.tensor([True, False, True], dtype=torch.bool)
    tensors["scalar"] = torch.tensor(2.5, dtype=torch.float32)
    tensors["empty"] = torch.zeros(0, 3, dtype=torch.float32)
    # json.dumps writes non-ASCII as \u escapes (with a surrogate pair for the emoji)
    metadata = {"format": "pt", "writer": "scripts/make_reference.py", "unicode": "h\u00e9llo \u2713 \U0001F600"}
    path = os.path.join(REFERENCE_DIR, "safetensors_dtypes.safetensors")
    write_safetensors(path, tensors, metadata)
    print(f"wrote {os.path.normpath(path)}: {os.path.getsize(path)} bytes")


FAMILIES = [elementwise, index, reduce, view, matmul, conv, pool, pad, upsample, norm, softmax, loss]


def main():
    assert sys.byteorder == "little", "tensor bytes are written in native order"
    torch.set_default_dtype(F64)
    os.makedirs(REFERENCE_DIR, exist_ok=True)
    for make in FAMILIES:
        make().write()
    safetensors_dtypes()


if __name__ == "__main__":
    main()
