#!/bin/sh
# Builds bench/generator_timing.cpp against an existing Release build (build/)
# and runs it: bench/generator_timing.sh [repeats] [size], or
# bench/generator_timing.sh shapes [repeats] for bench/conv_shapes_timing.cpp.
set -e
cd "$(dirname "$0")/.."
B=build
PROGRAM=generator_timing
if [ "$1" = shapes ]; then PROGRAM=conv_shapes_timing; shift; fi
g++ -O2 -march=native -std=c++17 -fopenmp -I. bench/$PROGRAM.cpp -o $B/$PROGRAM \
  $B/libsg_models.a $B/libsg_nn.a $B/libsg_weights.a $B/libsg_io.a $B/libsg_ops.a $B/libsg_autograd.a \
  $B/libsg_kernels.a $B/libsg_tensor.a \
  $(ls /usr/local/cuda/lib/libcudart.so 2>/dev/null) -ldl
OMP_NUM_THREADS=${OMP_NUM_THREADS:-2} $B/$PROGRAM "$@"
