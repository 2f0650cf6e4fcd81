#!/usr/bin/python3
"""Reference files for CUT's networks (tests/test_cut_networks.cpp): the
anti-aliased resampling layers (Downsample, Upsample) and the ResnetGenerator /
NLayerDiscriminator with no_antialias / no_antialias_up of
taesungp/contrastive-unpaired-translation, written here in torch from their
published definition (models/networks.py: get_filter, get_pad_layer,
Downsample, Upsample, ResnetGenerator, NLayerDiscriminator), with the same
module nesting so that state_dict keys are the official ones.

    /usr/bin/python3 scripts/make_cut_networks_reference.py     (Debian's torch 1.13)

Deterministic (fixed seeds), except the bytes of the legacy-format files
(torch names their storages by memory address; their tensors are the same).
Inputs are hashed_input(shape, seed) of make_cyclegan_reference.py, which the
C++ tests compute the same way; the residual block, the norm layers,
init_weights and the bias / BatchNorm treatment of the narrow networks are that
script's too (CUT's are the same as CycleGAN's).

Writes
  tests/reference/cut_networks_keys.txt
      state_dict keys and shapes, in order, and the parameter count, of the
      ResnetGenerator for every no_antialias x no_antialias_up (resnet_9blocks,
      instance norm; CUT's released configuration, both false, at ngf 64, the
      others at ngf 8), resnet_6blocks / resnet_4blocks anti-aliased, one with
      batch norm, and of the NLayerDiscriminator (basic, instance, anti-aliased
      at ndf 64; --no_antialias, n_layers 1, 4, 5 and batch norm at ndf 8).
      Lines as cyclegan_networks_keys.txt's:
        net NAME kind=ResnetGenerator ... no_antialias=0 no_antialias_up=0 params=N
        key NAME SHAPE
  tests/data/cut/<case>.pth
      the narrow networks below in torch.save's zip format, seeded; for
      G_resnet_4blocks_batch and D_n_layers4_batch also <case>_legacy.pth
      (torch.save(..., _use_new_zipfile_serialization=False)).
  tests/reference/cut_networks.safetensors (float32)
      resampling cases ("down_..." / "up_..."): __metadata__[case] = JSON of the
      layer's arguments and the input's shape and seed;
        <case>.out     the layer's output
        <case>.filt    its filt buffer
      network cases ("G_..." / "D_..."): __metadata__[case] = JSON of the
      constructor arguments, the input's shape and seed, the tapped layers;
        <case>.eval    the output in eval mode
        <case>.train   (batch norm) the output in train mode
        <case>.feat.<i>  (generators) netG(x, layers=[0, 4, 8, 12, 16], encode_only=True)[i],
                         CUT's nce_layers, in eval mode. The ReLUs are in place, as networks.py's,
                         so a tapped output that the next layers run through [Identity,] ReLU is
                         relu'd by the time CUT reads it (G_resnet_4blocks_none's layer 4,
                         G_resnet_4blocks_instance_noaa's layer 8); the C++ side reproduces that.
"""
import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_reference import write_safetensors  # noqa: E402
from make_cyclegan_reference import (ResnetBlock, calibrate_batchnorm, conv_bias, hashed_input,  # noqa: E402
                                     init_weights, make_norm, randomise_biases, save_legacy, shape_str)

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
DATA_DIR = os.path.join(ROOT, "tests", "data", "cut")
REF_DIR = os.path.join(ROOT, "tests", "reference")
NCE_LAYERS = [0, 4, 8, 12, 16]  # cut_model.py's --nce_layers default


# ------------------------------------------------- the layers of CUT's networks.py

def binomial_filter(filt_size):
    """get_filter: the outer product of a row of Pascal's triangle, normalised to sum 1."""
    row = np.array([float(math.comb(filt_size - 1, i)) for i in range(filt_size)])
    filt = torch.Tensor(row[:, None] * row[None, :])
    return filt / torch.sum(filt)


def pad_layer(pad_type):
    """get_pad_layer."""
    if pad_type in ("refl", "reflect"):
        return nn.ReflectionPad2d
    if pad_type in ("repl", "replicate"):
        return nn.ReplicationPad2d
    if pad_type == "zero":
        return nn.ZeroPad2d
    raise ValueError(pad_type)


