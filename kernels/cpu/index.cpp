#include "kernels/cpu/index.h"

#include "kernels/cpu/loops.h"

namespace sg::cpu {

namespace {
// Index tensors are untrusted (class labels from a file): check every entry
// up front, serially, because an exception must not escape an OpenMP region.
void check_indices(const Tensor& index, int64_t size, const char* op) {
  const int64_t* p = static_cast<const int64_t*>(index.raw_data());
  strided_loop<1>(index.shape(), {index.strides()},
                  [&](int64_t n, const int64_t* off, const int64_t* st) {
                    for (int64_t j = 0; j < n; ++j) {
                      const int64_t i = p[off[0] + j * st[0]];
                      SG_CHECK(i >= 0 && i < size, op, ": index ", i, " out of range for a dim of size ", size);
                    }
                  },
                  /*grain=*/INT64_MAX);
}
}  // namespace

void gather(const Tensor& x, int dim, const Tensor& index, const Tensor& out) {
  // Iterate over out/index; x is read at the same position except along dim.
  Strides xs = x.strides();
  const int64_t xdim_stride = xs[dim], xdim_size = x.size(dim);
  xs[dim] = 0;
  check_indices(index, xdim_size, "gather");
  dispatch_float(x.dtype(), "gather", [&](auto z) {
    using T = decltype(z);
    const T* px = static_cast<const T*>(x.raw_data());
    const int64_t* pi = static_cast<const int64_t*>(index.raw_data());
    T* po = static_cast<T*>(out.raw_data());
    strided_loop<3>(out.shape(), {out.strides(), index.strides(), xs},
                    [&](int64_t n, const int64_t* off, const int64_t* st) {
                      for (int64_t j = 0; j < n; ++j) {
                        const int64_t i = pi[off[1] + j * st[1]];
                        po[off[0] + j * st[0]] = px[off[2] + j * st[2] + i * xdim_stride];
                      }
                    });
  });
}

void scatter_add(const Tensor& out, int dim, const Tensor& index, const Tensor& src) {
  Strides os = out.strides();
  const int64_t odim_stride = os[dim], odim_size = out.size(dim);
  os[dim] = 0;
  check_indices(index, odim_size, "scatter_add");
  dispatch_float(src.dtype(), "scatter_add", [&](auto z) {
    using T = decltype(z);
    const T* ps = static_cast<const T*>(src.raw_data());
    const int64_t* pi = static_cast<const int64_t*>(index.raw_data());
    T* po = static_cast<T*>(out.raw_data());
    // Serial: two source elements may land on the same output element.
    strided_loop<3>(src.shape(), {src.strides(), index.strides(), os},
                    [&](int64_t n, const int64_t* off, const int64_t* st) {
                      for (int64_t j = 0; j < n; ++j) {
                        const int64_t i = pi[off[1] + j * st[1]];
                        po[off[2] + j * st[2] + i * odim_stride] += ps[off[0] + j * st[0]];
                      }
                    },
                    /*grain=*/INT64_MAX);
  });
}

void flip(const Tensor& x, const std::vector<int>& dims, const Tensor& out) {
  if (x.numel() == 0) return;
  // A strided copy that reads each flipped dim backwards: from its last index,
  // with its stride negated.
  Strides xs = x.strides();
  int64_t last = 0;
  for (int d : dims) {
    last += (x.size(d) - 1) * xs[d];
    xs[d] = -xs[d];
  }
  dispatch_all(x.dtype(), [&](auto z) {
    using T = decltype(z);
    const T* px = static_cast<const T*>(x.raw_data()) + last;
    T* po = static_cast<T*>(out.raw_data());
    strided_loop<2>(out.shape(), {out.strides(), xs}, [&](int64_t n, const int64_t* off, const int64_t* st) {
      for (int64_t j = 0; j < n; ++j) po[off[0] + j * st[0]] = px[off[1] + j * st[1]];
    });
  });
}

}  // namespace sg::cpu
