// Per-target vector helpers shared by the Highway kernels: an exactly rounded
// fused multiply-add on every target, and exp/log replaying the scalar
// reference (src/kernels/scalar_math.h) operation for operation.

// Toggle guard: this file is re-included once per target by foreach_target.
#if defined(DESCENT_KERNELS_VECTOR_MATH_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef DESCENT_KERNELS_VECTOR_MATH_INL_H_
#undef DESCENT_KERNELS_VECTOR_MATH_INL_H_
#else
#define DESCENT_KERNELS_VECTOR_MATH_INL_H_
#endif

#include <cmath>

#include "hwy/highway.h"
#include "src/kernels/scalar_math.h"

HWY_BEFORE_NAMESPACE();
namespace descent {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// a*b + c rounded once. Targets with FMA hardware use it; the others (SSE4,
// EMU128, SCALAR) would otherwise round twice, so they call the exactly
// rounded std::fma per lane: slow, but the same bits as every other target.
template <class D, class V = hn::Vec<D>>
HWY_INLINE V Fma(D d, V a, V b, V c) {
#if HWY_NATIVE_FMA
  (void)d;
  return hn::MulAdd(a, b, c);
#else
  HWY_ALIGN float va[hn::MaxLanes(d)], vb[hn::MaxLanes(d)], vc[hn::MaxLanes(d)];
  hn::Store(a, d, va);
  hn::Store(b, d, vb);
  hn::Store(c, d, vc);
  for (size_t i = 0; i < hn::Lanes(d); ++i) vc[i] = std::fma(va[i], vb[i], vc[i]);
  return hn::Load(d, vc);
#endif
}

// x > y ? x : y, with the scalar code's NaN behaviour (hn::Max differs per target).
template <class V>
HWY_INLINE V Greater(V x, V y) { return hn::IfThenElse(hn::Gt(x, y), x, y); }

template <class D, class V = hn::Vec<D>>
HWY_INLINE V Exp(D d, V x) {
  namespace m = descent::math;
  const hn::RebindToSigned<D> di;
  const auto underflow = hn::Lt(x, hn::Set(d, m::kExpMin));
  x = hn::IfThenElse(hn::Gt(x, hn::Set(d, m::kExpMax)), hn::Set(d, m::kExpMax), x);
  x = hn::IfThenElse(hn::Lt(x, hn::Set(d, m::kExpMin)), hn::Set(d, m::kExpMin), x);
  const V magic = hn::Set(d, m::kRoundMagic);
  const V n = hn::Sub(Fma(d, x, hn::Set(d, m::kLog2e), magic), magic);
  V r = Fma(d, n, hn::Set(d, -m::kLn2Hi), x);
  r = Fma(d, n, hn::Set(d, -m::kLn2Lo), r);
  V p = Fma(d, hn::Set(d, m::kExpP0), r, hn::Set(d, m::kExpP1));
  p = Fma(d, p, r, hn::Set(d, m::kExpP2));
  p = Fma(d, p, r, hn::Set(d, m::kExpP3));
  p = Fma(d, p, r, hn::Set(d, m::kExpP4));
  p = Fma(d, p, r, hn::Set(d, m::kExpP5));
  const V y = hn::Add(Fma(d, p, hn::Mul(r, r), r), hn::Set(d, 1.0f));
  const auto bits = hn::ShiftLeft<23>(hn::Add(hn::ConvertTo(di, n), hn::Set(di, 127)));
  return hn::IfThenZeroElse(underflow, hn::Mul(y, hn::BitCast(d, bits)));
}

template <class D, class V = hn::Vec<D>>
HWY_INLINE V Log(D d, V x) {
  namespace m = descent::math;
  const hn::RebindToSigned<D> di;
  const hn::RebindToUnsigned<D> du;
  const auto bits = hn::BitCast(du, x);
  V e = hn::ConvertTo(d, hn::Sub(hn::BitCast(di, hn::ShiftRight<23>(bits)), hn::Set(di, 126)));
  const V mant = hn::BitCast(d, hn::Or(hn::And(bits, hn::Set(du, 0x007FFFFFu)), hn::Set(du, 0x3F000000u)));
  const auto small = hn::Lt(mant, hn::Set(d, m::kSqrtHalf));
  const V one = hn::Set(d, 1.0f);
  e = hn::IfThenElse(small, hn::Sub(e, one), e);
  const V f = hn::IfThenElse(small, hn::Sub(hn::Add(mant, mant), one), hn::Sub(mant, one));
  const V z = hn::Mul(f, f);
  V q = Fma(d, hn::Set(d, m::kLogQ0), f, hn::Set(d, m::kLogQ1));
  q = Fma(d, q, f, hn::Set(d, m::kLogQ2));
  q = Fma(d, q, f, hn::Set(d, m::kLogQ3));
  q = Fma(d, q, f, hn::Set(d, m::kLogQ4));
  q = Fma(d, q, f, hn::Set(d, m::kLogQ5));
  q = Fma(d, q, f, hn::Set(d, m::kLogQ6));
  q = Fma(d, q, f, hn::Set(d, m::kLogQ7));
  q = Fma(d, q, f, hn::Set(d, m::kLogQ8));
  V y = hn::Mul(hn::Mul(q, f), z);
  y = Fma(d, e, hn::Set(d, m::kLn2Lo), y);
  y = Fma(d, hn::Set(d, -0.5f), z, y);
  V result = hn::Add(f, y);
  result = Fma(d, e, hn::Set(d, m::kLn2Hi), result);
  const V inf = hn::Set(d, std::numeric_limits<float>::infinity());
  const V zero = hn::Zero(d);
  result = hn::IfThenElse(hn::Eq(x, inf), x, result);
  result = hn::IfThenElse(hn::Eq(x, zero), hn::Neg(inf), result);
  const auto invalid = hn::Or(hn::Lt(x, zero), hn::Ne(x, x));
  return hn::IfThenElse(invalid, hn::Set(d, std::numeric_limits<float>::quiet_NaN()), result);
}

// Calls body(d, i) over [0, n): whole vectors, then single lanes for the tail,
// so nothing is read or written past n whatever the vector width.
template <class Body>
HWY_INLINE void ForEachLane(size_t n, const Body& body) {
  const hn::ScalableTag<float> d;
  const size_t N = hn::Lanes(d);
  size_t i = 0;
  for (; i + N <= n; i += N) body(d, i);
  const hn::CappedTag<float, 1> d1;
  for (; i < n; ++i) body(d1, i);
}

}  // namespace HWY_NAMESPACE
}  // namespace descent
HWY_AFTER_NAMESPACE();

#endif  // DESCENT_KERNELS_VECTOR_MATH_INL_H_
