// Zero-skipping for the matrix products of sparse inputs (pixels: ~80 % of
// MNIST is 0). A term a*b with a == 0 cannot change a sum acc = fma(a, b, acc)
// as long as b is finite: acc starts at +0 and is never -0, so acc + (+-0) == acc.
// Parameters are checked finite after every step (src/core/passes.h: CheckModel), so skipping
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

// A row's non-zeros as bits, for sums of up to kMaxBitTerms terms (64 rows' bits
// are kept on the stack): bit k % 64 of bits[k / 64] is set where a[k] != 0.
inline constexpr size_t kMaxBitTerms = 1024, kBitWords = kMaxBitTerms / 64;
template <class O>
inline void NonzeroRow(const float* a, size_t K, uint64_t* bits) {
  const size_t N = O::Lanes();  // a power of two <= 64: vectors never straddle a word
  for (size_t w = 0; w * 64 < K; ++w) {
    const size_t end = K < 64 * w + 64 ? K : 64 * w + 64;
    uint64_t word = 0;  // in a register: no store-to-load chain through bits[w]
    size_t k = 64 * w;
    for (; k + N <= end; k += N) word |= O::NonzeroBits(a + k) << (k % 64);
    for (; k < end; ++k) word |= ScalarOps::NonzeroBits(a + k) << (k % 64);
    bits[w] = word;
  }
}

// In place: afterwards bit c of a[r] is what bit r of a[c] was.
inline void TransposeBits64(uint64_t* a) {
  uint64_t mask = 0x00000000FFFFFFFFull;
  for (unsigned j = 32; j != 0; j >>= 1, mask ^= mask << j)
    for (unsigned k = 0; k < 64; k = ((k | j) + 1) & ~j) {
      const uint64_t t = ((a[k] >> j) ^ a[k | j]) & mask;
      a[k] ^= t << j;
      a[k | j] ^= t;
    }
}

// NonzeroRow for rows r < n <= 64 of A(r, k) = a[r + k*a_k], whose columns are
// contiguous: each column is read as one word of n bits, and each 64 x 64 block
// of those words is transposed into 64-term words of the rows.
template <class O>
inline void NonzeroColumns(const float* a, size_t a_k, size_t n, size_t K, uint64_t* bits, size_t words) {
  const size_t N = O::Lanes();
  for (size_t w = 0; w < words; ++w) {
    uint64_t block[64];
    for (size_t j = 0; j < 64; ++j) {
      const size_t k = 64 * w + j;
      uint64_t column = 0;
      if (k < K) {
        size_t r = 0;
        for (; r + N <= n; r += N) column |= O::NonzeroBits(a + r + k * a_k) << r;
        for (; r < n; ++r) column |= ScalarOps::NonzeroBits(a + r + k * a_k) << r;
      }
      block[j] = column;
    }
    TransposeBits64(block);
    for (size_t r = 0; r < n; ++r) bits[r * words + w] = block[r];
  }
}

// The set bits of words [0, words) as increasing indices; returns how many.
inline size_t BitsToTerms(const uint64_t* bits, size_t words, uint16_t* live) {
  size_t n = 0;
  for (size_t w = 0; w < words; ++w)
    for (uint64_t x = bits[w]; x != 0; x &= x - 1) live[n++] = static_cast<uint16_t>(64 * w + __builtin_ctzll(x));
  return n;
}

