// cuda-emulated: the CUDA launch model on the host, so that the kernel sources
// in kernels/cuda/*.cuh, compiled by g++, run and are tested on a machine with
// no GPU (CI's). Only files that are not compiled by nvcc include it (through
// kernels/cuda/common.cuh); nvcc gets the real thing.
//
// The model, and how each piece is emulated:
//   grid of blocks    each block runs start to finish on one OS thread; the
//                     blocks of a grid are spread over OpenMP threads.
//   threads of a      cooperative fibers (ucontext) on that one OS thread: a
//   block             thread runs until it reaches a barrier or returns, then
//                     the next one runs. Nothing runs truly in parallel inside a
//                     block, so barriers need no locks, and a missing
//                     __syncthreads() usually shows up as a wrong result: thread
//                     t runs up to its next barrier before thread t+1 starts.
//   __syncthreads()   a real barrier: a thread that reaches it waits until every
//                     thread of its block has reached it. A thread that returns
//                     while others wait at one is an error (the CUDA guide's rule:
//                     the barrier must be reached by the whole block).
//   __shared__        `static thread_local`: one instance per OS thread, and an OS
//                     thread runs one block at a time, all of whose fibers share
//                     it, so it is exactly "one per block, shared by its threads".
//                     (Contents carry over to the next block run on that thread;
//                     in CUDA they are undefined then too.)
//   dynamic shared    SG_DYNAMIC_SHARED(T, name): a buffer of the launch's shmem
//                     bytes, one per OS thread, reused.
//   warp primitives   the 32 consecutive threads of a block are a warp. Each
//                     shuffle or vote is a barrier among the lanes of its mask
//                     (those that exist: a last, partial warp has fewer), an
//                     exchange through a per-warp buffer, and a second barrier so
//                     that no lane overwrites the buffer before all have read.
//                     Reading a lane that does not take part is an error.
//   atomics           real atomics (GCC __atomic builtins, relaxed as CUDA's), as
//                     blocks do run in parallel.
// The launch `SG_LAUNCH(kernel, grid, block, shmem, stream)(args...)` is
// `kernel<<<grid, block, shmem, stream>>>(args...)` under nvcc and
// emu::Launch(...)(args...) here: the same kernel source is compiled both ways.
//
// Slow (a context switch per thread and per barrier) but exact; meant for tests
// and for checking that a kernel is right, not for speed.
#pragma once
#include <omp.h>
#include <ucontext.h>

#include <atomic>
#include <cstdint>
#include <cstring>
#include <exception>
#include <memory>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "tensor/error.h"

// Under AddressSanitizer a fiber abandoned mid-kernel (after an error) leaves
// its frames' redzones poisoned on its stack; clear them before the stack is reused.
#if defined(__SANITIZE_ADDRESS__)
#define SG_EMU_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SG_EMU_ASAN 1
#endif
#endif
#ifdef SG_EMU_ASAN
#include <sanitizer/asan_interface.h>
#define SG_EMU_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
#else
#define SG_EMU_UNPOISON(p, n) ((void)0)
#endif

// ---- CUDA's names, as the host compiler sees them ----
#define __global__ inline  // kernels are defined in headers (<op>.cuh)
#define __device__
#define __host__
#define __forceinline__ inline __attribute__((always_inline))
#define __shared__ static thread_local  // why this is "per block": see above

struct dim3 {
  unsigned x, y, z;
  constexpr dim3(unsigned x_ = 1, unsigned y_ = 1, unsigned z_ = 1) : x(x_), y(y_), z(z_) {}
};
struct uint3 {
  unsigned x, y, z;
};
using cudaStream_t = struct CUstream_st*;  // streams are not emulated: launches run synchronously
constexpr int warpSize = 32;

// The scheduler sets these before it switches to a thread's fiber; all fibers
// of a block run on one OS thread, so thread_local is the block's own copy.
inline thread_local uint3 threadIdx, blockIdx;
inline thread_local dim3 blockDim, gridDim;

