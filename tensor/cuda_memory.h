// CUDA device memory and streams, behind Storage and the cuda kernel table.
// Defined in tensor/cuda_memory.cu in CUDA builds; in builds without CUDA
// (tensor/storage.cpp) each of these is the one "no CUDA support" error.
// The header needs no CUDA: a stream is an opaque pointer (a cudaStream_t).
//
// Per CUDA device, created on its first use:
//   - a caching allocator (tensor/caching_allocator.h) over cudaMalloc/cudaFree;
//   - one stream: every kernel launch and every copy of that device runs on
//     it, in order. That order is what lets the allocator reuse a freed block
//     at once, and lets host->device copies return before the bytes arrive;
//     copies to the host wait for the stream before they return.
#pragma once
#include <cstddef>

#include "tensor/caching_allocator.h"

namespace sg {

void* cuda_alloc(size_t nbytes, int device_index);  // also makes the device current (cudaSetDevice)
void cuda_free(void* p, int device_index);
// Makes the device current, for the kernel launches that follow (they go to
// the current device's stream); kernels_on (kernels/kernel_table.h) calls it.
void cuda_set_device(int device_index);

// The cache's figures and emptying (torch.cuda.memory_stats / empty_cache).
CachingAllocatorStats cuda_memory_stats(int device_index);
void cuda_reset_peak(int device_index);
void cuda_empty_cache(int device_index);

// The device's stream, as a cudaStream_t; cuda_synchronize waits until
// everything queued on it is done (timing, benchmarks).
void* cuda_stream(int device_index);
void cuda_synchronize(int device_index);

// CUDA devices present (0 without a GPU or without CUDA); *why_none, when not
// null, receives CUDA's reason when there are none.
int cuda_device_count(const char** why_none = nullptr);

}  // namespace sg
