// Optimizers with torch.optim's update rules, hyperparameter names and defaults
// (torch 2.x semantics), over any caller-owned float array, with state sized at
// compile time and no heap.
//
//   descent::Adam hp;  hp.lr = 1e-3;
//   static descent::Optimizer<descent::Adam, 1037> opt{hp};
//   if (opt.step(params, grads) != descent::Status::kOk) ...
//
// Per element, every rule computes exactly what torch's CPU kernel computes
// (see the rule comments; `fma` marks the places torch fuses). Hyperparameters
// are doubles, like the Python floats torch receives, and every derived scalar
// (1 - beta1, lr / bias_correction1, ...) is computed in double and rounded to
// float once, as torch does.
#ifndef DESCENT_OPTIMIZER_H_
#define DESCENT_OPTIMIZER_H_

#include <stddef.h>
#include <stdint.h>

#include "descent/config.h"
#include "descent/parallel.h"
#include "descent/status.h"

namespace descent {

// Stochastic gradient descent with optional (Nesterov) momentum.
// Sutskever et al. 2013, https://pytorch.org/docs/stable/generated/torch.optim.SGD.html
//   g = g + wd*p;  buf = t==1 ? g : mu*buf + (1-dampening)*g;
//   d = nesterov ? g + mu*buf : buf;  p = p - lr*d
struct Sgd {
  static constexpr const char* kName = "sgd";
  static constexpr size_t kSlots = 1;
  static constexpr const char* kSlotNames[] = {"momentum_buffer"};  // torch's state names
  double lr = 1e-3;
  double momentum = 0.0;
  double dampening = 0.0;
  double weight_decay = 0.0;
  bool nesterov = false;
};

// Duchi, Hazan, Singer 2011, https://pytorch.org/docs/stable/generated/torch.optim.Adagrad.html
//   clr = lr / (1 + (t-1)*lr_decay);  sum += g*g;  p -= clr * g / (sqrt(sum) + eps)
struct Adagrad {
  static constexpr const char* kName = "adagrad";
  static constexpr size_t kSlots = 1;
  static constexpr const char* kSlotNames[] = {"sum"};  // torch's state names
  double lr = 1e-2;
  double lr_decay = 0.0;
  double weight_decay = 0.0;
  double initial_accumulator_value = 0.0;
  double eps = 1e-10;
};

// Zeiler 2012, https://pytorch.org/docs/stable/generated/torch.optim.Adadelta.html
//   sq = rho*sq + (1-rho)*g*g;  delta = sqrt(acc + eps) / sqrt(sq + eps) * g;
//   acc = rho*acc + (1-rho)*delta*delta;  p -= lr * delta
struct Adadelta {
  static constexpr const char* kName = "adadelta";
  static constexpr size_t kSlots = 2;
  static constexpr const char* kSlotNames[] = {"square_avg", "acc_delta"};  // torch's state names
  double lr = 1.0;
  double rho = 0.9;
  double eps = 1e-6;
  double weight_decay = 0.0;
};

// Hinton, Lecture 6e; centered: Graves 2013.
// https://pytorch.org/docs/stable/generated/torch.optim.RMSprop.html
//   sq = alpha*sq + (1-alpha)*g*g;  avg = sqrt(sq [- ga*ga]) + eps
//   momentum: buf = momentum*buf + g/avg; p -= lr*buf   else: p -= lr*g/avg
struct RmsProp {
  static constexpr const char* kName = "rmsprop";
  static constexpr size_t kSlots = 3;
  static constexpr const char* kSlotNames[] = {"square_avg", "momentum_buffer", "grad_avg"};  // torch's state names
  double lr = 1e-2;
  double alpha = 0.99;
  double eps = 1e-8;
  double weight_decay = 0.0;
  double momentum = 0.0;
  bool centered = false;
};

// Kingma, Ba 2015; AMSGrad: Reddi et al. 2018.
// https://pytorch.org/docs/stable/generated/torch.optim.Adam.html
//   m = b1*m + (1-b1)*g;  v = b2*v + (1-b2)*g*g;  [vmax = max(vmax, v)]
//   p -= lr/bc1 * m / (sqrt(v)/sqrt(bc2) + eps),  bc = 1 - beta^t
struct Adam {
  static constexpr const char* kName = "adam";
  static constexpr size_t kSlots = 3;
  static constexpr const char* kSlotNames[] = {"exp_avg", "exp_avg_sq", "max_exp_avg_sq"};  // torch's state names
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0.0;
  bool amsgrad = false;
};

// Loshchilov, Hutter 2019: Adam with decoupled weight decay, p *= 1 - lr*wd first.
// https://pytorch.org/docs/stable/generated/torch.optim.AdamW.html
struct AdamW {
  static constexpr const char* kName = "adamw";
  static constexpr size_t kSlots = 3;
  static constexpr const char* kSlotNames[] = {"exp_avg", "exp_avg_sq", "max_exp_avg_sq"};
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 1e-2;
  bool amsgrad = false;
};

// Kingma, Ba 2015, section 7.1. https://pytorch.org/docs/stable/generated/torch.optim.Adamax.html
//   m = b1*m + (1-b1)*g;  u = max(b2*u, |g| + eps);  p -= lr/bc1 * m / u
struct Adamax {
  static constexpr const char* kName = "adamax";
  static constexpr size_t kSlots = 2;
  static constexpr const char* kSlotNames[] = {"exp_avg", "exp_inf"};  // torch's state names
  double lr = 2e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0.0;
};

// Dozat 2016, with torch's momentum schedule mu_t = b1*(1 - 0.5*0.96^(t*psi)).
// https://pytorch.org/docs/stable/generated/torch.optim.NAdam.html (torch >= 2.0:
// the 1.13 single-tensor path multiplied mu_t into the product twice, pytorch#92699).
//   denom = sqrt(v/bc2) + eps;  p -= lr*(1-mu_t)/(1-P_t) * g/denom;
//   p -= lr*mu_{t+1}/(1-P_{t+1}) * m/denom,  P_t = prod mu_1..mu_t
struct NAdam {
  static constexpr const char* kName = "nadam";
  static constexpr size_t kSlots = 2;
  static constexpr const char* kSlotNames[] = {"exp_avg", "exp_avg_sq"};  // torch's state names
  double lr = 2e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0.0;
  double momentum_decay = 4e-3;
};

// Liu et al. 2020. https://pytorch.org/docs/stable/generated/torch.optim.RAdam.html
//   rho_t = rho_inf - 2t*b2^t/bc2;  rho_t > 5: p -= lr * m/bc1 * r_t * sqrt(bc2)/(sqrt(v)+eps)
//   else (warm-up): p -= lr * m/bc1
struct RAdam {
  static constexpr const char* kName = "radam";
  static constexpr size_t kSlots = 2;
  static constexpr const char* kSlotNames[] = {"exp_avg", "exp_avg_sq"};  // torch's state names
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0.0;
};

// nullptr when the hyperparameters are valid, else what is wrong, in torch's
// terms (torch raises ValueError for the same values).
const char* InvalidReason(const Sgd& hp);
const char* InvalidReason(const Adagrad& hp);
const char* InvalidReason(const Adadelta& hp);
const char* InvalidReason(const RmsProp& hp);
const char* InvalidReason(const Adam& hp);
const char* InvalidReason(const AdamW& hp);
const char* InvalidReason(const Adamax& hp);
const char* InvalidReason(const NAdam& hp);
const char* InvalidReason(const RAdam& hp);

// Scalar state shared by all rules: the step count t and NAdam's mu_product.
struct StepClock {
  uint64_t step = 0;         // steps taken; the next step is t = step + 1
  float mu_product = 1.0f;   // NAdam only: float32, as torch keeps it
};

namespace internal {
// One update of n elements. slots[k] points at the rule's k-th state array.
Status Step(const Sgd& hp, StepClock& clock, float* p, const float* g, float* const* slots, size_t n,
            const ParallelFor& pf);
Status Step(const Adagrad& hp, StepClock& clock, float* p, const float* g, float* const* slots, size_t n,
            const ParallelFor& pf);
Status Step(const Adadelta& hp, StepClock& clock, float* p, const float* g, float* const* slots, size_t n,
            const ParallelFor& pf);
Status Step(const RmsProp& hp, StepClock& clock, float* p, const float* g, float* const* slots, size_t n,
            const ParallelFor& pf);
Status Step(const Adam& hp, StepClock& clock, float* p, const float* g, float* const* slots, size_t n,
            const ParallelFor& pf);
Status Step(const AdamW& hp, StepClock& clock, float* p, const float* g, float* const* slots, size_t n,
            const ParallelFor& pf);
Status Step(const Adamax& hp, StepClock& clock, float* p, const float* g, float* const* slots, size_t n,
            const ParallelFor& pf);
Status Step(const NAdam& hp, StepClock& clock, float* p, const float* g, float* const* slots, size_t n,
            const ParallelFor& pf);
Status Step(const RAdam& hp, StepClock& clock, float* p, const float* g, float* const* slots, size_t n,
            const ParallelFor& pf);
}  // namespace internal

// An optimizer for N parameters: hyperparameters, step clock and Rule::kSlots
// state arrays of N floats, zeroed by the constructor. The constructor runs at
// start-up for a `static` one on purpose: a constant-initialised object with
// non-zero hyperparameters would put its whole state, zeros included, in .data
// (flash plus a copy at boot) instead of .bss.
template <class Rule, size_t N>
class Optimizer {
 public:
  static constexpr size_t kNumParams = N;
  static constexpr size_t kSlots = Rule::kSlots;

