// cuda-emulated: the emulation of the CUDA launch model (kernels/cuda/emulation.h)
// against CUDA's semantics, then the CUDA kernels (kernels/cuda/*.cuh) run
// through the cuda-emulated kernel table against the CPU ones, on odd sizes,
// non-contiguous inputs and sizes that are not multiples of the GEMM's tile.
#include <omp.h>

#include <numeric>

#include "kernels/cuda/common.cuh"
#include "kernels/kernel_table.h"
#include "device_check.h"
#include "tensor/storage.h"
#include "test_util.h"

using namespace sg;
using namespace sg::test;

namespace {

// ---- test kernels: plain CUDA, as in a .cuh ----

// Each thread logs (phase, thread) at three phases separated by barriers.
__global__ void barrier_log_kernel(int* log, int* log_size) {
  for (int phase = 0; phase < 3; ++phase) {
    const int at = atomicAdd(log_size, 1);
    log[2 * at] = phase;
    log[2 * at + 1] = int(threadIdx.x);
    __syncthreads();
  }
}

// Neighbour exchange through shared memory, with and without the barrier.
__global__ void neighbour_kernel(int* out, int with_barrier, int salt) {
  __shared__ int s[64];
  const unsigned t = threadIdx.x;
  s[t] = salt + int(blockIdx.x * 1000 + t);
  if (with_barrier) __syncthreads();
  out[blockIdx.x * blockDim.x + t] = s[(t + 1) % blockDim.x];
}

// One shared value set by thread 0, and a shared sum of all threads' ids.
__global__ void shared_per_block_kernel(int* seen, int* sums) {
  __shared__ int value;
  __shared__ int sum;
  if (threadIdx.x == 0) {
    value = int(blockIdx.x) * 7 + 3;
    sum = 0;
  }
  __syncthreads();
  atomicAdd(&sum, int(threadIdx.x));
  seen[blockIdx.x * blockDim.x + threadIdx.x] = value;
  __syncthreads();
  if (threadIdx.x == 0) sums[blockIdx.x] = sum;
}

// Every thread of a 3-D grid of 3-D blocks writes its coordinates.
__global__ void coordinates_kernel(int* out) {
  const int bx = int(blockIdx.x), by = int(blockIdx.y), bz = int(blockIdx.z);
  const int block = (bz * int(gridDim.y) + by) * int(gridDim.x) + bx;
  const int thread = (int(threadIdx.z) * int(blockDim.y) + int(threadIdx.y)) * int(blockDim.x) + int(threadIdx.x);
  const int i = block * int(blockDim.x * blockDim.y * blockDim.z) + thread;
  out[6 * i + 0] = int(threadIdx.x), out[6 * i + 1] = int(threadIdx.y), out[6 * i + 2] = int(threadIdx.z);
  out[6 * i + 3] = bx, out[6 * i + 4] = by, out[6 * i + 5] = bz;
}

__global__ void atomics_kernel(int* count, float* fsum, int* imax, unsigned long long* cas_count) {
  const int i = int(blockIdx.x * blockDim.x + threadIdx.x);
  atomicAdd(count, 1);
  atomicAdd(fsum, 1.0f);
  atomicMax(imax, (i * 7919) % 10007);
  // increment through a compare-and-swap loop, the way every other atomic is built
  unsigned long long old = *cas_count, seen;
  do {
    seen = old;
    old = atomicCAS(cas_count, seen, seen + 1);
  } while (old != seen);
}

// out[8 per thread] = the shuffles and votes of one lane.
__global__ void warp_kernel(int* out) {
  const unsigned t = threadIdx.x, lane = t % 32;
  const int v = int(100 * (t / 32) + lane);
  const unsigned full = 0xffffffffu;
  int* o = out + 10 * t;
  o[0] = __shfl_sync(full, v, 3);               // broadcast of lane 3
  o[1] = __shfl_sync(full, v, int(lane) + 5, 8); // lane (lane + 5) % 8 of its 8-lane segment
  o[2] = __shfl_up_sync(full, v, 3, 16);
  o[3] = __shfl_down_sync(full, v, 2, 8);
  o[4] = __shfl_xor_sync(full, v, 5);
  o[5] = __shfl_xor_sync(full, v, 12, 8);        // 12 reaches past an 8-lane segment: later ones return v
  o[6] = int(__ballot_sync(full, lane % 3 == 0));
  o[7] = __any_sync(full, lane == 17);
  o[8] = __all_sync(full, lane != 31);
  o[9] = __all_sync(full, 1);
}

// The two halves of each warp shuffle among themselves with half masks.
__global__ void half_mask_kernel(int* out) {
  const unsigned lane = threadIdx.x % 32;
  const unsigned mask = lane < 16 ? 0x0000ffffu : 0xffff0000u;
  int v = int(lane);
  for (int offset = 8; offset > 0; offset /= 2) v += __shfl_xor_sync(mask, v, offset);
  out[threadIdx.x] = v;
}

// Reductions a partial warp can do: votes, and shuffles that stay inside it.
__global__ void partial_warp_kernel(int* out) {
  const unsigned t = threadIdx.x, lane = t % 32;
  const unsigned in_warp = blockDim.x - (t - lane) < 32 ? blockDim.x - (t - lane) : 32;  // lanes this warp has
  out[3 * t + 0] = int(__ballot_sync(0xffffffffu, 1));
  out[3 * t + 1] = __shfl_sync(0xffffffffu, int(t), int((lane + 5) % in_warp));
  out[3 * t + 2] = __all_sync(0xffffffffu, 1);
}

__global__ void shfl_down_reduce_kernel(float* out, const float* in) {
  float v = in[threadIdx.x];
  for (int offset = 16; offset > 0; offset /= 2) v += __shfl_down_sync(0xffffffffu, v, offset);
  if (threadIdx.x % 32 == 0) out[threadIdx.x / 32] = v;
}

__global__ void shfl_past_block_kernel(int* out) { out[threadIdx.x] = __shfl_down_sync(0xffffffffu, 1, 1); }

__global__ void early_return_kernel(int* out) {
  if (threadIdx.x == 0) return;  // thread 0 never reaches the barrier
  __syncthreads();
  out[threadIdx.x] = 1;
}

__global__ void reverse_dynamic_kernel(float* out, const float* in) {
  SG_DYNAMIC_SHARED(float, buffer);
  const unsigned t = threadIdx.x, base = blockIdx.x * blockDim.x;
  buffer[t] = in[base + t];
  __syncthreads();
  out[base + t] = buffer[blockDim.x - 1 - t];
}

// Blocks on at least 4 OS threads, whatever the machine or OMP_NUM_THREADS say,
// so that blocks really run at the same time.
struct FourOmpThreads {
  int before = omp_get_max_threads();
  FourOmpThreads() { omp_set_num_threads(4); }
  ~FourOmpThreads() { omp_set_num_threads(before); }
};

// The definitions of the shuffles, written out for the reference.
int shfl_ref(const std::vector<int>& v, unsigned lane, int src, int width) {
  return v[(lane / width) * width + unsigned(src) % unsigned(width)];
}

TensorOptions on_emulated_options(DType dt = DType::f32) {
  TensorOptions o(dt);
  o.device = Device::cuda_emulated();
  return o;
}
Tensor on_emulated(const Tensor& t) { return t.to(Device::cuda_emulated()); }
Tensor on_cpu(const Tensor& t) { return t.to(Device::cpu()); }

const KernelTable& emulated() { return *cuda_emulated_kernel_table(); }
const KernelTable& host() { return *cpu_kernel_table(); }

}  // namespace

