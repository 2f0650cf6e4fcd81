#include "tensor/random.h"

#include <cmath>
#include <cstring>

#include "tensor/error.h"

namespace sg {

static uint64_t splitmix64(uint64_t& x) {
  uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

void Generator::manual_seed(uint64_t seed) {
  uint64_t x = seed;
  for (auto& s : s_) s = splitmix64(x);
  has_spare_ = false;
}

uint64_t Generator::next_u64() {
  const uint64_t result = rotl(s_[1] * 5, 7) * 9;
  const uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

double Generator::uniform() { return double(next_u64() >> 11) * (1.0 / 9007199254740992.0); }

double Generator::normal() {
  if (has_spare_) {
    has_spare_ = false;
    return spare_;
  }
  double u1 = uniform(), u2 = uniform();
  if (u1 < 1e-300) u1 = 1e-300;
  const double r = std::sqrt(-2.0 * std::log(u1));
  const double theta = 2.0 * M_PI * u2;
  spare_ = r * std::sin(theta);
  has_spare_ = true;
  return r * std::cos(theta);
}

bool GeneratorState::operator==(const GeneratorState& o) const {
  // spare is compared bit for bit (and only when it will be used).
  return s[0] == o.s[0] && s[1] == o.s[1] && s[2] == o.s[2] && s[3] == o.s[3] && has_spare == o.has_spare &&
         (!has_spare || std::memcmp(&spare, &o.spare, sizeof spare) == 0);
}

GeneratorState Generator::state() const {
  GeneratorState st;
  for (int i = 0; i < 4; ++i) st.s[i] = s_[i];
  st.has_spare = has_spare_;
  st.spare = spare_;
  return st;
}

void Generator::set_state(const GeneratorState& st) {
  SG_CHECK(st.s[0] | st.s[1] | st.s[2] | st.s[3], "Generator::set_state: the xoshiro256** state is all zeros");
  for (int i = 0; i < 4; ++i) s_[i] = st.s[i];
  has_spare_ = st.has_spare;
  spare_ = st.spare;
}

Generator& default_generator() {
  static Generator gen(0);
  return gen;
}

void manual_seed(uint64_t seed) { default_generator().manual_seed(seed); }

}  // namespace sg
