#include "descent/optim/sgd.h"

#include <cmath>

#include "src/core/optim/step.h"
#include "src/kernels/scalar_math.h"

namespace descent {
using internal::F;
using internal::Negative;

const char* Sgd::InvalidReason() const {
  if (Negative(lr)) return "invalid learning rate lr (must be >= 0)";
  if (Negative(momentum)) return "invalid momentum value (must be >= 0)";
  if (Negative(weight_decay)) return "invalid weight_decay value (must be >= 0)";
  if (!std::isfinite(dampening)) return "invalid dampening value (must be finite)";
  if (nesterov && (momentum <= 0.0 || dampening != 0.0)) return "Nesterov momentum requires a momentum and zero dampening";
  return nullptr;
}

Sgd::Scalars Sgd::Prepare(StepClock& clock, float* const*, size_t) const {
  Scalars a;
  a.neg_lr = F(-lr);
  a.momentum = F(momentum);
  a.one_minus_dampening = F(1.0 - dampening);
  a.weight_decay = F(weight_decay);
  a.has_weight_decay = weight_decay != 0.0;
  a.has_momentum = momentum != 0.0;
  a.nesterov = nesterov;
  a.first_step = clock.step == 0;
  return a;
}

DESCENT_FMA_CLONES void Sgd::Reference(const Scalars& a, float* p, const float* g, float* const* slots, size_t n) {
  float* buf = slots[0];
  for (size_t i = 0; i < n; ++i) {
    float d = a.has_weight_decay ? std::fma(p[i], a.weight_decay, g[i]) : g[i];
    if (a.has_momentum) {
      const float b = a.first_step ? d : std::fma(d, a.one_minus_dampening, buf[i] * a.momentum);
      buf[i] = b;
      d = a.nesterov ? std::fma(b, a.momentum, d) : b;
    }
    p[i] = std::fma(d, a.neg_lr, p[i]);
  }
}

}  // namespace descent

DESCENT_DEFINE_STEP(Sgd);
