// Seeded random numbers, so that every run (weights init, dropout masks,
// gradcheck inputs) is reproducible from one integer. xoshiro256** seeded by
// splitmix64; normals by Box-Muller.
#pragma once
#include <cstdint>

namespace sg {

class Generator {
 public:
  explicit Generator(uint64_t seed = 0) { manual_seed(seed); }
  void manual_seed(uint64_t seed);
  uint64_t next_u64();
  double uniform();  // [0, 1)
  double normal();   // N(0, 1)

 private:
  uint64_t s_[4];
  bool has_spare_ = false;
  double spare_ = 0;
};

// Process-wide generator used when an op is not given one.
Generator& default_generator();
void manual_seed(uint64_t seed);

}  // namespace sg
