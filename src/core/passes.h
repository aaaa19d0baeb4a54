// What the plans' passes and the layers share: batch and model checks, the activation's
// place in a pass, splitting work over threads, and the LeanPlan forward the size-erased
// Forward hands lean workspaces to.
#ifndef DESCENT_SRC_CORE_PASSES_H_
#define DESCENT_SRC_CORE_PASSES_H_

#include "descent/train.h"

namespace descent {
namespace internal {

inline Status CheckRows(size_t max_batch, size_t rows) {
  return rows == 0 || rows > max_batch ? Status::kCapacityExceeded : Status::kOk;
}
inline Status CheckRows(const Layout& layout, size_t rows) { return CheckRows(layout.max_batch, rows); }

// The first largest of n outputs z[0], z[step], ... (ties to the lower class, as torch.argmax).
inline size_t Argmax(const float* z, size_t step, size_t n) {
  size_t best = 0;
  for (size_t j = 1; j < n; ++j) best = z[j * step] > z[best * step] ? j : best;
  return best;
}

// A usable model: frozen weights present, every parameter finite (non-finite ones would
// also let the zero-skipping products differ from dense ones).
inline Status CheckModel(const ModelRef& model, const ParallelFor& pf = {}) {
  const Layout& l = *model.layout;
  if (l.frozen > 0 && !model.frozen) return Status::kInvalidArgument;
  if (!ParamsFinite(model.params, l.num_trainable, pf)) return Status::kNonFinite;
  if (l.frozen > 0 && !ParamsFinite(model.frozen, l.trainable_begin, pf)) return Status::kNonFinite;
  return Status::kOk;
}

// ReLU is fused into the products and identity needs nothing; the others take a pass of their own.
inline bool OwnPass(const ActivationSpec& a) {
  return a.kind != ActivationKind::kRelu && a.kind != ActivationKind::kIdentity;
}

// Calls f(begin, end) for one range of [0, n) per worker, boundaries on
// multiples of `grain` (a kernel's register tile), none empty.
template <class F>
void SplitRows(const ParallelFor& pf, size_t n, size_t grain, const F& f) {
  const size_t parts = n >= 2 * grain ? pf.workers : 1;
  pf.For(parts, [&](size_t part) {
    const Range r = Split(n, parts, part, grain);
    if (r.end > r.begin) f(r.begin, r.end);
  });
}
// Row ranges split on multiples of 4 (the 4-row register tiles of AVX2, SSE4 and their
// kin): two workers get 128 rows each of a 256 batch, 32 of a 64 (a grain of 12 gave
// 132/124 and 36/28). Where tiles have 6 rows a range ends in up to 5 single rows.
constexpr size_t kRowGrain = 4;

// LeanPlan's forward pass (src/core/lean_plan.cc), and its streamed one for models with
// convolutions (stream_plan.cc) with the streamed training step.
Status LeanForward(ModelRef model, WorkRef work, size_t rows);
Status StreamForward(ModelRef model, WorkRef work, size_t rows);
Status StreamTrainStep(ModelRef model, WorkRef work, size_t rows, float* loss, const ParallelFor& pf,
                       const GradClip& clip, const GradientSink& sink);

}  // namespace internal
}  // namespace descent

#endif  // DESCENT_SRC_CORE_PASSES_H_
