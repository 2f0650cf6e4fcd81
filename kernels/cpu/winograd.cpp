// Winograd F(4x4, 3x3) convolution (Lavin & Gray, "Fast Algorithms for
// Convolutional Neural Networks", 2016).
//
// The algorithm. A 3x3 convolution computes each 4x4 tile of the output from a
// 6x6 patch d of the input (the tile plus its one-pixel rim). Directly that is
// 16 * 9 = 144 multiplies per tile and input channel. Winograd writes the same
// result as
//
//   Y = A^T [ (G g G^T) (.) (B^T d B) ] A        (.) = elementwise product
//
// with fixed small matrices B^T (6x6), G (6x3), A^T (4x6) and g the 3x3 kernel:
// both the kernel and the patch are taken into a 6x6 "transform domain"
// (like a Fourier transform, where convolution becomes a product), multiplied
// there elementwise -- 36 multiplies instead of 144, 4x fewer -- and the
// product is taken back by A. The matrices come from polynomial interpolation
// at the points 0, +-1, +-2 and infinity; any other 1-D convolution identity
// would do, these keep the numbers small (float32 error ~1e-6..1e-5 relative,
// measured in tests/test_conv_fast.cpp).
//
// For many channels the elementwise products turn into matrix products. With
// U = G g G^T per (output channel o, input channel c) and V = B^T d B per
// (input channel c, tile t), the sum over input channels at each of the 36
// transform positions xi is
//
//   M[xi][o][t] = sum_c U[xi][o][c] * V[xi][c][t]      -- 36 GEMMs [O, C] x [C, tiles]
//
// and Y[o][t] = A^T M[.][o][t] A. So the work is: transform the weights once
// (tiny), transform the input (a few adds per value), 36 GEMMs (most of the
// time), transform the output. That is 2.25x fewer multiplies than im2col +
// GEMM, in the same GEMM kernel.
//
// Layout. The transforms work on kLanes tiles at once (the GEMM's panel width,
// 16 with AVX2, 32 with AVX-512), tiles being the innermost (contiguous) index
// of V and M, so that each line of a transform is a few vector operations the
// compiler vectorises on its own. And the transforms write U and V straight
// in the layout the GEMM micro-kernel reads (gemm_f32.h's packed panels:
// U[xi] in panels of MR output channels, V[xi] in panels of kLanes tiles,
// channels inside), so the 36 GEMMs run without packing their operands.
//
// Threads: one OpenMP region. First the weight transform, split over output
// channels; then tasks of (sample, block of tiles, block of output channels),
// each doing its input transform, its 36 serial GEMMs and its output transform
// in a thread-local buffer. Output channels are split only when there are too
// few tile blocks to keep every thread busy (the deep, small VGG layers); the
// input transform is then repeated per channel block, which costs little next
// to the GEMMs.
#include "kernels/cpu/winograd.h"

#include <omp.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdlib>
#include <list>
#include <map>
#include <memory>
#include <mutex>

#include "kernels/cpu/gemm_f32.h"
#include "tensor/cpu_allocator.h"
#include "tensor/storage.h"
#include "tensor/tensor.h"

