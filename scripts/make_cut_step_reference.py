#!/usr/bin/python3
"""Reference for CUT (tests/test_patchnce.cpp, tests/test_cut_step.cpp): the
PatchNCE loss, PatchSampleF, and one training iteration of CUT and of FastCUT,
as taesungp/contrastive-unpaired-translation computes them (models/patchnce.py,
models/networks.py: PatchSampleF, Normalize, init_net; models/cut_model.py),
written here in torch from those published definitions. The generator and the
discriminator of the cut and fastcut runs are CUT's with --no_antialias
--no_antialias_up, which is CycleGAN's layout: the classes of
scripts/make_cyclegan_reference.py (same module nesting, same in-place ReLUs,
same keys); those of the cut_antialias run are CUT's default, anti-aliased
layout, the classes of scripts/make_cut_networks_reference.py.

    /usr/bin/python3 scripts/make_cut_step_reference.py     (Debian's torch 1.13)

Deterministic (fixed seeds). The CUT runs are computed in float64 from initial
weights and inputs rounded to float32 (the values stored), so that Adam's first
step (about lr * sign(gradient)) is compared far from float32's rounding.
Stored values are float32, ids int64, flip decisions float32 0/1.

Writes tests/data/cut_step/patchnce.safetensors (float64):
  nce.feat_q, nce.feat_k        [B*P, C] (B 2 images, P 5 patches, C 6), rows of unit length
  nce.weight                    [B*P] a fixed random cotangent
  nce.<mode>.loss               PatchNCELoss(feat_q, feat_k) [B*P] (reduction 'none'),
                                mode "same_image" (negatives from the same image,
                                batch_size 2) or "minibatch"
                                (nce_includes_all_negatives_from_minibatch)
  nce.<mode>.grad_q             d sum(loss * weight) / d feat_q (feat_k is detached)
  sample.feat<i>                two feature maps [2, 3, 5, 4], [2, 4, 3, 3]
  sample.ids<i>                 the patch ids given (6 of 20, 4 of 9)
  sample.F.<key>                PatchSampleF(use_mlp, nc 5)'s MLP weights (torch's Linear init:
                                large enough to make every entry matter)
  sample.mlp.out<i>             PatchSampleF(feats, 6, ids): [2 * num_patches, 5]
  sample.mlp.grad<i>            d sum_i sum(out_i * sample.mlp.v<i>) / d feat<i>
  sample.mlp.v<i>               the cotangents
  sample.mlp.Fgrad.<key>        the same sum's gradient with respect to F's parameters
  sample.nomlp.out<i>           PatchSampleF(use_mlp False)(feats, 6, ids): [2 * P, C]
  sample.all.out<i>             PatchSampleF(use_mlp)(feats, 0): the reshape branch, [2, 5, H, W]

and tests/data/cut_step/<mode>.safetensors for mode cut (--CUT_mode CUT, batch 1),
fastcut (--CUT_mode FastCUT, batch 2) and cut_antialias (--CUT_mode CUT, batch 1,
with CUT's default layout: no_antialias and no_antialias_up false, the
anti-aliased classes of scripts/make_cut_networks_reference.py), float32:
  input.A, input.B              the batch (hashed_input of make_cyclegan_reference, seeds below)
  init.<net>.<key>              state_dicts of G (resnet_6blocks, ngf 4, instance norm, no
                                dropout), D (basic, ndf 4, instance norm) after init_net
                                (xavier 0.02), and F (mlp_sample, netF_nc 16) as
                                data_dependent_initialize created it
  flip                          [2] FastCUT's flip decisions (1 = flipped) of the forwards of
                                data_dependent_initialize and of optimize_parameters; fixed
                                (0, then 1) so both branches run; absent for CUT
  ids.call<c>.layer<l>          int64 [num_patches 8]: the patch ids of calculate_NCE_loss
                                call c (0, 1, ... in the order the model makes them:
                                data_dependent_initialize's G loss first, NCE before NCE_Y),
                                layer l of nce_layers 0,4,8,12,16
  ddi.loss.<name>               the losses data_dependent_initialize computed
  loss.<name>                   the losses of optimize_parameters: G_GAN, D_real, D_fake, G,
                                NCE [, NCE_Y]
  after.<net>.<key>             every state_dict entry of G, D, F after optimize_parameters
Options as CUT's defaults otherwise: lambda_GAN 1, nce_T 0.07, lsgan, lr 2e-4, betas (0.5, 0.999).
"""
import collections
import itertools
import os
import sys