class Downsample(nn.Module):
    """Blur with the binomial filter, then subsample: a depthwise strided convolution."""

    def __init__(self, channels, pad_type="reflect", filt_size=3, stride=2, pad_off=0):
        super().__init__()
        self.filt_size, self.stride, self.pad_off = filt_size, stride, pad_off
        before, after = (filt_size - 1) // 2 + pad_off, filt_size // 2 + pad_off  # floor and ceil of (k-1)/2
        self.register_buffer("filt", binomial_filter(filt_size)[None, None].repeat(channels, 1, 1, 1))
        self.pad = pad_layer(pad_type)([before, after, before, after])

    def forward(self, x):
        if self.filt_size == 1:  # networks.py slices instead of convolving with [[1]]
            return (x if self.pad_off == 0 else self.pad(x))[:, :, ::self.stride, ::self.stride]
        return F.conv2d(self.pad(x), self.filt, stride=self.stride, groups=x.shape[1])


class Upsample(nn.Module):
    """Zero-stuff and blur: a depthwise transposed convolution with the binomial filter times stride^2."""

    def __init__(self, channels, pad_type="repl", filt_size=4, stride=2):
        super().__init__()
        self.filt_size, self.stride = filt_size, stride
        self.pad_size = (filt_size - 1) // 2
        self.register_buffer("filt", (binomial_filter(filt_size) * stride ** 2)[None, None].repeat(channels, 1, 1, 1))
        self.pad = pad_layer(pad_type)([1, 1, 1, 1])

    def forward(self, x):
        y = F.conv_transpose2d(self.pad(x), self.filt, stride=self.stride, padding=1 + self.pad_size,
                               groups=x.shape[1])[:, :, 1:, 1:]
        return y if self.filt_size % 2 == 1 else y[:, :, :-1, :-1]


