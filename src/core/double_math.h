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

// ln x for finite x > 0: Newton's iteration y <- y - 1 + x e^-y from the binary exponent.
inline double Log(double x) {
  int e = 0;
  const double m = std::frexp(x, &e);  // x = m 2^e, m in [0.5, 1): exact, no rounding
  double y = e * 0x1.62e42fefa39efp-1 + (m - 1.0);
  for (int i = 0; i < 6; ++i) y = y - 1.0 + x * Exp(-y);
  return y;
}

// 0.96^y, the base torch's NAdam momentum schedule fixes.
inline double Pow096(double y) { return Exp(y * -0x1.4e69ed6d80eb3p-5); }

// cos x for |x| < 2^20: x = k pi/2 + r with pi/2 in three parts (Cody-Waite), |r| <= pi/4,
// then the Taylor series of cos r or sin r to r^20. Within about one double ulp of libm's.
inline double Cos(double x) {
  constexpr double kPiOver2[3] = {0x1.921fb54442d18p0, 0x1.1a62633145c07p-54, -0x1.f1976b7ed8fbcp-110};
  const double k = std::nearbyint(x * 0x1.45f306dc9c883p-1);  // x * 2/pi
  double r = std::fma(-k, kPiOver2[0], x);
  r = std::fma(-k, kPiOver2[1], r);
  r = std::fma(-k, kPiOver2[2], r);
  const double r2 = r * r;
  // Horner forms of the series: cos r = 1 - r^2/(1*2) (1 - r^2/(3*4) (1 - ...)),
  // sin r = r (1 - r^2/(2*3) (1 - r^2/(4*5) (1 - ...))).
  double c = 1.0, s = 1.0;
  for (int n = 10; n >= 1; --n) {
    c = 1.0 - r2 * c / ((2.0 * n - 1.0) * (2.0 * n));
    s = 1.0 - r2 * s / ((2.0 * n) * (2.0 * n + 1.0));
  }
  const double cos_r = c, sin_r = r * s;
  switch (static_cast<int64_t>(k) & 3) {
    case 0: return cos_r;
    case 1: return -sin_r;
    case 2: return -cos_r;
    default: return sin_r;
  }
}

}  // namespace internal
}  // namespace descent

#endif  // DESCENT_SRC_CORE_DOUBLE_MATH_H_
