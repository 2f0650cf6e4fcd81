#!/usr/bin/python3
"""Reference for translation/ (tests/test_cyclegan_step.cpp): one and two
training iterations of CycleGAN and one of pix2pix, as
junyanz/pytorch-CycleGAN-and-pix2pix runs them (models/cycle_gan_model.py,
models/pix2pix_model.py, models/networks.py: GANLoss, cal_gradient_penalty),
written here in torch on the official architectures (the network classes of
scripts/make_cyclegan_reference.py, same module nesting and keys).

    /usr/bin/python3 scripts/make_cyclegan_step_reference.py     (Debian's torch 1.13)

Deterministic (fixed seeds). Everything is computed in float64, from initial
weights and inputs rounded to float32 (the values stored), so that Adam's first
steps (about lr * sign(gradient)) are compared far from float32's rounding.
Stored values are float32. Inputs are not stored: each is
make_cyclegan_reference.hashed_input(shape, seed), which the C++ test computes
the same way:
  CycleGAN iteration k (1, 2):  A = hashed_input([1, 3, 32, 32], 2k + 1), B = (..., 2k + 2)
  pix2pix iteration k (1, 2):   A = hashed_input([1, 3, 128, 128], 20 + 2k), B = (..., 21 + 2k)
  WGAN-GP:                      real = hashed_input([2, 3, 32, 32], 11), fake = (..., 12);
                                D is cyclegan.init.D_A

Writes tests/data/cyclegan_step/reference.safetensors with
  cyclegan.init.<net>.<key>     initial state_dicts of G_A, G_B, D_A, D_B
                                (resnet_6blocks, ngf 4; basic D, ndf 4; instance norm)
  cyclegan.<mode>.iter<k>.loss.<name>    loss_<name> of optimize_parameters
                                (D_A, G_A, cycle_A, idt_A, D_B, G_B, cycle_B, idt_B)
  cyclegan.<mode>.iter<k>.<net>.<key>    every state_dict entry after iteration k
      mode lsgan: iterations 1 and 2; mode vanilla: iteration 1. pool_size 0,
      no dropout, lambda_A = lambda_B = 10, lambda_identity 0.5, lr 2e-4, beta1 0.5.
      Mode wgangp, iteration 1, is in tests/data/cyclegan_step/wgangp_iteration.safetensors
      (same names). As the official cycle_gan_model.py, whose backward_D_basic is
      0.5 (GANLoss(D(real), True) + GANLoss(D(fake), False)) in every gan_mode, the
      wgangp iteration adds no gradient penalty: the official code defines
      cal_gradient_penalty in networks.py but no model calls it.
  pix2pix.init.<net>.<key>      G (unet_128, ngf 2, batch norm, no dropout), D (basic, ndf 4, 6 channels)
  pix2pix.iter<k>.loss.<name>   G_GAN, G_L1, D_real, D_fake (vanilla GAN, lambda_L1 100)
  pix2pix.iter<k>.<net>.<key>   after iteration k (1, 2), BatchNorm running statistics included
  wgangp.alpha                  [2] the per-sample alpha (torch.rand) of type mixed
  wgangp.penalty.<type>         cal_gradient_penalty(D, real, fake, type) for real, fake, mixed
  wgangp.grad.<key>             D's parameter gradients after penalty(mixed).backward(), for
                                those the penalty depends on (torch leaves the others' grad None)
  wgangp.loss_real, .loss_fake  GANLoss('wgangp')(D(real), True), (D(fake), False)
  scheduler.<case>              float64 [13]: get_scheduler's lr at the start (lr 2e-4) and after
                                each of 12 update_learning_rate calls (metric 0, as the official
                                models), for the cases of SCHEDULER_CASES below
"""
import collections
import itertools
import os
import sys

import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_cyclegan_reference import (NLayerDiscriminator, ResnetGenerator, UnetGenerator,  # noqa: E402
                                     hashed_input, init_weights)
from make_reference import write_safetensors  # noqa: E402

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
OUT = os.path.join(ROOT, "tests", "data", "cyclegan_step", "reference.safetensors")
OUT_WGANGP = os.path.join(ROOT, "tests", "data", "cyclegan_step", "wgangp_iteration.safetensors")


# ----------------------------------------------------------- networks.py's losses