TEST_CASE("cuda-emulated: __syncthreads is a barrier: no thread starts a phase before all end the last") {
  const int threads = 96;
  std::vector<int> log(2 * 3 * threads, -1);
  int size = 0;
  SG_LAUNCH(barrier_log_kernel, 1, threads, 0, nullptr)(log.data(), &size);
  REQUIRE(size == 3 * threads);
  for (int i = 0; i < size; ++i) CHECK(log[2 * i] == i / threads);  // phases in order, each complete
  std::vector<int> seen(threads, 0);
  for (int i = 0; i < threads; ++i) seen[log[2 * i + 1]]++;
  CHECK(std::all_of(seen.begin(), seen.end(), [](int c) { return c == 1; }));
}

TEST_CASE("cuda-emulated: a missing __syncthreads shows up as a wrong value, the barrier fixes it") {
  const int blocks = 4, threads = 64;
  std::vector<int> out(blocks * threads);
  SG_LAUNCH(neighbour_kernel, blocks, threads, 0, nullptr)(out.data(), 1, 0);
  for (int b = 0; b < blocks; ++b)
    for (int t = 0; t < threads; ++t) CHECK(out[b * threads + t] == b * 1000 + (t + 1) % threads);
  // Without it, thread t runs to its end before thread t + 1 writes: every
  // thread but the last reads a stale value (the salt tells this launch's apart).
  const int salt = 1 << 20;
  SG_LAUNCH(neighbour_kernel, blocks, threads, 0, nullptr)(out.data(), 0, salt);
  for (int b = 0; b < blocks; ++b) {
    int wrong = 0;
    for (int t = 0; t < threads; ++t) wrong += out[b * threads + t] != salt + b * 1000 + (t + 1) % threads;
    CHECK(wrong == threads - 1);
  }
}

