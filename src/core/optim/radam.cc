#include "descent/optim/radam.h"

#include <cmath>

#include "src/core/double_math.h"
#include "src/core/optim/step.h"
#include "src/kernels/scalar_math.h"

namespace descent {
using internal::F;

RAdam::Scalars RAdam::Prepare(StepClock& clock, float* const*, size_t) const {
  const uint64_t step = clock.step + 1;
  const double t = static_cast<double>(step);
  const double beta2_t = internal::PowInt(beta2, step);
  const double bc1 = 1.0 - internal::PowInt(beta1, step);
  const double bc2 = 1.0 - beta2_t;
  const double rho_inf = 2.0 / (1.0 - beta2) - 1.0;
  const double rho_t = rho_inf - 2.0 * t * beta2_t / bc2;
  Scalars a;
  a.beta1 = F(beta1);
  a.one_minus_beta1 = F(1.0 - beta1);
  a.beta2 = F(beta2);
  a.one_minus_beta2 = F(1.0 - beta2);
  a.bc1 = F(bc1);
  a.lr = F(lr);
  a.eps = F(eps);
  a.bc2_sqrt = F(std::sqrt(bc2));
  a.rectified = rho_t > 5.0;
  a.rect = a.rectified
               ? F(std::sqrt((rho_t - 4.0) * (rho_t - 2.0) * rho_inf / ((rho_inf - 4.0) * (rho_inf - 2.0) * rho_t)))
               : 1.0f;
  a.weight_decay = F(weight_decay);
  a.has_weight_decay = weight_decay != 0.0;
  return a;
}

DESCENT_FMA_CLONES void RAdam::Reference(const Scalars& a, float* p, const float* g, float* const* slots, size_t n) {
  float *m = slots[0], *v = slots[1];
  for (size_t i = 0; i < n; ++i) {
    const float d = a.has_weight_decay ? std::fma(p[i], a.weight_decay, g[i]) : g[i];
    internal::ReferenceMoments(a, d, &m[i], &v[i]);
    float update = (m[i] / a.bc1) * a.lr;
    if (a.rectified) {
      const float adapt = (1.0f / (std::sqrt(v[i]) + a.eps)) * a.bc2_sqrt;
      update = (update * adapt) * a.rect;
    }
    p[i] = p[i] - update;
  }
}

}  // namespace descent

DESCENT_DEFINE_STEP(RAdam);
