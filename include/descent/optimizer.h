// Optimizers with torch.optim's update rules, hyperparameter names and defaults
// (torch 2.x semantics), over any caller-owned float array, with state sized at
// compile time and no heap.
//
//   descent::Adam hp;  hp.lr = 1e-3;
//   static descent::Optimizer<descent::Adam, 1037> opt{hp};
//   if (opt.step(params, grads) != descent::Status::kOk) ...
//
// Per element, every rule computes exactly what torch's CPU kernel computes
// (see each rule's header under descent/optim/; `fma` marks the places torch
// fuses), and every derived scalar (1 - beta1, lr / bias_correction1, ...) is
// computed in double and rounded to float once, as torch does.
#ifndef DESCENT_OPTIMIZER_H_
#define DESCENT_OPTIMIZER_H_

#include <stddef.h>
#include <stdint.h>

#include "descent/config.h"
#include "descent/optim/adadelta.h"
#include "descent/optim/adagrad.h"
#include "descent/optim/adam.h"
#include "descent/optim/adamax.h"
#include "descent/optim/nadam.h"
#include "descent/optim/radam.h"
#include "descent/optim/rmsprop.h"
#include "descent/optim/sgd.h"
#include "descent/parallel.h"
#include "descent/status.h"
#include "descent/type_list.h"

namespace descent {

// Every rule, in the order tools list them: the one place a new rule is added
// (besides its own files and its vector body).
using Rules = TypeList<Sgd, Adagrad, Adadelta, RmsProp, Adam, AdamW, Adamax, NAdam, RAdam>;

// nullptr when the hyperparameters are valid, else what is wrong, in torch's
// terms (torch raises ValueError for the same values).
template <class Rule>
const char* InvalidReason(const Rule& hp) {
  return hp.InvalidReason();
}

namespace internal {
// One update of n elements (src/core/optim/step.h): checks, Prepare, the active
// backend's kernel over ranges of [0, n), then the clock. slots[k] is the k-th state array.
// With `finite`, each range is also checked right after its update, while it is still in
// the updating core's cache: *finite tells whether every updated parameter is finite.
template <class Rule>
Status Step(const Rule& hp, StepClock& clock, float* p, const float* g, float* const* slots, size_t n,
            const ParallelFor& pf, bool* finite = nullptr);

// Where a step whose gradients arrive in pieces (a LeanPlan workspace updates each
// piece of a layer as soon as its gradient exists) hands them over: begin() checks
// the hyperparameters and derives the step's scalars, update() applies the rule to
// params [offset, offset + n) with those gradients, finish() advances the clock.
// Per element it is exactly Step: torch's update is elementwise.
struct GradientSink {
  void* self;
  Status (*begin)(void* self);
  void (*update)(void* self, size_t offset, const float* g, size_t n);
  void (*finish)(void* self);
};
template <class Rule>
struct FusedStep {
  const Rule* hp;
  StepClock* clock;
  float* params;
  float* const* slots;
  size_t n;
  typename Rule::Scalars scalars{};

  static Status Begin(void* self);
  static void Update(void* self, size_t offset, const float* g, size_t count);
  static void Finish(void* self);
  GradientSink Sink() { return {this, &Begin, &Update, &Finish}; }
};
}  // namespace internal


// An optimizer for N parameters: hyperparameters, step clock and kStateSlots (Rule::kSlots
// unless fewer are asked for: Optimizer<Adam, N, 2> keeps Adam's two moments without amsgrad's
// third array, and refuses amsgrad) state arrays of N floats, zeroed by the constructor. The constructor runs at
// start-up for a `static` one on purpose: a constant-initialised object with
// non-zero hyperparameters would put its whole state, zeros included, in .data
// (flash plus a copy at boot) instead of .bss.
template <class Rule, size_t N, size_t kStateSlots = Rule::kSlots>
class Optimizer {
  static_assert(kStateSlots <= Rule::kSlots, "more state arrays than the rule has");

 public:
  static constexpr size_t kNumParams = N;
  static constexpr size_t kSlots = kStateSlots;

  Optimizer() { reset(Rule()); }
  explicit Optimizer(const Rule& hp) { reset(hp); }

  // Invalid hyperparameters give kInvalidArgument and change nothing.
  // params and grads hold N floats each, at any alignment. With a ParallelFor
  // the array is split into ranges: the result is the same.
  // With `finite`: also tells whether every updated parameter is finite, each range
  // checked right after its update (cheaper than a pass of its own).
  [[nodiscard]] Status step(float* params, const float* grads, const ParallelFor& pf = {},
                            bool* finite = nullptr) {
    if (internal::SlotsNeeded(hp_) > kSlots) return Status::kInvalidArgument;
    float* slots[Rule::kSlots + 1] = {};
    for (size_t k = 0; k < kSlots; ++k) slots[k] = slots_[k];
    return internal::Step(hp_, clock_, params, grads, slots, N, pf, finite);
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
  Status status() const {
    return InvalidReason(hp_) || internal::SlotsNeeded(hp_) > kSlots ? Status::kInvalidArgument : Status::kOk;
  }
  const StepClock& clock() const { return clock_; }
  StepClock& clock() { return clock_; }
  float* slot(size_t k) { return slots_[k]; }
  const float* slot(size_t k) const { return slots_[k]; }

 private:
  Rule hp_;
  StepClock clock_;
  alignas(kAlign) float slots_[kSlots > 0 ? kSlots : 1][N];
};

}  // namespace descent

#endif  // DESCENT_OPTIMIZER_H_
