// torch.optim.lr_scheduler's formulas, operation for operation (Python
// evaluates left to right; -ffp-contract=off keeps every product rounded).
#include "descent/schedule.h"

#include "src/core/double_math.h"

namespace descent {
namespace {
constexpr double kPi = 3.141592653589793;  // math.pi
int64_t PyMod(int64_t a, int64_t m) { return ((a % m) + m) % m; }
}  // namespace

void StepLR::Step() {
  ++last_epoch_;
  if (last_epoch_ % step_size == 0) lr_ = lr_ * gamma;
}
namespace {
constexpr double kHuge = 1e300;  // beyond it a rate is not a number to train with
bool Positive(double x) { return x > 0.0 && x < kHuge; }
bool NonNegative(double x) { return x >= 0.0 && x < kHuge; }
}  // namespace

const char* StepLR::InvalidReason() const {
  if (step_size < 1) return "step_size must be at least 1";
  return Positive(gamma) ? nullptr : "gamma must be positive and finite";
}

void MultiStepLR::Step() {
  ++last_epoch_;
  uint64_t count = 0;  // torch's Counter of milestones
  for (size_t i = 0; i < num_milestones; ++i) count += milestones[i] == last_epoch_;
  if (count) lr_ = lr_ * internal::PowInt(gamma, count);
}
const char* MultiStepLR::InvalidReason() const {
  if (num_milestones > kMaxMilestones) return "at most 16 milestones";
  for (size_t i = 0; i < num_milestones; ++i) {
    if (milestones[i] < 1) return "milestones must be positive";
    if (i && milestones[i] < milestones[i - 1]) return "milestones must be increasing";
  }
  return Positive(gamma) ? nullptr : "gamma must be positive and finite";
}

void ExponentialLR::Step() {
  ++last_epoch_;
  lr_ = lr_ * gamma;
}
const char* ExponentialLR::InvalidReason() const { return Positive(gamma) ? nullptr : "gamma must be positive and finite"; }

void CosineAnnealingLR::Step() {
  const int64_t e = ++last_epoch_;
  const double t = static_cast<double>(T_max);
  if (PyMod(e - 1 - T_max, 2 * T_max) == 0) {
    lr_ = lr_ + (base_lr_ - eta_min) * (1 - internal::Cos(kPi / t)) / 2;
  } else {
    lr_ = (1 + internal::Cos(kPi * static_cast<double>(e) / t)) /
              (1 + internal::Cos(kPi * static_cast<double>(e - 1) / t)) * (lr_ - eta_min) +
          eta_min;
  }
}
void CosineAnnealingLR::Restart() {
  last_epoch_ = 0;  // the closed form at 0: eta_min + (base - eta_min) * (1 + cos 0) / 2
  lr_ = eta_min + (base_lr_ - eta_min) * (1 + internal::Cos(0.0)) / 2;
}
const char* CosineAnnealingLR::InvalidReason() const {
  if (T_max < 1) return "T_max must be at least 1";
  return NonNegative(eta_min) ? nullptr : "eta_min must be >= 0 and finite (a rate below 0 is no rate)";
}

// SequentialLR: LinearLR runs steps 0 .. warmup_steps - 1; at the milestone the
// cosine restarts from the base rate (torch calls its step(0)) and runs on.
void WarmupCosineLR::Start(double base_lr) {
  step_ = 0;
  cosine_.T_max = T_max;
  cosine_.eta_min = eta_min;
  cosine_.Start(base_lr);
  lr_ = base_lr * start_factor;
}
void WarmupCosineLR::Step() {
  const int64_t e = ++step_;
  if (e < warmup_steps) {  // LinearLR's chainable form, end_factor 1
    const double w = static_cast<double>(warmup_steps);
    lr_ = lr_ * (1. + (1.0 - start_factor) / (w * start_factor + static_cast<double>(e - 1) * (1.0 - start_factor)));
  } else if (e == warmup_steps) {
    cosine_.Restart();
  } else {
    cosine_.Step();
  }
}
const char* WarmupCosineLR::InvalidReason() const {
  if (warmup_steps < 1) return "warmup_steps must be at least 1";
  if (!(start_factor > 0.0 && start_factor <= 1.0)) return "start_factor must be in (0, 1]";
  if (!NonNegative(eta_min)) return "eta_min must be >= 0 and finite (a rate below 0 is no rate)";
  return T_max < 1 ? "T_max must be at least 1 (a warm-up as long as the run leaves no step for the cosine)" : nullptr;
}

void OneCycleLR::Start(double) {
  Begin(0.0);
  Compute();
}
void OneCycleLR::Step() {
  ++last_epoch_;
  Compute();
}
void OneCycleLR::Compute() {
  const double initial_lr = max_lr / div_factor, min_lr = initial_lr / final_div_factor;
  const double total = static_cast<double>(total_steps);
  struct Phase {
    double end_step, start_lr, end_lr, start_momentum, end_momentum;
  };
  const Phase two[2] = {{pct_start * total - 1, initial_lr, max_lr, max_momentum, base_momentum},
                        {total - 1, max_lr, min_lr, base_momentum, max_momentum}};
  const Phase three[3] = {{pct_start * total - 1, initial_lr, max_lr, max_momentum, base_momentum},
                          {2 * pct_start * total - 2, max_lr, initial_lr, base_momentum, max_momentum},
                          {total - 1, initial_lr, min_lr, max_momentum, max_momentum}};
  const Phase* phases = three_phase ? three : two;
  const size_t count = three_phase ? 3 : 2;
  const auto anneal = [&](double start, double end, double pct) {
    if (!anneal_cos) return (end - start) * pct + start;
    const double cos_out = internal::Cos(kPi * pct) + 1;
    return end + (start - end) / 2.0 * cos_out;
  };
  const double step = static_cast<double>(last_epoch_);
  double start_step = 0;
  for (size_t i = 0; i < count; ++i) {
    const Phase& p = phases[i];
    if (step <= p.end_step || i == count - 1) {
      const double pct = (step - start_step) / (p.end_step - start_step);
      lr_ = anneal(p.start_lr, p.end_lr, pct);
      momentum_ = anneal(p.start_momentum, p.end_momentum, pct);
      return;
    }
    start_step = p.end_step;
  }
}
const char* OneCycleLR::InvalidReason() const {
  if (total_steps < 1) return "total_steps must be at least 1";
  if (!(pct_start >= 0.0 && pct_start <= 1.0)) return "pct_start must be in [0, 1]";
  if (!(max_lr > 0.0)) return "max_lr must be positive";
  if (!(div_factor > 0.0 && final_div_factor > 0.0)) return "div_factor and final_div_factor must be positive";
  if (!(base_momentum >= 0.0 && base_momentum <= 1.0)) return "base_momentum must be in [0, 1]";
  if (!(max_momentum >= 0.0 && max_momentum <= 1.0)) return "max_momentum must be in [0, 1]";
  return nullptr;
}

void ReduceLROnPlateau::Start(double base_lr) {
  lr_ = base_lr;
  best_ = mode_max ? -__builtin_inf() : __builtin_inf();
  num_bad_epochs_ = cooldown_counter_ = 0;
}
bool ReduceLROnPlateau::IsBetter(double a) const {
  if (!mode_max) return threshold_abs ? a < best_ - threshold : a < best_ * (1. - threshold);
  return threshold_abs ? a > best_ + threshold : a > best_ * (threshold + 1.);
}
void ReduceLROnPlateau::Step(double metric) {
  if (IsBetter(metric)) {
    best_ = metric;
    num_bad_epochs_ = 0;
  } else {
    ++num_bad_epochs_;
  }
  if (cooldown_counter_ > 0) {
    --cooldown_counter_;
    num_bad_epochs_ = 0;  // bad evaluations in cooldown do not count
  }
  if (num_bad_epochs_ > patience) {
    const double reduced = lr_ * factor > min_lr ? lr_ * factor : min_lr;
    if (lr_ - reduced > eps) lr_ = reduced;
    cooldown_counter_ = cooldown;
    num_bad_epochs_ = 0;
  }
}
void ReduceLROnPlateau::Restore(double lr, double best, int64_t num_bad_epochs, int64_t cooldown_counter) {
  lr_ = lr, best_ = best, num_bad_epochs_ = num_bad_epochs, cooldown_counter_ = cooldown_counter;
}
const char* ReduceLROnPlateau::InvalidReason() const {
  if (!(factor < 1.0)) return "factor must be below 1";
  if (patience < 0 || cooldown < 0) return "patience and cooldown must not be negative";
  if (!(factor > 0.0)) return "factor must be positive";
  return NonNegative(min_lr) ? nullptr : "min_lr must be >= 0 and finite";
}

}  // namespace descent
