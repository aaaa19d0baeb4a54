// exp and log, replaying the scalar reference (src/kernels/scalar_math.h)
// operation for operation on any adapter. Part of the generic layer (generic/kernels-inl.h).

template <class O, class V = typename O::V>
V Exp(V x) {
  namespace m = descent::math;
  const auto underflow = x < O::Set(m::kExpMin);
  x = O::Select(x > O::Set(m::kExpMax), O::Set(m::kExpMax), x);  // NaN passes through both
  x = O::Select(x < O::Set(m::kExpMin), O::Set(m::kExpMin), x);
  const V magic = O::Set(m::kRoundMagic);
  const V n = O::Fma(x, O::Set(m::kLog2e), magic) - magic;
  V r = O::Fma(n, O::Set(-m::kLn2Hi), x);
  r = O::Fma(n, O::Set(-m::kLn2Lo), r);
  V p = O::Fma(O::Set(m::kExpP0), r, O::Set(m::kExpP1));
  p = O::Fma(p, r, O::Set(m::kExpP2));
  p = O::Fma(p, r, O::Set(m::kExpP3));
  p = O::Fma(p, r, O::Set(m::kExpP4));
  p = O::Fma(p, r, O::Set(m::kExpP5));
  const V y = O::Fma(p, r * r, r) + O::Set(1.0f);
  return O::Select(underflow, O::Zero(), y * O::Pow2(n));
}

template <class O, class V = typename O::V>
V Log(V x) {
  namespace m = descent::math;
  V e = O::Exponent(x);
  const V mant = O::Mantissa(x);
  const auto small = mant < O::Set(m::kSqrtHalf);
  const V one = O::Set(1.0f);
  e = O::Select(small, e - one, e);
  const V f = O::Select(small, (mant + mant) - one, mant - one);
  const V z = f * f;
  V q = O::Fma(O::Set(m::kLogQ0), f, O::Set(m::kLogQ1));
  q = O::Fma(q, f, O::Set(m::kLogQ2));
  q = O::Fma(q, f, O::Set(m::kLogQ3));
  q = O::Fma(q, f, O::Set(m::kLogQ4));
  q = O::Fma(q, f, O::Set(m::kLogQ5));
  q = O::Fma(q, f, O::Set(m::kLogQ6));
  q = O::Fma(q, f, O::Set(m::kLogQ7));
  q = O::Fma(q, f, O::Set(m::kLogQ8));
  V y = (q * f) * z;
  y = O::Fma(e, O::Set(m::kLn2Lo), y);
  y = O::Fma(O::Set(-0.5f), z, y);
  V result = f + y;
  result = O::Fma(e, O::Set(m::kLn2Hi), result);
  const V inf = O::Set(std::numeric_limits<float>::infinity());
  result = O::Select(x == inf, x, result);
  result = O::Select(x == O::Zero(), O::Neg(inf), result);
  const auto invalid = O::Or(x < O::Zero(), x != x);
  return O::Select(invalid, O::Set(std::numeric_limits<float>::quiet_NaN()), result);
}

// body(Ops, i) for every whole vector of [0, n), then body(ScalarOps, i) for the rest.
template <class O, class Body>
void ForEachLane(size_t n, const Body& body) {
  const size_t N = O::Lanes();
  size_t i = 0;
  for (; i + N <= n; i += N) body(O(), i);
  for (; i < n; ++i) body(ScalarOps(), i);
}