namespace sg::cpu {

namespace {

constexpr int kM = 4;                  // output tile side
constexpr int kAlpha = kM + 2;         // input patch side (m + r - 1)
constexpr int kPos = kAlpha * kAlpha;  // 36 transform positions
constexpr int kLanes = int(kGemmF32NR);  // tiles transformed together: one panel of the GEMM's B
constexpr int64_t kMR = kGemmF32MR;       // output channels per panel of the GEMM's A

// Tiles per task, T: about kTaskElements / C, so that one GEMM's right-hand
// side V[xi] (C x T floats, 128 KB) stays in L2; at least one group of
// kLanes. Measured on VGG-19 at 256^2 (one thread): 2^14, 2^15 and 2^16 are
// within 5% of each other, 2^15 the best.
constexpr int64_t kTaskElements = int64_t(1) << 15;

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// ---- the three transforms, on one row/column at a time ----
// Each works on kLanes independent values (one per tile) per entry: z[k] is a
// pointer to kLanes floats. The formulas are the matrices written out, so that
// no multiply by 0 or 1 is done.

// r = B^T z, B^T =
//   [4,  0, -5,  0, 1, 0]
//   [0, -4, -4,  1, 1, 0]
//   [0,  4, -4, -1, 1, 0]
//   [0, -2, -1,  2, 1, 0]
//   [0,  2, -1, -2, 1, 0]
//   [0,  4,  0, -5, 0, 1]
inline void input_line(const float* const z[kAlpha], float* const r[kAlpha]) {
#pragma omp simd
  for (int l = 0; l < kLanes; ++l) {
    const float z0 = z[0][l], z1 = z[1][l], z2 = z[2][l], z3 = z[3][l], z4 = z[4][l], z5 = z[5][l];
    r[0][l] = 4 * z0 - 5 * z2 + z4;
    r[1][l] = -4 * (z1 + z2) + z3 + z4;
    r[2][l] = 4 * (z1 - z2) - z3 + z4;
    r[3][l] = 2 * (z3 - z1) - z2 + z4;
    r[4][l] = 2 * (z1 - z3) - z2 + z4;
    r[5][l] = 4 * z1 - 5 * z3 + z5;
  }
}

// r = A^T z, A^T =
//   [1, 1,  1, 1,  1, 0]
//   [0, 1, -1, 2, -2, 0]
//   [0, 1,  1, 4,  4, 0]
//   [0, 1, -1, 8, -8, 1]
inline void output_line(const float* const z[kAlpha], float* const r[kM]) {
#pragma omp simd
  for (int l = 0; l < kLanes; ++l) {
    const float z0 = z[0][l], z1 = z[1][l], z2 = z[2][l], z3 = z[3][l], z4 = z[4][l], z5 = z[5][l];
    const float s12 = z1 + z2, d12 = z1 - z2, s34 = z3 + z4, d34 = z3 - z4;
    r[0][l] = z0 + s12 + s34;
    r[1][l] = d12 + 2 * d34;
    r[2][l] = s12 + 4 * s34;
    r[3][l] = d12 + 8 * d34 + z5;
  }
}

// u = G z for one kernel row or column (3 values), G =
//   [ 1/4,     0,    0]
//   [-1/6,  -1/6, -1/6]
//   [-1/6,   1/6, -1/6]
//   [1/24,  1/12,  1/6]
//   [1/24, -1/12,  1/6]
//   [   0,     0,    1]
// Here each entry is a run of n values, one per input channel: weights that
// are trained are transformed on every call (they change every optimiser
// step; frozen ones come from the cache), so this too must vectorise. In
// float: 1/6 and 1/24 round at 1e-7 relative, far below the transform's own
// error.
inline void kernel_line(const float* const z[3], float* const u[kAlpha], int64_t n) {
#pragma omp simd
  for (int64_t l = 0; l < n; ++l) {
    const float z0 = z[0][l], z1 = z[1][l], z2 = z[2][l];
    u[0][l] = z0 * (1.f / 4);
    u[1][l] = -(z0 + z1 + z2) * (1.f / 6);
    u[2][l] = -(z0 - z1 + z2) * (1.f / 6);
    u[3][l] = z0 * (1.f / 24) + z1 * (1.f / 12) + z2 * (1.f / 6);
    u[4][l] = z0 * (1.f / 24) - z1 * (1.f / 12) + z2 * (1.f / 6);
    u[5][l] = z2;
  }
}

// The geometry of one call.
struct Geometry {
  int64_t N, C, H, W, O, OH, OW, pad_h, pad_w;
  int64_t tiles_h, tiles_w, tiles;  // 4x4 output tiles per image
};

// U[xi] = (G g G^T)[xi] for every kernel g = weight[o, c] (or the flipped
// transpose, see winograd.h), for the kMR output channels of one panel p,
// written into the GEMM's packed layout: U[xi] is ceil(O / kMR) panels
// [C][kMR], so (o, c) lands at panel o / kMR, row c, column o % kMR. The
// panel's channels are transformed first (into `uk`, [kMR][36][C]) and then
// interleaved, so that U is written in order. `k`, `gk` and `uk` are scratch
// space of 9 C, 18 C and 36 kMR C floats.
void transform_weights(const float* weight, bool transposed, const Geometry& g, int64_t p, float* k, float* gk,
                       float* uk, float* U) {
  const int64_t C = g.C, rows = std::min(kMR, g.O - p * kMR);
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t o = p * kMR + r;
    // k[i][j][c] = g[i][j] for all c: channels innermost, for the vector loops.
    for (int64_t c = 0; c < C; ++c)
      for (int i = 0; i < 3; ++i)
        for (int j = 0; j < 3; ++j)
          k[(i * 3 + j) * C + c] =
              transposed ? weight[((c * g.O + o) * 3 + (2 - i)) * 3 + (2 - j)] : weight[((o * C + c) * 3 + i) * 3 + j];
    for (int j = 0; j < 3; ++j) {  // gk = G k: each column of k; gk[i][j][c], 6 x 3
      const float* z[3] = {k + (0 * 3 + j) * C, k + (1 * 3 + j) * C, k + (2 * 3 + j) * C};
      float* u[kAlpha];
      for (int i = 0; i < kAlpha; ++i) u[i] = gk + (i * 3 + j) * C;
      kernel_line(z, u, C);
    }
    for (int i = 0; i < kAlpha; ++i) {  // (G k) G^T: each row of gk, into uk[r][xi][c]
      const float* z[3] = {gk + (i * 3 + 0) * C, gk + (i * 3 + 1) * C, gk + (i * 3 + 2) * C};
      float* u[kAlpha];
      for (int j = 0; j < kAlpha; ++j) u[j] = uk + (r * kPos + i * kAlpha + j) * C;
      kernel_line(z, u, C);
    }
  }
  std::fill(uk + rows * kPos * C, uk + kMR * kPos * C, 0.f);  // rows past the last output channel
  const int64_t panels = ceil_div(g.O, kMR);
  for (int xi = 0; xi < kPos; ++xi) {
    const float* src[kMR];
    for (int64_t r = 0; r < kMR; ++r) src[r] = uk + (r * kPos + xi) * C;
    float* panel = U + (xi * panels + p) * C * kMR;
    for (int64_t c = 0; c < C; ++c, panel += kMR)
#pragma GCC unroll 8
      for (int64_t r = 0; r < kMR; ++r) panel[r] = src[r][c];
  }
}

// V[xi] = (B^T d B)[xi] for the patches d of tiles [t_begin, t_begin + T) of
// one image x [C, H, W] (T a multiple of kLanes; tiles past the image's are
// zero), in the GEMM's packed layout: V[xi] is T / kLanes panels [C][kLanes],
// so (c, tile t) lands at panel t / kLanes, row c, column t % kLanes.
void transform_input(const float* x, const Geometry& g, int64_t t_begin, int64_t T, float* V) {
  alignas(64) float d[kAlpha][kAlpha][kLanes];  // the patches, [row][column][tile]
  alignas(64) float e[kAlpha][kAlpha][kLanes];  // B^T d
  float strip[kAlpha][kM * kLanes + 2];           // see below
  for (int64_t c = 0; c < g.C; ++c) {
    const float* plane = x + c * g.H * g.W;
    for (int64_t t0 = 0; t0 < T; t0 += kLanes) {
      // Gather: the patch of tile (th, tw) starts at input pixel (4 th - pad_h, 4 tw - pad_w).
      const int64_t t_first = t_begin + t0, t_last = t_first + kLanes - 1;
      const int64_t h_first = t_first / g.tiles_w * kM - g.pad_h, w_first = t_first % g.tiles_w * kM - g.pad_w;
      if (t_last < g.tiles && t_first / g.tiles_w == t_last / g.tiles_w && h_first >= 0 && w_first >= 0 &&
          h_first + kAlpha <= g.H && w_first + kM * (kLanes - 1) + kAlpha <= g.W) {
        // The common case, away from the edges: kLanes tiles side by side in
        // one row of tiles, lane l reading 4 l pixels further along each row.
        for (int i = 0; i < kAlpha; ++i) {
          const float* row = plane + (h_first + i) * g.W + w_first;
          for (int j = 0; j < kAlpha; ++j)
#pragma omp simd
            for (int l = 0; l < kLanes; ++l) d[i][j][l] = row[kM * l + j];
        }
      } else {
        // Near an edge, or a group that spans two rows of tiles: each run of
        // lanes within one row of tiles is read through `strip`, a copy of its
        // six input rows with zeros in the padding, so that the reads above
        // need no bounds checks here either.
        for (int la = 0; la < kLanes;) {
          const int64_t t = t_first + la;
          if (t >= g.tiles) {  // past the last tile: zeros
            for (int i = 0; i < kAlpha; ++i)
              for (int j = 0; j < kAlpha; ++j) std::fill(d[i][j] + la, d[i][j] + kLanes, 0.f);
            break;
          }
          const int64_t th = t / g.tiles_w, tw = t % g.tiles_w;
          const int lb = int(std::min<int64_t>({kLanes, la + g.tiles_w - tw, la + g.tiles - t}));  // run [la, lb)
          const int64_t h0 = th * kM - g.pad_h, w0 = tw * kM - g.pad_w, width = kM * (lb - la) + 2;
          const int64_t w_lo = std::clamp<int64_t>(-w0, 0, width), w_hi = std::clamp<int64_t>(g.W - w0, w_lo, width);
          for (int i = 0; i < kAlpha; ++i) {
            float* s = strip[i];
            const int64_t h = h0 + i;
            if (h < 0 || h >= g.H) {
              std::fill(s, s + width, 0.f);
              continue;
            }
            std::fill(s, s + w_lo, 0.f);
            std::copy(plane + h * g.W + w0 + w_lo, plane + h * g.W + w0 + w_hi, s + w_lo);
            std::fill(s + w_hi, s + width, 0.f);
          }
          for (int i = 0; i < kAlpha; ++i)
            for (int j = 0; j < kAlpha; ++j)
              for (int l = la; l < lb; ++l) d[i][j][l] = strip[i][kM * (l - la) + j];
          la = lb;
        }
      }
      for (int j = 0; j < kAlpha; ++j) {  // B^T d: each column
        const float* z[kAlpha] = {d[0][j], d[1][j], d[2][j], d[3][j], d[4][j], d[5][j]};
        float* r[kAlpha] = {e[0][j], e[1][j], e[2][j], e[3][j], e[4][j], e[5][j]};
        input_line(z, r);
      }
      for (int i = 0; i < kAlpha; ++i) {  // (B^T d) B: each row, straight into V
        const float* z[kAlpha] = {e[i][0], e[i][1], e[i][2], e[i][3], e[i][4], e[i][5]};
        float* r[kAlpha];
        for (int j = 0; j < kAlpha; ++j) r[j] = V + (((i * kAlpha + j) * (T / kLanes) + t0 / kLanes) * g.C + c) * kLanes;
        input_line(z, r);
      }
    }
  }
}

// y[o_begin + o] tiles [t_begin, t_begin + T) = A^T M[.][o][t] A + bias, for
// M [36][Ob][T]; the parts of tiles that hang over the image edge are dropped.
void transform_output(const float* M, const float* bias, const Geometry& g, int64_t o_begin, int64_t Ob,
                      int64_t t_begin, int64_t T, float* y) {
  alignas(64) float e[kM][kAlpha][kLanes];  // A^T m
  alignas(64) float r[kM][kM][kLanes];      // A^T m A
  float strip[kM][kM * kLanes];             // see below
  for (int64_t o = 0; o < Ob; ++o) {
    const float b = bias ? bias[o_begin + o] : 0.f;
    float* plane = y + (o_begin + o) * g.OH * g.OW;
    for (int64_t t0 = 0; t0 < T; t0 += kLanes) {
      for (int j = 0; j < kAlpha; ++j) {  // A^T m: each column
        const float* z[kAlpha];
        for (int i = 0; i < kAlpha; ++i) z[i] = M + ((i * kAlpha + j) * Ob + o) * T + t0;
        float* out[kM] = {e[0][j], e[1][j], e[2][j], e[3][j]};
        output_line(z, out);
      }
      for (int i = 0; i < kM; ++i) {  // (A^T m) A: each row
        const float* z[kAlpha] = {e[i][0], e[i][1], e[i][2], e[i][3], e[i][4], e[i][5]};
        float* out[kM] = {r[i][0], r[i][1], r[i][2], r[i][3]};
        output_line(z, out);
      }
      // Scatter the tiles: each run of lanes within one row of tiles goes
      // through `strip`, its four output rows side by side, so that the
      // writes to y are contiguous copies clipped at the image's edge.
      for (int la = 0; la < kLanes;) {
        const int64_t t = t_begin + t0 + la;
        if (t >= g.tiles) break;
        const int64_t th = t / g.tiles_w, tw = t % g.tiles_w;
        const int lb = int(std::min<int64_t>({kLanes, la + g.tiles_w - tw, la + g.tiles - t}));  // run [la, lb)
        const int64_t h0 = th * kM, w0 = tw * kM;
        const int64_t rows = std::min<int64_t>(kM, g.OH - h0), cols = std::min<int64_t>(kM * (lb - la), g.OW - w0);
        for (int i = 0; i < kM; ++i)
          for (int j = 0; j < kM; ++j)
            for (int l = la; l < lb; ++l) strip[i][kM * (l - la) + j] = r[i][j][l] + b;
        for (int64_t i = 0; i < rows; ++i) std::copy(strip[i], strip[i] + cols, plane + (h0 + i) * g.OW + w0);
        la = lb;
      }
    }
  }
}

// Uninitialised float scratch from the CPU caching allocator (tensor/storage.h).
struct Buffer {
  float* data;
  size_t bytes;
  explicit Buffer(int64_t n) : data(static_cast<float*>(cpu_alloc(size_t(n) * sizeof(float), &bytes))) {}
  ~Buffer() { cpu_free(data, bytes); }
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
};

// ---- the weight-transform cache (winograd.h) ----

// What fixes a weight's values, but for the version: the storage's id, the
// view's offset, shape and strides, the dtype, and which kernel is read
// (conv2d's, or conv_transpose2d's flipped transpose).
using WeightKey = std::array<int64_t, 12>;

WeightKey key_of(const Tensor& w, bool transposed) {
  WeightKey k{};
  k[0] = int64_t(w.storage()->id), k[1] = w.offset(), k[10] = int64_t(w.dtype()), k[11] = transposed;
  for (int d = 0; d < 4; ++d) k[2 + d] = w.size(d), k[6 + d] = w.stride(d);
  return k;
}

class TransformCache {
 public:
  TransformCache() {
    const char* mb = std::getenv("STYLEGRAD_WINOGRAD_CACHE_MB");
    budget_ = (mb ? size_t(std::strtoull(mb, nullptr, 10)) : size_t(0)) << 20;
  }

