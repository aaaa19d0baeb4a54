// The hidden layers' activations and their derivatives, torch's formulas in
// torch's operation order, elementwise over any adapter. tanh and erf are our
// own (no libm): piecewise polynomials fitted to the functions in double on
// Chebyshev nodes (relative error about 1 ulp; tests/layers_test.cc checks
// them against the double functions). Part of the generic layer
// (generic/kernels-inl.h); the scalar reference instantiates it with ScalarOps.

// c[0] + z*(c[1] + z*(...)), one fused multiply-add per coefficient.
template <class O, size_t kN, class V = typename O::V>
V Horner(const float (&c)[kN], V z) {
  V p = O::Set(c[kN - 1]);
  for (size_t k = kN - 1; k-- > 0;) p = O::Fma(p, z, O::Set(c[k]));
  return p;
}

// tanh: x + x^3 P(x^2) below 0.625, else sign(x) (1 - 2 / (exp(2|x|) + 1)).
template <class O, class V = typename O::V>
V Tanh(V x) {
  static constexpr float kP[] = {-0.3333333432674408f, 0.1333330273628235f, -0.05395911633968353f,
                                 0.02176789753139019f, -0.008340987376868725f, 0.002289738040417433f};
  const V a = O::Abs(x);
  const V z = x * x;
  const V small = O::Fma(x * z, Horner<O>(kP, z), x);
  const V one = O::Set(1.0f);
  V big = one - O::Set(2.0f) / (Exp<O>(a + a) + one);
  big = O::Select(x < O::Zero(), O::Neg(big), big);
  return O::Select(a < O::Set(0.625f), small, big);
}

// erf: x P(x^2) below 1, else sign(x) (1 - exp(-x^2) R(1/|x|)), and +-1 from 4 on.
template <class O, class V = typename O::V>
V Erf(V x) {
  static constexpr float kP[] = {1.128379225730896f,     -0.37612637877464294f,  0.11283782124519348f,
                                 -0.026865392923355103f, 0.0052209231071174145f, -0.0008482507546432316f,
                                 0.00011254641140112653f, -9.63499132922152e-06f};
  static constexpr float kR[] = {0.0001257577823707834f, 0.5616815090179443f,  0.02122417278587818f,
                                 -0.3789607584476471f,   0.2390853762626648f,  0.22255830466747284f,
                                 -0.5183950066566467f,   0.4245884418487549f,  -0.17400144040584564f,
                                 0.029677236452698708f};
  const V one = O::Set(1.0f);
  const V a = O::Abs(x);
  const V z = x * x;
  const V small = x * Horner<O>(kP, z);
  const V ac = O::Select(a < one, one, a);  // keeps 1/a finite in lanes that take `small`
  V big = one - Exp<O>(O::Neg(z)) * Horner<O>(kR, one / ac);
  big = O::Select(a > O::Set(4.0f), one, big);
  big = O::Select(x < O::Zero(), O::Neg(big), big);
  return O::Select(a < one, small, big);
}

// torch's constants, rounded to float as its float kernels round them.
inline constexpr float kGeluAlpha = static_cast<float>(0.70710678118654752440);               // M_SQRT1_2
inline constexpr float kGeluPdf = static_cast<float>(1.12837916709551257390 * 0.70710678118654752440 * 0.5);
inline constexpr float kGeluTanhBeta = static_cast<float>(1.41421356237309504880 * 1.12837916709551257390 * 0.5);
inline constexpr float kGeluTanhKappa = 0.044715f;

// y = f(z) for n elements (in place allowed).
template <class O>
void ActivationForward(const ActivationSpec& spec, const float* z, float* y, size_t n) {
  ForEachLane<O>(n, [&](auto ops, size_t i) DESCENT_ATTR {
    using X = decltype(ops);
    using V = typename X::V;
    const V x = X::Load(z + i);
    const V half = X::Set(0.5f), one = X::Set(1.0f);
    V r = x;
    switch (spec.kind) {
      case ActivationKind::kRelu: r = X::Select(x < X::Zero(), X::Zero(), x); break;
      case ActivationKind::kLeakyRelu: r = X::Select(x > X::Zero(), x, x * X::Set(spec.negative_slope)); break;
      case ActivationKind::kTanh: r = Tanh<X>(x); break;
      case ActivationKind::kSigmoid: r = one / (one + Exp<X>(X::Neg(x))); break;
      case ActivationKind::kGelu: r = (x * half) * (one + Erf<X>(x * X::Set(kGeluAlpha))); break;
      case ActivationKind::kGeluTanh: {
        const V inner = X::Set(kGeluTanhBeta) * (x + X::Set(kGeluTanhKappa) * ((x * x) * x));
        r = (half * x) * (one + Tanh<X>(inner));
        break;
      }
      case ActivationKind::kIdentity: break;
    }
    X::Store(r, y + i);
  });
}

// g = dL/dy -> dL/dz, in place, from the layer's output y and, where the
// derivative needs it (NeedsPreActivation), its input z.
template <class O>
void ActivationBackward(const ActivationSpec& spec, const float* y, const float* z, float* g, size_t n) {
  ForEachLane<O>(n, [&](auto ops, size_t i) DESCENT_ATTR {
    using X = decltype(ops);
    using V = typename X::V;
    const V dy = X::Load(g + i);
    const V half = X::Set(0.5f), one = X::Set(1.0f);
    V r = dy;
    switch (spec.kind) {
      case ActivationKind::kRelu: r = X::Select(X::Load(y + i) > X::Zero(), dy, X::Zero()); break;
      case ActivationKind::kLeakyRelu: {
        const V s = X::Load((z ? z : y) + i);  // with a slope >= 0, y > 0 exactly when z > 0
        r = X::Select(s > X::Zero(), dy, dy * X::Set(spec.negative_slope));
        break;
      }
      case ActivationKind::kTanh: {
        const V t = X::Load(y + i);
        r = dy * (one - t * t);
        break;
      }
      case ActivationKind::kSigmoid: {
        const V s = X::Load(y + i);
        r = (dy * (one - s)) * s;
        break;
      }
      case ActivationKind::kGelu: {
        const V x = X::Load(z + i);
        const V cdf = half * (one + Erf<X>(x * X::Set(kGeluAlpha)));
        const V pdf = X::Set(kGeluPdf) * Exp<X>((x * x) * X::Set(-0.5f));
        r = dy * (cdf + x * pdf);
        break;
      }
      case ActivationKind::kGeluTanh: {
        const V x = X::Load(z + i);
        const V x_sq = x * x;
        const V beta = X::Set(kGeluTanhBeta), kappa = X::Set(kGeluTanhKappa);
        const V t = Tanh<X>(beta * (x + kappa * (x_sq * x)));
        const V left = half * x;
        const V left_derivative = half * (one + t);
        const V inner_derivative = beta * (one + (X::Set(3.0f) * kappa) * x_sq);
        const V right_derivative = (left * (one - t * t)) * inner_derivative;
        r = dy * (left_derivative + right_derivative);
        break;
      }
      case ActivationKind::kIdentity: break;
    }
    X::Store(r, g + i);
  });
}