import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_cyclegan_reference import NLayerDiscriminator, ResnetGenerator, hashed_input, init_weights  # noqa: E402
from make_cyclegan_step_reference import GANLoss, set_requires_grad  # noqa: E402
import make_cut_networks_reference as antialiased  # noqa: E402
from make_reference import write_safetensors  # noqa: E402

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
OUT_DIR = os.path.join(ROOT, "tests", "data", "cut_step")

NCE_LAYERS = [0, 4, 8, 12, 16]
NUM_PATCHES = 8
NETF_NC = 16


# ---------------------------------------------------------- patchnce.py

def patch_nce_loss(feat_q, feat_k, batch_size, nce_T=0.07, all_negatives_from_minibatch=False):
    """PatchNCELoss.forward: cross-entropy, per query patch, of
    (q.k+, q.k1-, ..., q.kN-) / T against class 0 (reduction 'none')."""
    num_patches, dim = feat_q.shape
    feat_k = feat_k.detach()
    l_pos = torch.bmm(feat_q.view(num_patches, 1, -1), feat_k.view(num_patches, -1, 1)).view(num_patches, 1)
    groups = 1 if all_negatives_from_minibatch else batch_size
    q = feat_q.view(groups, -1, dim)
    k = feat_k.view(groups, -1, dim)
    npatches = q.size(1)
    l_neg = torch.bmm(q, k.transpose(2, 1))
    l_neg.masked_fill_(torch.eye(npatches, dtype=torch.bool)[None, :, :], -10.0)
    out = torch.cat((l_pos, l_neg.view(-1, npatches)), dim=1) / nce_T
    return nn.functional.cross_entropy(out, torch.zeros(out.size(0), dtype=torch.long), reduction="none")


# ---------------------------------------------------------- networks.py: PatchSampleF

def l2_normalize(x):
    """Normalize(2): x / (||x||_2 over dim 1 + 1e-7)."""
    return x / (x.pow(2).sum(1, keepdim=True).pow(0.5) + 1e-7)


class PatchSampleF(nn.Module):
    def __init__(self, use_mlp, init_type="xavier", init_gain=0.02, nc=256, default_init=False):
        super().__init__()
        self.use_mlp, self.nc, self.init_type, self.init_gain = use_mlp, nc, init_type, init_gain
        self.mlp_init = False
        self.default_init = default_init  # keep torch's Linear init (the PatchSampleF-only case)

    def create_mlp(self, feats):
        for i, feat in enumerate(feats):
            mlp = nn.Sequential(nn.Linear(feat.shape[1], self.nc), nn.ReLU(), nn.Linear(self.nc, self.nc))
            setattr(self, "mlp_%d" % i, mlp.to(feat.dtype))
        if not self.default_init:
            init_weights(self, self.init_type, self.init_gain)  # init_net(self, ...)
        with torch.no_grad():  # float64 runs: values that float32 holds exactly (the stored ones)
            for p in self.parameters():
                p.copy_(p.float().double() if p.dtype == torch.float64 else p)
        self.mlp_init = True

    def forward(self, feats, num_patches, patch_ids=None):
        if self.use_mlp and not self.mlp_init:
            self.create_mlp(feats)
        return_feats, return_ids = [], []
        for i, feat in enumerate(feats):
            B, H, W = feat.shape[0], feat.shape[2], feat.shape[3]
            flat = feat.permute(0, 2, 3, 1).flatten(1, 2)  # [B, H*W, C]
            if num_patches > 0:
                if patch_ids is not None:
                    patch_id = torch.as_tensor(patch_ids[i], dtype=torch.long)
                else:
                    perm = np.random.permutation(flat.shape[1])
                    patch_id = torch.tensor(perm[:int(min(num_patches, perm.shape[0]))], dtype=torch.long)
                x = flat[:, patch_id, :].flatten(0, 1)  # [B * num_patches, C]
            else:
                x, patch_id = flat, []
            if self.use_mlp:
                x = getattr(self, "mlp_%d" % i)(x)
            return_ids.append(patch_id)
            x = l2_normalize(x)  # the reshape branch: over dim 1 of [B, H*W, C], i.e. the positions
            if num_patches == 0:
                x = x.permute(0, 2, 1).reshape([B, x.shape[-1], H, W])
            return_feats.append(x)
        return return_feats, return_ids


