#include "descent/optim/adagrad.h"

#include <cmath>

#include "src/core/optim/step.h"
#include "src/kernels/scalar_math.h"

namespace descent {
using internal::F;
using internal::Negative;

const char* Adagrad::InvalidReason() const {
  if (Negative(lr)) return "invalid learning rate lr (must be >= 0)";
  if (Negative(lr_decay)) return "invalid lr_decay value (must be >= 0)";
  if (Negative(weight_decay)) return "invalid weight_decay value (must be >= 0)";
  if (Negative(initial_accumulator_value)) return "invalid initial_accumulator_value (must be >= 0)";
  if (Negative(eps)) return "invalid epsilon value eps (must be >= 0)";
  return nullptr;
}

Adagrad::Scalars Adagrad::Prepare(StepClock& clock, float* const* slots, size_t n) const {
  if (clock.step == 0) {
    const float init = F(initial_accumulator_value);
    for (size_t i = 0; i < n; ++i) slots[0][i] = init;
  }
  const double t = static_cast<double>(clock.step + 1);
  Scalars a;
  a.neg_clr = F(-(lr / (1.0 + (t - 1.0) * lr_decay)));
  a.eps = F(eps);
  a.weight_decay = F(weight_decay);
  a.has_weight_decay = weight_decay != 0.0;
  return a;
}

DESCENT_FMA_CLONES void Adagrad::Reference(const Scalars& a, float* p, const float* g, float* const* slots, size_t n) {
  float* sum = slots[0];
  for (size_t i = 0; i < n; ++i) {
    const float d = a.has_weight_decay ? std::fma(p[i], a.weight_decay, g[i]) : g[i];
    const float s = std::fma(d, d, sum[i]);
    sum[i] = s;
    p[i] = p[i] + (a.neg_clr * d) / (std::sqrt(s) + a.eps);
  }
}

}  // namespace descent

DESCENT_DEFINE_STEP(Adagrad);
