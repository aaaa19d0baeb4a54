#include "descent/optim/nadam.h"

#include <cmath>

#include "src/core/double_math.h"
#include "src/core/optim/step.h"
#include "src/kernels/scalar_math.h"

namespace descent {
using internal::F;

const char* NAdam::InvalidReason() const {
  if (const char* reason = AdamFamily::InvalidReason()) return reason;
  if (internal::Negative(momentum_decay)) return "invalid momentum_decay value (must be >= 0)";
  return nullptr;
}

NAdam::Scalars NAdam::Prepare(StepClock& clock, float* const*, size_t) const {
  const double t = static_cast<double>(clock.step + 1);
  const double mu = beta1 * (1.0 - 0.5 * internal::Pow096(t * momentum_decay));
  const double mu_next = beta1 * (1.0 - 0.5 * internal::Pow096((t + 1.0) * momentum_decay));
  // torch keeps mu_product as a float32 tensor: P_t = P_{t-1} * mu_t, rounded.
  const float product = clock.mu_product * F(mu);
  const float product_next = product * F(mu_next);
  Scalars a;
  a.beta1 = F(beta1);
  a.one_minus_beta1 = F(1.0 - beta1);
  a.beta2 = F(beta2);
  a.one_minus_beta2 = F(1.0 - beta2);
  a.bc2 = F(1.0 - internal::PowInt(beta2, clock.step + 1));
  a.eps = F(eps);
  a.grad_coef = F(-lr * (1.0 - mu) / (1.0 - static_cast<double>(product)));
  a.avg_coef = F(-lr * mu_next / (1.0 - static_cast<double>(product_next)));
  a.weight_decay = F(weight_decay);
  a.has_weight_decay = weight_decay != 0.0;
  clock.mu_product = product;
  return a;
}

DESCENT_FMA_CLONES void NAdam::Reference(const Scalars& a, float* p, const float* g, float* const* slots, size_t n) {
  float *m = slots[0], *v = slots[1];
  for (size_t i = 0; i < n; ++i) {
    const float d = a.has_weight_decay ? std::fma(p[i], a.weight_decay, g[i]) : g[i];
    internal::ReferenceMoments(a, d, &m[i], &v[i]);
    const float denom = std::sqrt(v[i] / a.bc2) + a.eps;
    const float w = p[i] + (a.grad_coef * d) / denom;
    p[i] = w + (a.avg_coef * m[i]) / denom;
  }
}

}  // namespace descent

DESCENT_DEFINE_STEP(NAdam);
