#!/usr/bin/python3
"""Reference files for models/cyclegan_networks (tests/test_cyclegan_networks.cpp):
the generators and discriminators of junyanz/pytorch-CycleGAN-and-pix2pix,
written here in torch from their published definition (models/networks.py),
with the same module nesting so that state_dict keys are the official ones.

    /usr/bin/python3 scripts/make_cyclegan_reference.py     (Debian's torch 1.13)

Deterministic (fixed seeds), except the bytes of the legacy-format files:
torch names their storages by memory address; their tensors are the same.

Writes
  tests/reference/cyclegan_networks_keys.txt
      for every netG x norm x dropout, the ResnetGenerator's other padding
      types, and netD basic / n_layers (1, 2, 4, 5) / pixel x norm: the
      state_dict keys and shapes in order, and the parameter count; the
      released configurations (CycleGAN's resnet_9blocks and basic D with
      instance norm, pix2pix's unet_256 with batch norm and dropout, and its
      6-channel basic D) at full width (ngf = ndf = 64), the others at width 8
      (the same keys). Lines:
        net NAME kind=ResnetGenerator input_nc=3 ... params=N
        key NAME SHAPE            (SHAPE like 64x3x7x7; "scalar" for a 0-d tensor)
  tests/data/cyclegan/<case>.pth
      narrow networks in torch.save's zip format (cases below), seeded,
      initialised as the official init_weights('normal', 0.02), then biases and
      BatchNorm statistics made non-trivial (randomise_biases,
      calibrate_batchnorm) so that a parameter that is not loaded changes the
      output. Without normalisation (norm 'none'), normal(0, 0.02) shrinks the
      input's part of the output to about 1e-7 (the biases are all that is
      left), so those cases use init_weights('xavier', 1.2), which keeps it of
      order 0.2 without saturating tanh.
  tests/data/cyclegan/{resnet_2blocks_instance_replicate,D_basic_batch}_legacy.pth
      the same in the legacy format
  tests/data/cyclegan/resnet_6blocks_instance_old.pth
      resnet_6blocks_instance's weights as a 2018 checkpoint looks: every key
      prefixed "module." (DataParallel) and every InstanceNorm2d with
      running_mean, running_var and num_batches_tracked (networks.py then built
      InstanceNorm2d with track_running_stats=True); legacy format.
  tests/data/cyclegan/D_basic_batch_no_nbt.pth
      D_basic_batch without the num_batches_tracked buffers, as torch < 0.4.1
      saved BatchNorm2d; legacy format.
  tests/reference/cyclegan_networks.safetensors
      for every case: its outputs, float32. __metadata__["<case>"] is a JSON
      object with the constructor arguments, the input's shape and seed, and
      "subsample": outputs are stored as out[:, :, ::s, ::s] (s = 1 but for the
      U-Nets, whose 128x128 / 256x256 outputs would be large).
        <case>.eval     the output in eval mode
        <case>.train    (BatchNorm cases) the output in train mode: batch statistics
        <case>.after_train.<key>  (resnet_9blocks_batch only) every BatchNorm
                        running_mean / running_var after that train-mode forward

Inputs are not stored: each is hashed_input(shape, seed) below, which the C++
test computes the same way (murmur3's 32-bit finaliser of the element index;
values k / 2^23 - 1, exact in float32).

Cases (tiny_cases): every netG (resnet_9blocks, resnet_6blocks, unet_128,
unet_256) x norm (instance, batch, none); resnet_9blocks_instance with dropout
(it shifts the residual blocks' keys); the ResnetGenerator's replicate and zero
padding (2 blocks); every netD (basic, n_layers with n_layers_D 4, pixel) x
norm. The U-Net's dropout moves no key; the C++ test loads unet_256_batch into
a network with dropout.

A note on the U-Net: each UnetSkipConnectionBlock but the outermost begins with
LeakyReLU(0.2, inplace=True), which overwrites the block's input x before
torch.cat([x, model(x)], 1) reads it, so the skip connection carries
leaky_relu(x); the parent block applies ReLU to it next, and
relu(leaky_relu(x)) = relu(x), so the output is that of a plain x. The classes
below keep the official in-place layers all the same.
"""
import collections
import copy
import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_reference import write_safetensors  # noqa: E402

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
DATA_DIR = os.path.join(ROOT, "tests", "data", "cyclegan")
REF_DIR = os.path.join(ROOT, "tests", "reference")


