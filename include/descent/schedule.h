// Learning-rate schedules, step for step as torch.optim.lr_scheduler computes
// them: the same recursive ("chainable") formulas in double, in the same order
// of operations, with a libm-free cosine. Each one is a small value type (no
// heap, usable in firmware): set its parameters (torch's names and defaults),
// Start(lr) once, then Step() after every optimizer step (or epoch) and give
// lr() to the optimizer:
//
//   descent::CosineAnnealingLR sched;  sched.T_max = 1000;
//   sched.Start(opt.hyperparameters().lr);
//   for (...) { TrainStep(...); sched.Step(); opt.hyperparameters().lr = sched.lr(); }
#ifndef DESCENT_SCHEDULE_H_
#define DESCENT_SCHEDULE_H_

#include <stddef.h>
#include <stdint.h>

#include "descent/type_list.h"

namespace descent {

// Each schedule has a short kName ("cosine"), the torch argument it cannot do
// without (kRequired, or nullptr), and Reflect(h, f): f(torch name, field) for
// every parameter, where a field is a double, an int64_t, a bool, a Choice (a
// bool shown as one of two words) or a Milestones list. Tools derive flags,
// help and file metadata from it.
template <class B>
struct Choice {
  B& is_second;
  const char* first;
  const char* second;
};
template <class B>
Choice<B> MakeChoice(B& is_second, const char* first, const char* second) {
  return {is_second, first, second};
}
template <class I, class N>
struct Milestones {
  I* values;
  N& count;
  size_t capacity;
};
template <class I, class N>
Milestones<I, N> MakeMilestones(I* values, N& count, size_t capacity) {
  return {values, count, capacity};
}

namespace internal {
// What the step-driven schedules keep: the current rate and torch's
// last_epoch (Step() calls since Start(), which is torch's initial step).
class ScheduleState {
 public:
  double lr() const { return lr_; }
  int64_t last_epoch() const { return last_epoch_; }

 protected:
  void Begin(double lr) { lr_ = lr, last_epoch_ = 0; }
  double lr_ = 0.0;
  int64_t last_epoch_ = 0;
};
}  // namespace internal

// Multiplies the rate by gamma every step_size steps.
struct StepLR : internal::ScheduleState {
  int64_t step_size = 1;  // torch requires it
  double gamma = 0.1;

  static constexpr const char* kName = "step";
  static constexpr const char* kRequired = "step_size";
  template <class Self, class F>
  static void Reflect(Self& h, F&& f) {
    f("step_size", h.step_size), f("gamma", h.gamma);
  }

  void Start(double base_lr) { Begin(base_lr); }
  void Step();
  const char* InvalidReason() const;
};

// Multiplies the rate by gamma at each milestone (a milestone listed twice counts twice).
struct MultiStepLR : internal::ScheduleState {
  static constexpr size_t kMaxMilestones = 16;
  int64_t milestones[kMaxMilestones] = {};
  size_t num_milestones = 0;
  double gamma = 0.1;

  static constexpr const char* kName = "multistep";
  static constexpr const char* kRequired = "milestones";
  template <class Self, class F>
  static void Reflect(Self& h, F&& f) {
    f("milestones", MakeMilestones(h.milestones, h.num_milestones, kMaxMilestones)), f("gamma", h.gamma);
  }

  void Start(double base_lr) { Begin(base_lr); }
  void Step();
  const char* InvalidReason() const;
};

// Multiplies the rate by gamma every step.
struct ExponentialLR : internal::ScheduleState {
  double gamma = 0.99;  // torch requires it

  static constexpr const char* kName = "exponential";
  static constexpr const char* kRequired = "gamma";
  template <class Self, class F>
  static void Reflect(Self& h, F&& f) {
    f("gamma", h.gamma);
  }

  void Start(double base_lr) { Begin(base_lr); }
  void Step();
  const char* InvalidReason() const;
};

// Half a cosine from the base rate down to eta_min over T_max steps (and back up after).
struct CosineAnnealingLR : internal::ScheduleState {
  int64_t T_max = 1;  // torch requires it
  double eta_min = 0.0;

  static constexpr const char* kName = "cosine";
  static constexpr const char* kRequired = nullptr;
  template <class Self, class F>
  static void Reflect(Self& h, F&& f) {
    f("T_max", h.T_max), f("eta_min", h.eta_min);
  }

  void Start(double base_lr) { Begin(base_lr), base_lr_ = base_lr; }
  void Step();
  void Restart();  // torch's step(0), as SequentialLR calls it at a milestone
  const char* InvalidReason() const;

 private:
  double base_lr_ = 0.0;
};

// Linear warm-up from start_factor * base rate to the base rate over
// warmup_steps, then cosine annealing over T_max steps: torch's
// SequentialLR([LinearLR(start_factor, 1.0, warmup_steps), CosineAnnealingLR(T_max, eta_min)],
// milestones=[warmup_steps]).
struct WarmupCosineLR {
  int64_t warmup_steps = 5;      // LinearLR's total_iters (torch default 5)
  double start_factor = 1.0 / 3;  // LinearLR's default
  int64_t T_max = 1;
  double eta_min = 0.0;

  static constexpr const char* kName = "warmup-cosine";
  static constexpr const char* kRequired = nullptr;
  template <class Self, class F>
  static void Reflect(Self& h, F&& f) {
    f("warmup_steps", h.warmup_steps), f("start_factor", h.start_factor), f("T_max", h.T_max),
        f("eta_min", h.eta_min);
  }