TEST_CASE("cuda-emulated: __shared__ is one per block, shared by its threads (blocks in parallel)") {
  FourOmpThreads parallel;
  const int blocks = 37, threads = 128;
  std::vector<int> seen(blocks * threads, -1), sums(blocks, -1);
  SG_LAUNCH(shared_per_block_kernel, blocks, threads, 0, nullptr)(seen.data(), sums.data());
  for (int b = 0; b < blocks; ++b) {
    CHECK(sums[b] == threads * (threads - 1) / 2);
    for (int t = 0; t < threads; ++t) CHECK(seen[b * threads + t] == b * 7 + 3);
  }
}

TEST_CASE("cuda-emulated: threadIdx, blockIdx, blockDim, gridDim in 3-D") {
  const dim3 grid(3, 2, 2), block(5, 3, 2);
  const int n = 3 * 2 * 2 * 5 * 3 * 2;
  std::vector<int> out(6 * n, -1);
  SG_LAUNCH(coordinates_kernel, grid, block, 0, nullptr)(out.data());
  int i = 0;
  for (int bz = 0; bz < 2; ++bz)
    for (int by = 0; by < 2; ++by)
      for (int bx = 0; bx < 3; ++bx)
        for (int tz = 0; tz < 2; ++tz)
          for (int ty = 0; ty < 3; ++ty)
            for (int tx = 0; tx < 5; ++tx, ++i) {
              const std::vector<int> got(out.begin() + 6 * i, out.begin() + 6 * i + 6);
              CHECK(got == std::vector<int>{tx, ty, tz, bx, by, bz});
            }
}

TEST_CASE("cuda-emulated: atomics under contention across blocks") {
  FourOmpThreads parallel;
  const int blocks = 64, threads = 256, n = blocks * threads;
  int count = 0, imax = -1;
  float fsum = 0;
  unsigned long long cas_count = 0;
  SG_LAUNCH(atomics_kernel, blocks, threads, 0, nullptr)(&count, &fsum, &imax, &cas_count);
  CHECK(count == n);
  CHECK(fsum == float(n));  // exact: integers below 2^24
  CHECK(cas_count == static_cast<unsigned long long>(n));
  int want_max = -1;
  for (int i = 0; i < n; ++i) want_max = std::max(want_max, (i * 7919) % 10007);
  CHECK(imax == want_max);
}

