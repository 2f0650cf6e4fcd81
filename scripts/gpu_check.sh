#!/bin/sh
# The GPU check of the CUDA backend, in one run on a machine with an NVIDIA GPU
# (DEVELOPERS.md: "When a GPU is lent"). Two steps:
#
#   scripts/gpu_check.sh prepare    # here, on the build machine: copies the
#                                   # header-only libraries (Eigen, stb, doctest)
#                                   # into .gpu-deps/, which the GPU machine lacks
#   scripts/gpu_check.sh run        # there: builds for the GPU, runs the CUDA
#                                   # tests on it, compute-sanitizer, and the
#                                   # benchmark rows against PyTorch with cuDNN
#
# `run` writes everything it measures under $OUT (default gpu-out/): gpu.txt,
# build.log, tests.log, sanitizer.log, bench.txt.
set -u
cd "$(dirname "$0")/.."
DEPS=.gpu-deps

if [ "${1:-}" = prepare ]; then
  rm -rf $DEPS && mkdir -p $DEPS/include $DEPS/cmake
  cp -r /usr/include/eigen3 /usr/include/stb /usr/include/doctest $DEPS/include/
  cp -r /usr/share/eigen3/cmake $DEPS/cmake/eigen3
  cp -r /usr/lib/cmake/doctest $DEPS/cmake/doctest
  du -sh $DEPS
  exit 0
fi
[ "${1:-}" = run ] || { echo "usage: scripts/gpu_check.sh prepare|run" >&2; exit 2; }

OUT=${OUT:-gpu-out}
mkdir -p "$OUT"
export CPATH="$PWD/$DEPS/include:$PWD/$DEPS/include/eigen3${CPATH:+:$CPATH}"
nvidia-smi -L > "$OUT/gpu.txt" 2>&1
nvcc --version | tail -1 >> "$OUT/gpu.txt"
cat "$OUT/gpu.txt"

# The GPU's architecture only (sm_90 for Hopper), so the build is quick.
ARCH=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader | head -1 | tr -d .)
echo "== build (sm_$ARCH)"
cmake -S . -B build-gpu -DCMAKE_BUILD_TYPE=Release -DCMAKE_CUDA_ARCHITECTURES="$ARCH" \
  -DEigen3_DIR="$PWD/$DEPS/cmake/eigen3" -Ddoctest_DIR="$PWD/$DEPS/cmake/doctest" > "$OUT/build.log" 2>&1 &&
  cmake --build build-gpu -j "$(nproc)" >> "$OUT/build.log" 2>&1 || { tail -40 "$OUT/build.log"; exit 1; }

# The op-level and whole-model CUDA tests (tests/device_check.h) run on the GPU
# with STYLEGRAD_TEST_DEVICE; the kernel-level ones keep checking the emulation.
echo "== tests on the GPU"
STYLEGRAD_TEST_DEVICE=cuda ./build-gpu/stylegrad_tests -tc='cuda-emulated*' -d > "$OUT/tests.log" 2>&1
echo "rc $?" >> "$OUT/tests.log"
tail -4 "$OUT/tests.log"

echo "== compute-sanitizer (memcheck, racecheck) on the whole-model tests"
for tool in memcheck racecheck; do
  STYLEGRAD_TEST_DEVICE=cuda timeout 240 compute-sanitizer --tool $tool --error-exitcode 9 \
    ./build-gpu/stylegrad_tests -tc='cuda-emulated models*' > "$OUT/sanitizer-$tool.log" 2>&1
  echo "$tool rc $?" | tee -a "$OUT/sanitizer.log"
  tail -3 "$OUT/sanitizer-$tool.log" >> "$OUT/sanitizer.log"
done

# The issue's rows: stylegrad (fp32 tiles, then TF32 tensor cores) against
# PyTorch with cuDNN on the same GPU, in the same run.
echo "== benchmarks"
ROWS="vgg19-fwd:512 vgg19-fwdbwd:512 resnet9-fwd:256 resnet9-fwdbwd:256 cut-g-fwd:256"
{
  for row in $ROWS; do
    w=${row%%:*} s=${row##*:}
    for tf32 in 0 1; do
      ms=$(STYLEGRAD_CUDA_TF32=$tf32 ./build-gpu/stylegrad bench --device cuda --workload "$w" --size "$s" --repeat 10 |
        sed -n 's/^median_ms: //p')
      echo "stylegrad tf32=$tf32 $w $s median_ms $ms"
    done
  done
  python3 bench/gpu_torch.py --device cuda --repeat 10 $ROWS | sed 's/^/pytorch /'
  # Gatys, 512², 100 L-BFGS iterations, whole processes (stylegrad's TF32 through its environment)
  for tf32 in 0 1; do
    STYLEGRAD_CUDA_TF32=$tf32 python3 bench/gpu_torch.py --device cuda --gatys 512 --binary build-gpu/stylegrad |
      sed "s/^/tf32=$tf32 /"
  done
} 2>&1 | tee "$OUT/bench.txt"