# ---------------------------------------------------------- cut_model.py

class ContiguousGrad(torch.autograd.Function):
    """The identity, whose backward makes the incoming gradient contiguous.

    Works around a bug of torch 1.13's CPU batch_norm backward (which
    InstanceNorm2d runs on): given a channels-last grad_output (here the
    gradient PatchSampleF's permute(0, 2, 3, 1) sends back into a tapped
    InstanceNorm output, strides (C*H*W, 1, W*C, C)) and a contiguous input,
    it returns a wrong input gradient. Checked by central differences: with this
    identity the gradient matches them (and stylegrad); without it, it does not."""

    @staticmethod
    def forward(ctx, x):
        return x.clone()

    @staticmethod
    def backward(ctx, grad):
        return grad.contiguous()


def encode(netG, x, layers):
    """CUT's ResnetGenerator.forward(x, layers, encode_only=True). The ReLUs of the
    model are in place (nn.ReLU(True)), so a tapped layer followed by a ReLU that
    runs (here layer 8, InstanceNorm, then ReLU at 9) is returned rectified.
    (ContiguousGrad: the same values; see its comment.)"""
    feats = []
    for i, layer in enumerate(netG.model):
        x = layer(x)
        if i in layers:
            feats.append(x)
        if i == layers[-1]:
            return [ContiguousGrad.apply(f) for f in feats]  # after the in-place ReLUs
    raise ValueError("nce layer out of range")


class TrainStep:
    """What cut_model.py's CUTModel does around the losses, which SinCUTModel
    inherits (scripts/make_sincut_step_reference.py subclasses this):
    calculate_NCE_loss, data_dependent_initialize, optimize_parameters, with
    Adam(lr, betas) for G, D and F. Subclasses give forward, compute_D_loss,
    compute_G_loss, encode (netG(x, nce_layers, encode_only=True)) and
    loss_names; the patch ids of each calculate_NCE_loss call are given
    (ids_per_call, in call order), as the C++ tests inject them."""
    flip_equivariance = False
    all_negatives_from_minibatch = False

    def __init__(self, netG, netD, netF, ids_per_call, lr, betas, nce_layers, num_patches, batch_size):
        self.netG, self.netD, self.netF = netG, netD, netF
        self.ids_per_call = list(ids_per_call)
        self.nce_layers, self.num_patches, self.batch_size = nce_layers, num_patches, batch_size
        self.nce_T = 0.07
        self.adam = dict(lr=lr, betas=betas)
        self.optimizer_G = torch.optim.Adam(netG.parameters(), **self.adam)
        self.optimizer_D = torch.optim.Adam(netD.parameters(), **self.adam)
        self.optimizer_F = None

    def set_input(self, A, B):
        self.real_A, self.real_B = A, B

    def calculate_NCE_loss(self, src, tgt):
        feat_q = self.encode(tgt)
        if self.flip_equivariance and self.flipped_for_equivariance:
            feat_q = [torch.flip(f, [3]) for f in feat_q]
        feat_k = self.encode(src)
        feat_k_pool, sample_ids = self.netF(feat_k, self.num_patches, self.ids_per_call.pop(0))
        feat_q_pool, _ = self.netF(feat_q, self.num_patches, sample_ids)
        total = 0.0
        for f_q, f_k in zip(feat_q_pool, feat_k_pool):
            loss = patch_nce_loss(f_q, f_k, self.batch_size, self.nce_T, self.all_negatives_from_minibatch)
            total += (loss * self.lambda_NCE).mean()
        return total / len(self.nce_layers)

    def data_dependent_initialize(self, A, B):
        self.set_input(A, B)
        self.forward()
        self.compute_D_loss().backward()
        self.compute_G_loss().backward()
        self.optimizer_F = torch.optim.Adam(self.netF.parameters(), **self.adam)

    def optimize_parameters(self):
        self.forward()
        set_requires_grad([self.netD], True)
        self.optimizer_D.zero_grad()
        self.loss_D = self.compute_D_loss()
        self.loss_D.backward()
        self.optimizer_D.step()
        set_requires_grad([self.netD], False)
        self.optimizer_G.zero_grad()
        self.optimizer_F.zero_grad()
        self.loss_G = self.compute_G_loss()
        self.loss_G.backward()
        self.optimizer_G.step()
        self.optimizer_F.step()

    def losses(self):
        return collections.OrderedDict((n, float(getattr(self, "loss_" + n))) for n in self.loss_names)


