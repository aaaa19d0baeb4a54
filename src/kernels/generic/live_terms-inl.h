// Zero-skipping for the matrix products of sparse inputs (pixels: ~80 % of
// MNIST is 0). A term a*b with a == 0 cannot change a sum acc = fma(a, b, acc)
// as long as b is finite: acc starts at +0 and is never -0, so acc + (+-0) == acc.
// Parameters are checked finite after every step (src/core/mlp.cc), so skipping
// gives exactly the bits of the dense loop, on every backend.
//
// Part of the generic layer (generic/kernels-inl.h): every instruction set gets its own copy.

// The reduction indices k < K at which any of `rows` rows of
// A(m, k) = a[m*a_m + k*a_k] is non-zero, in increasing order. Branch-free;
// the magnitude bits are tested as integers (+0 and -0 are dead, NaN and
// subnormals live), two floats per 64-bit load where they are adjacent.
inline size_t LiveTerms(const float* a, size_t a_m, size_t a_k, size_t rows, size_t K, uint16_t* live) {
  constexpr uint64_t kMagnitudes = 0x7FFFFFFF7FFFFFFFull;
  size_t n = 0, k = 0;
  if (a_k == 1) {  // k runs along rows: test k and k + 1 together
    for (; k + 2 <= K; k += 2) {
      uint64_t any = 0;
      for (size_t r = 0; r < rows; ++r) {
        uint64_t bits;
        memcpy(&bits, a + r * a_m + k, 8);
        any |= bits;
      }
      any &= kMagnitudes;
      live[n] = static_cast<uint16_t>(k);
      n += static_cast<uint32_t>(any) != 0;
      live[n] = static_cast<uint16_t>(k + 1);
      n += (any >> 32) != 0;
    }
  } else if (a_m == 1 && rows % 2 == 0) {  // the rows are adjacent: test them in pairs
    for (; k < K; ++k) {
      uint64_t any = 0;
      for (size_t r = 0; r < rows; r += 2) {
        uint64_t bits;
        memcpy(&bits, a + r + k * a_k, 8);
        any |= bits;
      }
      live[n] = static_cast<uint16_t>(k);
      n += (any & kMagnitudes) != 0;
    }
  }
  for (; k < K; ++k) {
    uint32_t any = 0;
    for (size_t r = 0; r < rows; ++r) {
      uint32_t bits;
      memcpy(&bits, a + r * a_m + k * a_k, 4);
      any |= bits;
    }
    live[n] = static_cast<uint16_t>(k);
    n += (any & 0x7FFFFFFFu) != 0;
  }
  return n;
}

// Longer sums are not skipped (the list lives on the stack).
inline constexpr size_t kMaxLiveTerms = 4096;

