// Per-step scalars of every update rule, derived in double and rounded to
// float once (as torch does), then one kernel pass over the whole array.
#include "descent/optimizer.h"

#include <cmath>

#include "src/core/double_math.h"
#include "src/kernels/kernels.h"

namespace descent {
namespace {

// !(0 <= x) also rejects NaN.
bool Negative(double x) { return !(0.0 <= x); }
bool BadBeta(double b) { return !(0.0 <= b && b < 1.0); }
float F(double x) { return static_cast<float>(x); }

template <class AdamLike>
const char* AdamLikeReason(const AdamLike& hp) {
  if (Negative(hp.lr)) return "invalid learning rate lr (must be >= 0)";
  if (Negative(hp.eps)) return "invalid epsilon value eps (must be >= 0)";
  if (BadBeta(hp.beta1)) return "invalid beta parameter at index 0, beta1 (must be in [0, 1))";
  if (BadBeta(hp.beta2)) return "invalid beta parameter at index 1, beta2 (must be in [0, 1))";
  if (Negative(hp.weight_decay)) return "invalid weight_decay value (must be >= 0)";
  return nullptr;
}

}  // namespace

const char* InvalidReason(const Sgd& hp) {
  if (Negative(hp.lr)) return "invalid learning rate lr (must be >= 0)";
  if (Negative(hp.momentum)) return "invalid momentum value (must be >= 0)";
  if (Negative(hp.weight_decay)) return "invalid weight_decay value (must be >= 0)";
  if (!std::isfinite(hp.dampening)) return "invalid dampening value (must be finite)";
  if (hp.nesterov && (hp.momentum <= 0.0 || hp.dampening != 0.0))
    return "Nesterov momentum requires a momentum and zero dampening";
  return nullptr;
}
const char* InvalidReason(const Adagrad& hp) {
  if (Negative(hp.lr)) return "invalid learning rate lr (must be >= 0)";
  if (Negative(hp.lr_decay)) return "invalid lr_decay value (must be >= 0)";
  if (Negative(hp.weight_decay)) return "invalid weight_decay value (must be >= 0)";
  if (Negative(hp.initial_accumulator_value))
    return "invalid initial_accumulator_value (must be >= 0)";
  if (Negative(hp.eps)) return "invalid epsilon value eps (must be >= 0)";
  return nullptr;
}
const char* InvalidReason(const Adadelta& hp) {
  if (Negative(hp.lr)) return "invalid learning rate lr (must be >= 0)";
  if (!(0.0 <= hp.rho && hp.rho <= 1.0)) return "invalid rho value (must be in [0, 1])";
  if (Negative(hp.eps)) return "invalid epsilon value eps (must be >= 0)";
  if (Negative(hp.weight_decay)) return "invalid weight_decay value (must be >= 0)";
  return nullptr;
}
const char* InvalidReason(const RmsProp& hp) {
  if (Negative(hp.lr)) return "invalid learning rate lr (must be >= 0)";
  if (Negative(hp.eps)) return "invalid epsilon value eps (must be >= 0)";
  if (Negative(hp.momentum)) return "invalid momentum value (must be >= 0)";
  if (Negative(hp.weight_decay)) return "invalid weight_decay value (must be >= 0)";
  if (Negative(hp.alpha)) return "invalid alpha value (must be >= 0)";
  return nullptr;
}
const char* InvalidReason(const Adam& hp) { return AdamLikeReason(hp); }
const char* InvalidReason(const AdamW& hp) { return AdamLikeReason(hp); }
const char* InvalidReason(const Adamax& hp) { return AdamLikeReason(hp); }
const char* InvalidReason(const NAdam& hp) {
  if (const char* reason = AdamLikeReason(hp)) return reason;
  if (Negative(hp.momentum_decay)) return "invalid momentum_decay value (must be >= 0)";
  return nullptr;
}
const char* InvalidReason(const RAdam& hp) { return AdamLikeReason(hp); }

namespace internal {
namespace {

const kernels::Kernels& K() { return kernels::ActiveKernels(); }

// Runs update(begin, count) over [0, n) split into one range per worker.
// Ranges start on 64-byte boundaries of the parameter index, so vector loops stay whole.
template <class Update>
void Split(const ParallelFor& pf, size_t n, const Update& update) {
  const size_t parts = n >= 4096 ? pf.workers : 1;
  pf.For(parts, [&](size_t part) {
    const Range r = descent::Split(n, parts, part, 16);
    if (r.end > r.begin) update(r.begin, r.end - r.begin);
  });
}

// Adam and AdamW share one kernel; AdamW decays the weights, not the gradient.
template <class Rule>
Status AdamStep(const Rule& hp, bool decoupled, StepClock& clock, float* p, const float* g, float* const* slots,
                size_t n, const ParallelFor& pf) {
  if (InvalidReason(hp)) return Status::kInvalidArgument;
  const uint64_t t = clock.step + 1;
  const double bc1 = 1.0 - PowInt(hp.beta1, t);
  const double bc2 = 1.0 - PowInt(hp.beta2, t);
  kernels::AdamArgs a;
  a.beta1 = F(hp.beta1);
  a.one_minus_beta1 = F(1.0 - hp.beta1);
  a.beta2 = F(hp.beta2);
  a.one_minus_beta2 = F(1.0 - hp.beta2);
  a.neg_step_size = F(-(hp.lr / bc1));
  a.bc2_sqrt = F(std::sqrt(bc2));
  a.eps = F(hp.eps);
  a.weight_decay = F(hp.weight_decay);
  a.decay = F(1.0 - hp.lr * hp.weight_decay);
  a.decoupled = decoupled;
  a.has_weight_decay = !decoupled && hp.weight_decay != 0.0;
  a.amsgrad = hp.amsgrad;
  Split(pf, n, [&](size_t b, size_t c) {
    K().adam(a, p + b, g + b, slots[0] + b, slots[1] + b, slots[2] + b, c);
  });
  ++clock.step;
  return Status::kOk;
}

}  // namespace

Status Step(const Sgd& hp, StepClock& clock, float* p, const float* g, float* const* slots,
            size_t n, const ParallelFor& pf) {
  if (InvalidReason(hp)) return Status::kInvalidArgument;
  kernels::SgdArgs a;
  a.neg_lr = F(-hp.lr);
  a.momentum = F(hp.momentum);
  a.one_minus_dampening = F(1.0 - hp.dampening);
  a.weight_decay = F(hp.weight_decay);
  a.has_weight_decay = hp.weight_decay != 0.0;
  a.has_momentum = hp.momentum != 0.0;
  a.nesterov = hp.nesterov;
  a.first_step = clock.step == 0;
  Split(pf, n, [&](size_t b, size_t c) { K().sgd(a, p + b, g + b, slots[0] + b, c); });
  ++clock.step;
  return Status::kOk;
}

Status Step(const Adagrad& hp, StepClock& clock, float* p, const float* g, float* const* slots,
            size_t n, const ParallelFor& pf) {
  if (InvalidReason(hp)) return Status::kInvalidArgument;
  if (clock.step == 0) {
    const float init = F(hp.initial_accumulator_value);
    for (size_t i = 0; i < n; ++i) slots[0][i] = init;
  }
  const double t = static_cast<double>(clock.step + 1);
  kernels::AdagradArgs a;
  a.neg_clr = F(-(hp.lr / (1.0 + (t - 1.0) * hp.lr_decay)));
  a.eps = F(hp.eps);
  a.weight_decay = F(hp.weight_decay);
  a.has_weight_decay = hp.weight_decay != 0.0;
  Split(pf, n, [&](size_t b, size_t c) { K().adagrad(a, p + b, g + b, slots[0] + b, c); });
  ++clock.step;
  return Status::kOk;
}

Status Step(const Adadelta& hp, StepClock& clock, float* p, const float* g, float* const* slots,
            size_t n, const ParallelFor& pf) {
  if (InvalidReason(hp)) return Status::kInvalidArgument;
  kernels::AdadeltaArgs a;
  a.neg_lr = F(-hp.lr);
  a.rho = F(hp.rho);
  a.one_minus_rho = F(1.0 - hp.rho);
  a.eps = F(hp.eps);
  a.weight_decay = F(hp.weight_decay);
  a.has_weight_decay = hp.weight_decay != 0.0;
  Split(pf, n, [&](size_t b, size_t c) { K().adadelta(a, p + b, g + b, slots[0] + b, slots[1] + b, c); });
  ++clock.step;
  return Status::kOk;
}

Status Step(const RmsProp& hp, StepClock& clock, float* p, const float* g, float* const* slots,
            size_t n, const ParallelFor& pf) {
  if (InvalidReason(hp)) return Status::kInvalidArgument;
  kernels::RmsPropArgs a;
  a.neg_lr = F(-hp.lr);
  a.alpha = F(hp.alpha);
  a.one_minus_alpha = F(1.0 - hp.alpha);
  a.eps = F(hp.eps);
  a.momentum = F(hp.momentum);
  a.weight_decay = F(hp.weight_decay);
  a.has_weight_decay = hp.weight_decay != 0.0;
  a.has_momentum = hp.momentum > 0.0;
  a.centered = hp.centered;
  Split(pf, n, [&](size_t b, size_t c) {
    K().rmsprop(a, p + b, g + b, slots[0] + b, slots[1] + b, slots[2] + b, c);
  });
  ++clock.step;
  return Status::kOk;
}

Status Step(const Adam& hp, StepClock& clock, float* p, const float* g, float* const* slots,
            size_t n, const ParallelFor& pf) {
  return AdamStep(hp, /*decoupled=*/false, clock, p, g, slots, n, pf);
}

Status Step(const AdamW& hp, StepClock& clock, float* p, const float* g, float* const* slots,
            size_t n, const ParallelFor& pf) {
  return AdamStep(hp, /*decoupled=*/true, clock, p, g, slots, n, pf);
}

Status Step(const Adamax& hp, StepClock& clock, float* p, const float* g, float* const* slots,
            size_t n, const ParallelFor& pf) {
  if (InvalidReason(hp)) return Status::kInvalidArgument;
  const uint64_t t = clock.step + 1;
  kernels::AdamaxArgs a;
  a.beta1 = F(hp.beta1);
  a.one_minus_beta1 = F(1.0 - hp.beta1);
  a.beta2 = F(hp.beta2);
  a.eps = F(hp.eps);
  a.neg_clr = F(-(hp.lr / (1.0 - PowInt(hp.beta1, t))));
  a.weight_decay = F(hp.weight_decay);
  a.has_weight_decay = hp.weight_decay != 0.0;
  Split(pf, n, [&](size_t b, size_t c) { K().adamax(a, p + b, g + b, slots[0] + b, slots[1] + b, c); });
  ++clock.step;
  return Status::kOk;
}

Status Step(const NAdam& hp, StepClock& clock, float* p, const float* g, float* const* slots,
            size_t n, const ParallelFor& pf) {
  if (InvalidReason(hp)) return Status::kInvalidArgument;
  const double t = static_cast<double>(clock.step + 1);
  const double mu = hp.beta1 * (1.0 - 0.5 * Pow096(t * hp.momentum_decay));
  const double mu_next = hp.beta1 * (1.0 - 0.5 * Pow096((t + 1.0) * hp.momentum_decay));
  // torch keeps mu_product as a float32 tensor: P_t = P_{t-1} * mu_t, rounded.
  const float product = clock.mu_product * F(mu);
  const float product_next = product * F(mu_next);
  kernels::NAdamArgs a;
  a.beta1 = F(hp.beta1);
  a.one_minus_beta1 = F(1.0 - hp.beta1);
  a.beta2 = F(hp.beta2);
  a.one_minus_beta2 = F(1.0 - hp.beta2);
  a.bc2 = F(1.0 - PowInt(hp.beta2, clock.step + 1));
  a.eps = F(hp.eps);
  a.grad_coef = F(-hp.lr * (1.0 - mu) / (1.0 - static_cast<double>(product)));
  a.avg_coef = F(-hp.lr * mu_next / (1.0 - static_cast<double>(product_next)));
  a.weight_decay = F(hp.weight_decay);
  a.has_weight_decay = hp.weight_decay != 0.0;
  Split(pf, n, [&](size_t b, size_t c) { K().nadam(a, p + b, g + b, slots[0] + b, slots[1] + b, c); });
  clock.mu_product = product;
  ++clock.step;
  return Status::kOk;
}

Status Step(const RAdam& hp, StepClock& clock, float* p, const float* g, float* const* slots,
            size_t n, const ParallelFor& pf) {
  if (InvalidReason(hp)) return Status::kInvalidArgument;
  const uint64_t step = clock.step + 1;
  const double t = static_cast<double>(step);
  const double beta2_t = PowInt(hp.beta2, step);
  const double bc1 = 1.0 - PowInt(hp.beta1, step);
  const double bc2 = 1.0 - beta2_t;
  const double rho_inf = 2.0 / (1.0 - hp.beta2) - 1.0;
  const double rho_t = rho_inf - 2.0 * t * beta2_t / bc2;
  kernels::RAdamArgs a;
  a.beta1 = F(hp.beta1);
  a.one_minus_beta1 = F(1.0 - hp.beta1);
  a.beta2 = F(hp.beta2);
  a.one_minus_beta2 = F(1.0 - hp.beta2);
  a.bc1 = F(bc1);
  a.lr = F(hp.lr);
  a.eps = F(hp.eps);
  a.bc2_sqrt = F(std::sqrt(bc2));
  a.rectified = rho_t > 5.0;
  a.rect = a.rectified ? F(std::sqrt((rho_t - 4.0) * (rho_t - 2.0) * rho_inf /
                                     ((rho_inf - 4.0) * (rho_inf - 2.0) * rho_t)))
                       : 1.0f;
  a.weight_decay = F(hp.weight_decay);
  a.has_weight_decay = hp.weight_decay != 0.0;
  Split(pf, n, [&](size_t b, size_t c) { K().radam(a, p + b, g + b, slots[0] + b, slots[1] + b, c); });
  ++clock.step;
  return Status::kOk;
}

}  // namespace internal
}  // namespace descent