class CUT(TrainStep):
    def __init__(self, netG, netD, netF, mode, ids_per_call, flips, batch_size):
        super().__init__(netG, netD, netF, ids_per_call, 2e-4, (0.5, 0.999), NCE_LAYERS, NUM_PATCHES, batch_size)
        fast = mode == "fastcut"
        self.lambda_GAN, self.lambda_NCE = 1.0, (10.0 if fast else 1.0)
        self.nce_idt, self.flip_equivariance = not fast, fast
        self.flips = list(flips)
        self.gan = GANLoss("lsgan")
        self.loss_names = ["G_GAN", "D_real", "D_fake", "G", "NCE"] + (["NCE_Y"] if self.nce_idt else [])

    def encode(self, x):
        return encode(self.netG, x, self.nce_layers)

    def forward(self):
        self.real = torch.cat((self.real_A, self.real_B), 0) if self.nce_idt else self.real_A
        if self.flip_equivariance:
            self.flipped_for_equivariance = bool(self.flips.pop(0))  # the official: np.random.random() < 0.5
            if self.flipped_for_equivariance:
                self.real = torch.flip(self.real, [3])
        self.fake = self.netG(self.real)
        self.fake_B = self.fake[:self.real_A.size(0)]
        if self.nce_idt:
            self.idt_B = self.fake[self.real_A.size(0):]

    def compute_D_loss(self):
        self.loss_D_fake = self.gan(self.netD(self.fake_B.detach()), False).mean()
        self.loss_D_real = self.gan(self.netD(self.real_B), True).mean()
        self.loss_D = (self.loss_D_fake + self.loss_D_real) * 0.5
        return self.loss_D

    def compute_G_loss(self):
        self.loss_G_GAN = self.gan(self.netD(self.fake_B), True).mean() * self.lambda_GAN
        self.loss_NCE = self.calculate_NCE_loss(self.real_A, self.fake_B)
        if self.nce_idt:
            self.loss_NCE_Y = self.calculate_NCE_loss(self.real_B, self.idt_B)
            both = (self.loss_NCE + self.loss_NCE_Y) * 0.5
        else:
            both = self.loss_NCE
        self.loss_G = self.loss_G_GAN + both
        return self.loss_G


# ---------------------------------------------------------- helpers

def f32_rounded(net):
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


def put_losses(out, prefix, model):
    for name, v in model.losses().items():
        out[f"{prefix}.{name}"] = torch.tensor([v], dtype=torch.float32)


def draw_patch_ids(out, feats, num_patches, calls):
    """The patch ids of `calls` calculate_NCE_loss calls (the official's
    np.random.permutation per layer), stored as ids.call<c>.layer<l>."""
    sizes = [f.shape[2] * f.shape[3] for f in feats]
    ids = [[np.random.permutation(n)[:num_patches] for n in sizes] for _ in range(calls)]
    for c, per_layer in enumerate(ids):
        for l, i in enumerate(per_layer):
            out[f"ids.call{c}.layer{l}"] = torch.tensor(i, dtype=torch.long)
    return ids


def cut_reference(mode, batch_size, seed, antialias=False):
    torch.manual_seed(seed)
    np.random.seed(seed)
    out = collections.OrderedDict()
    A = hashed_input((batch_size, 3, 32, 32), 100 + seed).double()
    B = hashed_input((batch_size, 3, 32, 32), 200 + seed).double()
    out["input.A"], out["input.B"] = A.float(), B.float()
    if antialias:  # CUT's default layout: blur-pool Downsample in G and D, Upsample in G
        netG = antialiased.ResnetGenerator(3, 3, 4, "instance", False, 6, "reflect", False, False)
        netD = antialiased.NLayerDiscriminator(3, 4, 3, "instance", False)
    else:
        netG, netD = ResnetGenerator(3, 3, 4, "instance", False, 6), NLayerDiscriminator(3, 4, 3, "instance")
    init_weights(netG, "xavier", 0.02)
    init_weights(netD, "xavier", 0.02)
    netG, netD = f32_rounded(netG), f32_rounded(netD)
    netF = PatchSampleF(True, "xavier", 0.02, NETF_NC)
    calls = 2 if mode == "fastcut" else 4  # data_dependent_initialize's G loss, then optimize_parameters'
    ids = draw_patch_ids(out, encode(netG, A, NCE_LAYERS), NUM_PATCHES, calls)
    flips = [0, 1] if mode == "fastcut" else []
    if flips:
        out["flip"] = torch.tensor(flips, dtype=torch.float32)
    model = CUT(netG, netD, netF, mode, ids, flips, batch_size)
    put_state(out, "init", [("G", netG), ("D", netD)])
    model.data_dependent_initialize(A, B)
    put_state(out, "init", [("F", netF)])
    put_losses(out, "ddi.loss", model)
    model.optimize_parameters()
    put_losses(out, "loss", model)
    put_state(out, "after", [("G", netG), ("D", netD), ("F", netF)])
    print(mode, {n: round(v, 6) for n, v in model.losses().items()})
    return out


