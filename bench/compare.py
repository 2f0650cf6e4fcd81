#!/usr/bin/python3
"""stylegrad vs PyTorch on the same machine, in the same run.

    make bench          # or: /usr/bin/python3 bench/compare.py [--threads 2] [--repeat 5] [--quick]

For every workload it runs `stylegrad bench` and the same computation in
PyTorch (when `import torch` works: Debian's python3-torch), and prints one
table: medians, the ratio stylegrad/PyTorch (< 1 means stylegrad is faster),
GFLOP/s and the fraction of the machine's measured fp32 FMA peak.

Debian's torch does its matmuls through the system BLAS: install
libopenblas0-pthread first, otherwise torch falls back to a slow reference
BLAS and the comparison flatters stylegrad. This script says which BLAS torch got.
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
BINARY = os.path.join(HERE, "..", "build", "stylegrad")

VGG19_CONVS = [("conv1_1", 3, 64, 1), ("conv1_2", 64, 64, 1), ("conv2_1", 64, 128, 2), ("conv2_2", 128, 128, 2),
               ("conv3_1", 128, 256, 4), ("conv3_2", 256, 256, 4), ("conv3_3", 256, 256, 4),
               ("conv3_4", 256, 256, 4), ("conv4_1", 256, 512, 8), ("conv4_2", 512, 512, 8),
               ("conv4_3", 512, 512, 8), ("conv4_4", 512, 512, 8), ("conv5_1", 512, 512, 16)]


def stylegrad_run(workload, size, threads, repeat):
    out = subprocess.run([BINARY, "bench", "--workload", workload, "--size", str(size), "--threads", str(threads),
                          "--repeat", str(repeat)], check=True, capture_output=True, text=True).stdout
    median = float(re.search(r"^median_ms: ([0-9.]+)", out, re.M).group(1))
    peak = re.search(r"peak_mb ([0-9.]+)", out)
    return median, float(peak.group(1)) if peak else None


def torch_workloads(torch, size):
    """name -> (callable, flops). The same computations as `stylegrad bench`."""
    import torch.nn.functional as F
    torch.manual_seed(0)
    w = {}

    def vgg19_features():
        import torchvision  # noqa: F401  (optional; fall back to a hand-built VGG below)
        return torchvision.models.vgg19().features[:30].eval()

    try:
        feats = vgg19_features()
    except Exception:
        layers, c = [], 3
        for v in [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512]:
            if v == "M":
                layers.append(torch.nn.MaxPool2d(2, 2))
            else:
                layers += [torch.nn.Conv2d(c, v, 3, padding=1), torch.nn.ReLU()]
                c = v
        feats = torch.nn.Sequential(*layers).eval()
    for p in feats.parameters():
        p.requires_grad_(False)
    vgg_flops = sum(2.0 * cin * cout * 9 * (size // d) ** 2 for _, cin, cout, d in VGG19_CONVS)
    x = torch.rand(1, 3, size, size)

    def fwd():
        with torch.no_grad():
            feats(x)

    def fwdbwd():
        xi = x.clone().requires_grad_()
        feats(xi).sum().backward()

    w["vgg19-fwd"] = (fwd, vgg_flops)
    w["vgg19-fwdbwd"] = (fwdbwd, 2 * vgg_flops)
    for name, cin, cout, d in VGG19_CONVS:
        s = size // d
        xi, wt, b = torch.randn(1, cin, s, s), torch.randn(cout, cin, 3, 3) * 0.05, torch.randn(cout)
        g = torch.randn(1, cout, s, s)
        flops = 2.0 * cin * cout * 9 * s * s

        def conv(xi=xi, wt=wt, b=b):
            with torch.no_grad():
                F.relu(F.conv2d(xi, wt, b, padding=1))

        def conv_bwd(g=g, wt=wt):
            with torch.no_grad():
                F.conv_transpose2d(g, wt, padding=1)

        w["vgg19-" + name] = (conv, flops)
        w["vgg19-" + name + "-bwd"] = (conv_bwd, flops)
    return w


def torch_time(fn, repeat):
    fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times)


def torch_elementwise(torch, name, size, repeat):
    torch.manual_seed(0)
    if name == "add":
        a, b = torch.randn(size, size), torch.randn(size, size)
        return torch_time(lambda: torch.add(a, b), repeat)
    if name == "sum":
        a = torch.randn(size, size)
        return torch_time(lambda: a.sum(), repeat)
    if name == "small-ops":
        a, b = torch.randn(16), torch.randn(16)

        def loop():
            c = a
            for _ in range(10000):
                c = torch.add(c, b)
        return torch_time(loop, repeat)
    return None


def gatys_rows(torch, threads, iterations=100, size=256):
    """Gatys at size², `iterations` L-BFGS iterations, VGG-19 with random weights (the
    timing does not depend on the weights), same layers and losses in both."""
    import tempfile
    content = os.path.join(HERE, "..", "demo", "images", "chelsea.png")
    style = os.path.join(HERE, "..", "demo", "images", "ihc.jpg")
    out = os.path.join(tempfile.mkdtemp(), "gatys.png")
    t0 = time.perf_counter()
    subprocess.run([BINARY, "style", "--content", content, "--style", style, "--output", out, "--model", "vgg19",
                    "--weights", "random", "--image-size", str(size), "--num-iterations", str(iterations),
                    "--save-iter", "0", "--print-iter", "0"], check=True, capture_output=True,
                   env=dict(os.environ, OMP_NUM_THREADS=str(threads)))
    sg_ms = (time.perf_counter() - t0) * 1e3
    if torch is None:
        return sg_ms, None
    import torch.nn.functional as F
    from PIL import Image
    import numpy as np

    def load(path):
        im = Image.open(path).convert("RGB")
        s = size / max(im.size)
        im = im.resize((round(im.size[0] * s), round(im.size[1] * s)), Image.BILINEAR)
        return torch.from_numpy(np.asarray(im, dtype=np.float32) / 255).permute(2, 0, 1)[None].contiguous()

    t0 = time.perf_counter()
    c, st = load(content), load(style)
    layers, c_ = [], 3
    for v in [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512]:
        if v == "M":
            layers.append(torch.nn.MaxPool2d(2, 2))
        else:
            layers += [torch.nn.Conv2d(c_, v, 3, padding=1), torch.nn.ReLU()]
            c_ = v
    net = torch.nn.Sequential(*layers).eval()
    for p in net.parameters():
        p.requires_grad_(False)
    names = {1: "relu1_1", 6: "relu2_1", 11: "relu3_1", 20: "relu4_1", 22: "relu4_2", 29: "relu5_1"}
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)

    def feats(x):
        out, h = {}, (x - mean) / std
        for i, layer in enumerate(net):
            h = layer(h)
            if i in names:
                out[names[i]] = h
        return out

    def gram(f):
        n, ch, hh, ww = f.shape
        v = f.reshape(n, ch, hh * ww)
        return v @ v.transpose(1, 2) / (ch * hh * ww)

    style_layers = ["relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"]
    with torch.no_grad():
        fc = feats(c)["relu4_2"]
        gs = {k: gram(v) for k, v in feats(st).items() if k in style_layers}
    x = (torch.randn_like(c) * 0.001 + 0.5).requires_grad_()
    opt = torch.optim.LBFGS([x], max_iter=iterations, max_eval=iterations + 1, tolerance_grad=-1,
                            tolerance_change=-1)

    def closure():
        opt.zero_grad()
        f = feats(x)
        loss = 5 * F.mse_loss(f["relu4_2"], fc) + 3e5 * sum(F.mse_loss(gram(f[k]), gs[k]) for k in style_layers)
        loss = loss + 2e-2 * (((x[:, :, 1:] - x[:, :, :-1]) ** 2).sum() + ((x[..., 1:] - x[..., :-1]) ** 2).sum())
        loss.backward()
        return loss

    opt.step(closure)
    return sg_ms, (time.perf_counter() - t0) * 1e3


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--quick", action="store_true", help="only the whole-network rows and the small workloads")
    ap.add_argument("--gatys", action="store_true", help="also Gatys at 256², 100 L-BFGS iterations (about 2 minutes)")
    args = ap.parse_args()
    if not os.path.exists(BINARY):
        sys.exit("bench: build first (make), %s is missing" % BINARY)

    try:
        import torch
        torch.set_num_threads(args.threads)
        torch.mm(torch.randn(64, 64), torch.randn(64, 64))  # loads the BLAS
        with open("/proc/self/maps") as maps:  # which BLAS library torch really runs with
            libs = sorted({line.split("/")[-1].strip() for line in maps if "blas" in line.lower()})
        print("PyTorch %s, %d threads, BLAS in use: %s" % (torch.__version__, args.threads, ", ".join(libs) or "?"))
        if not any("openblas" in lib for lib in libs):
            print("warning: torch is not using OpenBLAS (apt-get install libopenblas0-pthread): its matmuls are slow")
    except ImportError:
        torch = None
        print("PyTorch not available (apt-get install python3-torch): stylegrad timings only")

    peak_ms, _ = stylegrad_run("fma-peak", 1, args.threads, 3)
    peak_gflops = 5e6 * 10 * 16 * 2 * args.threads / (peak_ms * 1e6)
    print("measured fp32 FMA peak: %.0f GFLOP/s on %d threads" % (peak_gflops, args.threads))

    rows = [("vgg19-fwd", 256), ("vgg19-fwdbwd", 256), ("vgg19-fwdbwd", 512)]
    if not args.quick:
        rows += [("vgg19-" + n + sfx, 256) for n, *_ in VGG19_CONVS for sfx in ("", "-bwd")]
    rows += [("add", 2048), ("sum", 2048), ("small-ops", 1)]
    tw = {}
    header = "%-22s %5s %12s %12s %8s %9s %7s %10s" % ("workload", "size", "stylegrad_ms", "pytorch_ms", "ratio",
                                                     "GFLOP/s*", "%peak*", "peak_MB")
    print(header)
    print("-" * len(header))
    for name, size in rows:
        ms, peak_mb = stylegrad_run(name, size, args.threads, args.repeat)
        flops = None
        tms = None
        if torch is not None:
            if name.startswith("vgg19"):
                if size not in tw:
                    tw[size] = torch_workloads(torch, size)
                fn, flops = tw[size][name]
                tms = torch_time(fn, args.repeat)
            else:
                tms = torch_elementwise(torch, name, size, args.repeat)
        if flops is None and name.startswith("vgg19"):
            flops = 0
        gf = flops / (ms * 1e6) if flops else None
        print("%-22s %5d %12.2f %12s %8s %9s %7s %10s" % (
            name, size, ms, "%.2f" % tms if tms else "-", "%.2f" % (ms / tms) if tms else "-",
            "%.1f" % gf if gf else "-", "%.0f%%" % (100 * gf / peak_gflops) if gf else "-",
            "%.0f" % peak_mb if peak_mb is not None else "-"))
    if args.gatys:
        sg_ms, t_ms = gatys_rows(torch, args.threads)
        print("%-22s %5d %12.0f %12s %8s" % ("gatys-lbfgs100", 256, sg_ms, "%.0f" % t_ms if t_ms else "-",
                                              "%.2f" % (sg_ms / t_ms) if t_ms else "-"))
    print("* GFLOP/s counts a direct convolution's 2*C_in*C_out*9*H*W per conv; Winograd does fewer\n"
          "  multiplies, so it can exceed 100% of the FMA peak. peak_MB: stylegrad's tensors during the run.")


if __name__ == "__main__":
    main()
