// exp and log for float from IEEE add/mul/fma only, so every backend can
// replay the same operations and get the same bits (libm's expf/logf differ
// between libraries and versions). The SIMD backends mirror these line by line.
#ifndef DESCENT_SRC_KERNELS_SCALAR_MATH_H_
#define DESCENT_SRC_KERNELS_SCALAR_MATH_H_

#include <stdint.h>
#include <string.h>

#include <cmath>
#include <limits>

// The scalar loops' hardware FMA. x86-64's baseline has none, so std::fma is a libm call there
// (exactly rounded, slow); functions marked with this get a second copy compiled for FMA
// hardware, chosen when the program is loaded. The bits are the same either way: fma rounds
// once. (AArch64 and the Cortex-M7's FPU have it in their baseline.) GCC only: clang names the
// clones of an out-of-class member definition so that other files' calls miss them. Not in
// sanitizer builds: the loader runs the clones' resolver before the sanitizer's runtime exists,
// and ThreadSanitizer's instrumentation of it crashes.
#if defined(__x86_64__) && defined(__ELF__) && defined(__GNUC__) && !defined(__clang__) && \
    !defined(__SANITIZE_THREAD__) && !defined(__SANITIZE_ADDRESS__)
#define DESCENT_FMA_CLONES __attribute__((target_clones("fma", "default")))
#else
#define DESCENT_FMA_CLONES
#endif

namespace descent {
namespace math {

inline float BitsToFloat(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }
inline uint32_t FloatToBits(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }

// Constants shared with the SIMD versions.
//
// exp(x) = 2^n * exp(r), n = round(x / ln2), r = x - n*ln2 in [-ln2/2, ln2/2].
// ln2 is split (Cody-Waite) so n*kLn2Hi is exact; exp(r) = 1 + r + r^2 P(r)
// with Cephes' minimax P (relative error ~1 ulp). Inputs are clamped so 2^n is
// a normal float; below kExpMin the result is 0 (no subnormals).
inline constexpr float kExpMin = -87.33654f;
inline constexpr float kExpMax = 88.37626f;
inline constexpr float kLog2e = 1.44269504088896341f;
inline constexpr float kRoundMagic = 12582912.0f;  // 1.5 * 2^23: adding it rounds to an integer
inline constexpr float kLn2Hi = 0.693359375f;
inline constexpr float kLn2Lo = -2.12194440e-4f;
inline constexpr float kExpP0 = 1.9875691500e-4f, kExpP1 = 1.3981999507e-3f,
                       kExpP2 = 8.3334519073e-3f, kExpP3 = 4.1665795894e-2f,
                       kExpP4 = 1.6666665459e-1f, kExpP5 = 5.0000001201e-1f;

inline float Exp(float x) {
  const bool underflow = x < kExpMin;
  x = x > kExpMax ? kExpMax : x;  // NaN passes through both comparisons
  x = x < kExpMin ? kExpMin : x;
  const float n = std::fma(x, kLog2e, kRoundMagic) - kRoundMagic;
  float r = std::fma(n, -kLn2Hi, x);
  r = std::fma(n, -kLn2Lo, r);
  float p = std::fma(kExpP0, r, kExpP1);
  p = std::fma(p, r, kExpP2);
  p = std::fma(p, r, kExpP3);
  p = std::fma(p, r, kExpP4);
  p = std::fma(p, r, kExpP5);
  const float y = std::fma(p, r * r, r) + 1.0f;
  // 2^n from the exponent field; n is in [-126, 127] after clamping.
  const float scale = BitsToFloat(static_cast<uint32_t>(static_cast<int32_t>(n) + 127) << 23);
  return underflow ? 0.0f : y * scale;
}

// log(x) = e*ln2 + log(m), m in [sqrt(1/2), sqrt(2)); log(1+f) = f - f^2/2 + f^3 Q(f)
// with Cephes' minimax Q. Exact for the special cases: log(0) = -inf,
// log(x<0) = NaN, log(inf) = inf, log(NaN) = NaN. Subnormal inputs are not
// supported (they never reach it: it only sees sums that are >= 1).
inline constexpr float kSqrtHalf = 0.707106781186547524f;
inline constexpr float kLogQ0 = 7.0376836292e-2f, kLogQ1 = -1.1514610310e-1f,
                       kLogQ2 = 1.1676998740e-1f, kLogQ3 = -1.2420140846e-1f,
                       kLogQ4 = 1.4249322787e-1f, kLogQ5 = -1.6668057665e-1f,
                       kLogQ6 = 2.0000714765e-1f, kLogQ7 = -2.4999993993e-1f,
                       kLogQ8 = 3.3333331174e-1f;

inline float Log(float x) {
  const uint32_t bits = FloatToBits(x);
  // Exponent with the mantissa mapped into [0.5, 1).
  float e = static_cast<float>(static_cast<int32_t>(bits >> 23) - 126);
  float m = BitsToFloat((bits & 0x007FFFFFu) | 0x3F000000u);
  const bool small = m < kSqrtHalf;
  e = small ? e - 1.0f : e;
  const float f = small ? (m + m) - 1.0f : m - 1.0f;
  const float z = f * f;
  float q = std::fma(kLogQ0, f, kLogQ1);
  q = std::fma(q, f, kLogQ2);
  q = std::fma(q, f, kLogQ3);
  q = std::fma(q, f, kLogQ4);
  q = std::fma(q, f, kLogQ5);
  q = std::fma(q, f, kLogQ6);
  q = std::fma(q, f, kLogQ7);
  q = std::fma(q, f, kLogQ8);
  float y = (q * f) * z;
  y = std::fma(e, kLn2Lo, y);
  y = std::fma(-0.5f, z, y);
  float result = f + y;
  result = std::fma(e, kLn2Hi, result);
  // Special cases last, as selects (the SIMD versions do the same).
  result = x == std::numeric_limits<float>::infinity() ? x : result;
  result = x == 0.0f ? -std::numeric_limits<float>::infinity() : result;
  result = (x < 0.0f || x != x) ? std::numeric_limits<float>::quiet_NaN() : result;
  return result;
}

}  // namespace math
}  // namespace descent

#endif  // DESCENT_SRC_KERNELS_SCALAR_MATH_H_
