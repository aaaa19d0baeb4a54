// The double-precision scalar math of the optimizers' per-step constants
// (bias corrections, NAdam's momentum schedule), written out so the results do
// not depend on the platform's libm. Accurate to well under one double ulp, so
// after the single rounding to float they agree with torch's libm pow().
#ifndef DESCENT_SRC_CORE_DOUBLE_MATH_H_
#define DESCENT_SRC_CORE_DOUBLE_MATH_H_

#include <stdint.h>

#include <cmath>

namespace descent {
namespace internal {

// Double-double product (hi + lo holds ~106 bits), from exact fma residuals.
struct DoubleDouble {
  double hi, lo;
};
inline DoubleDouble Mul(DoubleDouble a, DoubleDouble b) {
  const double p = a.hi * b.hi;
  double e = std::fma(a.hi, b.hi, -p);
  e = std::fma(a.hi, b.lo, e);
  e = std::fma(a.lo, b.hi, e);
  const double hi = p + e;
  return {hi, e - (hi - p)};
}

// x^n by squaring in double-double: correctly rounded but for near-ties.
inline double PowInt(double x, uint64_t n) {
  DoubleDouble result{1.0, 0.0}, base{x, 0.0};
  for (; n != 0; n >>= 1) {
    if (n & 1) result = Mul(result, base);
    base = Mul(base, base);
  }
  return result.hi + result.lo;
}

// e^x for |x| < 700: x = k ln2 + r, |r| <= ln2/2, Taylor series of e^r to r^14.
inline double Exp(double x) {
  constexpr double kLn2Hi = 0x1.62e42fee00000p-1;  // trailing zeros: k*kLn2Hi is exact
  constexpr double kLn2Lo = 0x1.a39ef35793c76p-33;
  const double k = std::nearbyint(x * 0x1.71547652b82fep0);
  const double r = std::fma(-k, kLn2Lo, std::fma(-k, kLn2Hi, x));
  constexpr double kInvFactorial[15] = {
      1.0, 1.0, 1.0 / 2, 1.0 / 6, 1.0 / 24, 1.0 / 120, 1.0 / 720, 1.0 / 5040, 1.0 / 40320,
      1.0 / 362880, 1.0 / 3628800, 1.0 / 39916800, 1.0 / 479001600, 1.0 / 6227020800,
      1.0 / 87178291200};
  double tail = kInvFactorial[14];
  for (int i = 13; i >= 2; --i) tail = std::fma(tail, r, kInvFactorial[i]);
  const double er = 1.0 + std::fma(tail, r * r, r);
  return std::ldexp(er, static_cast<int>(k));
}

// 0.96^y, the base torch's NAdam momentum schedule fixes.
inline double Pow096(double y) { return Exp(y * -0x1.4e69ed6d80eb3p-5); }

}  // namespace internal
}  // namespace descent

#endif  // DESCENT_SRC_CORE_DOUBLE_MATH_H_