# ------------------------------------------------- the networks of networks.py

def make_norm(norm, channels):
    """get_norm_layer(norm)(channels)."""
    if norm == "batch":
        return nn.BatchNorm2d(channels, affine=True, track_running_stats=True)
    if norm == "instance":
        return nn.InstanceNorm2d(channels, affine=False, track_running_stats=False)
    if norm == "none":
        return nn.Identity()
    raise ValueError(norm)


def conv_bias(norm):
    """networks.py's use_bias: true only when norm_layer is a functools.partial of
    InstanceNorm2d; 'batch' is a partial of BatchNorm2d and 'none' a plain function."""
    return norm == "instance"


class ResnetBlock(nn.Module):
    def __init__(self, dim, padding_type, norm, use_dropout, use_bias):
        super().__init__()
        layers = []
        for half in (0, 1):
            conv_padding = 0
            if padding_type == "reflect":
                layers.append(nn.ReflectionPad2d(1))
            elif padding_type == "replicate":
                layers.append(nn.ReplicationPad2d(1))
            else:
                conv_padding = 1
            layers += [nn.Conv2d(dim, dim, 3, padding=conv_padding, bias=use_bias), make_norm(norm, dim)]
            if half == 0:
                layers.append(nn.ReLU(True))
                if use_dropout:
                    layers.append(nn.Dropout(0.5))
        self.conv_block = nn.Sequential(*layers)

    def forward(self, x):
        return x + self.conv_block(x)


