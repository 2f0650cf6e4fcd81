#!/usr/bin/python3
"""Reference files for io/image.h's resize_image_bicubic / resize_image_bilinear and data/transforms.h's
to_grayscale (tests/test_data.cpp): what Pillow does to an 8-bit RGB image in
the official CycleGAN/pix2pix data pipeline (Image.resize(size, Image.BICUBIC),
Image.convert('L')) and in CUT's (Image.BILINEAR).

    /usr/bin/python3 scripts/make_pil_resize_reference.py     (Debian's Pillow 9.4)

Deterministic (a seeded image). Writes tests/data/pil_resize/:
  input.png            37 x 23 RGB, random levels plus a smooth ramp
  bicubic_WxH.png      input.resize((W, H), Image.BICUBIC), for the sizes below
  bilinear_WxH.png     input.resize((W, H), Image.BILINEAR), the same sizes
  gray.png             input.convert('L')
"""
import os

import numpy as np
from PIL import Image

SIZES = [(19, 11), (64, 50), (37, 40), (16, 23), (8, 5), (100, 7)]

def main():
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "data", "pil_resize")
    os.makedirs(out, exist_ok=True)
    rng = np.random.RandomState(7)
    h, w = 23, 37
    ramp = (np.arange(w)[None, :, None] * 6 + np.arange(h)[:, None, None] * 4) % 256
    noise = rng.randint(0, 256, size=(h, w, 3))
    pixels = np.where(rng.rand(h, w, 1) < 0.5, ramp, noise).astype(np.uint8)
    image = Image.fromarray(pixels, "RGB")
    image.save(os.path.join(out, "input.png"))
    for size in SIZES:
        image.resize(size, Image.BICUBIC).save(os.path.join(out, "bicubic_%dx%d.png" % size))
        image.resize(size, Image.BILINEAR).save(os.path.join(out, "bilinear_%dx%d.png" % size))
    image.convert("L").save(os.path.join(out, "gray.png"))

if __name__ == "__main__":
    main()
