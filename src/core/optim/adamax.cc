#include "descent/optim/adamax.h"

#include <cmath>

#include "src/core/double_math.h"
#include "src/core/optim/step.h"
#include "src/kernels/scalar_math.h"

namespace descent {
using internal::F;

Adamax::Scalars Adamax::Prepare(StepClock& clock, float* const*, size_t) const {
  Scalars a;
  a.beta1 = F(beta1);
  a.one_minus_beta1 = F(1.0 - beta1);
  a.beta2 = F(beta2);
  a.eps = F(eps);
  a.neg_clr = F(-(lr / (1.0 - internal::PowInt(beta1, clock.step + 1))));
  a.weight_decay = F(weight_decay);
  a.has_weight_decay = weight_decay != 0.0;
  return a;
}

DESCENT_FMA_CLONES void Adamax::Reference(const Scalars& a, float* p, const float* g, float* const* slots, size_t n) {
  float *m = slots[0], *u = slots[1];
  for (size_t i = 0; i < n; ++i) {
    const float d = a.has_weight_decay ? std::fma(p[i], a.weight_decay, g[i]) : g[i];
    const float mi = std::fma(d, a.one_minus_beta1, m[i] * a.beta1);
    const float decayed = u[i] * a.beta2;
    const float bound = std::fabs(d) + a.eps;
    const float ui = decayed > bound ? decayed : bound;
    m[i] = mi;
    u[i] = ui;
    p[i] = p[i] + (a.neg_clr * mi) / ui;
  }
}

}  // namespace descent

DESCENT_DEFINE_STEP(Adamax);