TEST_CASE("cuda-emulated: shuffles and votes against their definitions") {
  const int threads = 64;  // two full warps
  std::vector<int> out(10 * threads);
  SG_LAUNCH(warp_kernel, 1, threads, 0, nullptr)(out.data());
  for (unsigned t = 0; t < unsigned(threads); ++t) {
    const unsigned lane = t % 32, warp = t / 32;
    std::vector<int> v(32);
    for (unsigned l = 0; l < 32; ++l) v[l] = int(100 * warp + l);
    const int* o = out.data() + 10 * t;
    INFO("thread ", t);
    CHECK(o[0] == v[3]);
    CHECK(o[1] == shfl_ref(v, lane, int(lane) + 5, 8));
    CHECK(o[2] == (lane % 16 >= 3 ? v[lane - 3] : v[lane]));
    CHECK(o[3] == (lane % 8 + 2 < 8 ? v[lane + 2] : v[lane]));
    CHECK(o[4] == v[lane ^ 5]);
    CHECK(o[5] == ((lane ^ 12) / 8 > lane / 8 ? v[lane] : v[lane ^ 12]));
    CHECK(unsigned(o[6]) == 0x49249249u);  // lanes 0, 3, 6, ..., 30
    CHECK(o[7] == 1);
    CHECK(o[8] == 0);
    CHECK(o[9] == 1);
  }
  std::vector<int> halves(64);
  SG_LAUNCH(half_mask_kernel, 1, 64, 0, nullptr)(halves.data());
  for (int t = 0; t < 64; ++t) CHECK(halves[t] == (t % 32 < 16 ? 120 : 376));  // 0+..+15, 16+..+31

  std::vector<float> in(96), sums(3);
  std::iota(in.begin(), in.end(), 1.0f);
  SG_LAUNCH(shfl_down_reduce_kernel, 1, 96, 0, nullptr)(sums.data(), in.data());
  CHECK(sums == std::vector<float>{528, 1552, 2576});  // 1..32, 33..64, 65..96
}

TEST_CASE("cuda-emulated: a partial warp has only the lanes that exist") {
  const int threads = 45;  // warp 1 has 13 lanes
  std::vector<int> out(3 * threads);
  SG_LAUNCH(partial_warp_kernel, 1, threads, 0, nullptr)(out.data());
  for (int t = 0; t < threads; ++t) {
    const int lane = t % 32, in_warp = t < 32 ? 32 : 13;
    INFO("thread ", t);
    CHECK(unsigned(out[3 * t]) == (t < 32 ? 0xffffffffu : 0x1fffu));
    CHECK(out[3 * t + 1] == t - lane + (lane + 5) % in_warp);
    CHECK(out[3 * t + 2] == 1);
  }
  std::vector<int> sink(threads);
  CHECK(error_of([&] { SG_LAUNCH(shfl_past_block_kernel, 1, threads, 0, nullptr)(sink.data()); })
            .find("lane 12 of warp 1 reads lane 13, which does not take part") != std::string::npos);
}

TEST_CASE("cuda-emulated: a barrier not reached by every thread is an error, and the next launch is fine") {
  std::vector<int> out(64);
  CHECK(error_of([&] { SG_LAUNCH(early_return_kernel, 2, 64, 0, nullptr)(out.data()); }).find("deadlock") !=
        std::string::npos);
  std::vector<int> seen(64 * 3), sums(3);
  SG_LAUNCH(shared_per_block_kernel, 3, 64, 0, nullptr)(seen.data(), sums.data());
  CHECK(sums == std::vector<int>(3, 64 * 63 / 2));
  CHECK(error_of([&] { SG_LAUNCH(early_return_kernel, 1, 1025, 0, nullptr)(out.data()); }).find("invalid block") !=
        std::string::npos);
}

TEST_CASE("cuda-emulated: dynamic shared memory") {
  const int blocks = 3, threads = 100;
  std::vector<float> in(blocks * threads), out(blocks * threads);
  std::iota(in.begin(), in.end(), 0.0f);
  SG_LAUNCH(reverse_dynamic_kernel, blocks, threads, threads * sizeof(float), nullptr)(out.data(), in.data());
  for (int b = 0; b < blocks; ++b)
    for (int t = 0; t < threads; ++t) CHECK(out[b * threads + t] == in[b * threads + threads - 1 - t]);
  // more than a GPU gives a launch is the GPU's error, not a silent success
  std::vector<float> big(13000);
  CHECK(error_of([&] {
          SG_LAUNCH(reverse_dynamic_kernel, 1, 32, 13000 * sizeof(float), nullptr)(big.data(), big.data());
        }) == "cuda-emulated: 52000 bytes of dynamic shared memory, over the 48 KiB a launch gets");
}

