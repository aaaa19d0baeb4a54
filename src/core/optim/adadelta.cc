#include "descent/optim/adadelta.h"

#include <cmath>

#include "src/core/optim/step.h"
#include "src/kernels/scalar_math.h"

namespace descent {
using internal::F;
using internal::Negative;

const char* Adadelta::InvalidReason() const {
  if (Negative(lr)) return "invalid learning rate lr (must be >= 0)";
  if (!(0.0 <= rho && rho <= 1.0)) return "invalid rho value (must be in [0, 1])";
  if (Negative(eps)) return "invalid epsilon value eps (must be >= 0)";
  if (Negative(weight_decay)) return "invalid weight_decay value (must be >= 0)";
  return nullptr;
}

Adadelta::Scalars Adadelta::Prepare(StepClock&, float* const*, size_t) const {
  Scalars a;
  a.neg_lr = F(-lr);
  a.rho = F(rho);
  a.one_minus_rho = F(1.0 - rho);
  a.eps = F(eps);
  a.weight_decay = F(weight_decay);
  a.has_weight_decay = weight_decay != 0.0;
  return a;
}

DESCENT_FMA_CLONES void Adadelta::Reference(const Scalars& a, float* p, const float* g, float* const* slots, size_t n) {
  float *sq = slots[0], *acc = slots[1];
  for (size_t i = 0; i < n; ++i) {
    const float d = a.has_weight_decay ? std::fma(p[i], a.weight_decay, g[i]) : g[i];
    const float s = std::fma(a.one_minus_rho * d, d, sq[i] * a.rho);
    sq[i] = s;
    const float std_dev = std::sqrt(s + a.eps);
    const float delta = (std::sqrt(acc[i] + a.eps) / std_dev) * d;
    acc[i] = std::fma(a.one_minus_rho * delta, delta, acc[i] * a.rho);
    p[i] = std::fma(delta, a.neg_lr, p[i]);
  }
}

}  // namespace descent

DESCENT_DEFINE_STEP(Adadelta);