class GANLoss(nn.Module):
    def __init__(self, gan_mode):
        super().__init__()
        self.gan_mode = gan_mode
        if gan_mode == "lsgan":
            self.loss = nn.MSELoss()
        elif gan_mode == "vanilla":
            self.loss = nn.BCEWithLogitsLoss()
        else:
            self.loss = None

    def __call__(self, prediction, target_is_real):
        if self.gan_mode == "wgangp":
            return -prediction.mean() if target_is_real else prediction.mean()
        target = torch.full_like(prediction, 1.0 if target_is_real else 0.0)
        return self.loss(prediction, target)


def gradient_penalty(netD, real, fake, kind, alpha, constant=1.0, lambda_gp=10.0):
    if kind == "real":
        x = real
    elif kind == "fake":
        x = fake
    else:
        a = alpha.view(-1, 1).expand(real.shape[0], real.nelement() // real.shape[0]).contiguous().view(*real.shape)
        x = a * real + (1 - a) * fake
    x = x.detach().requires_grad_(True)
    out = netD(x)
    g = torch.autograd.grad(out, x, torch.ones_like(out), create_graph=True, retain_graph=True)[0]
    g = g.view(real.shape[0], -1)
    return (((g + 1e-16).norm(2, dim=1) - constant) ** 2).mean() * lambda_gp


def get_scheduler(optimizer, lr_policy, epoch_count=1, n_epochs=100, n_epochs_decay=100, lr_decay_iters=50):
    """networks.get_scheduler, its options passed one by one."""
    if lr_policy == "linear":
        def lambda_rule(epoch):
            return 1.0 - max(0, epoch + epoch_count - n_epochs) / float(n_epochs_decay + 1)
        return torch.optim.lr_scheduler.LambdaLR(optimizer, lr_lambda=lambda_rule)
    if lr_policy == "step":
        return torch.optim.lr_scheduler.StepLR(optimizer, step_size=lr_decay_iters, gamma=0.1)
    if lr_policy == "plateau":
        return torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, mode="min", factor=0.2, threshold=0.01,
                                                          patience=5)
    if lr_policy == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=n_epochs, eta_min=0)
    raise ValueError(lr_policy)


SCHEDULER_CASES = collections.OrderedDict([
    ("linear", dict(lr_policy="linear", epoch_count=1, n_epochs=3, n_epochs_decay=4)),
    ("linear_continued", dict(lr_policy="linear", epoch_count=3, n_epochs=3, n_epochs_decay=4)),
    ("step", dict(lr_policy="step", lr_decay_iters=2)),
    ("plateau", dict(lr_policy="plateau")),
    ("cosine", dict(lr_policy="cosine", n_epochs=5)),
])


def scheduler_lrs(case):
    optimizer = torch.optim.Adam([torch.zeros(1, requires_grad=True)], lr=2e-4, betas=(0.5, 0.999))
    scheduler = get_scheduler(optimizer, **case)
    lrs = [optimizer.param_groups[0]["lr"]]
    for _ in range(12):  # BaseModel.update_learning_rate
        optimizer.step()
        if case["lr_policy"] == "plateau":
            scheduler.step(0)
        else:
            scheduler.step()
        lrs.append(optimizer.param_groups[0]["lr"])
    return torch.tensor(lrs, dtype=torch.float64)


def set_requires_grad(nets, on):
    for net in nets:
        for p in net.parameters():
            p.requires_grad = on


# ------------------------------------------------------------- the two models

