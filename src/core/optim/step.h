// The one step every rule takes: validate, derive the per-step scalars, run the
// active backend's update kernel over ranges of the array, advance the clock.
// Each rule's source instantiates it (DESCENT_DEFINE_STEP).
#ifndef DESCENT_SRC_CORE_OPTIM_STEP_H_
#define DESCENT_SRC_CORE_OPTIM_STEP_H_

#include "descent/optimizer.h"
#include "src/kernels/kernels.h"

namespace descent {
namespace internal {

template <class Rule>
Status Step(const Rule& hp, StepClock& clock, float* p, const float* g, float* const* slots, size_t n,
            const ParallelFor& pf) {
  if (hp.InvalidReason()) return Status::kInvalidArgument;
  const typename Rule::Scalars a = hp.Prepare(clock, slots, n);
  const kernels::UpdateFn<Rule> update = kernels::ActiveKernels().template update<Rule>();
  // One range per worker, starting on 64-byte boundaries so vector loops stay whole.
  const size_t parts = n >= 4096 ? pf.workers : 1;
  pf.For(parts, [&](size_t part) {
    const Range r = Split(n, parts, part, 16);
    if (r.end <= r.begin) return;
    float* part_slots[Rule::kSlots];
    for (size_t k = 0; k < Rule::kSlots; ++k) part_slots[k] = slots[k] + r.begin;
    update(a, p + r.begin, g + r.begin, part_slots, r.end - r.begin);
  });
  ++clock.step;
  return Status::kOk;
}

}  // namespace internal
}  // namespace descent

#define DESCENT_DEFINE_STEP(Rule)                                                                        \
  template ::descent::Status descent::internal::Step<::descent::Rule>(                                   \
      const ::descent::Rule&, ::descent::StepClock&, float*, const float*, float* const*, size_t,        \
      const ::descent::ParallelFor&)

#endif  // DESCENT_SRC_CORE_OPTIM_STEP_H_
