#include "kernels/cpu/copy.h"

#include <cstring>

#include "kernels/cpu/loops.h"

namespace sg::cpu {

void copy(const Tensor& src, const Tensor& dst) {
  SG_CHECK(src.shape() == dst.shape(), "copy: shapes ", src.shape().str(), " and ", dst.shape().str(),
           " differ");
  if (src.dtype() == dst.dtype() && src.is_contiguous() && dst.is_contiguous()) {
    std::memcpy(dst.raw_data(), src.raw_data(), src.numel() * dtype_size(src.dtype()));
    return;
  }
  dispatch_all(src.dtype(), [&](auto s0) {
    using S = decltype(s0);
    dispatch_all(dst.dtype(), [&](auto d0) {
      using D = decltype(d0);
      const S* s = static_cast<const S*>(src.raw_data());
      D* d = static_cast<D*>(dst.raw_data());
      strided_loop<2>(dst.shape(), {dst.strides(), src.strides()},
                      [&](int64_t n, const int64_t* off, const int64_t* st) {
                        D* po = d + off[0];
                        const S* ps = s + off[1];
                        if (st[0] == 1 && st[1] == 1)
                          for (int64_t j = 0; j < n; ++j) po[j] = D(ps[j]);
                        else
                          for (int64_t j = 0; j < n; ++j) po[j * st[0]] = D(ps[j * st[1]]);
                      });
    });
  });
}

void fill(const Tensor& dst, double value) {
  dispatch_all(dst.dtype(), [&](auto z) {
    using T = decltype(z);
    T* d = static_cast<T*>(dst.raw_data());
    const T v = T(value);
    strided_loop<1>(dst.shape(), {dst.strides()}, [&](int64_t n, const int64_t* off, const int64_t* st) {
      T* p = d + off[0];
      for (int64_t j = 0; j < n; ++j) p[j * st[0]] = v;
    });
  });
}

}  // namespace sg::cpu
