// Hinton, Lecture 6e; centered: Graves 2013.
// https://pytorch.org/docs/stable/generated/torch.optim.RMSprop.html
//   sq = alpha*sq + (1-alpha)*g*g;  avg = sqrt(sq [- ga*ga]) + eps
//   momentum: buf = momentum*buf + g/avg; p -= lr*buf   else: p -= lr*g/avg
#ifndef DESCENT_OPTIM_RMSPROP_H_
#define DESCENT_OPTIM_RMSPROP_H_

#include "descent/optim/rule.h"

namespace descent {

struct RmsProp {
  static constexpr const char* kName = "rmsprop";
  static constexpr size_t kSlots = 3;
  static constexpr const char* kSlotNames[] = {"square_avg", "momentum_buffer", "grad_avg"};
  double lr = 1e-2;
  double alpha = 0.99;
  double eps = 1e-8;
  double weight_decay = 0.0;
  double momentum = 0.0;
  bool centered = false;

  template <class Self, class F>
  static void Reflect(Self& h, F&& f) {
    f("lr", h.lr), f("alpha", h.alpha), f("eps", h.eps), f("weight_decay", h.weight_decay),
        f("momentum", h.momentum), f("centered", h.centered);
  }
  const char* InvalidReason() const;

  struct Scalars {
    float neg_lr, alpha, one_minus_alpha, eps, momentum, weight_decay;
    bool has_weight_decay, has_momentum, centered;
  };
  Scalars Prepare(StepClock& clock, float* const* slots, size_t n) const;
  static void Reference(const Scalars& a, float* p, const float* g, float* const* slots, size_t n);
};

}  // namespace descent

#endif  // DESCENT_OPTIM_RMSPROP_H_