// ---- the kernels of the cuda table, emulated, against the CPU's ----

TEST_CASE("cuda-emulated device: parse, str, to() and back") {
  CHECK(parse_device("cuda-emulated") == Device::cuda_emulated());
  CHECK(Device::cuda_emulated().str() == "cuda-emulated");
  const Tensor x = hashed_input({3, 5}, 1);
  const Tensor e = on_emulated(x);
  CHECK(e.device() == Device::cuda_emulated());
  check_identical(on_cpu(e), x, "round trip");
  // contiguous() (and so to() of a view) runs the device's copy kernel
  check_identical(on_cpu(e.t()), x.t().contiguous(), "a transposed view back to the CPU");
  CHECK(error_of([&] { e.to(DType::f64); }).find("does not convert dtypes (float32 to float64)") != std::string::npos);
  CHECK(std::string(kernels_on(Device::cuda_emulated()).device) == "cuda-emulated");
  CHECK(std::string(kernels_on(Device::cpu()).device) == "cpu");
#ifndef STYLEGRAD_WITH_CUDA
  CHECK(error_of([] { kernels_on(Device::cuda()); }).find("no CUDA support") != std::string::npos);
#endif
  if (!cuda_available()) {  // no GPU (or no CUDA in this build): the error names the way out
    TensorOptions on_gpu;
    on_gpu.device = Device::cuda();
    CHECK(error_of([&] { empty({2}, on_gpu); }).find("cuda-emulated") != std::string::npos);
    CHECK(error_of([] { kernels_on(Device::cuda()); }).find("cuda-emulated") != std::string::npos);
  }
  CHECK(error_of([] { throw_no_kernel("conv2d", Device::cuda_emulated()); }) ==
        "conv2d: no kernel on device cuda-emulated");
}

// On a GPU a kernel handed a host pointer faults and takes the CUDA context
// with it; under emulation all memory is host memory and it would pass. So
// the operands that are not values are checked by name.
TEST_CASE("cuda-emulated device: a condition, an index or a gradient on another device is one error") {
  const Tensor x = on_emulated(hashed_input({2, 3}, 3));
  const Tensor cond = gt(hashed_input({2, 3}, 4), 0.0);  // on the CPU
  CHECK(error_of([&] { where(cond, x, x); }) == "where: condition is on cpu, the input on cuda-emulated");
  CHECK(error_of([&] { masked_fill(x, cond, 1.0); }) == "where: condition is on cpu, the input on cuda-emulated");
  const Tensor index = zeros({2, 3}, DType::i64);
  CHECK(error_of([&] { gather(x, 1, index); }) == "gather: index is on cpu, the input on cuda-emulated");
  CHECK(error_of([&] { scatter_add({2, 3}, 1, index, x); }) ==
        "scatter_add: index is on cpu, the input on cuda-emulated");
  check_identical(on_cpu(gather(x, 1, on_emulated(index))), gather(on_cpu(x), 1, index), "gather, both on the device");
  Tensor leaf = on_emulated(hashed_input({2, 3}, 5));
  leaf.requires_grad_();
  const Tensor y = leaf * 2.0;
  CHECK(error_of([&] { y.backward(ones({2, 3})); }) == "backward: grad_output is on cpu, output 0 on cuda-emulated");
  y.backward(on_emulated(ones({2, 3})));
  check_identical(on_cpu(leaf.grad()), full({2, 3}, 2.0), "the gradient");
}

