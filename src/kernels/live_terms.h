// Zero-skipping for the matrix products of sparse inputs (pixels: ~80 % of
// MNIST is 0). A term a*b with a == 0 cannot change a sum acc = fma(a, b, acc)
// as long as b is finite: acc starts at +0 and is never -0, so acc + (+-0) == acc.
// Parameters are checked finite after every step (src/core/mlp.cc), so skipping
// gives exactly the bits of the dense loop, on every backend.
#ifndef DESCENT_SRC_KERNELS_LIVE_TERMS_H_
#define DESCENT_SRC_KERNELS_LIVE_TERMS_H_

#include <stddef.h>
#include <stdint.h>
#include <string.h>

namespace descent {
namespace kernels {

// The reduction indices k < K at which any of `rows` rows of
// A(m, k) = a[m*a_m + k*a_k] is non-zero, in increasing order. Branch-free.
inline size_t LiveTerms(const float* a, size_t a_m, size_t a_k, size_t rows, size_t K, uint16_t* live) {
  size_t n = 0;
  for (size_t k = 0; k < K; ++k) {
    // Integer test of the magnitude bits: +0 and -0 are dead, NaN and subnormals live.
    uint32_t any = 0;
    for (size_t r = 0; r < rows; ++r) {
      uint32_t bits;
      memcpy(&bits, &a[r * a_m + k * a_k], 4);
      any |= bits;
    }
    live[n] = static_cast<uint16_t>(k);
    n += (any & 0x7FFFFFFFu) != 0;
  }
  return n;
}
// Longer sums are not skipped (the list lives on the stack).
inline constexpr size_t kMaxLiveTerms = 4096;

}  // namespace kernels
}  // namespace descent

#endif  // DESCENT_SRC_KERNELS_LIVE_TERMS_H_
