"""Times CycleGAN's resnet_9blocks generator (ngf 64, instance norm, no dropout,
reflection padding) in PyTorch at 256x256, batch 1, 2 threads: forward without
gradients and forward + backward, the minimum over repeats; with --shapes also
every convolution shape of it, forward and both backward products.
The network is written here from the published definition (ResnetGenerator in
the official CycleGAN repository's models/networks.py)."""
import argparse, resource, time
import torch
import torch.nn as nn
import torch.nn.functional as F


def resnet_9blocks(ngf=64):
    norm = lambda c: nn.InstanceNorm2d(c, affine=False, track_running_stats=False)
    layers = [nn.ReflectionPad2d(3), nn.Conv2d(3, ngf, 7, bias=True), norm(ngf), nn.ReLU(True)]
    for i in range(2):
        m = 2 ** i
        layers += [nn.Conv2d(ngf * m, ngf * m * 2, 3, stride=2, padding=1, bias=True), norm(ngf * m * 2), nn.ReLU(True)]

    class Block(nn.Module):
        def __init__(self, c):
            super().__init__()
            self.conv_block = nn.Sequential(nn.ReflectionPad2d(1), nn.Conv2d(c, c, 3, bias=True), norm(c), nn.ReLU(True),
                                            nn.ReflectionPad2d(1), nn.Conv2d(c, c, 3, bias=True), norm(c))

        def forward(self, x):
            return x + self.conv_block(x)

    layers += [Block(ngf * 4) for _ in range(9)]
    for i in range(2):
        m = 2 ** (2 - i)
        layers += [nn.ConvTranspose2d(ngf * m, ngf * m // 2, 3, stride=2, padding=1, output_padding=1, bias=True),
                   norm(ngf * m // 2), nn.ReLU(True)]
    layers += [nn.ReflectionPad2d(3), nn.Conv2d(ngf, 3, 7), nn.Tanh()]
    return nn.Sequential(*layers)


CLOCK = time.perf_counter  # --cpu-time: time.process_time (see bench/conv_shapes_timing.cpp)


def best(fn, repeats):
    fn()
    t = []
    for _ in range(repeats):
        t0 = CLOCK(); fn(); t.append(CLOCK() - t0)
    return min(t) * 1e3


# (name, input shape, conv2d kwargs or transposed) of every distinct conv in resnet_9blocks at 256^2
SHAPES = [
    ("7x7 3->64 (pad 3 reflect, on 262^2)", (1, 3, 262, 262), (64, 3, 7, 7), dict()),
    ("3x3 s2 64->128 (256^2)", (1, 64, 256, 256), (128, 64, 3, 3), dict(stride=2, padding=1)),
    ("3x3 s2 128->256 (128^2)", (1, 128, 128, 128), (256, 128, 3, 3), dict(stride=2, padding=1)),
    ("3x3 256->256 (66^2, x18)", (1, 256, 66, 66), (256, 256, 3, 3), dict()),
    ("convT 3x3 s2 256->128 (64^2)", (1, 256, 64, 64), (256, 128, 3, 3), dict(stride=2, padding=1, output_padding=1, t=1)),
    ("convT 3x3 s2 128->64 (128^2)", (1, 128, 128, 128), (128, 64, 3, 3), dict(stride=2, padding=1, output_padding=1, t=1)),
    ("7x7 64->3 (pad 3 reflect, on 262^2)", (1, 64, 262, 262), (3, 64, 7, 7), dict()),
]


def shapes(repeats):
    for name, xs, ws, kw in SHAPES:
        kw = dict(kw)
        t = kw.pop("t", 0)
        x = torch.randn(xs, requires_grad=True)
        w = torch.randn(ws, requires_grad=True)
        f = (lambda: F.conv_transpose2d(x, w, **kw)) if t else (lambda: F.conv2d(x, w, **kw))
        with torch.no_grad():
            fwd = best(f, repeats)
            y = f()
        g = torch.randn_like(y)
        gx = best(lambda: torch.autograd.grad(f(), x, g), repeats) - fwd
        gw = best(lambda: torch.autograd.grad(f(), w, g), repeats) - fwd
        flops = 2 * y.numel() * ws[1] * ws[2] * ws[3] if not t else 2 * x.numel() * ws[1] * ws[2] * ws[3]
        print(f"{name:40s} fwd {fwd:7.1f} ms {flops/fwd/1e6:6.1f} GF/s | dx {gx:7.1f} ms | dw {gw:7.1f} ms  ({flops/1e9:.2f} GFLOP)")
    for c, s in [(64, 256), (128, 128), (256, 64)]:
        x = torch.randn(1, c, s, s, requires_grad=True)
        with torch.no_grad():
            t = best(lambda: F.instance_norm(x), repeats)
        tb = best(lambda: torch.autograd.grad(F.instance_norm(x), x, torch.ones_like(x)), repeats)
        mb = x.numel() * 4 / 1e6
        print(f"instance_norm {c}x{s}^2: fwd {t:6.2f} ms ({2*mb/t:.1f} GB/s)  fwd+bwd {tb:6.2f} ms")
    for c, s, p in [(3, 256, 3), (256, 64, 1), (64, 256, 3)]:
        x = torch.randn(1, c, s, s)
        t = best(lambda: F.pad(x, (p, p, p, p), mode="reflect"), repeats)
        print(f"reflection_pad {c}x{s}^2 pad {p}: {t:6.2f} ms")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--shapes", action="store_true")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--cpu-time", action="store_true")
    a = ap.parse_args()
    global CLOCK
    if a.cpu_time:
        CLOCK = time.process_time
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    if a.shapes:
        return shapes(a.repeats)
    net = resnet_9blocks()
    x = torch.randn(1, 3, 256, 256)
    with torch.no_grad():
        fwd = best(lambda: net(x), a.repeats)

    def fb():
        net.zero_grad()
        net(x).sum().backward()
    fwdbwd = best(fb, a.repeats)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"torch ({a.threads} threads{', CPU time' if a.cpu_time else ''}) resnet_9blocks 256x256: forward {fwd:.1f} ms, forward+backward {fwdbwd:.1f} ms (min of {a.repeats}), max RSS {rss:.0f} MB")


if __name__ == "__main__":
    main()
