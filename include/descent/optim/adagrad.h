// Duchi, Hazan, Singer 2011, https://pytorch.org/docs/stable/generated/torch.optim.Adagrad.html
//   clr = lr / (1 + (t-1)*lr_decay);  sum += g*g;  p -= clr * g / (sqrt(sum) + eps)
#ifndef DESCENT_OPTIM_ADAGRAD_H_
#define DESCENT_OPTIM_ADAGRAD_H_

#include "descent/optim/rule.h"

namespace descent {

struct Adagrad {
  static constexpr const char* kName = "adagrad";
  static constexpr size_t kSlots = 1;
  static constexpr const char* kSlotNames[] = {"sum"};
  double lr = 1e-2;
  double lr_decay = 0.0;
  double weight_decay = 0.0;
  double initial_accumulator_value = 0.0;
  double eps = 1e-10;

  template <class Self, class F>
  static void Reflect(Self& h, F&& f) {
    f("lr", h.lr), f("lr_decay", h.lr_decay), f("weight_decay", h.weight_decay),
        f("initial_accumulator_value", h.initial_accumulator_value), f("eps", h.eps);
  }
  const char* InvalidReason() const;

  struct Scalars {
    float neg_clr, eps, weight_decay;
    bool has_weight_decay;
  };
  // On the first step it also fills `sum` with initial_accumulator_value.
  Scalars Prepare(StepClock& clock, float* const* slots, size_t n) const;
  static void Reference(const Scalars& a, float* p, const float* g, float* const* slots, size_t n);
};

}  // namespace descent

#endif  // DESCENT_OPTIM_ADAGRAD_H_