  // The transform of `w` at `version`, or null (a miss).
  std::shared_ptr<const Buffer> find(const Tensor& w, bool transposed, uint64_t version) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = index_.find(key_of(w, transposed));
    if (it == index_.end() || it->second->version != version) {
      ++misses_;
      return nullptr;
    }
    ++hits_;
    entries_.splice(entries_.begin(), entries_, it->second);  // most recently used first
    return it->second->U;
  }

  // U, the transform of `w` as it was at `version`, if it fits.
  void insert(const Tensor& w, bool transposed, uint64_t version, std::shared_ptr<const Buffer> U) {
    std::lock_guard<std::mutex> lock(mutex_);
    const WeightKey key = key_of(w, transposed);
    auto it = index_.find(key);
    if (it != index_.end()) erase(it->second);  // an older version of the same weight
    // Entries of freed weights can never be hit again: their ids are not reused.
    for (auto e = entries_.begin(); e != entries_.end();) e = e->storage.expired() ? erase(e) : std::next(e);
    // A full cache keeps what it has rather than evicting the least recently
    // used entry: a network runs its layers in a cycle, and in a cycle larger
    // than the budget LRU would evict every entry just before its next use.
    if (bytes_ + U->bytes > budget_) return;
    entries_.push_front({key, version, w.storage(), U});
    index_[key] = entries_.begin();
    bytes_ += U->bytes;
  }

