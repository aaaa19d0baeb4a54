// Kingma, Ba 2015, section 7.1. https://pytorch.org/docs/stable/generated/torch.optim.Adamax.html
//   m = b1*m + (1-b1)*g;  u = max(b2*u, |g| + eps);  p -= lr/bc1 * m / u
#ifndef DESCENT_OPTIM_ADAMAX_H_
#define DESCENT_OPTIM_ADAMAX_H_

#include "descent/optim/adam.h"

namespace descent {

struct Adamax : internal::AdamFamily {
  static constexpr const char* kName = "adamax";
  static constexpr size_t kSlots = 2;
  static constexpr const char* kSlotNames[] = {"exp_avg", "exp_inf"};
  constexpr Adamax() : AdamFamily{2e-3} {}

  struct Scalars {
    float beta1, one_minus_beta1, beta2, eps, neg_clr, weight_decay;
    bool has_weight_decay;
  };
  Scalars Prepare(StepClock& clock, float* const* slots, size_t n) const;
  static void Reference(const Scalars& a, float* p, const float* g, float* const* slots, size_t n);
};

}  // namespace descent

#endif  // DESCENT_OPTIM_ADAMAX_H_
