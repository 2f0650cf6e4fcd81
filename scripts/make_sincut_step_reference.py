#!/usr/bin/python3
"""Reference for SinCUT (tests/test_sincut_step.cpp): one training iteration of
taesungp/contrastive-unpaired-translation's --model sincut (models/sincut_model.py
on top of models/cut_model.py; networks.py GANLoss 'nonsaturating'), written
here in torch from those published definitions. The StyleGAN2-style networks
are the classes of scripts/make_stylegan_reference.py; PatchSampleF, PatchNCE,
CUT's training iteration (TrainStep, which SinCUT extends) and the helpers that
draw the patch ids and store losses and weights are those of
scripts/make_cut_step_reference.py.

    /usr/bin/python3 scripts/make_sincut_step_reference.py     (Debian's torch 1.13)

A narrow SinCUT with the official SinCUT defaults otherwise: netG stylegan2
with ngf 1 and netD stylegan2 with ndf 1 at crop_size 64 (load_size 1024; the
networks are built for 64: G's channels 8 and 16, D's 4 ... 64), netF_nc 8,
num_patches 4, nce_layers 0,2,4, lambda_NCE 4, nce_idt, negatives from the whole
minibatch, gan_mode nonsaturating, lambda_identity 1, Adam(0.002, (0, 0.99)),
a batch of 2; lambda_R1 1000 instead of 1: D's input gradients are small at
these weights (R1 ~5e-4 at lambda 1), and the test should see R1's part of D's
gradient in the updated weights.

Nothing that both sides can compute is stored, which keeps the file small (D
has ~140k parameters even at ndf 1):
  every parameter of G, D and F starts as hashed_input(shape, fnv1a32(name)) *
  1.7320508075688772 (uniform with unit variance; the constructors' torch.randn
  is not reproducible in C++), biases and noise weights times 0.25 instead;
  name is "G.<key>", "D.<key>", "F.<key>". F's MLPs are made before
  data_dependent_initialize from the features of input A (as the C++ test does);
  the inputs A, B are hashed_input([2, 3, 64, 64], 101 | 102); the decoder's
  noise (its one StyledConv) is hashed_input([4, 1, 64, 64], 301) in the forward
  of data_dependent_initialize and 302 in that of optimize_parameters.
Computed in float64.

Writes tests/data/sincut_step/sincut.safetensors (float32; ids int64):
  ids.call<c>.layer<l>   int64 [4]: the patch ids of calculate_NCE_loss call c (0, 1:
                         data_dependent_initialize's NCE and NCE_Y; 2, 3:
                         optimize_parameters'), layer l of nce_layers 0,2,4
  ddi.loss.<name>        the losses after data_dependent_initialize (its loss_G is CUT's
                         part only, as the official's)
  loss.<name>            after optimize_parameters: G_GAN, D_real, D_fake, G, NCE, NCE_Y, D_R1, idt
  after.<net>.<key>      every state_dict entry of G, D, F after optimize_parameters
"""
import collections
import os
import sys

import numpy as np
import torch
import torch.nn.functional as Fn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_cut_step_reference import PatchSampleF, TrainStep, draw_patch_ids, put_losses, put_state  # noqa: E402
from make_cyclegan_reference import hashed_input  # noqa: E402
from make_reference import write_safetensors  # noqa: E402
from make_stylegan_reference import StyleGAN2Discriminator, StyleGAN2Generator, StyledConv, net_size  # noqa: E402

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
OUT_DIR = os.path.join(ROOT, "tests", "data", "sincut_step")

NCE_LAYERS = [0, 2, 4]
NUM_PATCHES = 4
NETF_NC = 8
BATCH = 2
LAMBDA_R1 = 1000.0
SIZE = net_size(1024, 64)


def fnv1a32(text):
    h = 0x811C9DC5
    for byte in text.encode():
        h = ((h ^ byte) * 0x01000193) & 0xFFFFFFFF
    return h


def hashed_parameters(net, prefix):
    with torch.no_grad():
        for key, p in net.named_parameters():
            name = prefix + "." + key
            small = key.endswith("bias") or key.endswith("noise.weight")
            p.copy_(hashed_input(list(p.shape), fnv1a32(name)).double() * (0.25 if small else 1.7320508075688772))


def gan_loss(prediction, target_is_real):
    """GANLoss('nonsaturating'): softplus(-p) (real) or softplus(p) (fake), per sample."""
    bs = prediction.size(0)
    return Fn.softplus(-prediction if target_is_real else prediction).view(bs, -1).mean(dim=1)