  // Shrinking evicts the least recently used entries.
  void set_budget(size_t bytes) {
    std::lock_guard<std::mutex> lock(mutex_);
    budget_ = bytes;
    while (bytes_ > budget_) erase(std::prev(entries_.end()));
  }

  void clear() {
    std::lock_guard<std::mutex> lock(mutex_);
    while (!entries_.empty()) erase(entries_.begin());
  }

  bool enabled() const { return budget_ > 0; }  // read without the lock: a stale answer only costs a miss

  WinogradCacheStats stats() {
    std::lock_guard<std::mutex> lock(mutex_);
    return {entries_.size(), bytes_, budget_, hits_, misses_};
  }

 private:
  struct Entry {
    WeightKey key;
    uint64_t version;
    std::weak_ptr<Storage> storage;
    std::shared_ptr<const Buffer> U;  // shared: a call still using an evicted entry keeps it alive
  };
  using Iter = std::list<Entry>::iterator;

  Iter erase(Iter e) {
    bytes_ -= e->U->bytes;
    index_.erase(e->key);
    return entries_.erase(e);
  }

  std::mutex mutex_;
  std::list<Entry> entries_;  // most recently used first
  std::map<WeightKey, Iter> index_;
  size_t bytes_ = 0;
  std::atomic<size_t> budget_{0};
  uint64_t hits_ = 0, misses_ = 0;
};

