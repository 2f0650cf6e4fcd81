#!/bin/sh
# Builds bench/generator_timing.cpp against an existing Release build (build/)
# and runs it: bench/generator_timing.sh [repeats] [size]
set -e
cd "$(dirname "$0")/.."
B=build
g++ -O2 -march=native -std=c++17 -fopenmp -I. bench/generator_timing.cpp -o $B/generator_timing \
  $B/libsg_models.a $B/libsg_nn.a $B/libsg_weights.a $B/libsg_io.a $B/libsg_ops.a $B/libsg_autograd.a \
  $B/libsg_kernels.a $B/libsg_tensor.a \
  $(ls /usr/local/cuda/lib/libcudart.so 2>/dev/null) -ldl
OMP_NUM_THREADS=${OMP_NUM_THREADS:-2} $B/generator_timing "$@"
