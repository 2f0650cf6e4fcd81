#!/usr/bin/python3
"""stylegrad vs PyTorch on the same machine, in the same run.

    make bench          # or: /usr/bin/python3 bench/compare.py [--threads 2] [--repeat 5] [--quick]
                        #     [--only cyclegan|cut|sincut] [--translation-size 256]

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

# Whole networks (or a whole training iteration): their rows compare memory too.
WHOLE_NETWORKS = ("vgg19-fwd", "vgg19-fwdbwd", "resnet9-fwd", "resnet9-fwdbwd", "cyclegan-iter", "unet256-fwd",
                  "cut-g-fwd", "cut-iter", "sincut-iter")

VGG19_CONVS = [("conv1_1", 3, 64, 1), ("conv1_2", 64, 64, 1), ("conv2_1", 64, 128, 2), ("conv2_2", 128, 128, 2),
               ("conv3_1", 128, 256, 4), ("conv3_2", 256, 256, 4), ("conv3_3", 256, 256, 4),
               ("conv3_4", 256, 256, 4), ("conv4_1", 256, 512, 8), ("conv4_2", 512, 512, 8),
               ("conv4_3", 512, 512, 8), ("conv4_4", 512, 512, 8), ("conv5_1", 512, 512, 16)]


def stylegrad_run(workload, size, threads, repeat):
    """`stylegrad bench`'s figures: median_ms, gflops, peak_mb (tensors), rss_growth_mb."""
    out = subprocess.run([BINARY, "bench", "--workload", workload, "--size", str(size), "--threads", str(threads),
                          "--repeat", str(repeat)], check=True, capture_output=True, text=True).stdout
    figures = {"median_ms": float(re.search(r"^median_ms: ([0-9.]+)", out, re.M).group(1))}
    for key in ("gflops", "best_gflops", "peak_mb", "rss_growth_mb"):
        m = re.search(r"(?<![a-z_])" + key + r" ([0-9.]+)", out)
        figures[key] = float(m.group(1)) if m else None
    return figures


def torch_vgg19_features(torch):
    """torchvision's vgg19().features[:30] (conv1_1 ... relu5_1, in-place ReLUs as
    torchvision has them), built by hand so that torchvision is not needed. Its
    weights are random: the timings do not depend on them."""
    layers, c = [], 3
    for v in [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512]:
        if v == "M":
            layers.append(torch.nn.MaxPool2d(2, 2))
        else:
            layers += [torch.nn.Conv2d(c, v, 3, padding=1), torch.nn.ReLU(inplace=True)]
            c = v
    net = torch.nn.Sequential(*layers).eval()
    for p in net.parameters():
        p.requires_grad_(False)
    return net


