#!/usr/bin/python3
"""PyTorch's side of the GPU benchmark rows (scripts/gpu_check.sh): the same
workloads as `stylegrad bench` (bench/compare.py builds them), made on the
GPU with torch.set_default_device, with cuDNN, timed with the device
synchronised around each run. Prints one line per workload:

    WORKLOAD SIZE median_ms MS

    python3 bench/gpu_torch.py --device cuda --repeat 10 vgg19-fwdbwd:512 resnet9-fwd:256

With --gatys SIZE it times Gatys instead, 100 L-BFGS iterations, the whole
`stylegrad style --device cuda` process (binary --binary) against the same
optimisation in PyTorch (bench/compare.py's gatys_rows), and prints

    gatys-lbfgs100 SIZE stylegrad_ms MS pytorch_ms MS
"""
import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import compare  # noqa: E402  (the workloads' definitions)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--repeat", type=int, default=10)
    ap.add_argument("--gatys", type=int, default=0, help="time Gatys at this size instead of the rows")
    ap.add_argument("--binary", default=compare.BINARY, help="the stylegrad to run for --gatys")
    ap.add_argument("rows", nargs="*", help="WORKLOAD:SIZE")
    args = ap.parse_args()
    import torch
    if args.device != "cpu":
        torch.set_default_device(args.device)
        torch.backends.cudnn.benchmark = True
    if args.gatys:
        sg_ms, torch_ms = compare.gatys_rows(torch, threads=os.cpu_count(), size=args.gatys, device=args.device,
                                             binary=args.binary)
        print(f"gatys-lbfgs100 {args.gatys} stylegrad_ms {sg_ms:.0f} pytorch_ms {torch_ms:.0f}", flush=True)
        return
    sync = torch.cuda.synchronize if args.device != "cpu" else (lambda: None)
    for row in args.rows:
        name, size = row.split(":")
        fn, _ = compare.torch_workload(torch, name, int(size))
        fn()  # warm-up (cuDNN picks its algorithms here)
        sync()
        times = []
        for _ in range(args.repeat):
            t = time.perf_counter()
            fn()
            sync()
            times.append((time.perf_counter() - t) * 1e3)
        print(f"{name} {size} median_ms {statistics.median(times):.3f}", flush=True)


if __name__ == "__main__":
    main()