class ResnetGenerator(nn.Module):
    def __init__(self, input_nc, output_nc, ngf=64, norm="batch", use_dropout=False, n_blocks=6,
                 padding_type="reflect", no_antialias=False, no_antialias_up=False):
        super().__init__()
        bias = conv_bias(norm)
        layers = [nn.ReflectionPad2d(3), nn.Conv2d(input_nc, ngf, 7, bias=bias), make_norm(norm, ngf), nn.ReLU(True)]
        channels = ngf
        for _ in range(2):  # downsampling
            if no_antialias:
                layers += [nn.Conv2d(channels, 2 * channels, 3, stride=2, padding=1, bias=bias),
                           make_norm(norm, 2 * channels), nn.ReLU(True)]
            else:
                layers += [nn.Conv2d(channels, 2 * channels, 3, stride=1, padding=1, bias=bias),
                           make_norm(norm, 2 * channels), nn.ReLU(True), Downsample(2 * channels)]
            channels *= 2
        layers += [ResnetBlock(channels, padding_type, norm, use_dropout, bias) for _ in range(n_blocks)]
        for _ in range(2):  # upsampling
            if no_antialias_up:
                layers += [nn.ConvTranspose2d(channels, channels // 2, 3, stride=2, padding=1, output_padding=1,
                                              bias=bias),
                           make_norm(norm, channels // 2), nn.ReLU(True)]
            else:
                layers += [Upsample(channels), nn.Conv2d(channels, channels // 2, 3, stride=1, padding=1, bias=bias),
                           make_norm(norm, channels // 2), nn.ReLU(True)]
            channels //= 2
        layers += [nn.ReflectionPad2d(3), nn.Conv2d(ngf, output_nc, 7), nn.Tanh()]
        self.model = nn.Sequential(*layers)

    def forward(self, x, layers=(), encode_only=False):
        """CUT's forward: with `layers`, also the outputs of those children of model."""
        if not layers:
            return self.model(x)
        feats = []
        for i, layer in enumerate(self.model):
            x = layer(x)
            if i in layers:
                feats.append(x)
            if encode_only and i == layers[-1]:
                return feats
        return x, feats


class NLayerDiscriminator(nn.Module):
    def __init__(self, input_nc, ndf=64, n_layers=3, norm="batch", no_antialias=False):
        super().__init__()
        bias = conv_bias(norm)
        down_stride = 2 if no_antialias else 1

        def downsample(channels):
            return [] if no_antialias else [Downsample(channels)]

        layers = [nn.Conv2d(input_nc, ndf, 4, stride=down_stride, padding=1), nn.LeakyReLU(0.2, True)]
        layers += downsample(ndf)
        mult = 1
        for n in range(1, n_layers):
            prev, mult = mult, min(2 ** n, 8)
            layers += [nn.Conv2d(ndf * prev, ndf * mult, 4, stride=down_stride, padding=1, bias=bias),
                       make_norm(norm, ndf * mult), nn.LeakyReLU(0.2, True)] + downsample(ndf * mult)
        prev, mult = mult, min(2 ** n_layers, 8)
        layers += [nn.Conv2d(ndf * prev, ndf * mult, 4, stride=1, padding=1, bias=bias), make_norm(norm, ndf * mult),
                   nn.LeakyReLU(0.2, True), nn.Conv2d(ndf * mult, 1, 4, stride=1, padding=1)]
        self.model = nn.Sequential(*layers)

    def forward(self, x):
        return self.model(x)


def make_net(spec):
    if spec["kind"] == "ResnetGenerator":
        return ResnetGenerator(spec["input_nc"], spec["output_nc"], spec["ngf"], spec["norm"], False, spec["n_blocks"],
                               "reflect", spec["no_antialias"], spec["no_antialias_up"])
    return NLayerDiscriminator(spec["input_nc"], spec["ndf"], spec["n_layers"], spec["norm"], spec["no_antialias"])


def spec_G(netG, norm, no_antialias=False, no_antialias_up=False, ngf=64):
    """CUT's define_G(3, 3, ngf, netG, norm, use_dropout=False, ..., no_antialias, no_antialias_up)."""
    blocks = {"resnet_9blocks": 9, "resnet_6blocks": 6, "resnet_4blocks": 4}[netG]
    return dict(kind="ResnetGenerator", netG=netG, input_nc=3, output_nc=3, ngf=ngf, norm=norm, n_blocks=blocks,
                no_antialias=no_antialias, no_antialias_up=no_antialias_up)


def spec_D(netD, norm, no_antialias=False, ndf=64, n_layers_D=3):
    """CUT's define_D(3, ndf, netD, n_layers_D, norm, ..., no_antialias)."""
    return dict(kind="NLayerDiscriminator", netD=netD, input_nc=3, ndf=ndf, norm=norm,
                n_layers=3 if netD == "basic" else n_layers_D, no_antialias=no_antialias)


# ------------------------------------------------------------------ files

def write_key_lists(path):
    nets = []
    for no_aa in (False, True):
        for no_aa_up in (False, True):
            released = not no_aa and not no_aa_up
            nets.append(("G_resnet_9blocks_instance_noaa%d_noaaup%d" % (no_aa, no_aa_up),
                         spec_G("resnet_9blocks", "instance", no_aa, no_aa_up, ngf=64 if released else 8)))
    nets.append(("G_resnet_6blocks_instance", spec_G("resnet_6blocks", "instance", ngf=8)))
    nets.append(("G_resnet_4blocks_instance", spec_G("resnet_4blocks", "instance", ngf=8)))
    nets.append(("G_resnet_9blocks_batch", spec_G("resnet_9blocks", "batch", ngf=8)))
    nets.append(("D_basic_instance", spec_D("basic", "instance", ndf=64)))
    nets.append(("D_basic_instance_noaa", spec_D("basic", "instance", no_antialias=True, ndf=8)))
    for n in (1, 4, 5):
        nets.append(("D_n_layers%d_instance" % n, spec_D("n_layers", "instance", ndf=8, n_layers_D=n)))
    nets.append(("D_basic_batch", spec_D("basic", "batch", ndf=8)))
    lines = []
    for name, spec in nets:
        net = make_net(spec)
        args = " ".join("%s=%s" % (k, int(v) if isinstance(v, bool) else v) for k, v in spec.items())
        lines.append("net %s %s params=%d" % (name, args, sum(p.numel() for p in net.parameters())))
        for key, t in net.state_dict().items():
            lines.append("key %s %s" % (key, shape_str(t)))
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def resampling_cases():
    """(case, kind, arguments, input shape): every filter size, the three pads, other strides, pad_off."""
    cases = []
    for k in range(1, 8):
        cases.append(("down_f%d_reflect_s2" % k, "Downsample", dict(pad_type="reflect", filt_size=k, stride=2), (2, 3, 9, 10)))
    for pad in ("repl", "zero"):
        cases.append(("down_f3_%s_s2" % pad, "Downsample", dict(pad_type=pad, filt_size=3, stride=2), (1, 2, 8, 7)))
    cases.append(("down_f4_refl_s1", "Downsample", dict(pad_type="refl", filt_size=4, stride=1), (1, 2, 6, 6)))
    cases.append(("down_f5_replicate_s3", "Downsample", dict(pad_type="replicate", filt_size=5, stride=3), (1, 2, 11, 9)))
    cases.append(("down_f3_reflect_s2_padoff1", "Downsample", dict(pad_type="reflect", filt_size=3, stride=2, pad_off=1),
                  (1, 2, 7, 8)))
    cases.append(("down_f1_zero_s2_padoff1", "Downsample", dict(pad_type="zero", filt_size=1, stride=2, pad_off=1),
                  (1, 2, 5, 6)))
    for k in range(1, 8):
        cases.append(("up_f%d_repl_s2" % k, "Upsample", dict(pad_type="repl", filt_size=k, stride=2), (2, 3, 5, 6)))
    for pad in ("reflect", "zero"):
        cases.append(("up_f4_%s_s2" % pad, "Upsample", dict(pad_type=pad, filt_size=4, stride=2), (1, 2, 4, 5)))
    cases.append(("up_f3_replicate_s3", "Upsample", dict(pad_type="replicate", filt_size=3, stride=3), (1, 2, 4, 3)))
    cases.append(("up_f4_repl_s1", "Upsample", dict(pad_type="repl", filt_size=4, stride=1), (1, 2, 4, 4)))
    return cases


def network_cases():
    """(case, spec, input shape). Generators at ngf 4: 16 channels in the residual blocks, which
    stylegrad's Winograd convolution takes; discriminators at ndf 4."""
    return [
        ("G_resnet_9blocks_instance", spec_G("resnet_9blocks", "instance", ngf=4), (1, 3, 32, 32)),
        ("G_resnet_4blocks_instance_noaaup", spec_G("resnet_4blocks", "instance", False, True, ngf=4), (1, 3, 16, 16)),
        ("G_resnet_4blocks_instance_noaa", spec_G("resnet_4blocks", "instance", True, False, ngf=4), (1, 3, 16, 16)),
        ("G_resnet_4blocks_batch", spec_G("resnet_4blocks", "batch", ngf=4), (2, 3, 16, 16)),
        ("G_resnet_4blocks_none", spec_G("resnet_4blocks", "none", ngf=4), (1, 3, 20, 20)),
        ("D_basic_instance", spec_D("basic", "instance", ndf=4), (2, 3, 32, 32)),
        ("D_n_layers4_batch", spec_D("n_layers", "batch", ndf=4, n_layers_D=4), (2, 3, 64, 64)),
        ("D_basic_none", spec_D("basic", "none", ndf=4), (1, 3, 40, 40)),
    ]


def main():
    assert sys.byteorder == "little"
    torch.set_num_threads(1)
    os.makedirs(DATA_DIR, exist_ok=True)
    write_key_lists(os.path.join(REF_DIR, "cut_networks_keys.txt"))
    tensors, metadata = {}, {}

    for index, (case, kind, args, shape) in enumerate(resampling_cases()):
        layer = (Downsample if kind == "Downsample" else Upsample)(shape[1], **args)
        seed = 500 + index
        x = hashed_input(shape, seed)
        with torch.no_grad():
            tensors[case + ".out"] = layer(x).contiguous()
        tensors[case + ".filt"] = layer.filt.clone()
        metadata[case] = json.dumps(dict(args, kind=kind, channels=shape[1], input_shape=list(shape), input_seed=seed))
        print("%-28s %s -> %s" % (case, list(shape), list(tensors[case + ".out"].shape)))

    legacy_copies = {"G_resnet_4blocks_batch", "D_n_layers4_batch"}
    for index, (case, spec, shape) in enumerate(network_cases()):
        torch.manual_seed(3000 + index)
        gen = torch.Generator().manual_seed(4000 + index)
        net = make_net(spec)
        init_type, init_gain = ("xavier", 1.2) if spec["norm"] == "none" else ("normal", 0.02)
        init_weights(net, init_type, init_gain)
        randomise_biases(net, gen)
        calibrate_batchnorm(net, shape, 50 + index)
        seed = 600 + index
        x = hashed_input(shape, seed)
        generator = spec["kind"] == "ResnetGenerator"
        metadata[case] = json.dumps(dict(spec, input_shape=list(shape), input_seed=seed, init_type=init_type,
                                         layers=NCE_LAYERS if generator else []))
        state = net.state_dict()
        torch.save(state, os.path.join(DATA_DIR, case + ".pth"))
        if case in legacy_copies:
            save_legacy(state, os.path.join(DATA_DIR, case + "_legacy.pth"))
        net.eval()
        with torch.no_grad():
            tensors[case + ".eval"] = net(x)
            if generator:
                for i, f in enumerate(net(x, NCE_LAYERS, encode_only=True)):
                    tensors["%s.feat.%d" % (case, i)] = f.contiguous()
        if spec["norm"] == "batch":
            net.train()
            with torch.no_grad():
                tensors[case + ".train"] = net(x)
        out = tensors[case + ".eval"]
        print("%-34s %6d parameters, output %s std %.3g, file %d bytes" % (
            case, sum(p.numel() for p in net.parameters()), list(out.shape), out.std(),
            os.path.getsize(os.path.join(DATA_DIR, case + ".pth"))))

    write_safetensors(os.path.join(REF_DIR, "cut_networks.safetensors"), tensors, metadata)


if __name__ == "__main__":
    main()
