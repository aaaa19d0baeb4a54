// Stochastic gradient descent with optional (Nesterov) momentum.
// Sutskever et al. 2013, https://pytorch.org/docs/stable/generated/torch.optim.SGD.html
//   g = g + wd*p;  buf = t==1 ? g : mu*buf + (1-dampening)*g;
//   d = nesterov ? g + mu*buf : buf;  p = p - lr*d
#ifndef DESCENT_OPTIM_SGD_H_
#define DESCENT_OPTIM_SGD_H_

#include "descent/optim/rule.h"

namespace descent {

struct Sgd {
  static constexpr const char* kName = "sgd";
  static constexpr size_t kSlots = 1;
  static constexpr const char* kSlotNames[] = {"momentum_buffer"};
  double lr = 1e-3;
  double momentum = 0.0;
  double dampening = 0.0;
  double weight_decay = 0.0;
  bool nesterov = false;

  template <class Self, class F>
  static void Reflect(Self& h, F&& f) {
    f("lr", h.lr), f("momentum", h.momentum), f("dampening", h.dampening), f("weight_decay", h.weight_decay),
        f("nesterov", h.nesterov);
  }
  const char* InvalidReason() const;

  struct Scalars {
    float neg_lr, momentum, one_minus_dampening, weight_decay;
    bool has_weight_decay, has_momentum, nesterov, first_step;
  };
  Scalars Prepare(StepClock& clock, float* const* slots, size_t n) const;
  static void Reference(const Scalars& a, float* p, const float* g, float* const* slots, size_t n);
};

}  // namespace descent

#endif  // DESCENT_OPTIM_SGD_H_