class SinCUT(TrainStep):
    """sincut_model.py on top of cut_model.py: TrainStep's iteration with R1 in
    D's loss and the identity L1 in G's."""
    all_negatives_from_minibatch = True  # sincut_model.py's default

    def __init__(self, netG, netD, netF, ids_per_call, noises):
        super().__init__(netG, netD, netF, ids_per_call, 0.002, (0.0, 0.99), NCE_LAYERS, NUM_PATCHES, BATCH)
        self.lambda_GAN, self.lambda_NCE = 1.0, 4.0
        self.lambda_R1, self.lambda_identity = LAMBDA_R1, 1.0
        self.noises = list(noises)
        self.loss_names = ["G_GAN", "D_real", "D_fake", "G", "NCE", "NCE_Y", "D_R1", "idt"]

    def encode(self, x):
        return self.netG.encoder(x, self.nce_layers)[1]  # netG(x, nce_layers, encode_only=True)

    def styled(self):
        return [m for m in self.netG.decoder.convs if isinstance(m, StyledConv)]

    def forward(self):
        self.real = torch.cat((self.real_A, self.real_B), dim=0)  # nce_idt
        (self.styled()[0]).fixed_noise = self.noises.pop(0)  # the official: normal_()
        feat, _ = self.netG.encoder(self.real, [])
        self.fake = self.netG.decoder(feat)
        self.fake_B = self.fake[:self.real_A.size(0)]
        self.idt_B = self.fake[self.real_A.size(0):]

    def compute_D_loss(self):
        self.real_B.requires_grad_()
        self.loss_D_fake = gan_loss(self.netD(self.fake_B.detach()), False).mean()
        self.pred_real = self.netD(self.real_B)
        self.loss_D_real = gan_loss(self.pred_real, True).mean()
        GAN_loss_D = (self.loss_D_fake + self.loss_D_real) * 0.5
        grad_real, = torch.autograd.grad(self.pred_real.sum(), self.real_B, create_graph=True, retain_graph=True)
        self.loss_D_R1 = grad_real.pow(2).view(grad_real.shape[0], -1).sum(1).mean() * (self.lambda_R1 * 0.5)
        self.loss_D = GAN_loss_D + self.loss_D_R1
        return self.loss_D

    def compute_G_loss(self):
        self.loss_G_GAN = gan_loss(self.netD(self.fake_B), True).mean() * self.lambda_GAN
        self.loss_NCE = self.calculate_NCE_loss(self.real_A, self.fake_B)
        self.loss_NCE_Y = self.calculate_NCE_loss(self.real_B, self.idt_B)
        self.loss_G = self.loss_G_GAN + (self.loss_NCE + self.loss_NCE_Y) * 0.5
        self.loss_idt = Fn.l1_loss(self.idt_B, self.real_B) * self.lambda_identity
        return self.loss_G + self.loss_idt


def main():
    torch.set_num_threads(1)
    np.random.seed(13)
    out = collections.OrderedDict()
    A = hashed_input([BATCH, 3, SIZE, SIZE], 101).double()
    B = hashed_input([BATCH, 3, SIZE, SIZE], 102).double()
    noises = [hashed_input([2 * BATCH, 1, SIZE, SIZE], seed).double() for seed in (301, 302)]
    netG = StyleGAN2Generator(ngf=1, size=SIZE, num_downsampling=1, n_blocks=6, inject_noise=True).double()
    netD = StyleGAN2Discriminator(ndf=1, size=SIZE).double()
    hashed_parameters(netG, "G")
    hashed_parameters(netD, "D")
    netF = PatchSampleF(True, "xavier", 0.02, NETF_NC)
    _, feats = netG.encoder(A, NCE_LAYERS)
    netF.create_mlp(feats)
    hashed_parameters(netF, "F")
    ids = draw_patch_ids(out, feats, NUM_PATCHES, 4)
    model = SinCUT(netG, netD, netF, ids, noises)
    model.data_dependent_initialize(A, B)
    put_losses(out, "ddi.loss", model)
    model.optimize_parameters()
    put_losses(out, "loss", model)
    put_state(out, "after", [("G", netG), ("D", netD), ("F", netF)])
    print({n: round(v, 6) for n, v in model.losses().items()})
    os.makedirs(OUT_DIR, exist_ok=True)
    path = os.path.join(OUT_DIR, "sincut.safetensors")
    write_safetensors(path, out, {"generator": "scripts/make_sincut_step_reference.py"})
    print(path, os.path.getsize(path), "bytes")


if __name__ == "__main__":
    main()