// zeros() of a device tensor is set on the device (a memset), not copied.
TEST_CASE("cuda-emulated device: zeros on the device, every dtype") {
  for (DType dt : {DType::f32, DType::f64, DType::i64, DType::b8}) {
    TensorOptions o(dt);
    o.device = Device::cuda_emulated();
    const Tensor z = zeros({3, 5}, o);
    CHECK(z.device() == Device::cuda_emulated());
    CHECK(z.dtype() == dt);
    CHECK(z.to_vector() == std::vector<double>(15, 0.0));
  }
  TensorOptions o;
  o.device = Device::cuda_emulated();
  o.requires_grad = true;
  CHECK(zeros({2}, o).requires_grad());
}

// A real GPU's memory cannot be read by host code, so the emulation refuses
// it too: an op that reads its input on the host fails here, not on a GPU.
TEST_CASE("cuda-emulated device: host code cannot read a device tensor; the kernels can") {
  const Tensor e = on_emulated(hashed_input({2, 3}, 2));
  CHECK(error_of([&] { e.data<float>(); }) ==
        "data<float32>(): the tensor is on cuda-emulated; host code reads CPU tensors (.to(Device::cpu()) first)");
  CHECK(e.device_data<float>() == e.raw_data());
  CHECK(error_of([&] { e.device_data<double>(); }) == "data<float64>() called on a float32 tensor");
  CHECK(e.to_vector() == hashed_input({2, 3}, 2).to_vector());  // through a copy to the CPU
}

TEST_CASE("cuda-emulated kernels: fill_ of strided views, every dtype") {
  for (DType dt : {DType::f32, DType::f64, DType::i64, DType::b8}) {
    INFO(dtype_name(dt));
    Tensor cpu_base = zeros({7, 9}, TensorOptions(dt));
    Tensor emu_base = on_emulated(cpu_base);
    cpu_base.transpose(0, 1).narrow(0, 2, 5).fill_(3.0);  // [5, 7], strides (1, 9)
    emu_base.transpose(0, 1).narrow(0, 2, 5).fill_(3.0);  // Tensor::fill_ asks the device's table
    check_identical(on_cpu(emu_base), cpu_base, "fill_");
  }
}

TEST_CASE("cuda-emulated kernels: copy_ between strided views (transposed, narrowed, broadcast)") {
  const Tensor src = hashed_input({6, 11, 5}, 2);
  const Tensor emu_src = on_emulated(src);
  // a permuted, narrowed source into a strided destination
  Tensor cpu_dst = zeros({13, 11, 6}), emu_dst = on_emulated(cpu_dst);
  cpu_dst.narrow(0, 3, 5).copy_(src.permute({2, 1, 0}));
  emu_dst.narrow(0, 3, 5).copy_(emu_src.permute({2, 1, 0}));
  check_identical(on_cpu(emu_dst), cpu_dst, "permuted copy");
  // a broadcast source (stride 0), and a copy across devices
  Tensor row = hashed_input({1, 5}, 3);
  Tensor cpu_b = zeros({4, 5}), emu_b = on_emulated(cpu_b);
  cpu_b.copy_(row);
  emu_b.copy_(row);  // from the CPU: moved first, then the emulated kernel
  check_identical(on_cpu(emu_b), cpu_b, "broadcast copy");
  for (DType dt : {DType::f64, DType::i64, DType::b8}) {
    const Tensor s = mul_scalar(hashed_input({9, 4}, 4), 5.0).to(dt);  // integers -5..4 as i64, mostly true as b8
    Tensor c = zeros({4, 9}, TensorOptions(dt)), e = on_emulated(c);
    c.copy_(s.t());
    e.copy_(on_emulated(s).t());
    check_identical(on_cpu(e), c, dtype_name(dt));
  }
  CHECK(error_of([&] { emulated().copy(on_emulated(src.to(DType::f64)), on_emulated(src)); })
            .find("copy: the cuda-emulated kernel does not convert dtypes (float64 to float32)") != std::string::npos);
}

