// The one step every rule takes: validate, derive the per-step scalars, run the
// active backend's update kernel over ranges of the array, advance the clock;
// FusedStep is the same three phases for gradients that arrive in pieces.
// Each rule's source instantiates it (DESCENT_DEFINE_STEP).
#ifndef DESCENT_SRC_CORE_OPTIM_STEP_H_
#define DESCENT_SRC_CORE_OPTIM_STEP_H_

#include "descent/train.h"
#include "descent/optimizer.h"
#include "src/kernels/kernels.h"

namespace descent {
namespace internal {

template <class Rule>
Status FusedStep<Rule>::Begin(void* self) {
  FusedStep& s = *static_cast<FusedStep*>(self);
  if (s.hp->InvalidReason()) return Status::kInvalidArgument;
  s.scalars = s.hp->Prepare(*s.clock, s.slots, s.n);
  return Status::kOk;
}

template <class Rule>
void FusedStep<Rule>::Update(void* self, size_t offset, const float* g, size_t count) {
  const FusedStep& s = *static_cast<const FusedStep*>(self);
  float* slots[Rule::kSlots + 1];
  for (size_t k = 0; k < Rule::kSlots; ++k) slots[k] = s.slots[k] + offset;
  kernels::ActiveKernels().template update<Rule>()(s.scalars, s.params + offset, g, slots, count);
}

template <class Rule>
void FusedStep<Rule>::Finish(void* self) {
  ++static_cast<FusedStep*>(self)->clock->step;
}

template <class Rule>
Status Step(const Rule& hp, StepClock& clock, float* p, const float* g, float* const* slots, size_t n,
            const ParallelFor& pf, bool* finite) {
  FusedStep<Rule> step{&hp, &clock, p, slots, n};
  if (Status s = FusedStep<Rule>::Begin(&step); s != Status::kOk) return s;
  // One range per worker, starting on 64-byte boundaries so vector loops stay whole.
  const size_t parts = n >= 4096 ? pf.workers : 1;
  const bool all_finite = pf.All(parts, [&](size_t part) {
    const Range r = Split(n, parts, part, 16);
    if (r.end > r.begin) FusedStep<Rule>::Update(&step, r.begin, g + r.begin, r.end - r.begin);
    return !finite || ParamsFinite(p + r.begin, r.end - r.begin);
  });
  FusedStep<Rule>::Finish(&step);
  if (finite) *finite = all_finite;
  return Status::kOk;
}

}  // namespace internal
}  // namespace descent

#define DESCENT_DEFINE_STEP(Rule)                                                                        \
  template struct descent::internal::FusedStep<::descent::Rule>;                                         \
  template ::descent::Status descent::internal::Step<::descent::Rule>(                                   \
      const ::descent::Rule&, ::descent::StepClock&, float*, const float*, float* const*, size_t,        \
      const ::descent::ParallelFor&, bool*)

#endif  // DESCENT_SRC_CORE_OPTIM_STEP_H_
