// Dozat 2016, with torch's momentum schedule mu_t = b1*(1 - 0.5*0.96^(t*psi)).
// https://pytorch.org/docs/stable/generated/torch.optim.NAdam.html (torch >= 2.0:
// the 1.13 single-tensor path multiplied mu_t into the product twice, pytorch#92699).
//   denom = sqrt(v/bc2) + eps;  p -= lr*(1-mu_t)/(1-P_t) * g/denom;
//   p -= lr*mu_{t+1}/(1-P_{t+1}) * m/denom,  P_t = prod mu_1..mu_t
#ifndef DESCENT_OPTIM_NADAM_H_
#define DESCENT_OPTIM_NADAM_H_

#include "descent/optim/adam.h"

namespace descent {

struct NAdam : internal::AdamFamily {
  static constexpr const char* kName = "nadam";
  static constexpr size_t kSlots = 2;
  static constexpr const char* kSlotNames[] = {"exp_avg", "exp_avg_sq"};
  double momentum_decay = 4e-3;
  constexpr NAdam() : AdamFamily{2e-3} {}

  template <class Self, class F>
  static void Reflect(Self& h, F&& f) {
    AdamFamily::Reflect(h, f), f("momentum_decay", h.momentum_decay);
  }
  const char* InvalidReason() const;

  struct Scalars {
    float beta1, one_minus_beta1, beta2, one_minus_beta2, bc2, eps;
    float grad_coef, avg_coef, weight_decay;  // -lr(1-mu_t)/(1-P_t), -lr mu_{t+1}/(1-P_{t+1})
    bool has_weight_decay;
  };
  // Also advances clock.mu_product (P_t).
  Scalars Prepare(StepClock& clock, float* const* slots, size_t n) const;
  static void Reference(const Scalars& a, float* p, const float* g, float* const* slots, size_t n);
};

}  // namespace descent

#endif  // DESCENT_OPTIM_NADAM_H_