TEST_CASE("cuda-emulated kernels: binary maps with broadcasting and non-contiguous inputs") {
  const Tensor a = hashed_input({5, 1, 7}, 5), b = hashed_input({3, 1}, 6);
  const Tensor at = hashed_input({7, 3, 5}, 7).permute({2, 1, 0});  // [5, 3, 7], not contiguous
  const Shape out_shape{5, 3, 7};
  for (Binary op : {Binary::add, Binary::sub, Binary::mul, Binary::div,
                         Binary::maximum, Binary::minimum, Binary::ge_mask}) {
    INFO("op ", int(op));
    for (const Tensor& left : {a, at}) {
      const Tensor want = empty(out_shape), got = empty(out_shape, on_emulated_options());
      host().binary(op, left.expand(out_shape), b.expand(out_shape), want);
      emulated().binary(op, on_emulated(left.contiguous()).reshape(left.shape()).expand(out_shape),
                        on_emulated(b).expand(out_shape), got);
      check_close(on_cpu(got), want, 1e-6, 0);
    }
  }
  // the op the ops call, for add and mul: the same values as sg::add / sg::mul on the CPU
  const Tensor sum_ab = empty(out_shape, on_emulated_options());
  emulated().binary(Binary::add, on_emulated(a).expand(out_shape), on_emulated(b).expand(out_shape), sum_ab);
  check_identical(on_cpu(sum_ab), add(a, b), "add");
  const Tensor prod = empty(out_shape, on_emulated_options());
  emulated().binary(Binary::mul, on_emulated(a).expand(out_shape), on_emulated(b).expand(out_shape), prod);
  check_identical(on_cpu(prod), mul(a, b), "mul");
  const Tensor a64 = on_emulated(a.to(DType::f64)).expand(out_shape);
  CHECK(error_of([&] { emulated().binary(Binary::add, a64, a64, empty(out_shape, on_emulated_options(DType::f64))); })
            .find("binary: the cuda-emulated kernel takes float32, not float64") != std::string::npos);
}

TEST_CASE("cuda-emulated kernels: sum over any dims (block reduction with warp shuffles)") {
  const Tensor x = hashed_input({33, 5, 7}, 8).permute({1, 2, 0});  // [5, 7, 33], not contiguous
  const Tensor ex = on_emulated(hashed_input({33, 5, 7}, 8)).permute({1, 2, 0});
  for (const std::vector<bool>& reduce : std::vector<std::vector<bool>>{
           {false, false, true}, {true, false, false}, {true, false, true}, {true, true, true}, {false, false, false}}) {
    Shape out_shape;
    for (int d = 0; d < 3; ++d) out_shape.push_back(reduce[d] ? 1 : x.size(d));
    const Tensor want = empty(out_shape), got = empty(out_shape, on_emulated_options());
    host().sum(x, reduce, want, 0.5);
    emulated().sum(ex, reduce, got, 0.5);
    INFO("reduce ", int(reduce[0]), int(reduce[1]), int(reduce[2]));
    check_close(on_cpu(got), want, 1e-5, 1e-6);
  }
  // a long reduction: every thread of the block sums many elements first
  const Tensor big = hashed_input({100003}, 9);
  const Tensor want = empty({1}), got = empty({1}, on_emulated_options());
  host().sum(big, {true}, want, 1.0);
  emulated().sum(on_emulated(big), {true}, got, 1.0);
  check_close(on_cpu(got), want, 1e-5, 1e-3);
}

TEST_CASE("cuda-emulated kernels: tiled SGEMM on sizes that are not multiples of the tile") {
  struct Case {
    int64_t M, N, K;
  };
  for (const Case& c : {Case{1, 1, 1}, Case{65, 63, 17}, Case{130, 70, 33}, Case{3, 129, 64}}) {
    INFO("M ", c.M, " N ", c.N, " K ", c.K);
    const Tensor a = hashed_input({c.M, c.K}, 10), b = hashed_input({c.K, c.N}, 11);
    const Tensor want = empty({c.M, c.N}), got = empty({c.M, c.N}, on_emulated_options());
    host().matmul(a, b, want);
    emulated().matmul(on_emulated(a), on_emulated(b), got);
    check_close(on_cpu(got), want, 1e-5, 1e-5);
    // transposed operands: a column-major A and B
    const Tensor at = on_emulated(a.t().contiguous()).t(), bt = on_emulated(b.t().contiguous()).t();
    emulated().matmul(at, bt, got);
    check_close(on_cpu(got), want, 1e-5, 1e-5);
  }
  // a batch, with b broadcast over it (stride 0)
  const Tensor a = hashed_input({3, 2, 21, 19}, 12), b = hashed_input({1, 2, 19, 67}, 13);
  const Shape bshape{3, 2, 19, 67};
  const Tensor want = empty({3, 2, 21, 67}), got = empty({3, 2, 21, 67}, on_emulated_options());
  host().matmul(a, b.expand(bshape), want);
  emulated().matmul(on_emulated(a), on_emulated(b).expand(bshape), got);
  check_close(on_cpu(got), want, 1e-5, 1e-5);
  check_close(on_cpu(got), matmul(a, b), 1e-5, 1e-5);
}

