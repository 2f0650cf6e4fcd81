#include "tensor/shape.h"

#include "tensor/error.h"

namespace sg {

Dims::Dims(std::initializer_list<int64_t> v) {
  SG_CHECK(v.size() <= size_t(kMaxDims), "tensors have at most ", kMaxDims, " dims, got ", v.size());
  for (int64_t x : v) d_[n_++] = x;
}

Dims::Dims(const std::vector<int64_t>& v) {
  SG_CHECK(v.size() <= size_t(kMaxDims), "tensors have at most ", kMaxDims, " dims, got ", v.size());
  for (int64_t x : v) d_[n_++] = x;
}

Dims Dims::filled(int n, int64_t value) {
  Dims d;
  for (int i = 0; i < n; ++i) d.push_back(value);
  return d;
}

void Dims::push_back(int64_t v) {
  SG_CHECK(n_ < kMaxDims, "tensors have at most ", kMaxDims, " dims");
  d_[n_++] = v;
}

void Dims::insert(int pos, int64_t v) {
  SG_CHECK(n_ < kMaxDims, "tensors have at most ", kMaxDims, " dims");
  for (int i = n_; i > pos; --i) d_[i] = d_[i - 1];
  d_[pos] = v;
  ++n_;
}

void Dims::erase(int pos) {
  for (int i = pos; i + 1 < n_; ++i) d_[i] = d_[i + 1];
  --n_;
}

int64_t Dims::numel() const {
  int64_t n = 1;
  for (int i = 0; i < n_; ++i) n *= d_[i];
  return n;
}

std::string Dims::str() const {
  std::string s = "[";
  for (int i = 0; i < n_; ++i) s += (i ? ", " : "") + std::to_string(d_[i]);
  return s + "]";
}

bool Dims::operator==(const Dims& o) const {
  if (n_ != o.n_) return false;
  for (int i = 0; i < n_; ++i)
    if (d_[i] != o.d_[i]) return false;
  return true;
}

Strides contiguous_strides(const Shape& shape) {
  Strides s = Dims::filled(shape.size(), 1);
  for (int i = shape.size() - 2; i >= 0; --i) s[i] = s[i + 1] * std::max<int64_t>(shape[i + 1], 1);
  return s;
}

Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op) {
  const int n = std::max(a.size(), b.size());
  Shape out = Dims::filled(n, 1);
  for (int i = 0; i < n; ++i) {
    const int ia = a.size() - n + i, ib = b.size() - n + i;
    const int64_t da = ia >= 0 ? a[ia] : 1, db = ib >= 0 ? b[ib] : 1;
    SG_CHECK(da == db || da == 1 || db == 1, op, ": shapes ", a.str(), " and ", b.str(),
             " do not broadcast");
    out[i] = da == 1 ? db : da;
  }
  return out;
}

int wrap_dim(int64_t dim, int ndim, const char* op) {
  const int64_t n = std::max(ndim, 1);
  SG_CHECK(dim >= -n && dim < n, op, ": dim ", dim, " out of range for a tensor with ", ndim, " dims");
  return int(dim < 0 ? dim + n : dim);
}

}  // namespace sg
