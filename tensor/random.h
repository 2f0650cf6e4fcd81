// Seeded random numbers, so that every run (weights init, dropout masks,
// gradcheck inputs) is reproducible from one integer. xoshiro256** seeded by
// splitmix64; normals by Box-Muller.
#pragma once
#include <cstdint>

namespace sg {

// Everything a Generator's future output depends on: save it and set it back
// to continue the same sequence (checkpoints).
struct GeneratorState {
  uint64_t s[4] = {0, 0, 0, 0};  // xoshiro256**
  bool has_spare = false;        // normal() keeps Box-Muller's second value ...
  double spare = 0;              // ... for its next call
  bool operator==(const GeneratorState& o) const;
  bool operator!=(const GeneratorState& o) const { return !(*this == o); }
};

class Generator {
 public:
  explicit Generator(uint64_t seed = 0) { manual_seed(seed); }
  void manual_seed(uint64_t seed);
  uint64_t next_u64();
  double uniform();  // [0, 1)
  double normal();   // N(0, 1)

  GeneratorState state() const;
  // Refuses an all-zero xoshiro state (the generator would return only zeros).
  void set_state(const GeneratorState& st);

 private:
  uint64_t s_[4];
  bool has_spare_ = false;
  double spare_ = 0;
};

// Process-wide generator used when an op is not given one.
Generator& default_generator();
void manual_seed(uint64_t seed);

}  // namespace sg