TEST_CASE("cuda-emulated ops: a batched matmul plus a broadcast bias, forward and backward on the device") {
  Tensor a = hashed_input({2, 5, 7}, 15), b = hashed_input({7, 9}, 16), c = hashed_input({9}, 17);
  for (Tensor* t : {&a, &b, &c}) t->requires_grad_();
  check_same_on_device([](const TensorList& x) { return matmul(x[0], x[1]) + x[2]; }, {a, b, c}, "matmul + bias");
}

TEST_CASE("cuda-emulated device: every kernel the CPU has, the CUDA tables have (an op never falls back)") {
  std::vector<const KernelTable*> tables = {cuda_emulated_kernel_table()};
  if (cuda_kernel_table()) tables.push_back(cuda_kernel_table());  // a CUDA build: nvcc's table too
  for (const KernelTable* t : tables) {
    INFO("device ", t->device);
#define SG_CHECK_ENTRY(name)                                    \
  CHECK_MESSAGE(bool(host().name), "cpu entry " #name);        \
  CHECK_MESSAGE(bool(t->name), "entry " #name);
    SG_KERNEL_TABLE_ENTRIES(SG_CHECK_ENTRY)
#undef SG_CHECK_ENTRY
  }
}

TEST_CASE("cuda-emulated kernels: the fused Adam/AdamW step (amsgrad, weight decay) equals the CPU's") {
  struct Case {
    bool decoupled, amsgrad;
    double weight_decay;
  };
  for (const Case& c : {Case{false, false, 0.0}, Case{false, true, 0.1}, Case{true, false, 0.01}, Case{true, true, 0.2}}) {
    INFO("decoupled ", c.decoupled, " amsgrad ", c.amsgrad, " weight_decay ", c.weight_decay);
    AdamStep s;
    s.lr = 0.01, s.beta1 = 0.8, s.beta2 = 0.95, s.eps = 1e-6, s.weight_decay = c.weight_decay;
    s.bias_correction1 = 1 - 0.8 * 0.8, s.bias_correction2 = 1 - 0.95 * 0.95;  // step 2
    s.decoupled_weight_decay = c.decoupled, s.amsgrad = c.amsgrad;
    const Shape shape{3, 1001};  // not a multiple of a block
    Tensor p = hashed_input(shape, 30), g = hashed_input(shape, 31), m = hashed_input(shape, 32) * 0.1;
    Tensor v = abs(hashed_input(shape, 33)) * 0.01, vmax = abs(hashed_input(shape, 34)) * 0.01;
    Tensor ep = on_emulated(p), em = on_emulated(m), ev = on_emulated(v), evmax = on_emulated(vmax);
    host().adam_update(p, g, m, v, c.amsgrad ? vmax : Tensor(), s);
    emulated().adam_update(ep, on_emulated(g), em, ev, c.amsgrad ? evmax : Tensor(), s);
    check_close(on_cpu(ep), p, 1e-6, 1e-7);
    check_close(on_cpu(em), m, 1e-6, 1e-7);
    check_close(on_cpu(ev), v, 1e-6, 1e-7);
    if (c.amsgrad) check_close(on_cpu(evmax), vmax, 1e-6, 1e-7);
  }
}
