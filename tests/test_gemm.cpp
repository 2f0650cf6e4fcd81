// The float32 GEMM (kernels/cpu/gemm_f32.cpp) against a plain triple loop in
// double, on the shapes where a blocked kernel goes wrong: sizes that are not
// multiples of the tile (edge tiles), more than one KC slice of k, more than
// one MC block of rows, strided and transposed operands, alpha and beta, and
// the threaded split of rows or columns.
#include <omp.h>

#include <vector>

#include "kernels/cpu/gemm.h"
#include "kernels/cpu/gemm_f32.h"
#include "tests/test_util.h"

using namespace sg;

namespace {

struct Problem {
  int64_t M, N, K;
  bool a_transposed, b_transposed;
  float alpha, beta;
};

std::vector<float> random_floats(size_t n, Generator& g) {
  std::vector<double> v = rand({int64_t(n)}, g, DType::f64).to_vector();
  std::vector<float> out(n);
  for (size_t i = 0; i < n; ++i) out[i] = float(v[i] * 2 - 1);
  return out;
}

// Runs cpu::gemm<float> on p and compares with the double-precision loop.
void check_problem(const Problem& p, Generator& g) {
  // A is M x K: stored row-major (rs K, cs 1) or as the transpose of a K x M matrix (rs 1, cs M).
  const std::vector<float> a = random_floats(size_t(p.M * p.K), g), b = random_floats(size_t(p.K * p.N), g);
  const int64_t rsA = p.a_transposed ? 1 : p.K, csA = p.a_transposed ? p.M : 1;
  const int64_t rsB = p.b_transposed ? 1 : p.N, csB = p.b_transposed ? p.K : 1;
  const int64_t ldc = p.N + 3;  // C is a view into a wider matrix
  std::vector<float> c = random_floats(size_t(p.M * ldc), g);
  std::vector<double> want(size_t(p.M * p.N));
  for (int64_t i = 0; i < p.M; ++i)
    for (int64_t j = 0; j < p.N; ++j) {
      double acc = 0;
      for (int64_t k = 0; k < p.K; ++k) acc += double(a[i * rsA + k * csA]) * double(b[k * rsB + j * csB]);
      want[i * p.N + j] = p.alpha * acc + (p.beta == 0 ? 0.0 : p.beta * double(c[i * ldc + j]));
    }
  const std::vector<float> c_before = c;
  cpu::gemm<float>(p.M, p.N, p.K, p.alpha, a.data(), rsA, csA, b.data(), rsB, csB, p.beta, c.data(), ldc);
  double worst = 0;
  for (int64_t i = 0; i < p.M; ++i) {
    for (int64_t j = 0; j < p.N; ++j)
      worst = std::max(worst, std::abs(double(c[i * ldc + j]) - want[i * p.N + j]) / (1.0 + std::abs(want[i * p.N + j])));
    for (int64_t j = p.N; j < ldc; ++j) CHECK(c[i * ldc + j] == c_before[i * ldc + j]);  // outside C: untouched
  }
  INFO("M ", p.M, " N ", p.N, " K ", p.K, " transposed ", p.a_transposed, p.b_transposed, " alpha ", p.alpha, " beta ",
       p.beta);
  CHECK(worst < 1e-5 * std::sqrt(double(p.K)));
}

}  // namespace

TEST_CASE("gemm: float32 kernel matches a double loop on edge tiles, k slices, row blocks and strides") {
  Generator g(11);
  const Problem problems[] = {
      {1, 1, 1, false, false, 1, 0},         {5, 7, 3, false, false, 1, 0},          // smaller than one tile
      {6, 16, 8, false, false, 1, 0},        {13, 35, 9, false, false, 0.5f, 2},    // whole and partial tiles
      {37, 70, 300, false, false, 1, 1},     {130, 33, 517, false, false, -1, 0.25}, // 2-3 k slices, 2 row blocks
      {17, 29, 40, true, false, 1, 0},       {17, 29, 40, false, true, 1, 0},        // transposed operands
      {23, 41, 19, true, true, 2, -1},
  };
  for (const Problem& p : problems) check_problem(p, g);
}

TEST_CASE("gemm: the threaded split of rows or columns gives the same result") {
  Generator g(12);
  const int threads = omp_get_max_threads();
  omp_set_num_threads(std::max(threads, 2));
  check_problem({300, 150, 70, false, false, 1, 0}, g);   // more rows: rows are split
  check_problem({90, 700, 64, false, true, 1, 0.5f}, g);  // more columns: columns are split
  omp_set_num_threads(threads);
}

TEST_CASE("gemm: prepacked operands (the Winograd layout) give A B") {
  const int64_t MR = cpu::kGemmF32MR, NR = cpu::kGemmF32NR;
  const int64_t M = 2 * MR + 1, N = NR + 5, K = 33;
  Generator g(13);
  const std::vector<float> a = random_floats(size_t(M * K), g), b = random_floats(size_t(K * N), g);
  const int64_t a_panels = (M + MR - 1) / MR, b_panels = (N + NR - 1) / NR;
  std::vector<float> pa(size_t(a_panels * K * MR), 0.f), pb(size_t(b_panels * K * NR), 0.f);
  for (int64_t i = 0; i < M; ++i)
    for (int64_t k = 0; k < K; ++k) pa[size_t((i / MR * K + k) * MR + i % MR)] = a[size_t(i * K + k)];
  for (int64_t k = 0; k < K; ++k)
    for (int64_t j = 0; j < N; ++j) pb[size_t((j / NR * K + k) * NR + j % NR)] = b[size_t(k * N + j)];
  std::vector<float> c(size_t(M * N));
  cpu::gemm_f32_prepacked(M, N, K, pa.data(), pb.data(), c.data(), N);
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j) {
      double want = 0;
      for (int64_t k = 0; k < K; ++k) want += double(a[size_t(i * K + k)]) * double(b[size_t(k * N + j)]);
      INFO("C[", i, "][", j, "]");
      CHECK(std::abs(c[size_t(i * N + j)] - want) < 1e-4);
    }
}
