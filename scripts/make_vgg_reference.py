#!/usr/bin/python3
"""Reference files for the VGG and Gatys tests, made with torchvision's real
VGG class (Debian: python3-torch python3-torchvision), so CI needs no PyTorch.

    /usr/bin/python3 scripts/make_vgg_reference.py

Writes
  tests/data/vgg/vgg19_narrow_zip.pth     torchvision VGG-19 state_dict, torch.save's zip format
  tests/data/vgg/vgg19_narrow_legacy.pth  the same in the legacy (pre-1.6) format
  tests/reference/vgg19_taps.safetensors  an input image and the activation at every tap
  tests/reference/gatys.safetensors       content/style/TV losses and d(total)/d(image), float64

The network is torchvision's VGG-19 with every width divided by 16 (same
layers and parameter names, 4..32 channels) and a 1-layer classifier, so the
files stay small; seeded torchvision initialisation.
"""
import os
import sys

import torch
from torchvision.models.vgg import VGG, cfgs, make_layers

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_reference import write_safetensors  # noqa: E402

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
DIVISOR = 16
TAPS = []


def narrow_vgg19():
    torch.manual_seed(0)
    cfg = [v if v == "M" else v // DIVISOR for v in cfgs["E"]]
    model = VGG(make_layers(cfg), init_weights=True)
    # torchvision's init leaves conv biases at 0; give them values so the
    # test would notice a bias that is not loaded.
    with torch.no_grad():
        for m in model.features:
            if isinstance(m, torch.nn.Conv2d):
                m.bias.uniform_(-0.1, 0.1)
    model.classifier = torch.nn.Sequential(torch.nn.Linear(8, 2))  # kept small; stylegrad ignores it
    return model.eval()


def tap_names():
    names, block, conv = [], 1, 1
    for v in cfgs["E"]:
        if v == "M":
            names.append("pool%d" % block)
            block, conv = block + 1, 1
        else:
            names += ["conv%d_%d" % (block, conv), "relu%d_%d" % (block, conv)]
            conv += 1
    return names


def normalize(x):
    mean = torch.tensor([0.485, 0.456, 0.406], dtype=x.dtype).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225], dtype=x.dtype).view(1, 3, 1, 1)
    return (x - mean) / std


def taps(features, x, wanted):
    out, h = {}, normalize(x)
    for name, layer in zip(tap_names(), features):
        h = layer(h)
        if name in wanted:
            out[name] = h.clone()  # torchvision's ReLUs are inplace: keep the conv output as it was
    return out


def gram(f):
    n, c, h, w = f.shape
    v = f.reshape(n, c, h * w)
    return v @ v.transpose(1, 2) / (c * h * w)


def main():
    model = narrow_vgg19()
    os.makedirs(os.path.join(ROOT, "tests", "data", "vgg"), exist_ok=True)
    sd = model.state_dict()
    torch.save(sd, os.path.join(ROOT, "tests/data/vgg/vgg19_narrow_zip.pth"))
    torch.save(sd, os.path.join(ROOT, "tests/data/vgg/vgg19_narrow_legacy.pth"), _use_new_zipfile_serialization=False)

    # every tap, float32, on a non-square image
    torch.manual_seed(1)
    image = torch.rand(1, 3, 48, 40)
    with torch.no_grad():
        acts = taps(model.features, image, set(tap_names()))
    tensors = {"image": image}
    tensors.update({name: acts[name] for name in tap_names()})
    write_safetensors(os.path.join(ROOT, "tests/reference/vgg19_taps.safetensors"), tensors,
                      {"width_divisor": str(DIVISOR)})

    # Gatys losses and the gradient with respect to the image, float64
    feats = model.features.double()
    torch.manual_seed(2)
    content, style, x = torch.rand(1, 3, 40, 36, dtype=torch.float64), torch.rand(1, 3, 32, 32, dtype=torch.float64), \
        torch.rand(1, 3, 40, 36, dtype=torch.float64)
    content_layers = ["relu4_2"]
    style_layers = ["relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"]
    weights = {"content": 5.0, "style": 3e5, "tv": 2e-2}
    with torch.no_grad():
        c_t = taps(feats, content, content_layers)
        s_t = {k: gram(v) for k, v in taps(feats, style, style_layers).items()}
    x.requires_grad_()
    f = taps(feats, x, set(content_layers + style_layers))
    content_loss = sum(((f[l] - c_t[l]) ** 2).mean() for l in content_layers) * weights["content"]
    style_loss = sum(((gram(f[l]) - s_t[l]) ** 2).mean() for l in style_layers) * weights["style"]
    tv = (((x[:, :, 1:, :] - x[:, :, :-1, :]) ** 2).sum() + ((x[:, :, :, 1:] - x[:, :, :, :-1]) ** 2).sum()) * weights["tv"]
    total = content_loss + style_loss + tv
    total.backward()
    write_safetensors(os.path.join(ROOT, "tests/reference/gatys.safetensors"), {
        "content": content, "style": style, "image": x.detach(),
        "content_loss": content_loss.detach().reshape(1), "style_loss": style_loss.detach().reshape(1),
        "tv_loss": tv.detach().reshape(1), "total_loss": total.detach().reshape(1), "grad": x.grad,
    }, {k: repr(v) for k, v in weights.items()})
    print("wrote tests/data/vgg/*.pth, tests/reference/vgg19_taps.safetensors, tests/reference/gatys.safetensors")


if __name__ == "__main__":
    main()
