#include "descent/optim/rmsprop.h"

#include <cmath>

#include "src/core/optim/step.h"
#include "src/kernels/scalar_math.h"

namespace descent {
using internal::F;
using internal::Negative;

const char* RmsProp::InvalidReason() const {
  if (Negative(lr)) return "invalid learning rate lr (must be >= 0)";
  if (Negative(eps)) return "invalid epsilon value eps (must be >= 0)";
  if (Negative(momentum)) return "invalid momentum value (must be >= 0)";
  if (Negative(weight_decay)) return "invalid weight_decay value (must be >= 0)";
  if (Negative(alpha)) return "invalid alpha value (must be >= 0)";
  return nullptr;
}

RmsProp::Scalars RmsProp::Prepare(StepClock&, float* const*, size_t) const {
  Scalars a;
  a.neg_lr = F(-lr);
  a.alpha = F(alpha);
  a.one_minus_alpha = F(1.0 - alpha);
  a.eps = F(eps);
  a.momentum = F(momentum);
  a.weight_decay = F(weight_decay);
  a.has_weight_decay = weight_decay != 0.0;
  a.has_momentum = momentum > 0.0;
  a.centered = centered;
  return a;
}

DESCENT_FMA_CLONES void RmsProp::Reference(const Scalars& a, float* p, const float* g, float* const* slots, size_t n) {
  float *sq = slots[0], *buf = slots[1], *ga = slots[2];
  for (size_t i = 0; i < n; ++i) {
    const float d = a.has_weight_decay ? std::fma(p[i], a.weight_decay, g[i]) : g[i];
    const float s = std::fma(a.one_minus_alpha * d, d, sq[i] * a.alpha);
    sq[i] = s;
    float avg;
    if (a.centered) {
      const float m = std::fma(d, a.one_minus_alpha, ga[i] * a.alpha);
      ga[i] = m;
      avg = std::sqrt(std::fma(-m, m, s));
    } else {
      avg = std::sqrt(s);
    }
    avg = avg + a.eps;
    if (a.has_momentum) {
      const float b = buf[i] * a.momentum + d / avg;
      buf[i] = b;
      p[i] = std::fma(b, a.neg_lr, p[i]);
    } else {
      p[i] = p[i] + (a.neg_lr * d) / avg;
    }
  }
}

}  // namespace descent

DESCENT_DEFINE_STEP(RmsProp);
