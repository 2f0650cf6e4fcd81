#include "kernels/cpu/gemm.h"

#include <omp.h>

#include <Eigen/Core>
#include <algorithm>
#include <cstdlib>
#include <type_traits>
#include <vector>

#include "kernels/cpu/gemm_f32.h"
#include "tensor/error.h"

namespace sg::cpu {

namespace {
template <class T, int Order>
using MatMap = Eigen::Map<const Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Order>, 0, Eigen::OuterStride<>>;
template <class T>
using OutMap = Eigen::Map<Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>, 0, Eigen::OuterStride<>>;

template <class T, class MA, class MB>
void run(const MA& a, const MB& b, T alpha, T beta, OutMap<T>& c) {
  if (beta == T(0))
    c.noalias() = alpha * (a * b);
  else {
    if (beta != T(1)) c *= beta;
    c.noalias() += alpha * (a * b);
  }
}

// Maps a strided matrix as row-major (col stride 1) or column-major (row stride 1).
template <class T, class F>
void with_map(const T* p, int64_t rows, int64_t cols, int64_t rs, int64_t cs, const char* which, F&& f) {
  if (cs == 1 || cols == 1) {
    f(MatMap<T, Eigen::RowMajor>(p, rows, cols, Eigen::OuterStride<>(rows == 1 ? cols : rs)));
  } else if (rs == 1 || rows == 1) {
    f(MatMap<T, Eigen::ColMajor>(p, rows, cols, Eigen::OuterStride<>(cols == 1 ? rows : cs)));
  } else {
    throw Error(std::string("gemm: operand ") + which + " has no unit stride");
  }
}
}  // namespace

template <class T>
void gemm(int64_t M, int64_t N, int64_t K, T alpha, const T* A, int64_t rsA, int64_t csA, const T* B,
          int64_t rsB, int64_t csB, T beta, T* C, int64_t ldc) {
  if (M == 0 || N == 0) return;
  OutMap<T> c(C, M, N, Eigen::OuterStride<>(ldc));
  if (K == 0) {
    if (beta == T(0)) c.setZero(); else c *= beta;
    return;
  }
  if constexpr (std::is_same_v<T, float>) {
    // STYLEGRAD_EIGEN_GEMM=1 takes Eigen's GEMM instead, e.g. to compare the two.
    static const bool use_eigen = std::getenv("STYLEGRAD_EIGEN_GEMM") && std::getenv("STYLEGRAD_EIGEN_GEMM")[0] != '0';
    if (!use_eigen) return gemm_f32(M, N, K, alpha, A, rsA, csA, B, rsB, csB, beta, C, ldc);
  }
  with_map(A, M, K, rsA, csA, "A", [&](const auto& a) {
    with_map(B, K, N, rsB, csB, "B", [&](const auto& b) { run<T>(a, b, alpha, beta, c); });
  });
}

template <class T>
void syrk(int64_t M, int64_t K, T alpha, const T* A, int64_t lda, T* C, int64_t ldc) {
  using Matrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  OutMap<T> c(C, M, M, Eigen::OuterStride<>(ldc));
  if (M == 0) return;
  const MatMap<T, Eigen::RowMajor> a(A, M, K, Eigen::OuterStride<>(lda));
  // A few thousand multiply-adds per thread at least, or threads cost more than they save.
  const int threads = int(std::clamp<int64_t>(M * M * K / (int64_t(1) << 20), 1, omp_get_max_threads()));
  std::vector<Matrix> partial(size_t(threads), Matrix::Zero(M, M));
#pragma omp parallel num_threads(threads) if (threads > 1)
  {
    const int t = omp_get_thread_num(), n = omp_get_num_threads();
    const int64_t k0 = K * t / n, k1 = K * (t + 1) / n;
    if (k1 > k0) partial[size_t(t)].template selfadjointView<Eigen::Lower>().rankUpdate(a.middleCols(k0, k1 - k0));
  }
  Matrix sum = partial[0];
  for (size_t t = 1; t < partial.size(); ++t) sum += partial[t];
  sum.template triangularView<Eigen::StrictlyUpper>() = sum.transpose();  // mirror the lower triangle
  c = alpha * sum;
}

template void syrk<float>(int64_t, int64_t, float, const float*, int64_t, float*, int64_t);
template void syrk<double>(int64_t, int64_t, double, const double*, int64_t, double*, int64_t);

template void gemm<float>(int64_t, int64_t, int64_t, float, const float*, int64_t, int64_t, const float*, int64_t,
                          int64_t, float, float*, int64_t);
template void gemm<double>(int64_t, int64_t, int64_t, double, const double*, int64_t, int64_t, const double*,
                           int64_t, int64_t, double, double*, int64_t);

}  // namespace sg::cpu