  Optimizer() { reset(Rule()); }
  explicit Optimizer(const Rule& hp) { reset(hp); }

  // Invalid hyperparameters give kInvalidArgument and change nothing.
  // params and grads hold N floats each, at any alignment. With a ParallelFor
  // the array is split into ranges: the result is the same.
  [[nodiscard]] Status step(float* params, const float* grads, const ParallelFor& pf = {}) {
    float* slots[kSlots];
    for (size_t k = 0; k < kSlots; ++k) slots[k] = slots_[k];
    return internal::Step(hp_, clock_, params, grads, slots, N, pf);
  }

  // Forget all state, as a freshly constructed optimizer (with new hyperparameters).
  void reset(const Rule& hp) {
    hp_ = hp;
    reset();
  }
  void reset() {
    clock_ = StepClock();
    for (auto& slot : slots_)
      for (float& x : slot) x = 0.0f;
  }

  const Rule& hyperparameters() const { return hp_; }
  Rule& hyperparameters() { return hp_; }  // a schedule sets lr (and momentum) between steps
  Status status() const { return InvalidReason(hp_) ? Status::kInvalidArgument : Status::kOk; }
  const StepClock& clock() const { return clock_; }
  StepClock& clock() { return clock_; }
  float* slot(size_t k) { return slots_[k]; }
  const float* slot(size_t k) const { return slots_[k]; }

 private:
  Rule hp_;
  StepClock clock_;
  alignas(kAlign) float slots_[kSlots][N];
};

}  // namespace descent

#endif  // DESCENT_OPTIMIZER_H_