  void Start(double base_lr);
  void Step();
  double lr() const { return step_ < warmup_steps ? lr_ : cosine_.lr(); }
  const char* InvalidReason() const;

 private:
  double lr_ = 0.0;
  int64_t step_ = 0;  // SequentialLR's last_epoch
  CosineAnnealingLR cosine_;
};

// Smith's one-cycle policy: the rate rises from max_lr / div_factor to max_lr
// over pct_start of total_steps, then falls to max_lr / div_factor /
// final_div_factor; momentum (SGD's momentum or Adam's beta1) moves the other way.
struct OneCycleLR : internal::ScheduleState {
  double max_lr = 0.0;      // torch requires it
  int64_t total_steps = 0;  // torch requires it (or epochs * steps_per_epoch)
  double pct_start = 0.3;
  bool anneal_cos = true;   // anneal_strategy 'cos' (true) or 'linear'
  bool cycle_momentum = true;
  double base_momentum = 0.85;
  double max_momentum = 0.95;
  double div_factor = 25.0;
  double final_div_factor = 1e4;
  bool three_phase = false;

  static constexpr const char* kName = "onecycle";
  static constexpr const char* kRequired = nullptr;
  template <class Self, class F>
  static void Reflect(Self& h, F&& f) {
    f("max_lr", h.max_lr), f("total_steps", h.total_steps), f("pct_start", h.pct_start),
        f("anneal_strategy", MakeChoice(h.anneal_cos, "linear", "cos")), f("cycle_momentum", h.cycle_momentum),
        f("base_momentum", h.base_momentum), f("max_momentum", h.max_momentum), f("div_factor", h.div_factor),
        f("final_div_factor", h.final_div_factor), f("three_phase", h.three_phase);
  }

  void Start(double base_lr);  // base_lr is not used: the cycle starts at max_lr / div_factor
  void Step();
  double momentum() const { return momentum_; }  // meaningful when cycle_momentum
  const char* InvalidReason() const;

 private:
  void Compute();
  double momentum_ = 0.0;
};

// Where torch's OneCycleLR puts its momentum: SGD's and RMSprop's momentum,
// the Adam family's beta1 (a rule with neither is left alone; torch refuses it).
template <class Rule>
void SetCycledMomentum(Rule& hp, double momentum);

// Divides the rate by 1/factor when a metric stops improving for `patience`
// evaluations (torch's ReduceLROnPlateau, mode 'min' or 'max').
struct ReduceLROnPlateau {
  bool mode_max = false;      // mode 'min' (false) or 'max'
  double factor = 0.1;
  int64_t patience = 10;
  double threshold = 1e-4;
  bool threshold_abs = false;  // threshold_mode 'rel' (false) or 'abs'
  int64_t cooldown = 0;
  double min_lr = 0.0;
  double eps = 1e-8;

  static constexpr const char* kName = "plateau";
  static constexpr const char* kRequired = nullptr;
  template <class Self, class F>
  static void Reflect(Self& h, F&& f) {
    f("mode", MakeChoice(h.mode_max, "min", "max")), f("factor", h.factor), f("patience", h.patience),
        f("threshold", h.threshold), f("threshold_mode", MakeChoice(h.threshold_abs, "rel", "abs")),
        f("cooldown", h.cooldown), f("min_lr", h.min_lr), f("eps", h.eps);
  }

  void Start(double base_lr);
  void Step(double metric);
  double lr() const { return lr_; }
  double best() const { return best_; }
  int64_t num_bad_epochs() const { return num_bad_epochs_; }
  const char* InvalidReason() const;

  // The whole state, for checkpoints: restore with Restore(lr, best, bad, cooldown).
  int64_t cooldown_counter() const { return cooldown_counter_; }
  void Restore(double lr, double best, int64_t num_bad_epochs, int64_t cooldown_counter);

 private:
  bool IsBetter(double a) const;
  double lr_ = 0.0, best_ = 0.0;
  int64_t num_bad_epochs_ = 0, cooldown_counter_ = 0;
};

// Every schedule, in the order tools list them.
using Schedules = TypeList<StepLR, MultiStepLR, ExponentialLR, CosineAnnealingLR, WarmupCosineLR, OneCycleLR,
                           ReduceLROnPlateau>;

namespace internal {
template <class Rule>
auto SetMomentum(Rule& hp, double m, int) -> decltype(hp.momentum = m, void()) { hp.momentum = m; }
template <class Rule>
auto SetMomentum(Rule& hp, double m, long) -> decltype(hp.beta1 = m, void()) { hp.beta1 = m; }
template <class Rule>
void SetMomentum(Rule&, double, ...) {}
template <class Rule>
constexpr auto HasMomentum(int) -> decltype(Rule{}.momentum, true) { return true; }
template <class Rule>
constexpr auto HasMomentum(long) -> decltype(Rule{}.beta1, true) { return true; }
template <class Rule>
constexpr bool HasMomentum(...) { return false; }
}  // namespace internal

// Whether SetCycledMomentum has somewhere to put OneCycleLR's momentum in Rule.
template <class Rule>
constexpr bool kHasCycledMomentum = internal::HasMomentum<Rule>(0);

template <class Rule>
void SetCycledMomentum(Rule& hp, double momentum) { internal::SetMomentum(hp, momentum, 0); }

}  // namespace descent

#endif  // DESCENT_SCHEDULE_H_
