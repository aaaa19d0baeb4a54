// What every update rule provides, and the state all rules share.
//
// A rule is a struct with torch.optim's hyperparameter names and defaults
// (doubles, like the Python floats torch receives). Its header
// (descent/optim/<rule>.h) holds everything a user or a tool needs to know of it:
//   kName                the name torch's class goes by, lower case ("adam")
//   kSlots, kSlotNames   its per-parameter state arrays, under torch's state names
//   Reflect(h, f)        f(name, field&) for every hyperparameter, torch names:
//                        flags, help, messages and checkpoint metadata come from it
//   InvalidReason()      nullptr when valid, else torch's complaint (ValueError)
//   Scalars              the per-step scalars its update kernel reads
//   Prepare(clock, ...)  derives them for step clock.step + 1 (in double, rounded
//                        to float once, as torch does)
//   Reference(...)       the plain-loop update: the ground truth of the SIMD kernels
// Its source (src/core/optim/<rule>.cc) defines the last three; its vector
// body is one function in src/kernels/generic/updates-inl.h. The list of rules
// is descent::Rules in descent/optimizer.h.
#ifndef DESCENT_OPTIM_RULE_H_
#define DESCENT_OPTIM_RULE_H_

#include <stddef.h>
#include <stdint.h>

#include <type_traits>
#include <utility>

namespace descent {

// Scalar state shared by all rules: the step count t and NAdam's mu_product.
struct StepClock {
  uint64_t step = 0;        // steps taken; the next step is t = step + 1
  float mu_product = 1.0f;  // NAdam only: float32, as torch keeps it
};

namespace internal {
// !(0 <= x) also rejects NaN.
inline bool Negative(double x) { return !(0.0 <= x); }
inline bool BadBeta(double b) { return !(0.0 <= b && b < 1.0); }
inline float F(double x) { return static_cast<float>(x); }
}  // namespace internal

namespace internal {
// How many state arrays a rule's hyperparameters use: Rule::kSlots, or fewer where the rule
// says so (Adam without amsgrad: its two moments).
template <class Rule, class = void>
struct HasSlotsNeeded : std::false_type {};
template <class Rule>
struct HasSlotsNeeded<Rule, std::void_t<decltype(std::declval<const Rule&>().SlotsNeeded())>> : std::true_type {};
template <class Rule>
constexpr size_t SlotsNeeded(const Rule& hp) {
  if constexpr (HasSlotsNeeded<Rule>::value) return hp.SlotsNeeded();
  else return Rule::kSlots;
}
}  // namespace internal

}  // namespace descent

#endif  // DESCENT_OPTIM_RULE_H_
