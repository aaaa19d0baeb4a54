// Adam and AdamW: one set of scalars, one update (AdamW decays the weights, not the gradient).
#include "descent/optim/adam.h"

#include <cmath>

#include "src/core/double_math.h"
#include "src/core/optim/step.h"
#include "src/kernels/scalar_math.h"

namespace descent {
namespace internal {

template <class Rule>
AdamScalars PrepareAdam(const Rule& hp, bool decoupled, const StepClock& clock) {
  const uint64_t t = clock.step + 1;
  const double bc1 = 1.0 - PowInt(hp.beta1, t);
  const double bc2 = 1.0 - PowInt(hp.beta2, t);
  AdamScalars a;
  a.beta1 = F(hp.beta1);
  a.one_minus_beta1 = F(1.0 - hp.beta1);
  a.beta2 = F(hp.beta2);
  a.one_minus_beta2 = F(1.0 - hp.beta2);
  a.neg_step_size = F(-(hp.lr / bc1));
  a.bc2_sqrt = F(std::sqrt(bc2));
  a.eps = F(hp.eps);
  a.weight_decay = F(hp.weight_decay);
  a.decay = F(1.0 - hp.lr * hp.weight_decay);
  a.decoupled = decoupled;
  a.has_weight_decay = !decoupled && hp.weight_decay != 0.0;
  a.amsgrad = hp.amsgrad;
  return a;
}
template AdamScalars PrepareAdam(const Adam&, bool, const StepClock&);
template AdamScalars PrepareAdam(const AdamW&, bool, const StepClock&);

DESCENT_FMA_CLONES void ReferenceAdam(const AdamScalars& a, float* p, const float* g, float* const* slots, size_t n) {
  float *m = slots[0], *v = slots[1], *vmax = slots[2];
  for (size_t i = 0; i < n; ++i) {
    float w = p[i];
    if (a.decoupled) w = w * a.decay;
    const float d = a.has_weight_decay ? std::fma(w, a.weight_decay, g[i]) : g[i];
    ReferenceMoments(a, d, &m[i], &v[i]);
    float used = v[i];
    if (a.amsgrad) {
      used = vmax[i] > used ? vmax[i] : used;
      vmax[i] = used;
    }
    const float denom = std::sqrt(used) / a.bc2_sqrt + a.eps;
    p[i] = w + (a.neg_step_size * m[i]) / denom;
  }
}

}  // namespace internal
}  // namespace descent

DESCENT_DEFINE_STEP(Adam);
DESCENT_DEFINE_STEP(AdamW);
