// Zeiler 2012, https://pytorch.org/docs/stable/generated/torch.optim.Adadelta.html
//   sq = rho*sq + (1-rho)*g*g;  delta = sqrt(acc + eps) / sqrt(sq + eps) * g;
//   acc = rho*acc + (1-rho)*delta*delta;  p -= lr * delta
#ifndef DESCENT_OPTIM_ADADELTA_H_
#define DESCENT_OPTIM_ADADELTA_H_

#include "descent/optim/rule.h"

namespace descent {

struct Adadelta {
  static constexpr const char* kName = "adadelta";
  static constexpr size_t kSlots = 2;
  static constexpr const char* kSlotNames[] = {"square_avg", "acc_delta"};
  double lr = 1.0;
  double rho = 0.9;
  double eps = 1e-6;
  double weight_decay = 0.0;

  template <class Self, class F>
  static void Reflect(Self& h, F&& f) {
    f("lr", h.lr), f("rho", h.rho), f("eps", h.eps), f("weight_decay", h.weight_decay);
  }
  const char* InvalidReason() const;

  struct Scalars {
    float neg_lr, rho, one_minus_rho, eps, weight_decay;
    bool has_weight_decay;
  };
  Scalars Prepare(StepClock& clock, float* const* slots, size_t n) const;
  static void Reference(const Scalars& a, float* p, const float* g, float* const* slots, size_t n);
};

}  // namespace descent

#endif  // DESCENT_OPTIM_ADADELTA_H_