def patchnce_reference():
    g = torch.Generator().manual_seed(7)
    out = collections.OrderedDict()
    B, P, C = 2, 5, 6
    q = l2_normalize(torch.randn(B * P, C, generator=g, dtype=torch.float64))
    k = l2_normalize(torch.randn(B * P, C, generator=g, dtype=torch.float64))
    w = torch.rand(B * P, generator=g, dtype=torch.float64)
    out["nce.feat_q"], out["nce.feat_k"], out["nce.weight"] = q, k, w
    for mode, all_neg in (("same_image", False), ("minibatch", True)):
        fq = q.clone().requires_grad_(True)
        fk = k.clone().requires_grad_(True)
        loss = patch_nce_loss(fq, fk, B, 0.07, all_neg)
        (loss * w).sum().backward()
        assert fk.grad is None
        out[f"nce.{mode}.loss"] = loss.detach()
        out[f"nce.{mode}.grad_q"] = fq.grad

    feats = [torch.randn(2, 3, 5, 4, generator=g, dtype=torch.float64),
             torch.randn(2, 4, 3, 3, generator=g, dtype=torch.float64)]
    ids = [torch.randperm(20, generator=g)[:6], torch.randperm(9, generator=g)[:4]]
    for i, (f, idx) in enumerate(zip(feats, ids)):
        out[f"sample.feat{i}"], out[f"sample.ids{i}"] = f, idx
    torch.manual_seed(8)
    F = PatchSampleF(True, nc=5, default_init=True)
    F.create_mlp(feats)
    for key, t in F.state_dict().items():
        out[f"sample.F.{key}"] = t
    leaves = [f.clone().requires_grad_(True) for f in feats]
    outs, got_ids = F(leaves, 6, ids)
    assert all(torch.equal(a, b) for a, b in zip(got_ids, ids))
    vs = [torch.randn(o.shape, generator=g, dtype=torch.float64) for o in outs]
    sum((o * v).sum() for o, v in zip(outs, vs)).backward()
    for i, (o, v, leaf) in enumerate(zip(outs, vs, leaves)):
        out[f"sample.mlp.out{i}"], out[f"sample.mlp.v{i}"], out[f"sample.mlp.grad{i}"] = o.detach(), v, leaf.grad
    for key, p in F.named_parameters():
        out[f"sample.mlp.Fgrad.{key}"] = p.grad.clone()
    F.zero_grad(set_to_none=True)
    plain, _ = PatchSampleF(False)(feats, 6, ids)
    for i, o in enumerate(plain):
        out[f"sample.nomlp.out{i}"] = o
    whole, _ = F(feats, 0)
    for i, o in enumerate(whole):
        out[f"sample.all.out{i}"] = o.detach()
    return out


def main():
    os.makedirs(OUT_DIR, exist_ok=True)
    meta = {"generator": "scripts/make_cut_step_reference.py"}
    write_safetensors(os.path.join(OUT_DIR, "patchnce.safetensors"), patchnce_reference(), meta)
    for mode, batch_size, seed, antialias in (("cut", 1, 1, False), ("fastcut", 2, 2, False),
                                              ("cut_antialias", 1, 3, True)):
        path = os.path.join(OUT_DIR, mode + ".safetensors")
        write_safetensors(path, cut_reference(mode, batch_size, seed, antialias), meta)
        print(path, os.path.getsize(path), "bytes")


if __name__ == "__main__":
    main()