// Never destroyed: an entry's buffer goes back to the CPU allocator, which
// must still exist when it does.
TransformCache& transform_cache() {
  static TransformCache* cache = new TransformCache;
  return *cache;
}

std::atomic<WinogradMode>& mode_flag() {
  static std::atomic<WinogradMode> mode(
      std::getenv("STYLEGRAD_NO_WINOGRAD") && std::getenv("STYLEGRAD_NO_WINOGRAD")[0] != '0' ? WinogradMode::off
                                                                                         : WinogradMode::automatic);
  return mode;
}

}  // namespace

void set_winograd_mode(WinogradMode mode) { mode_flag() = mode; }
WinogradMode winograd_mode() { return mode_flag(); }

void set_winograd_cache_budget(size_t bytes) { transform_cache().set_budget(bytes); }
void clear_winograd_cache() { transform_cache().clear(); }
WinogradCacheStats winograd_cache_stats() { return transform_cache().stats(); }

void winograd_conv2d(const float* x, const float* weight, const float* bias, float* out, int64_t N, int64_t C,
                     int64_t H, int64_t W, int64_t O, int64_t pad_h, int64_t pad_w, bool weight_transposed,
                     const Tensor* cache_as) {
  Geometry g{N, C, H, W, O, H + 2 * pad_h - 2, W + 2 * pad_w - 2, pad_h, pad_w, 0, 0, 0};
  g.tiles_h = ceil_div(g.OH, kM), g.tiles_w = ceil_div(g.OW, kM), g.tiles = g.tiles_h * g.tiles_w;

  // Task sizes: T tiles (a multiple of kLanes), Ob output channels (a multiple of kMR).
  const int threads = omp_get_max_threads();
  const int64_t max_T = ceil_div(g.tiles, kLanes) * kLanes;
  const int64_t T = std::min(max_T, std::max<int64_t>(kLanes, kTaskElements / C / kLanes * kLanes));
  const int64_t tile_blocks = ceil_div(g.tiles, T);
  // Split the output channels only as far as needed for two tasks per thread,
  // keeping at least 32 channels per block for the GEMMs' sake.
  const int64_t o_split = std::clamp<int64_t>(ceil_div(2 * threads, N * tile_blocks), 1, std::max<int64_t>(1, O / 32));
  const int64_t Ob = ceil_div(ceil_div(O, o_split), kMR) * kMR, o_blocks = ceil_div(O, Ob);
  const int64_t tasks = N * tile_blocks * o_blocks;
  const int64_t panels = ceil_div(O, kMR);  // of U[xi]

  // U from the cache, or transformed now into a buffer from the caching
  // allocator: U is up to 38 MB (512 x 512 channels), and fresh pages on
  // every call would cost more than the weight transform itself.
  const bool cacheable = cache_as && transform_cache().enabled();
  const uint64_t version = cacheable ? cache_as->storage()->version() : 0;  // read once: U is of this one
  std::shared_ptr<const Buffer> U = cacheable ? transform_cache().find(*cache_as, weight_transposed, version) : nullptr;
  std::shared_ptr<Buffer> fresh = U ? nullptr : std::make_shared<Buffer>(kPos * panels * kMR * C);
  const float* U_data = U ? U->data : fresh->data;
#pragma omp parallel if (tasks > 1)
  {
    if (fresh) {
      Buffer k((27 + kPos * kMR) * C);  // transform_weights' scratch
#pragma omp for schedule(static)
      for (int64_t p = 0; p < panels; ++p)
        transform_weights(weight, weight_transposed, g, p, k.data, k.data + 9 * C, k.data + 27 * C, fresh->data);
      // (the implicit barrier: every task below needs all of U)
    }
    Buffer V(kPos * C * T), M(kPos * Ob * T);
#pragma omp for schedule(dynamic, 1)
    for (int64_t task = 0; task < tasks; ++task) {
      const int64_t n = task / (tile_blocks * o_blocks), tb = task / o_blocks % tile_blocks, ob = task % o_blocks;
      const int64_t t_begin = tb * T, o_begin = ob * Ob, o_count = std::min(Ob, O - o_begin);
      // This block's tiles, rounded up to whole groups of kLanes.
      const int64_t Tt = std::min(T, ceil_div(g.tiles - t_begin, kLanes) * kLanes);
      transform_input(x + n * C * H * W, g, t_begin, Tt, V.data);
      for (int xi = 0; xi < kPos; ++xi)  // M[xi] [o_count, Tt] = U[xi][o_begin..] [o_count, C] x V[xi] [C, Tt]
        gemm_f32_prepacked(o_count, Tt, C, U_data + (xi * panels + o_begin / kMR) * C * kMR, V.data + xi * C * Tt,
                           M.data + xi * o_count * Tt, Tt);
      transform_output(M.data, bias, g, o_begin, o_count, t_begin, Tt, out + n * O * g.OH * g.OW);
    }
  }
  if (cacheable && fresh) transform_cache().insert(*cache_as, weight_transposed, version, std::move(fresh));
}

}  // namespace sg::cpu