namespace sg::emu {

constexpr int kWarpSize = 32;
constexpr unsigned kMaxThreadsPerBlock = 1024;
// A launch gets 48 KiB of shared memory unless the kernel opts in to more
// (cudaFuncSetAttribute); none here does, so more is an error, as on a GPU.
constexpr size_t kMaxDynamicSharedBytes = 48 * 1024;
// Kernels keep a few registers' worth of locals; 64 KiB is ample, and reused.
constexpr size_t kFiberStackBytes = 64 * 1024;

enum class FiberState : uint8_t { runnable, at_syncthreads, at_warp_barrier, done };

struct Fiber {
  ucontext_t context;
  FiberState state = FiberState::done;
  uint3 thread_idx{0, 0, 0};
};

struct Warp {
  uint64_t value[kWarpSize];  // each lane's operand of the current shuffle or vote
  uint32_t waiting = 0;       // lanes that wait at the warp barrier
};

// The block an OS thread is running (one per OS thread, reused by each launch).
struct Block {
  std::vector<Fiber> fibers;
  std::vector<std::unique_ptr<char[]>> stacks;
  std::vector<Warp> warps;
  std::vector<unsigned char> dynamic_shared;  // the launch's shmem bytes
  ucontext_t scheduler;
  unsigned nthreads = 0;
  unsigned current = 0;  // the thread whose fiber runs now
  void (*body)(void*) = nullptr;
  void* closure = nullptr;
  std::exception_ptr error;  // the first exception thrown inside a fiber
};

inline Block& this_block() {
  static thread_local Block block;
  return block;
}

// Lanes of warp w that exist (the last warp of a block may be partial) and
// have not returned: the ones a warp barrier waits for.
inline uint32_t lanes_alive(const Block& b, unsigned w) {
  uint32_t alive = 0;
  for (unsigned lane = 0; lane < unsigned(kWarpSize); ++lane) {
    const unsigned t = w * kWarpSize + lane;
    if (t < b.nthreads && b.fibers[t].state != FiberState::done) alive |= 1u << lane;
  }
  return alive;
}

// Gives the OS thread back to the scheduler; returns when this fiber is run again.
inline void yield(Block& b) { swapcontext(&b.fibers[b.current].context, &b.scheduler); }

inline void fiber_main() {
  Block& b = this_block();
  // An exception may not leave a fiber (its stack has no caller to unwind
  // into): keep it for the launch to rethrow.
  try {
    b.body(b.closure);
  } catch (...) {
    if (!b.error) b.error = std::current_exception();
  }
  b.fibers[b.current].state = FiberState::done;
  // returning resumes uc_link, the scheduler
}

// Runs one block: every thread's fiber, round robin, each until it blocks.
inline void run_block(Block& b) {
  b.error = nullptr;
  for (unsigned t = 0; t < b.nthreads; ++t) {
    Fiber& f = b.fibers[t];
    SG_EMU_UNPOISON(b.stacks[t].get(), kFiberStackBytes);
    getcontext(&f.context);
    f.context.uc_stack.ss_sp = b.stacks[t].get();
    f.context.uc_stack.ss_size = kFiberStackBytes;
    f.context.uc_link = &b.scheduler;
    makecontext(&f.context, fiber_main, 0);
    f.state = FiberState::runnable;
    f.thread_idx = uint3{t % blockDim.x, t / blockDim.x % blockDim.y, t / (blockDim.x * blockDim.y)};
  }
  for (Warp& w : b.warps) w.waiting = 0;
  for (;;) {
    bool ran = false;
    for (unsigned t = 0; t < b.nthreads; ++t) {
      if (b.fibers[t].state != FiberState::runnable) continue;
      ran = true;
      b.current = t;
      threadIdx = b.fibers[t].thread_idx;
      swapcontext(&b.scheduler, &b.fibers[t].context);
      if (b.error) std::rethrow_exception(b.error);  // the other fibers are abandoned
    }
    if (ran) continue;
    unsigned done = 0, at_sync = 0;
    for (unsigned t = 0; t < b.nthreads; ++t) {
      done += b.fibers[t].state == FiberState::done;
      at_sync += b.fibers[t].state == FiberState::at_syncthreads;
    }
    if (done == b.nthreads) return;
    // Nobody can run: the barrier opens when the whole block waits at it.
    SG_CHECK(at_sync == b.nthreads, "cuda-emulated: deadlock in block (", blockIdx.x, ", ", blockIdx.y, ", ",
             blockIdx.z, "): ", at_sync, " threads wait at __syncthreads(), ", done, " have returned and ",
             b.nthreads - at_sync - done, " wait at a warp barrier (a barrier not reached by all its threads)");
    for (unsigned t = 0; t < b.nthreads; ++t) b.fibers[t].state = FiberState::runnable;
  }
}

inline void run_grid(dim3 grid, dim3 block, size_t shmem, void (*body)(void*), void* closure) {
  const uint64_t nthreads = uint64_t(block.x) * block.y * block.z;
  SG_CHECK(nthreads >= 1 && nthreads <= kMaxThreadsPerBlock && block.z <= 64, "cuda-emulated: invalid block (",
           block.x, ", ", block.y, ", ", block.z, "): 1 to 1024 threads, z at most 64");
  SG_CHECK(grid.x >= 1 && grid.y >= 1 && grid.z >= 1 && grid.y <= 65535 && grid.z <= 65535,
           "cuda-emulated: invalid grid (", grid.x, ", ", grid.y, ", ", grid.z, ")");
  SG_CHECK(shmem <= kMaxDynamicSharedBytes, "cuda-emulated: ", shmem,
           " bytes of dynamic shared memory, over the 48 KiB a launch gets");
  const int64_t nblocks = int64_t(grid.x) * grid.y * grid.z;
  std::exception_ptr error;
  std::atomic<bool> failed{false};
#pragma omp parallel for schedule(dynamic) if (nblocks > 1)
  for (int64_t i = 0; i < nblocks; ++i) {
    if (failed.load(std::memory_order_relaxed)) continue;
    try {
      Block& b = this_block();
      b.nthreads = unsigned(nthreads);
      if (b.fibers.size() < nthreads) b.fibers.resize(nthreads);
      while (b.stacks.size() < nthreads) b.stacks.emplace_back(new char[kFiberStackBytes]);
      b.warps.resize((nthreads + kWarpSize - 1) / kWarpSize);
      b.dynamic_shared.resize(shmem);
      b.body = body;
      b.closure = closure;
      gridDim = grid;
      blockDim = block;
      blockIdx = uint3{unsigned(i % grid.x), unsigned(i / grid.x % grid.y), unsigned(i / (int64_t(grid.x) * grid.y))};
      run_block(b);
    } catch (...) {
#pragma omp critical(sg_emu_error)
      if (!error) error = std::current_exception();
      failed = true;
    }
  }
  if (error) std::rethrow_exception(error);
}

// kernel<<<grid, block, shmem, stream>>>(args...): the arguments are converted
// to the kernel's parameter types once, as a CUDA launch copies them, and every
// thread calls the kernel with them.
template <class... Params>
struct Launch {
  dim3 grid, block;
  size_t shmem;
  void (*kernel)(Params...);
  template <class... Args>
  void operator()(Args&&... args) const {
    const std::tuple<std::decay_t<Params>...> params(std::forward<Args>(args)...);
    auto call = [&] { std::apply(kernel, params); };
    using Call = decltype(call);
    run_grid(grid, block, shmem, [](void* c) { (*static_cast<Call*>(c))(); }, &call);
  }
};
template <class... Params>
Launch<Params...> launch(dim3 grid, dim3 block, size_t shmem, cudaStream_t, void (*kernel)(Params...)) {
  return Launch<Params...>{grid, block, shmem, kernel};
}

inline void* dynamic_shared_memory() { return this_block().dynamic_shared.data(); }

// ---- warp barrier and exchange ----
inline unsigned lane_id() { return this_block().current % kWarpSize; }

// Waits until every lane of `mask` that exists and has not returned is here.
// The last to arrive frees the others.
inline void warp_barrier(uint32_t mask) {
  Block& b = this_block();
  const unsigned w = b.current / kWarpSize, lane = b.current % kWarpSize;
  SG_CHECK(mask >> lane & 1u, "cuda-emulated: lane ", lane, " calls a warp primitive with a mask (0x", std::hex,
           mask, ") that leaves it out");
  Warp& warp = b.warps[w];
  const uint32_t expected = mask & lanes_alive(b, w);
  warp.waiting |= 1u << lane;
  if ((warp.waiting & expected) == expected) {
    for (unsigned l = 0; l < unsigned(kWarpSize); ++l)
      if ((expected >> l & 1u) && l != lane) b.fibers[w * kWarpSize + l].state = FiberState::runnable;
    warp.waiting &= ~expected;
    return;
  }
  b.fibers[b.current].state = FiberState::at_warp_barrier;
  yield(b);
}

template <class T>
uint64_t to_bits(T v) {
  static_assert(sizeof(T) <= 8 && std::is_trivially_copyable<T>::value, "warp exchange of at most 8 bytes");
  uint64_t bits = 0;
  std::memcpy(&bits, &v, sizeof(T));
  return bits;
}
template <class T>
T from_bits(uint64_t bits) {
  T v;
  std::memcpy(&v, &bits, sizeof(T));
  return v;
}

// Every lane of mask publishes var; returns the value of lane src (a lane of this warp).
template <class T>
T warp_exchange(uint32_t mask, T var, unsigned src) {
  Block& b = this_block();
  const unsigned w = b.current / kWarpSize;
  Warp& warp = b.warps[w];
  warp.value[lane_id()] = to_bits(var);
  warp_barrier(mask);
  const uint32_t present = mask & lanes_alive(b, w);
  SG_CHECK(present >> src & 1u, "cuda-emulated: lane ", lane_id(), " of warp ", w, " reads lane ", src,
           ", which does not take part in the shuffle (mask 0x", std::hex, mask, std::dec, ", or past the block)");
  const T result = from_bits<T>(warp.value[src]);
  warp_barrier(mask);  // nobody writes the next value before all have read this one
  return result;
}

// Every lane of mask publishes pred; returns the ballot of the lanes that take part.
inline uint32_t warp_ballot(uint32_t mask, int pred) {
  Block& b = this_block();
  const unsigned w = b.current / kWarpSize;
  Warp& warp = b.warps[w];
  warp.value[lane_id()] = pred != 0;
  warp_barrier(mask);
  const uint32_t present = mask & lanes_alive(b, w);
  uint32_t ballot = 0;
  for (unsigned l = 0; l < unsigned(kWarpSize); ++l)
    if ((present >> l & 1u) && warp.value[l]) ballot |= 1u << l;
  warp_barrier(mask);
  return ballot;
}

inline void check_width(int width) {
  SG_CHECK(width >= 1 && width <= kWarpSize && (width & (width - 1)) == 0,
           "cuda-emulated: shuffle width ", width, " is not a power of 2 from 1 to 32");
}

// CAS loop for the atomics that have no GCC builtin (floats, max/min).
template <class T, class F>
T atomic_update(T* address, F f) {
  static_assert(sizeof(T) == 4 || sizeof(T) == 8, "atomics on 4 or 8 bytes");
  using Bits = std::conditional_t<sizeof(T) == 4, uint32_t, uint64_t>;
  Bits* p = reinterpret_cast<Bits*>(address);
  Bits old_bits = __atomic_load_n(p, __ATOMIC_RELAXED);
  for (;;) {
    T old;
    std::memcpy(&old, &old_bits, sizeof(T));
    const T updated = f(old);
    Bits new_bits;
    std::memcpy(&new_bits, &updated, sizeof(T));
    if (__atomic_compare_exchange_n(p, &old_bits, new_bits, true, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) return old;
  }
}

}  // namespace sg::emu

// ---- CUDA's device functions ----
inline void __syncthreads() {
  sg::emu::Block& b = sg::emu::this_block();
  b.fibers[b.current].state = sg::emu::FiberState::at_syncthreads;
  sg::emu::yield(b);
}
inline void __syncwarp(unsigned mask = 0xffffffffu) { sg::emu::warp_barrier(mask); }
inline void __threadfence() { std::atomic_thread_fence(std::memory_order_seq_cst); }

// Shuffles, with CUDA's rules for width (a power of 2 <= 32: the warp is cut
// into segments of width lanes): __shfl_sync reads lane srcLane % width of the
// caller's segment; up/down/xor return the caller's own value when the lane
// they would read lies before (up) or after (down, xor) its segment.
template <class T>
T __shfl_sync(unsigned mask, T var, int srcLane, int width = warpSize) {
  sg::emu::check_width(width);
  const unsigned lane = sg::emu::lane_id(), base = lane & ~unsigned(width - 1);
  return sg::emu::warp_exchange(mask, var, base + unsigned(srcLane) % unsigned(width));
}
template <class T>
T __shfl_up_sync(unsigned mask, T var, unsigned delta, int width = warpSize) {
  sg::emu::check_width(width);
  const unsigned lane = sg::emu::lane_id(), in_segment = lane & unsigned(width - 1);
  return sg::emu::warp_exchange(mask, var, in_segment >= delta ? lane - delta : lane);
}
template <class T>
T __shfl_down_sync(unsigned mask, T var, unsigned delta, int width = warpSize) {
  sg::emu::check_width(width);
  const unsigned lane = sg::emu::lane_id(), in_segment = lane & unsigned(width - 1);
  return sg::emu::warp_exchange(mask, var, in_segment + delta < unsigned(width) ? lane + delta : lane);
}
template <class T>
T __shfl_xor_sync(unsigned mask, T var, int laneMask, int width = warpSize) {
  sg::emu::check_width(width);
  const unsigned lane = sg::emu::lane_id(), src = lane ^ unsigned(laneMask);
  const unsigned segment_end = (lane & ~unsigned(width - 1)) + unsigned(width);
  return sg::emu::warp_exchange(mask, var, src < segment_end ? src : lane);
}
inline unsigned __ballot_sync(unsigned mask, int pred) { return sg::emu::warp_ballot(mask, pred); }
inline int __any_sync(unsigned mask, int pred) { return sg::emu::warp_ballot(mask, pred) != 0; }
inline int __all_sync(unsigned mask, int pred) {
  sg::emu::Block& b = sg::emu::this_block();
  const uint32_t present = mask & sg::emu::lanes_alive(b, b.current / sg::emu::kWarpSize);
  return sg::emu::warp_ballot(mask, pred) == present;
}

// Atomics return the old value, as CUDA's.
inline int atomicAdd(int* p, int v) { return __atomic_fetch_add(p, v, __ATOMIC_RELAXED); }
inline unsigned atomicAdd(unsigned* p, unsigned v) { return __atomic_fetch_add(p, v, __ATOMIC_RELAXED); }
inline unsigned long long atomicAdd(unsigned long long* p, unsigned long long v) {
  return __atomic_fetch_add(p, v, __ATOMIC_RELAXED);
}
inline float atomicAdd(float* p, float v) { return sg::emu::atomic_update(p, [v](float old) { return old + v; }); }
inline double atomicAdd(double* p, double v) { return sg::emu::atomic_update(p, [v](double old) { return old + v; }); }
inline int atomicMax(int* p, int v) { return sg::emu::atomic_update(p, [v](int old) { return old > v ? old : v; }); }
inline unsigned atomicMax(unsigned* p, unsigned v) {
  return sg::emu::atomic_update(p, [v](unsigned old) { return old > v ? old : v; });
}
inline int atomicMin(int* p, int v) { return sg::emu::atomic_update(p, [v](int old) { return old < v ? old : v; }); }
inline int atomicExch(int* p, int v) { return __atomic_exchange_n(p, v, __ATOMIC_RELAXED); }
inline float atomicExch(float* p, float v) { return sg::emu::atomic_update(p, [v](float) { return v; }); }
template <class T>
T atomicCAS(T* p, T compare, T val) {
  static_assert(std::is_same<T, int>::value || std::is_same<T, unsigned>::value ||
                    std::is_same<T, unsigned long long>::value,
                "atomicCAS: int, unsigned or unsigned long long, as CUDA's");
  __atomic_compare_exchange_n(p, &compare, val, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED);
  return compare;  // the old value, whether or not it was swapped
}

#define SG_LAUNCH(kernel, grid, block, shmem, stream) ::sg::emu::launch(grid, block, shmem, stream, kernel)
#define SG_DYNAMIC_SHARED(T, name) T* name = static_cast<T*>(::sg::emu::dynamic_shared_memory())
#define SG_CHECK_LAUNCH(what) ((void)0)