class ResnetGenerator(nn.Module):
    def __init__(self, input_nc, output_nc, ngf=64, norm="batch", use_dropout=False, n_blocks=6,
                 padding_type="reflect"):
        super().__init__()
        bias = conv_bias(norm)
        layers = [nn.ReflectionPad2d(3), nn.Conv2d(input_nc, ngf, 7, bias=bias), make_norm(norm, ngf), nn.ReLU(True)]
        channels = ngf
        for _ in range(2):  # downsampling
            layers += [nn.Conv2d(channels, 2 * channels, 3, stride=2, padding=1, bias=bias),
                       make_norm(norm, 2 * channels), nn.ReLU(True)]
            channels *= 2
        layers += [ResnetBlock(channels, padding_type, norm, use_dropout, bias) for _ in range(n_blocks)]
        for _ in range(2):  # upsampling
            layers += [nn.ConvTranspose2d(channels, channels // 2, 3, stride=2, padding=1, output_padding=1, bias=bias),
                       make_norm(norm, channels // 2), nn.ReLU(True)]
            channels //= 2
        layers += [nn.ReflectionPad2d(3), nn.Conv2d(ngf, output_nc, 7), nn.Tanh()]
        self.model = nn.Sequential(*layers)

    def forward(self, x):
        return self.model(x)


class UnetSkipConnectionBlock(nn.Module):
    def __init__(self, outer_nc, inner_nc, input_nc=None, submodule=None, outermost=False, innermost=False,
                 norm="batch", use_dropout=False):
        super().__init__()
        self.outermost = outermost
        bias = conv_bias(norm)
        if input_nc is None:
            input_nc = outer_nc
        down_conv = nn.Conv2d(input_nc, inner_nc, 4, stride=2, padding=1, bias=bias)
        if outermost:
            up_conv = nn.ConvTranspose2d(2 * inner_nc, outer_nc, 4, stride=2, padding=1)
            layers = [down_conv, submodule, nn.ReLU(True), up_conv, nn.Tanh()]
        elif innermost:
            up_conv = nn.ConvTranspose2d(inner_nc, outer_nc, 4, stride=2, padding=1, bias=bias)
            layers = [nn.LeakyReLU(0.2, True), down_conv, nn.ReLU(True), up_conv, make_norm(norm, outer_nc)]
        else:
            up_conv = nn.ConvTranspose2d(2 * inner_nc, outer_nc, 4, stride=2, padding=1, bias=bias)
            layers = [nn.LeakyReLU(0.2, True), down_conv, make_norm(norm, inner_nc), submodule,
                      nn.ReLU(True), up_conv, make_norm(norm, outer_nc)]
            if use_dropout:
                layers.append(nn.Dropout(0.5))
        self.model = nn.Sequential(*layers)

    def forward(self, x):
        if self.outermost:
            return self.model(x)
        return torch.cat([x, self.model(x)], 1)  # x has been through the in-place LeakyReLU by now (see the top)


class UnetGenerator(nn.Module):
    def __init__(self, input_nc, output_nc, num_downs, ngf=64, norm="batch", use_dropout=False):
        super().__init__()
        block = UnetSkipConnectionBlock(8 * ngf, 8 * ngf, norm=norm, innermost=True)
        for _ in range(num_downs - 5):
            block = UnetSkipConnectionBlock(8 * ngf, 8 * ngf, submodule=block, norm=norm, use_dropout=use_dropout)
        for outer in (4 * ngf, 2 * ngf, ngf):
            block = UnetSkipConnectionBlock(outer, 2 * outer, submodule=block, norm=norm)
        self.model = UnetSkipConnectionBlock(output_nc, ngf, input_nc=input_nc, submodule=block, outermost=True,
                                             norm=norm)

    def forward(self, x):
        return self.model(x)


class NLayerDiscriminator(nn.Module):
    def __init__(self, input_nc, ndf=64, n_layers=3, norm="batch"):
        super().__init__()
        bias = conv_bias(norm)
        layers = [nn.Conv2d(input_nc, ndf, 4, stride=2, padding=1), nn.LeakyReLU(0.2, True)]
        mult = 1
        for n in range(1, n_layers + 1):
            prev, mult = mult, min(2 ** n, 8)
            stride = 2 if n < n_layers else 1  # the last of these keeps the size
            layers += [nn.Conv2d(ndf * prev, ndf * mult, 4, stride=stride, padding=1, bias=bias),
                       make_norm(norm, ndf * mult), nn.LeakyReLU(0.2, True)]
        layers.append(nn.Conv2d(ndf * mult, 1, 4, stride=1, padding=1))
        self.model = nn.Sequential(*layers)

    def forward(self, x):
        return self.model(x)


class PixelDiscriminator(nn.Module):
    def __init__(self, input_nc, ndf=64, norm="batch"):
        super().__init__()
        bias = conv_bias(norm)
        self.net = nn.Sequential(
            nn.Conv2d(input_nc, ndf, 1), nn.LeakyReLU(0.2, True),
            nn.Conv2d(ndf, 2 * ndf, 1, bias=bias), make_norm(norm, 2 * ndf), nn.LeakyReLU(0.2, True),
            nn.Conv2d(2 * ndf, 1, 1, bias=bias))

    def forward(self, x):
        return self.net(x)


def init_weights(net, init_type="normal", init_gain=0.02):
    """networks.init_weights: by class name, through Module.apply."""
    def init_func(m):
        name = m.__class__.__name__
        if hasattr(m, "weight") and ("Conv" in name or "Linear" in name):
            if init_type == "normal":
                nn.init.normal_(m.weight.data, 0.0, init_gain)
            elif init_type == "xavier":
                nn.init.xavier_normal_(m.weight.data, gain=init_gain)
            elif init_type == "kaiming":
                nn.init.kaiming_normal_(m.weight.data, a=0, mode="fan_in")
            elif init_type == "orthogonal":
                nn.init.orthogonal_(m.weight.data, gain=init_gain)
            if getattr(m, "bias", None) is not None:
                nn.init.constant_(m.bias.data, 0.0)
        elif "BatchNorm2d" in name:
            nn.init.normal_(m.weight.data, 1.0, init_gain)
            nn.init.constant_(m.bias.data, 0.0)
    net.apply(init_func)


def make_net(spec):
    """define_G / define_D (or a class directly, for padding_type) from a case's arguments."""
    kind = spec["kind"]
    if kind == "ResnetGenerator":
        return ResnetGenerator(spec["input_nc"], spec["output_nc"], spec["ngf"], spec["norm"], spec["use_dropout"],
                               spec["n_blocks"], spec["padding_type"])
    if kind == "UnetGenerator":
        return UnetGenerator(spec["input_nc"], spec["output_nc"], spec["num_downs"], spec["ngf"], spec["norm"],
                             spec["use_dropout"])
    if kind == "NLayerDiscriminator":
        return NLayerDiscriminator(spec["input_nc"], spec["ndf"], spec["n_layers"], spec["norm"])
    if kind == "PixelDiscriminator":
        return PixelDiscriminator(spec["input_nc"], spec["ndf"], spec["norm"])
    raise ValueError(kind)


def spec_G(netG, norm, use_dropout=False, ngf=64, input_nc=3, output_nc=3, padding_type="reflect", n_blocks=None):
    """define_G's arguments, spelled out as the class's."""
    if netG.startswith("resnet"):
        blocks = {"resnet_9blocks": 9, "resnet_6blocks": 6}.get(netG, n_blocks)
        return dict(kind="ResnetGenerator", netG=netG, input_nc=input_nc, output_nc=output_nc, ngf=ngf, norm=norm,
                    use_dropout=use_dropout, n_blocks=blocks, padding_type=padding_type)
    downs = {"unet_128": 7, "unet_256": 8}[netG]
    return dict(kind="UnetGenerator", netG=netG, input_nc=input_nc, output_nc=output_nc, ngf=ngf, norm=norm,
                use_dropout=use_dropout, num_downs=downs)


def spec_D(netD, norm, ndf=64, input_nc=3, n_layers_D=3):
    if netD == "pixel":
        return dict(kind="PixelDiscriminator", netD=netD, input_nc=input_nc, ndf=ndf, norm=norm)
    layers = 3 if netD == "basic" else n_layers_D
    return dict(kind="NLayerDiscriminator", netD=netD, input_nc=input_nc, ndf=ndf, norm=norm, n_layers=layers)


# ------------------------------------------------------------------ inputs

def hashed_input(shape, seed):
    """Element i (row-major) is fmix32(i + seed * 0x9E3779B9) >> 8, scaled to [-1, 1)."""
    n = int(np.prod(shape))
    h = (np.arange(n, dtype=np.uint64) + np.uint64(seed) * np.uint64(0x9E3779B9)) & np.uint64(0xFFFFFFFF)
    h ^= h >> np.uint64(16)
    h = (h * np.uint64(0x85EBCA6B)) & np.uint64(0xFFFFFFFF)
    h ^= h >> np.uint64(13)
    h = (h * np.uint64(0xC2B2AE35)) & np.uint64(0xFFFFFFFF)
    h ^= h >> np.uint64(16)
    x = (h >> np.uint64(8)).astype(np.float64) / 2.0 ** 23 - 1.0
    return torch.from_numpy(x.astype(np.float32).reshape(shape))


# ------------------------------------------------------------------ cases

def randomise_biases(net, gen):
    """After the official init every bias is 0: a test would not notice one left
    unloaded. Give every bias (convolutions' and BatchNorm's) small random values."""
    with torch.no_grad():
        for name, p in net.named_parameters():
            if name.endswith("bias"):
                p.copy_((torch.rand(p.shape, generator=gen) - 0.5) * 0.2)


def calibrate_batchnorm(net, shape, seed):
    """Running statistics 0 / 1 would make eval-mode BatchNorm nearly the identity
    and leave them untested: set them from data, two train-mode forwards with
    momentum None (torch's cumulative average) on inputs of the case's shape."""
    bns = [m for m in net.modules() if isinstance(m, nn.BatchNorm2d)]
    if not bns:
        return
    for m in bns:
        m.momentum = None
    net.train()
    with torch.no_grad():
        for k in range(2):
            net(hashed_input(shape, seed + 100 + k))
    for m in bns:
        m.momentum = 0.1


def tiny_cases():
    """(case name, spec, input shape, subsample) of the networks whose weights are committed.
    resnet_9blocks_instance (CycleGAN's released configuration) has ngf 4, so that its
    residual blocks have 16 channels, as many as stylegrad's Winograd convolution needs;
    the other ResnetGenerators have ngf 2 to keep the files small."""
    cases = []
    for netG in ("resnet_9blocks", "resnet_6blocks"):
        for norm in ("instance", "batch", "none"):
            ngf = 4 if (netG, norm) == ("resnet_9blocks", "instance") else 2
            cases.append(("%s_%s" % (netG, norm), spec_G(netG, norm, ngf=ngf), (2, 3, 24, 24), 1))
    cases.append(("resnet_9blocks_instance_dropout", spec_G("resnet_9blocks", "instance", True, ngf=2),
                  (2, 3, 24, 24), 1))
    for padding in ("replicate", "zero"):
        cases.append(("resnet_2blocks_instance_%s" % padding,
                      spec_G("resnet", "instance", ngf=4, padding_type=padding, n_blocks=2), (2, 3, 24, 24), 1))
    for netG, size, sub in (("unet_128", 128, 4), ("unet_256", 256, 8)):
        for norm in ("instance", "batch", "none"):
            cases.append(("%s_%s" % (netG, norm), spec_G(netG, norm, ngf=2), (1, 3, size, size), sub))
    for netD, ndf in (("basic", 4), ("n_layers", 2), ("pixel", 4)):
        for norm in ("instance", "batch", "none"):
            spec = spec_D(netD, norm, ndf=ndf, n_layers_D=4)
            cases.append(("D_%s_%s" % (netD if netD != "n_layers" else "n_layers4", norm), spec, (2, 3, 64, 64), 1))
    return cases


def shape_str(t):
    return "x".join(str(d) for d in t.shape) if t.dim() else "scalar"


def write_key_lists(path):
    """The released configurations at full width (ngf = ndf = 64); every other
    variant at width 8, which keeps the same keys and scales the shapes (and
    spares the C++ test the time to build a billion parameters)."""
    released = {"resnet_9blocks_instance", "unet_256_batch_dropout", "D_basic_instance", "D_basic_batch_in6"}
    nets = []
    for netG in ("resnet_9blocks", "resnet_6blocks", "unet_128", "unet_256"):
        for norm in ("instance", "batch", "none"):
            for dropout in (False, True):
                nets.append(("%s_%s%s" % (netG, norm, "_dropout" if dropout else ""),
                             lambda ngf, netG=netG, norm=norm, dropout=dropout: spec_G(netG, norm, dropout, ngf=ngf)))
    for padding in ("replicate", "zero"):
        for dropout in (False, True):
            nets.append(("resnet_9blocks_instance_%s%s" % (padding, "_dropout" if dropout else ""),
                         lambda ngf, padding=padding, dropout=dropout:
                         spec_G("resnet_9blocks", "instance", dropout, ngf=ngf, padding_type=padding)))
    nets.append(("unet_256_batch_dropout_in1_out2",  # pix2pix's colorization: L -> ab
                 lambda ngf: spec_G("unet_256", "batch", True, ngf=ngf, input_nc=1, output_nc=2)))
    for netD in ("basic", "n_layers", "pixel"):
        for norm in ("instance", "batch", "none"):
            nets.append(("D_%s_%s" % (netD if netD != "n_layers" else "n_layers4", norm),
                         lambda ndf, netD=netD, norm=norm: spec_D(netD, norm, ndf=ndf, n_layers_D=4)))
    for n in (1, 2, 5):
        nets.append(("D_n_layers%d_instance" % n, lambda ndf, n=n: spec_D("n_layers", "instance", ndf=ndf, n_layers_D=n)))
    nets.append(("D_basic_batch_in6", lambda ndf: spec_D("basic", "batch", ndf=ndf, input_nc=6)))  # pix2pix's conditional D
    lines = []
    for name, make_spec in nets:
        spec = make_spec(64 if name in released else 8)
        net = make_net(spec)
        args = " ".join("%s=%s" % (k, int(v) if isinstance(v, bool) else v) for k, v in spec.items())
        params = sum(p.numel() for p in net.parameters())
        lines.append("net %s %s params=%d" % (name, args, params))
        for key, t in net.state_dict().items():
            lines.append("key %s %s" % (key, shape_str(t)))
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def as_2018_instance_norm_file(net):
    """net's state_dict as a checkpoint of 2018 looks: saved from DataParallel (every
    key prefixed "module."), with running statistics in every InstanceNorm2d
    (networks.py's track_running_stats=True then), in the old network's order."""
    stats_gen = torch.Generator().manual_seed(77)
    out = collections.OrderedDict()
    for name, m in net.named_modules():
        prefix = "module." + name + "." if name else "module."
        for key, t in list(m.named_parameters(recurse=False)) + list(m.named_buffers(recurse=False)):
            out[prefix + key] = t.detach().clone()
        if isinstance(m, nn.InstanceNorm2d):
            out[prefix + "running_mean"] = torch.rand(m.num_features, generator=stats_gen)
            out[prefix + "running_var"] = torch.rand(m.num_features, generator=stats_gen) + 0.5
            out[prefix + "num_batches_tracked"] = torch.tensor(5)
    return out


def save_legacy(state, path):
    """torch.save's legacy format. It names each storage by its memory address, so
    these files' bytes (not their tensors) differ from run to run."""
    torch.save(state, path, _use_new_zipfile_serialization=False)


def save_both(state, name, legacy):
    torch.save(state, os.path.join(DATA_DIR, name + ".pth"))
    if legacy:
        save_legacy(state, os.path.join(DATA_DIR, name + "_legacy.pth"))


def main():
    assert sys.byteorder == "little"
    torch.set_num_threads(1)
    os.makedirs(DATA_DIR, exist_ok=True)
    write_key_lists(os.path.join(REF_DIR, "cyclegan_networks_keys.txt"))

    tensors, metadata = {}, {}
    legacy_copies = {"resnet_2blocks_instance_replicate", "D_basic_batch"}
    for index, (case, spec, shape, sub) in enumerate(tiny_cases()):
        torch.manual_seed(1000 + index)
        gen = torch.Generator().manual_seed(2000 + index)
        net = make_net(spec)
        init_type, init_gain = ("xavier", 1.2) if spec["norm"] == "none" else ("normal", 0.02)
        init_weights(net, init_type, init_gain)
        randomise_biases(net, gen)
        calibrate_batchnorm(net, shape, index)
        seed = index + 1
        x = hashed_input(shape, seed)
        metadata[case] = json.dumps(dict(spec, input_shape=list(shape), input_seed=seed, subsample=sub,
                                         init_type=init_type))
        state = net.state_dict()
        save_both(state, case, case in legacy_copies)
        print("%-34s %6d parameters" % (case, sum(p.numel() for p in net.parameters())), end="")

        net.eval()
        with torch.no_grad():
            tensors[case + ".eval"] = net(x)[:, :, ::sub, ::sub].contiguous()
        out = tensors[case + ".eval"]
        print("  eval output %s std %.3g range [%.3g, %.3g]" % (list(out.shape), out.std(), out.min(), out.max()))
        if spec["norm"] == "batch":
            train_net = copy.deepcopy(net)  # a train-mode forward updates the running statistics
            train_net.train()
            with torch.no_grad():
                tensors[case + ".train"] = train_net(x)[:, :, ::sub, ::sub].contiguous()
            if case == "resnet_9blocks_batch":
                for key, t in train_net.state_dict().items():
                    if key.endswith("running_mean") or key.endswith("running_var"):
                        tensors[case + ".after_train." + key] = t.clone()

        if case == "resnet_6blocks_instance":
            save_legacy(as_2018_instance_norm_file(net), os.path.join(DATA_DIR, "resnet_6blocks_instance_old.pth"))
        if case == "D_basic_batch":
            no_nbt = {k: v for k, v in state.items() if not k.endswith("num_batches_tracked")}
            save_legacy(no_nbt, os.path.join(DATA_DIR, "D_basic_batch_no_nbt.pth"))

    write_safetensors(os.path.join(REF_DIR, "cyclegan_networks.safetensors"), tensors, metadata)


if __name__ == "__main__":
    main()
