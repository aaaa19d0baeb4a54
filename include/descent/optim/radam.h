// Liu et al. 2020. https://pytorch.org/docs/stable/generated/torch.optim.RAdam.html
//   rho_t = rho_inf - 2t*b2^t/bc2;  rho_t > 5: p -= lr * m/bc1 * r_t * sqrt(bc2)/(sqrt(v)+eps)
//   else (warm-up): p -= lr * m/bc1
#ifndef DESCENT_OPTIM_RADAM_H_
#define DESCENT_OPTIM_RADAM_H_

#include "descent/optim/adam.h"

namespace descent {

struct RAdam : internal::AdamFamily {
  static constexpr const char* kName = "radam";
  static constexpr size_t kSlots = 2;
  static constexpr const char* kSlotNames[] = {"exp_avg", "exp_avg_sq"};
  constexpr RAdam() : AdamFamily{1e-3} {}

  struct Scalars {
    float beta1, one_minus_beta1, beta2, one_minus_beta2, bc1, lr, eps, bc2_sqrt, rect, weight_decay;
    bool has_weight_decay, rectified;
  };
  Scalars Prepare(StepClock& clock, float* const* slots, size_t n) const;
  static void Reference(const Scalars& a, float* p, const float* g, float* const* slots, size_t n);
};

}  // namespace descent

#endif  // DESCENT_OPTIM_RADAM_H_
