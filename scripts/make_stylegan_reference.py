#!/usr/bin/python3
"""Reference files for models/stylegan_networks and translation/r1_penalty
(tests/test_stylegan_networks.cpp): the StyleGAN2-style generator and
discriminator SinCUT uses (taesungp/contrastive-unpaired-translation,
models/stylegan_networks.py: netG stylegan2, netD stylegan2), written here in
torch from that published definition with the same module nesting, so that the
state_dict keys are the official ones; and SinCUT's R1 penalty
(models/sincut_model.py: R1_loss).

    /usr/bin/python3 scripts/make_stylegan_reference.py     (Debian's torch 1.13)

Deterministic (fixed seeds), except the bytes of the legacy-format file: torch
names its storages by memory address; its tensors are the same.

Writes
  tests/reference/stylegan_networks_keys.txt
      state_dict keys and shapes, in order, and the parameter count of SinCUT's
      networks at full width (netG stylegan2 and smallstylegan2 with ngf 10,
      stylegan2_G_num_downsampling 1; netD stylegan2 with ndf 8; crop_size 64,
      load_size 1024). Lines "net NAME k=v ... params=N", "key NAME SHAPE".
  tests/data/stylegan/G.pth, G_legacy.pth
      a narrow netG stylegan2 (ngf 1, size 64: channels 8 and 16), zip and
      legacy formats; its weights torch.randn as the constructors draw them, and
      its biases and noise weights (zero at init) made random, so that a
      parameter that is not loaded or not used changes the output.
  tests/data/stylegan/D.pth
      a narrow netD stylegan2 (ndf 1, size 8: convs 32 -> 64 channels), the same.
  tests/reference/stylegan.safetensors  (float32, computed in float64 by torch)
      G.input_shape etc. are in __metadata__ (JSON). Tensors:
        G.out              G(x) with the decoder's noise fixed (hashed_input below)
        G.feat.<i>         the encoder's layers i in 0, 2, 4 (SinCUT's nce_layers)
        D.out              D(x_real)
        R1.value           R1 = 0.5 lambda_R1 mean_n |dD/dx_n|^2, lambda_R1 1
        R1.grad.input      dR1/dx_real
        R1.grad.<key>      dR1/d(D's parameter <key>), every parameter
        blocks.<name>.*    single blocks SinCUT's networks do not contain (a styled
                           ModulatedConv2d plain, upsampling and downsampling, ToRGB
                           with a skip): their state (.state.<key>), output (.out).

Inputs are not stored: each is hashed_input(shape, seed), which the C++ test
computes the same way (tests/test_util.h).
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
from make_cyclegan_reference import hashed_input, save_legacy, shape_str  # noqa: E402
from make_reference import write_safetensors  # noqa: E402

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
DATA_DIR = os.path.join(ROOT, "tests", "data", "stylegan")
REF_DIR = os.path.join(ROOT, "tests", "reference")
BLUR = [1, 3, 3, 1]


# ------------------------------------------ the layers of stylegan_networks.py

def blur_kernel_2d(k):
    k = torch.tensor(k, dtype=torch.float32)
    k = torch.outer(k, k)
    return k / k.sum()


def resample(x, kernel, up=1, down=1, pad=(0, 0)):
    """upfirdn2d_native: zero insertion, padding (negative crops), filter with the
    flipped kernel, keep every down-th sample; written channel by channel."""
    n, c, h, w = x.shape
    out = x.reshape(n * c, 1, h, 1, w, 1)
    out = F.pad(out, [0, up - 1, 0, 0, 0, up - 1])
    out = out.reshape(n * c, 1, h * up, w * up)
    p0, p1 = pad
    out = F.pad(out, [max(p0, 0), max(p1, 0), max(p0, 0), max(p1, 0)])
    out = out[:, :, max(-p0, 0):out.shape[2] - max(-p1, 0), max(-p0, 0):out.shape[3] - max(-p1, 0)]
    kh, kw = kernel.shape
    out = F.conv2d(out, torch.flip(kernel, [0, 1]).reshape(1, 1, kh, kw).to(out.dtype))
    out = out[:, :, ::down, ::down]
    return out.reshape(n, c, out.shape[2], out.shape[3])


def fused_lrelu(x, bias):
    return F.leaky_relu(x + bias, 0.2) * math.sqrt(2)


class FusedLeakyReLU(nn.Module):
    def __init__(self, channel):
        super().__init__()
        self.bias = nn.Parameter(torch.zeros(1, channel, 1, 1))

    def forward(self, x):
        return fused_lrelu(x, self.bias)


class ScaledLeakyReLU(nn.Module):
    def forward(self, x):
        return F.leaky_relu(x, 0.2) * math.sqrt(2)


class Upsample(nn.Module):
    def __init__(self, k, factor=2):
        super().__init__()
        self.factor = factor
        self.register_buffer("kernel", blur_kernel_2d(k) * factor ** 2)
        p = len(k) - factor
        self.pad = ((p + 1) // 2 + factor - 1, p // 2)

    def forward(self, x):
        return resample(x, self.kernel, up=self.factor, pad=self.pad)


class Blur(nn.Module):
    def __init__(self, k, pad, upsample_factor=1):
        super().__init__()
        kernel = blur_kernel_2d(k)
        if upsample_factor > 1:
            kernel = kernel * upsample_factor ** 2
        self.register_buffer("kernel", kernel)
        self.pad = pad

    def forward(self, x):
        return resample(x, self.kernel, pad=self.pad)


class EqualConv2d(nn.Module):
    def __init__(self, cin, cout, k, stride=1, padding=0, bias=True):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(cout, cin, k, k))
        self.scale = 1 / math.sqrt(cin * k * k)
        self.stride, self.padding = stride, padding
        self.bias = nn.Parameter(torch.zeros(cout)) if bias else None

    def forward(self, x):
        return F.conv2d(x, self.weight * self.scale, bias=self.bias, stride=self.stride, padding=self.padding)


class EqualLinear(nn.Module):
    def __init__(self, din, dout, bias=True, bias_init=0, lr_mul=1, activation=None):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(dout, din).div_(lr_mul))
        self.bias = nn.Parameter(torch.zeros(dout).fill_(bias_init)) if bias else None
        self.activation = activation
        self.scale = lr_mul / math.sqrt(din)
        self.lr_mul = lr_mul

    def forward(self, x):
        if self.activation:
            return fused_lrelu(F.linear(x, self.weight * self.scale), self.bias * self.lr_mul)
        return F.linear(x, self.weight * self.scale, bias=self.bias * self.lr_mul)


class ModulatedConv2d(nn.Module):
    def __init__(self, cin, cout, k, style_dim, demodulate=True, upsample=False, downsample=False, blur_kernel=BLUR):
        super().__init__()
        self.cin, self.cout, self.k = cin, cout, k
        self.upsample, self.downsample, self.demodulate = upsample, downsample, demodulate
        if upsample:
            p = (len(blur_kernel) - 2) - (k - 1)
            self.blur = Blur(blur_kernel, pad=((p + 1) // 2 + 1, p // 2 + 1), upsample_factor=2)
        if downsample:
            p = (len(blur_kernel) - 2) + (k - 1)
            self.blur = Blur(blur_kernel, pad=((p + 1) // 2, p // 2))
        self.scale = 1 / math.sqrt(cin * k * k)
        self.padding = k // 2
        self.weight = nn.Parameter(torch.randn(1, cout, cin, k, k))
        if style_dim is not None and style_dim > 0:
            self.modulation = EqualLinear(style_dim, cin, bias_init=1)

    def forward(self, x, style):
        b, cin, h, w = x.shape
        if style is not None:
            s = self.modulation(style).view(b, 1, cin, 1, 1)
        else:  # the official code builds these ones on the GPU (.cuda()); the values are the same
            s = torch.ones(b, 1, cin, 1, 1, dtype=x.dtype)
        weight = self.scale * self.weight * s
        if self.demodulate:
            weight = weight * torch.rsqrt(weight.pow(2).sum([2, 3, 4]) + 1e-8).view(b, self.cout, 1, 1, 1)
        if self.upsample:
            weight = weight.transpose(1, 2).reshape(b * cin, self.cout, self.k, self.k)
            out = F.conv_transpose2d(x.reshape(1, b * cin, h, w), weight, padding=0, stride=2, groups=b)
            return self.blur(out.view(b, self.cout, out.shape[2], out.shape[3]))
        weight = weight.reshape(b * self.cout, cin, self.k, self.k)
        if self.downsample:
            x = self.blur(x)
            out = F.conv2d(x.reshape(1, b * cin, x.shape[2], x.shape[3]), weight, padding=0, stride=2, groups=b)
        else:
            out = F.conv2d(x.reshape(1, b * cin, h, w), weight, padding=self.padding, groups=b)
        return out.view(b, self.cout, out.shape[2], out.shape[3])


class NoiseInjection(nn.Module):
    def __init__(self):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(1))

    def forward(self, image, noise):
        return image + self.weight * noise


class StyledConv(nn.Module):
    def __init__(self, cin, cout, k, style_dim=None, upsample=False, blur_kernel=BLUR, demodulate=True,
                 inject_noise=True):
        super().__init__()
        self.inject_noise = inject_noise
        self.conv = ModulatedConv2d(cin, cout, k, style_dim, upsample=upsample, blur_kernel=blur_kernel,
                                    demodulate=demodulate)
        self.noise = NoiseInjection()
        self.activate = FusedLeakyReLU(cout)
        self.fixed_noise = None  # the test's noise, instead of normal_()

    def forward(self, x, style=None):
        out = self.conv(x, style)
        if self.inject_noise:
            out = self.noise(out, self.fixed_noise)
        return self.activate(out)


class ToRGB(nn.Module):
    def __init__(self, cin, style_dim, upsample=True, blur_kernel=BLUR):
        super().__init__()
        if upsample:
            self.upsample = Upsample(blur_kernel)
        self.conv = ModulatedConv2d(cin, 3, 1, style_dim, demodulate=False)
        self.bias = nn.Parameter(torch.zeros(1, 3, 1, 1))

    def forward(self, x, style, skip=None):
        out = self.conv(x, style) + self.bias
        if skip is not None:
            out = out + self.upsample(skip)
        return out


class ConvLayer(nn.Sequential):
    def __init__(self, cin, cout, k, downsample=False, blur_kernel=BLUR, bias=True, activate=True):
        layers = []
        if downsample:
            p = (len(blur_kernel) - 2) + (k - 1)
            layers.append(Blur(blur_kernel, pad=((p + 1) // 2, p // 2)))
            stride, padding = 2, 0
        else:
            stride, padding = 1, k // 2
        layers.append(EqualConv2d(cin, cout, k, padding=padding, stride=stride, bias=bias and not activate))
        if activate:
            layers.append(FusedLeakyReLU(cout) if bias else ScaledLeakyReLU())
        super().__init__(*layers)


class ResBlock(nn.Module):
    def __init__(self, cin, cout, blur_kernel=BLUR, downsample=True, skip_gain=1.0):
        super().__init__()
        self.skip_gain = skip_gain
        self.conv1 = ConvLayer(cin, cin, 3)
        self.conv2 = ConvLayer(cin, cout, 3, downsample=downsample, blur_kernel=blur_kernel)
        if cin != cout or downsample:
            self.skip = ConvLayer(cin, cout, 1, downsample=downsample, activate=False, bias=False)
        else:
            self.skip = nn.Identity()

    def forward(self, x):
        out = self.conv2(self.conv1(x))
        return (out * self.skip_gain + self.skip(x)) / math.sqrt(self.skip_gain ** 2 + 1.0)


# -------------------------------------------------------------- the networks

def net_size(load_size, crop_size):
    return 2 ** int(np.rint(np.log2(min(load_size, crop_size))))


def d_channels(ndf, r):
    c = int(16 * (1024 // r) * (ndf / 64))
    return min(384, c) if r <= 32 else c


def g_channels(ngf, r):
    c = int(round(16 * (1024 // r) * (ngf / 32)))
    return min(512, c) if r <= 32 else c


class StyleGAN2Discriminator(nn.Module):
    def __init__(self, ndf, size):
        super().__init__()
        convs = [ConvLayer(3, d_channels(ndf, size), 1)]
        cin = d_channels(ndf, size)
        for i in range(int(math.log(size, 2)), 2, -1):
            cout = d_channels(ndf, 2 ** (i - 1))
            convs.append(ResBlock(cin, cout, BLUR))
            cin = cout
        self.convs = nn.Sequential(*convs)
        c4 = d_channels(ndf, 4)
        self.final_conv = ConvLayer(cin, c4, 3)
        self.final_linear = nn.Sequential(EqualLinear(c4 * 16, c4, activation="fused_lrelu"), EqualLinear(c4, 1))

    def forward(self, x):
        out = self.final_conv(self.convs(x))
        return self.final_linear(out.view(out.shape[0], -1))


class StyleGAN2Encoder(nn.Module):
    def __init__(self, ngf, size, num_downsampling, n_blocks):
        super().__init__()
        r = size
        convs = [nn.Identity(), ConvLayer(3, g_channels(ngf, r), 1)]
        for _ in range(num_downsampling):
            convs.append(ResBlock(g_channels(ngf, r), g_channels(ngf, r // 2), BLUR, downsample=True))
            r //= 2
        for _ in range(n_blocks // 2):
            convs.append(ResBlock(g_channels(ngf, r), g_channels(ngf, r), downsample=False))
        self.convs = nn.Sequential(*convs)

    def forward(self, x, layers):
        feats = []
        for i, layer in enumerate(self.convs):
            x = layer(x)
            if i in layers:
                feats.append(x)
        return x, feats


class StyleGAN2Decoder(nn.Module):
    def __init__(self, ngf, size, num_downsampling, n_blocks, inject_noise):
        super().__init__()
        r = size // 2 ** num_downsampling
        convs = [ResBlock(g_channels(ngf, r), g_channels(ngf, r), downsample=False) for _ in range(n_blocks // 2)]
        for _ in range(num_downsampling):
            convs.append(StyledConv(g_channels(ngf, r), g_channels(ngf, 2 * r), 3, upsample=True, blur_kernel=BLUR,
                                    inject_noise=inject_noise))
            r *= 2
        convs.append(ConvLayer(g_channels(ngf, r), 3, 1))
        self.convs = nn.Sequential(*convs)

    def forward(self, x):
        return self.convs(x)


class StyleGAN2Generator(nn.Module):
    def __init__(self, ngf, size, num_downsampling=1, n_blocks=6, inject_noise=True):
        super().__init__()
        self.encoder = StyleGAN2Encoder(ngf, size, num_downsampling, n_blocks)
        self.decoder = StyleGAN2Decoder(ngf, size, num_downsampling, n_blocks, inject_noise)

    def forward(self, x, layers=()):
        feat, feats = self.encoder(x, layers)
        return self.decoder(feat), feats


# ------------------------------------------------------------------ files

def write_keys(path):
    size = net_size(1024, 64)
    nets = [
        ("G_sincut", dict(kind="StyleGAN2Generator", netG="stylegan2", ngf=10, load_size=1024, crop_size=64,
                          num_downsampling=1), StyleGAN2Generator(10, size, 1, 6, True)),
        ("G_small", dict(kind="StyleGAN2Generator", netG="smallstylegan2", ngf=10, load_size=1024, crop_size=64,
                         num_downsampling=1), StyleGAN2Generator(10, size, 1, 2, False)),
        ("D_sincut", dict(kind="StyleGAN2Discriminator", netD="stylegan2", ndf=8, load_size=1024, crop_size=64),
         StyleGAN2Discriminator(8, size)),
    ]
    lines = []
    for name, spec, net in nets:
        args = " ".join("%s=%s" % kv for kv in spec.items())
        lines.append("net %s %s params=%d" % (name, args, sum(p.numel() for p in net.parameters())))
        for key, t in net.state_dict().items():
            lines.append("key %s %s" % (key, shape_str(t)))
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def randomise(net, gen):
    """Biases and noise weights (zero or one at init) drawn from N(0, 0.2^2)."""
    with torch.no_grad():
        for key, p in net.named_parameters():
            if key.endswith("bias") or key.endswith("noise.weight"):
                p.copy_(torch.randn(p.shape, generator=gen) * 0.2)


def main():
    assert sys.byteorder == "little"
    torch.set_num_threads(1)
    os.makedirs(DATA_DIR, exist_ok=True)
    write_keys(os.path.join(REF_DIR, "stylegan_networks_keys.txt"))
    tensors, metadata = {}, {}
    f32 = lambda t: t.detach().to(torch.float32).contiguous()  # noqa: E731

    # the generator: netG stylegan2, ngf 1, crop 64 (channels 8, 16), on a 16x16 input
    torch.manual_seed(1)
    G = StyleGAN2Generator(ngf=1, size=64)
    randomise(G, torch.Generator().manual_seed(11))
    torch.save(G.state_dict(), os.path.join(DATA_DIR, "G.pth"))
    save_legacy(G.state_dict(), os.path.join(DATA_DIR, "G_legacy.pth"))
    g_shape, g_noise_shape, layers = [2, 3, 16, 16], [2, 1, 16, 16], [0, 2, 4]
    metadata["G"] = json.dumps(dict(netG="stylegan2", ngf=1, load_size=64, crop_size=64, num_downsampling=1,
                                    input_shape=g_shape, input_seed=1, noise_shape=g_noise_shape, noise_seed=2,
                                    layers=layers))
    G64 = G.double()
    G64.decoder.convs[3].fixed_noise = hashed_input(g_noise_shape, 2).double()
    with torch.no_grad():
        out, feats = G64(hashed_input(g_shape, 1).double(), layers)
    tensors["G.out"] = f32(out)
    for i, f in zip(layers, feats):
        tensors["G.feat.%d" % i] = f32(f)

    # the discriminator: netD stylegan2, ndf 1, size 8 (convs 32 -> 64, c4 64); R1 through it
    torch.manual_seed(2)
    D = StyleGAN2Discriminator(ndf=1, size=8)
    randomise(D, torch.Generator().manual_seed(12))
    torch.save(D.state_dict(), os.path.join(DATA_DIR, "D.pth"))
    d_shape = [2, 3, 8, 8]
    metadata["D"] = json.dumps(dict(netD="stylegan2", ndf=1, load_size=8, crop_size=8, input_shape=d_shape,
                                    input_seed=3, lambda_R1=1.0))
    D64 = D.double()
    real = hashed_input(d_shape, 3).double().requires_grad_()
    pred = D64(real)
    tensors["D.out"] = f32(pred)
    grad_real, = torch.autograd.grad(pred.sum(), real, create_graph=True, retain_graph=True)
    r1 = grad_real.pow(2).view(grad_real.shape[0], -1).sum(1).mean() * (1.0 * 0.5)
    r1.backward()
    tensors["R1.value"] = f32(r1.reshape(1))
    tensors["R1.grad.input"] = f32(real.grad)
    for key, p in D64.named_parameters():  # the last bias does not reach dD/dx: no gradient, stored as 0
        tensors["R1.grad." + key] = f32(p.grad if p.grad is not None else torch.zeros_like(p))
        if p.grad is None:
            print("no R1 gradient:", key)
    print("G out std %.3g, D out %s, R1 %.6g" % (out.std(), pred.detach().flatten().tolist(), r1.item()))

    # single blocks with a style (not in SinCUT's networks), float64
    torch.manual_seed(3)
    gen = torch.Generator().manual_seed(13)
    blocks = [
        ("modconv_plain", ModulatedConv2d(4, 5, 3, 6), [2, 4, 6, 6]),
        ("modconv_up", ModulatedConv2d(4, 5, 3, 6, upsample=True), [2, 4, 5, 5]),
        ("modconv_down", ModulatedConv2d(4, 5, 3, 6, downsample=True), [2, 4, 8, 8]),
        ("modconv_nodemod", ModulatedConv2d(4, 5, 1, 6, demodulate=False), [2, 4, 3, 3]),
        ("torgb", ToRGB(4, 6), [2, 4, 6, 6]),
    ]
    for index, (name, block, shape) in enumerate(blocks):
        randomise(block, gen)
        block = block.double()
        x = hashed_input(shape, 20 + index).double()
        style = hashed_input([2, 6], 40 + index).double()
        with torch.no_grad():
            if name == "torgb":
                out = block(x, style, hashed_input([2, 3, 3, 3], 60).double())
            else:
                out = block(x, style)
        for key, t in block.state_dict().items():
            tensors["blocks.%s.state.%s" % (name, key)] = f32(t)
        tensors["blocks.%s.out" % name] = f32(out)
        metadata["blocks." + name] = json.dumps(dict(input_shape=shape, input_seed=20 + index, style_seed=40 + index))

    write_safetensors(os.path.join(REF_DIR, "stylegan.safetensors"), tensors, metadata)


if __name__ == "__main__":
    main()
