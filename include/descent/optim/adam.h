// Adam and AdamW, and what the rest of the Adam family shares:
// the hyperparameters lr, beta1, beta2, eps, weight_decay and their checks.
#ifndef DESCENT_OPTIM_ADAM_H_
#define DESCENT_OPTIM_ADAM_H_

#include <cmath>

#include "descent/optim/rule.h"

namespace descent {
namespace internal {

// lr, beta1, beta2, eps, weight_decay with torch's defaults (each rule sets its lr),
// their names and their checks: what Adam, AdamW, Adamax, NAdam and RAdam share.
struct AdamFamily {
  double lr;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0.0;

  template <class Self, class F>
  static void Reflect(Self& h, F&& f) {
    f("lr", h.lr), f("beta1", h.beta1), f("beta2", h.beta2), f("eps", h.eps), f("weight_decay", h.weight_decay);
  }
  const char* InvalidReason() const {
    if (Negative(lr)) return "invalid learning rate lr (must be >= 0)";
    if (Negative(eps)) return "invalid epsilon value eps (must be >= 0)";
    if (BadBeta(beta1)) return "invalid beta parameter at index 0, beta1 (must be in [0, 1))";
    if (BadBeta(beta2)) return "invalid beta parameter at index 1, beta2 (must be in [0, 1))";
    if (Negative(weight_decay)) return "invalid weight_decay value (must be >= 0)";
    return nullptr;
  }
};

// The per-step scalars of Adam and AdamW (decoupled: p *= decay first, g not decayed).
struct AdamScalars {
  float beta1, one_minus_beta1, beta2, one_minus_beta2;
  float neg_step_size, bc2_sqrt, eps, weight_decay, decay;
  bool has_weight_decay, decoupled, amsgrad;
};
// Adam's moments in the reference loops, m = b1 m + (1-b1) g and v = b2 v + (1-b2) g^2,
// fused as torch does (Adam, NAdam, RAdam).
template <class Scalars>
inline void ReferenceMoments(const Scalars& a, float d, float* m, float* v) {
  *m = std::fma(d, a.one_minus_beta1, *m * a.beta1);
  *v = std::fma(a.one_minus_beta2 * d, d, *v * a.beta2);
}

// One Adam/AdamW step's scalars; the reference update both share.
template <class Rule>
AdamScalars PrepareAdam(const Rule& hp, bool decoupled, const StepClock& clock);
void ReferenceAdam(const AdamScalars& a, float* p, const float* g, float* const* slots, size_t n);

}  // namespace internal

// Kingma, Ba 2015; AMSGrad: Reddi et al. 2018.
// https://pytorch.org/docs/stable/generated/torch.optim.Adam.html
//   m = b1*m + (1-b1)*g;  v = b2*v + (1-b2)*g*g;  [vmax = max(vmax, v)]
//   p -= lr/bc1 * m / (sqrt(v)/sqrt(bc2) + eps),  bc = 1 - beta^t
struct Adam : internal::AdamFamily {
  static constexpr const char* kName = "adam";
  static constexpr size_t kSlots = 3;
  static constexpr const char* kSlotNames[] = {"exp_avg", "exp_avg_sq", "max_exp_avg_sq"};
  bool amsgrad = false;
  constexpr Adam() : AdamFamily{1e-3} {}
  // max_exp_avg_sq only with amsgrad: Optimizer<Adam, N, 2> holds the two moments alone.
  constexpr size_t SlotsNeeded() const { return amsgrad ? 3 : 2; }

  template <class Self, class F>
  static void Reflect(Self& h, F&& f) {
    AdamFamily::Reflect(h, f), f("amsgrad", h.amsgrad);
  }

  using Scalars = internal::AdamScalars;
  Scalars Prepare(StepClock& clock, float* const*, size_t) const { return internal::PrepareAdam(*this, false, clock); }
  static void Reference(const Scalars& a, float* p, const float* g, float* const* slots, size_t n) {
    internal::ReferenceAdam(a, p, g, slots, n);
  }
};

// Loshchilov, Hutter 2019: Adam with decoupled weight decay, p *= 1 - lr*wd first.
// https://pytorch.org/docs/stable/generated/torch.optim.AdamW.html
// Adam's hyperparameters, state and update; weight_decay defaults to 1e-2.
struct AdamW : Adam {
  static constexpr const char* kName = "adamw";
  constexpr AdamW() { weight_decay = 1e-2; }

  Scalars Prepare(StepClock& clock, float* const*, size_t) const { return internal::PrepareAdam(*this, true, clock); }
};

}  // namespace descent

#endif  // DESCENT_OPTIM_ADAM_H_