class CycleGAN:
    def __init__(self, nets, gan_mode, lambda_A=10.0, lambda_B=10.0, lambda_identity=0.5, lr=2e-4, beta1=0.5):
        self.netG_A, self.netG_B, self.netD_A, self.netD_B = nets
        self.gan = GANLoss(gan_mode)
        self.l1 = nn.L1Loss()
        self.lambda_A, self.lambda_B, self.lambda_idt = lambda_A, lambda_B, lambda_identity
        self.optimizer_G = torch.optim.Adam(itertools.chain(self.netG_A.parameters(), self.netG_B.parameters()),
                                            lr=lr, betas=(beta1, 0.999))
        self.optimizer_D = torch.optim.Adam(itertools.chain(self.netD_A.parameters(), self.netD_B.parameters()),
                                            lr=lr, betas=(beta1, 0.999))

    def optimize_parameters(self, real_A, real_B):  # pool_size 0: query returns its input
        fake_B = self.netG_A(real_A)
        rec_A = self.netG_B(fake_B)
        fake_A = self.netG_B(real_B)
        rec_B = self.netG_A(fake_A)
        losses = {}
        set_requires_grad([self.netD_A, self.netD_B], False)
        self.optimizer_G.zero_grad()
        losses["idt_A"] = self.l1(self.netG_A(real_B), real_B) * self.lambda_B * self.lambda_idt
        losses["idt_B"] = self.l1(self.netG_B(real_A), real_A) * self.lambda_A * self.lambda_idt
        losses["G_A"] = self.gan(self.netD_A(fake_B), True)
        losses["G_B"] = self.gan(self.netD_B(fake_A), True)
        losses["cycle_A"] = self.l1(rec_A, real_A) * self.lambda_A
        losses["cycle_B"] = self.l1(rec_B, real_B) * self.lambda_B
        (losses["G_A"] + losses["G_B"] + losses["cycle_A"] + losses["cycle_B"] + losses["idt_A"]
         + losses["idt_B"]).backward()
        self.optimizer_G.step()
        set_requires_grad([self.netD_A, self.netD_B], True)
        self.optimizer_D.zero_grad()
        for name, netD, real, fake in (("D_A", self.netD_A, real_B, fake_B), ("D_B", self.netD_B, real_A, fake_A)):
            loss = (self.gan(netD(real), True) + self.gan(netD(fake.detach()), False)) * 0.5
            loss.backward()
            losses[name] = loss
        self.optimizer_D.step()
        order = ["D_A", "G_A", "cycle_A", "idt_A", "D_B", "G_B", "cycle_B", "idt_B"]
        return collections.OrderedDict((k, losses[k].detach()) for k in order)


class Pix2Pix:
    def __init__(self, netG, netD, lambda_L1=100.0, lr=2e-4, beta1=0.5):
        self.netG, self.netD = netG, netD
        self.gan = GANLoss("vanilla")
        self.l1 = nn.L1Loss()
        self.lambda_L1 = lambda_L1
        self.optimizer_G = torch.optim.Adam(netG.parameters(), lr=lr, betas=(beta1, 0.999))
        self.optimizer_D = torch.optim.Adam(netD.parameters(), lr=lr, betas=(beta1, 0.999))

    def optimize_parameters(self, real_A, real_B):
        fake_B = self.netG(real_A)
        losses = {}
        set_requires_grad([self.netD], True)
        self.optimizer_D.zero_grad()
        losses["D_fake"] = self.gan(self.netD(torch.cat((real_A, fake_B), 1).detach()), False)
        losses["D_real"] = self.gan(self.netD(torch.cat((real_A, real_B), 1)), True)
        ((losses["D_fake"] + losses["D_real"]) * 0.5).backward()
        self.optimizer_D.step()
        set_requires_grad([self.netD], False)
        self.optimizer_G.zero_grad()
        losses["G_GAN"] = self.gan(self.netD(torch.cat((real_A, fake_B), 1)), True)
        losses["G_L1"] = self.l1(fake_B, real_B) * self.lambda_L1
        (losses["G_GAN"] + losses["G_L1"]).backward()
        self.optimizer_G.step()
        return collections.OrderedDict((k, losses[k].detach()) for k in ["G_GAN", "G_L1", "D_real", "D_fake"])


# ------------------------------------------------------------------ helpers

def f32_rounded(net):
    """float64 network whose values are float32 numbers (the stored ones)."""
    net = net.double()
    with torch.no_grad():
        for t in itertools.chain(net.parameters(), net.buffers()):
            if t.is_floating_point():
                t.copy_(t.float().double())
    return net


def put_state(out, prefix, named_nets):
    for name, net in named_nets:
        for key, t in net.state_dict().items():
            out[f"{prefix}.{name}.{key}"] = t.detach().float() if t.is_floating_point() else t.detach().clone()


def load_state(named_nets, state):
    for net, sd in zip(named_nets, state):
        net.load_state_dict(sd)


def snapshot(nets):
    return [{k: v.clone() for k, v in net.state_dict().items()} for net in nets]


def rounded_input(shape, seed):
    return hashed_input(shape, seed).double()  # k / 2^23 - 1: exact in float32