def torch_workload(torch, name, size):
    """(callable, flops) for one workload: the same computation as `stylegrad bench`."""
    import torch.nn.functional as F
    torch.manual_seed(0)
    if name in ("vgg19-fwd", "vgg19-fwdbwd"):
        feats = torch_vgg19_features(torch)
        flops = sum(2.0 * cin * cout * 9 * (size // d) ** 2 for _, cin, cout, d in VGG19_CONVS)
        x = torch.rand(1, 3, size, size)

        def fwd():
            with torch.no_grad():
                feats(x)

        def fwdbwd():
            xi = x.clone().requires_grad_()
            feats(xi).sum().backward()

        return (fwd, flops) if name == "vgg19-fwd" else (fwdbwd, 2 * flops)
    for conv, cin, cout, d in VGG19_CONVS:
        if name not in ("vgg19-" + conv, "vgg19-" + conv + "-bwd"):
            continue
        s = size // d
        xi, wt, b = torch.randn(1, cin, s, s), torch.randn(cout, cin, 3, 3) * 0.05, torch.randn(cout)
        g = torch.randn(1, cout, s, s)
        flops = 2.0 * cin * cout * 9 * s * s

        def conv_fwd():
            with torch.no_grad():
                F.relu(F.conv2d(xi, wt, b, padding=1))

        def conv_bwd():  # the gradient with respect to the input, as in Gatys
            with torch.no_grad():
                F.conv_transpose2d(g, wt, padding=1)

        return (conv_bwd if name.endswith("-bwd") else conv_fwd), flops
    if name in ("resnet9-fwd", "resnet9-fwdbwd", "unet256-fwd", "cyclegan-iter"):
        return cyclegan_workload(torch, name, size), None
    if name in ("cut-g-fwd", "cut-iter", "sincut-iter"):
        return cut_workload(torch, name, size), None
    if name == "add":
        a, b = torch.randn(size, size), torch.randn(size, size)
        return (lambda: torch.add(a, b)), None
    if name == "sum":
        a = torch.randn(size, size)
        return (lambda: a.sum()), None
    if name == "small-ops":
        a, b = torch.randn(16), torch.randn(16)

        def loop():
            c = a
            for _ in range(10000):
                c = torch.add(c, b)
        return loop, None
    raise ValueError("unknown workload " + name)


def cyclegan_workload(torch, name, size):
    """CycleGAN's and pix2pix's networks as `stylegrad bench` runs them, from the
    official definitions in scripts/make_cyclegan_reference.py, and one training
    iteration as scripts/make_cyclegan_step_reference.py's CycleGAN (the official
    optimize_parameters: lsgan, identity 0.5, Adam(2e-4, 0.5); its pool of 0 costs
    what stylegrad's filling pool of 50 does)."""
    sys.path.insert(0, os.path.join(HERE, "..", "scripts"))
    from make_cyclegan_reference import NLayerDiscriminator, ResnetGenerator, UnetGenerator, init_weights
    x = torch.rand(1, 3, size, size) * 2 - 1
    if name == "cyclegan-iter":
        from make_cyclegan_step_reference import CycleGAN
        nets = [ResnetGenerator(3, 3, 64, "instance", False, 9), ResnetGenerator(3, 3, 64, "instance", False, 9),
                NLayerDiscriminator(3, 64, 3, "instance"), NLayerDiscriminator(3, 64, 3, "instance")]
        for net in nets:
            init_weights(net, "normal", 0.02)
        model = CycleGAN(nets, "lsgan")
        y = torch.rand(1, 3, size, size) * 2 - 1
        return lambda: model.optimize_parameters(x, y)
    if name == "unet256-fwd":  # eval mode, no dropout: the same computation on both sides
        G = UnetGenerator(3, 3, 8, 64, "batch", False).eval()
    else:
        G = ResnetGenerator(3, 3, 64, "instance", False, 9)
    init_weights(G, "normal", 0.02)

    def fwd():
        with torch.no_grad():
            G(x)

    def fwdbwd():  # into G's parameters (their gradients accumulate, as stylegrad's)
        G(x).sum().backward()

    return fwdbwd if name == "resnet9-fwdbwd" else fwd


class Drawn:
    """Replaces a reference model's list of fixed random choices, which it pops one
    per use: pop() draws a fresh one instead, as the official does."""

    def __init__(self, draw):
        self.draw = draw

    def pop(self, _index=0):
        return self.draw()


def cut_workload(torch, name, size):
    """CUT's and SinCUT's networks and training iterations as `stylegrad bench` runs
    them, with the command lines' defaults: CUT's anti-aliased ResnetGenerator and
    NLayerDiscriminator from scripts/make_cut_networks_reference.py, SinCUT's
    StyleGAN2 G and D from scripts/make_stylegan_reference.py, and the iterations of
    make_cut_step_reference.py's CUT and make_sincut_step_reference.py's SinCUT
    (the official optimize_parameters). Those scripts' models read their narrow
    test sizes from module constants, set here to the defaults; their fixed patch
    ids and decoder noises become fresh draws (Drawn: np.random.permutation in
    PatchSampleF, torch.randn for the noise), as the official's. The first call,
    the warm-up, also runs data_dependent_initialize (F's MLPs, optimizer_F), as
    stylegrad's. (The CUT script's encode() adds one clone per NCE feature, a
    workaround for a torch 1.13 bug; it costs torch a little.)"""
    sys.path.insert(0, os.path.join(HERE, "..", "scripts"))
    import make_cut_networks_reference as cut_nets
    from make_cyclegan_reference import init_weights
    if name == "cut-g-fwd":
        G = cut_nets.ResnetGenerator(3, 3, 64, "instance", False, 9, "reflect", False, False)
        init_weights(G, "xavier", 0.02)
        x = torch.rand(1, 3, size, size) * 2 - 1

        def fwd():
            with torch.no_grad():
                G(x)
        return fwd
    import make_cut_step_reference as cut_step
    if name == "cut-iter":  # --CUT_mode CUT: 256 patches of nce layers 0,4,8,12,16, nce_idt, lsgan, batch 1
        cut_step.NUM_PATCHES = 256
        netG = cut_nets.ResnetGenerator(3, 3, 64, "instance", False, 9, "reflect", False, False)
        netD = cut_nets.NLayerDiscriminator(3, 64, 3, "instance", False)
        init_weights(netG, "xavier", 0.02)
        init_weights(netD, "xavier", 0.02)
        netF = cut_step.PatchSampleF(True, "xavier", 0.02, 256)
        model = cut_step.CUT(netG, netD, netF, "cut", [], [], 1)
        batch = 1
    else:  # sincut: one patch of nce layers 0,2,4, negatives from the minibatch, R1 1, identity 1, batch 16
        import make_sincut_step_reference as sincut_step
        from make_stylegan_reference import StyleGAN2Discriminator, StyleGAN2Generator, net_size
        batch = 16
        sincut_step.NUM_PATCHES, sincut_step.BATCH = 1, batch
        s = net_size(1024, size)
        netG = StyleGAN2Generator(10, s, 1, 6, True)
        netD = StyleGAN2Discriminator(8, s)
        netF = cut_step.PatchSampleF(True, "xavier", 0.02, 256)
        model = sincut_step.SinCUT(netG, netD, netF, [], [])
        model.lambda_R1 = 1.0
        model.noises = Drawn(lambda: torch.randn(2 * batch, 1, s, s))  # the decoder's one StyledConv
    model.ids_per_call = Drawn(lambda: None)  # PatchSampleF draws them
    A = torch.rand(batch, 3, size, size) * 2 - 1
    B = torch.rand(batch, 3, size, size) * 2 - 1

    def iteration():
        if model.optimizer_F is None:
            model.data_dependent_initialize(A, B)
        model.real_A, model.real_B = A, B  # set_input
        model.optimize_parameters()
    return iteration


def proc_status_kb(key):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return None


def torch_rss_growth_mb(name, size, threads, repeat):
    """Like `stylegrad bench`'s rss_growth_mb: in a fresh process, the growth of
    resident memory from after set-up to the peak over warm-up + timed runs."""
    code = ("import sys; sys.path.insert(0, %r); import compare; compare.print_torch_rss(%r, %d, %d, %d)"
            % (HERE, name, size, threads, repeat))
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    m = re.search(r"rss_growth_mb ([0-9.]+)", out)
    return float(m.group(1)) if m else None


def print_torch_rss(name, size, threads, repeat):
    import torch
    torch.set_num_threads(threads)
    fn, _ = torch_workload(torch, name, size)
    with open("/proc/self/clear_refs", "w") as f:  # VmHWM := VmRSS
        f.write("5")
    before = proc_status_kb("VmRSS")
    torch_time(fn, repeat)
    print("rss_growth_mb %.1f" % ((proc_status_kb("VmHWM") - before) / 1024))


def torch_time(fn, repeat):
    fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times)


def gatys_rows(torch, threads, iterations=100, size=256, device="cpu", binary=BINARY):
    """Gatys at size², `iterations` L-BFGS iterations, VGG-19 with random weights (the
    timing does not depend on the weights), same layers and losses in both. On a GPU
    (device "cuda"), torch's default device must already be that GPU
    (bench/gpu_torch.py sets it)."""
    import tempfile
    content = os.path.join(HERE, "..", "demo", "images", "chelsea.png")
    style = os.path.join(HERE, "..", "demo", "images", "ihc.jpg")
    out = os.path.join(tempfile.mkdtemp(), "gatys.png")
    t0 = time.perf_counter()
    subprocess.run([binary, "style", "--content", content, "--style", style, "--output", out, "--model", "vgg19",
                    "--weights", "random", "--image-size", str(size), "--num-iterations", str(iterations),
                    "--save-iter", "0", "--print-iter", "0", "--device", device], check=True, capture_output=True,
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
        pixels = torch.from_numpy(np.asarray(im, dtype=np.float32) / 255)  # on the CPU, whatever the default
        return pixels.permute(2, 0, 1)[None].contiguous().to(torch.empty(0).device)

    t0 = time.perf_counter()
    c, st = load(content), load(style)
    net = torch_vgg19_features(torch)
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
    if device != "cpu":
        torch.cuda.synchronize()
    return sg_ms, (time.perf_counter() - t0) * 1e3


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--quick", action="store_true", help="only the whole-network rows and the small workloads")
    ap.add_argument("--gatys", action="store_true", help="also Gatys at 256², 100 L-BFGS iterations (about 2 minutes)")
    ap.add_argument("--markdown", action="store_true", help="print the table as Markdown rows (for the README)")
    ap.add_argument("--translation-size", type=int, default=256,
                    help="image side of the CycleGAN and CUT rows (resnet9-*, cyclegan-iter, cut-*; unet256-fwd "
                    "needs 256; sincut-iter has SinCUT's 64x64 crops)")
    ap.add_argument("--only", default="",
                    help="only the rows whose workload name has a dash-separated part starting with this text "
                    "(cut: cut-g-fwd, cut-iter; sincut: sincut-iter; cyclegan; resnet9; conv3_1; bwd)")
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

    # The peak is the best of several short runs: a busy neighbour can only slow it down.
    peak_gflops = stylegrad_run("fma-peak", 1, args.threads, 15)["best_gflops"]
    print("measured fp32 FMA peak: %.0f GFLOP/s on %d threads" % (peak_gflops, args.threads))

    rows = [("vgg19-fwd", 256), ("vgg19-fwdbwd", 256), ("vgg19-fwdbwd", 512)]
    if not args.quick:
        rows += [("vgg19-" + n + sfx, 256) for n, *_ in VGG19_CONVS for sfx in ("", "-bwd")]
    ts = args.translation_size
    rows += [("resnet9-fwd", ts), ("resnet9-fwdbwd", ts), ("cyclegan-iter", ts), ("unet256-fwd", 256)]
    rows += [("cut-g-fwd", ts), ("cut-iter", ts), ("sincut-iter", 64)]
    rows += [("add", 2048), ("sum", 2048), ("small-ops", 1)]
    rows = [r for r in rows if r[0].startswith(args.only) or "-" + args.only in r[0]]
    columns = ["workload", "size", "stylegrad ms", "PyTorch ms", "ratio", "GFLOP/s*", "% peak*",
               "stylegrad MB", "PyTorch MB"]
    for name, size in rows:
        # The small workloads take milliseconds: many more runs steady their medians.
        whole = name in WHOLE_NETWORKS  # whole networks: compare memory too
        repeat = args.repeat if name.startswith("vgg19") or whole else max(args.repeat, 51)
        sg = stylegrad_run(name, size, args.threads, repeat)
        t_ms = t_mb = None
        if torch is not None:
            fn, _ = torch_workload(torch, name, size)
            t_ms = torch_time(fn, repeat)
            del fn
            if whole:
                t_mb = torch_rss_growth_mb(name, size, args.threads, args.repeat)
        gf = sg["gflops"]
        print_row([name, str(size), "%.2f" % sg["median_ms"], "%.2f" % t_ms if t_ms else "-",
                   "%.2f" % (sg["median_ms"] / t_ms) if t_ms else "-", "%.0f" % gf if gf else "-",
                   "%.0f%%" % (100 * gf / peak_gflops) if gf else "-",
                   "%.0f" % sg["rss_growth_mb"] if whole and sg["rss_growth_mb"] is not None else "-",
                   "%.0f" % t_mb if t_mb is not None else "-"], args.markdown, flush=True)
    if args.gatys:
        sg_ms, t_ms = gatys_rows(torch, args.threads)
        print_row(["gatys-lbfgs100", "256", "%.0f" % sg_ms, "%.0f" % t_ms if t_ms else "-",
                   "%.2f" % (sg_ms / t_ms) if t_ms else "-", "", "", "", ""], args.markdown)
    print("\ncolumns: " + " | ".join(columns))
    print("* GFLOP/s counts a direct convolution's 2*C_in*C_out*9*H*W per conv; Winograd does fewer\n"
          "  multiplies, so it can exceed 100% of the FMA peak.\n"
          "  MB: growth of the process's resident memory over warm-up + timed runs, each side\n"
          "  measured the same way in a process of its own (whole-network rows).")


def print_row(cells, markdown, flush=False):
    if markdown:
        print("| " + " | ".join(cells) + " |", flush=flush)
    else:
        widths = [22, 5, 13, 11, 6, 9, 7, 13, 11]
        print(" ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths))), flush=flush)


if __name__ == "__main__":
    main()
