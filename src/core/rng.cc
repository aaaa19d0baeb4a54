// The epoch order: a seeded Fisher-Yates shuffle.
#include "descent/rng.h"

namespace descent {

void EpochOrder(uint32_t* order, size_t n, uint64_t seed, uint64_t epoch, bool shuffle) {
  for (size_t i = 0; i < n; ++i) order[i] = static_cast<uint32_t>(i);
  if (!shuffle) return;
  Rng rng(seed, kStreamShuffle, epoch);
  for (size_t i = n; i > 1; --i) {
    const uint32_t j = rng.Below(static_cast<uint32_t>(i));
    const uint32_t t = order[i - 1];
    order[i - 1] = order[j];
    order[j] = t;
  }
}

}  // namespace descent