def main():
    torch.manual_seed(0)
    out = collections.OrderedDict()

    # ---- CycleGAN
    names = ["G_A", "G_B", "D_A", "D_B"]
    nets = [ResnetGenerator(3, 3, 4, "instance", False, 6), ResnetGenerator(3, 3, 4, "instance", False, 6),
            NLayerDiscriminator(3, 4, 3, "instance"), NLayerDiscriminator(3, 4, 3, "instance")]
    for net in nets:
        init_weights(net, "normal", 0.02)
    nets = [f32_rounded(n) for n in nets]
    init = snapshot(nets)
    put_state(out, "cyclegan.init", zip(names, nets))
    batches = [(rounded_input((1, 3, 32, 32), 2 * k + 1), rounded_input((1, 3, 32, 32), 2 * k + 2)) for k in (1, 2)]
    out_wgangp = collections.OrderedDict()  # its own file: each file stays under 1 MB
    for mode, iterations in (("lsgan", 2), ("vanilla", 1), ("wgangp", 1)):
        load_state(nets, init)
        model = CycleGAN(nets, mode)
        dest = out_wgangp if mode == "wgangp" else out
        for k in range(1, iterations + 1):
            losses = model.optimize_parameters(*batches[k - 1])
            for name, v in losses.items():
                dest[f"cyclegan.{mode}.iter{k}.loss.{name}"] = v.float().reshape(1)
            put_state(dest, f"cyclegan.{mode}.iter{k}", zip(names, nets))
            print(mode, k, {n: round(float(v), 6) for n, v in losses.items()})

    # ---- WGAN-GP on D_A's initial weights
    load_state(nets, init)
    D = nets[2]
    real, fake = rounded_input((2, 3, 32, 32), 11), rounded_input((2, 3, 32, 32), 12)
    alpha = torch.rand(2, dtype=torch.float64).float().double()
    out["wgangp.alpha"] = alpha.float()
    gan = GANLoss("wgangp")
    out["wgangp.loss_real"] = gan(D(real), True).detach().float().reshape(1)
    out["wgangp.loss_fake"] = gan(D(fake), False).detach().float().reshape(1)
    for kind in ("real", "fake"):
        out[f"wgangp.penalty.{kind}"] = gradient_penalty(D, real, fake, kind, alpha).detach().float().reshape(1)
    D.zero_grad(set_to_none=True)
    penalty = gradient_penalty(D, real, fake, "mixed", alpha)
    penalty.backward()
    out["wgangp.penalty.mixed"] = penalty.detach().float().reshape(1)
    for key, p in D.named_parameters():  # None: the penalty does not depend on it (e.g. the last bias)
        if p.grad is not None:
            out[f"wgangp.grad.{key}"] = p.grad.float()
    print("wgangp", float(penalty))

    # ---- pix2pix
    torch.manual_seed(1)
    netG, netD = UnetGenerator(3, 3, 7, 2, "batch", False), NLayerDiscriminator(6, 4, 3, "batch")
    init_weights(netG, "normal", 0.02)
    init_weights(netD, "normal", 0.02)
    netG, netD = f32_rounded(netG), f32_rounded(netD)
    put_state(out, "pix2pix.init", [("G", netG), ("D", netD)])
    model = Pix2Pix(netG, netD)
    for k in (1, 2):
        A, B = rounded_input((1, 3, 128, 128), 20 + 2 * k), rounded_input((1, 3, 128, 128), 21 + 2 * k)
        losses = model.optimize_parameters(A, B)
        for name, v in losses.items():
            out[f"pix2pix.iter{k}.loss.{name}"] = v.float().reshape(1)
        put_state(out, f"pix2pix.iter{k}", [("G", netG), ("D", netD)])
        print("pix2pix", k, {n: round(float(v), 6) for n, v in losses.items()})

    for name, case in SCHEDULER_CASES.items():
        out[f"scheduler.{name}"] = scheduler_lrs(case)

    write_safetensors(OUT, out, {"generator": "scripts/make_cyclegan_step_reference.py"})
    print(OUT, os.path.getsize(OUT), "bytes,", len(out), "tensors")
    write_safetensors(OUT_WGANGP, out_wgangp, {"generator": "scripts/make_cyclegan_step_reference.py"})
    print(OUT_WGANGP, os.path.getsize(OUT_WGANGP), "bytes,", len(out_wgangp), "tensors")


if __name__ == "__main__":
    main()
