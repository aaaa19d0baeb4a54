// Our own seeded PRNG and the two mappings results depend on (uniform floats,
// shuffles). Never std::*_distribution: those differ between standard libraries.
#ifndef DESCENT_RNG_H_
#define DESCENT_RNG_H_

#include <stddef.h>
#include <stdint.h>

namespace descent {

// SplitMix64 (Steele, Lea, Flood 2014): 64-bit state, passes BigCrush, and a
// state is just a counter, so independent streams are cheap to derive.
class Rng {
 public:
  constexpr explicit Rng(uint64_t seed) : state_(seed) {}
  // A stream for (seed, purpose, index), e.g. the shuffle of epoch 3.
  constexpr Rng(uint64_t seed, uint64_t purpose, uint64_t index)
      : state_(Mix(Mix(seed ^ 0x6A09E667F3BCC909ull) + purpose * 0x9E3779B97F4A7C15ull + index)) {}

  constexpr uint64_t Next() {
    state_ += 0x9E3779B97F4A7C15ull;
    return Mix(state_);
  }
  // Uniform in [0, 1) on the 2^-24 grid: exact in float.
  constexpr float Uniform01() { return static_cast<float>(Next() >> 40) * (1.0f / 16777216.0f); }
  // Uniform integer in [0, n), unbiased (Lemire 2019, 32-bit with rejection).
  constexpr uint32_t Below(uint32_t n) {
    uint64_t m = (Next() >> 32) * n;
    if (static_cast<uint32_t>(m) < n) {
      const uint32_t threshold = (0u - n) % n;
      while (static_cast<uint32_t>(m) < threshold) m = (Next() >> 32) * n;
    }
    return static_cast<uint32_t>(m >> 32);
  }
  constexpr uint64_t state() const { return state_; }
  // Skips the next n numbers (the state is a counter): element k of a stream, directly.
  constexpr void Discard(uint64_t n) { state_ += n * 0x9E3779B97F4A7C15ull; }

 private:
  static constexpr uint64_t Mix(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  uint64_t state_;
};

// Purposes of the derived streams, so init and shuffles never share numbers.
inline constexpr uint64_t kStreamInit = 1;
inline constexpr uint64_t kStreamShuffle = 2;
inline constexpr uint64_t kStreamValidation = 3;  // the CLI's --validation-split
inline constexpr uint64_t kStreamDropout = 4;     // dropout's masks, per (step, layer)

// Fills order[0..n) with the sample order of `epoch`: a Fisher-Yates shuffle
// from the stream (seed, shuffle, epoch), or 0..n-1 when shuffle is false.
void EpochOrder(uint32_t* order, size_t n, uint64_t seed, uint64_t epoch, bool shuffle);

}  // namespace descent

#endif  // DESCENT_RNG_H_
