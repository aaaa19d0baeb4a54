// Forward-only inference (descent/workspace.h's InferenceWorkspace): activations kept
// transposed, weights read in place, each layer by its kind's code; predictions and
// probabilities from the outputs.
#include "src/core/layers/layer_ops.h"
#include "src/core/loss.h"
#include "src/core/passes.h"

namespace descent {
namespace internal {
namespace {

// Where Infer leaves the last layer's outputs (transposed).
const float* InferOutput(const InferRef& work) { return work.F(work.plan->act[work.layout->num_layers]); }

}  // namespace

Status Infer(ModelRef model, InferRef work, size_t rows, const ParallelFor& pf) {
  const Layout& l = *model.layout;
  if (Status s = CheckRows(work.max_batch, rows); s != Status::kOk) return s;
  if (!l.all_linear()) return Status::kInvalidArgument;  // transposed activations: Linear layers only
  if (Status s = CheckModel(model, pf); s != Status::kOk) return s;
  for (size_t i = 0; i < l.num_layers; ++i) InferLayer(l, model, work, i, rows, pf);
  return Status::kOk;
}

Status Predict(InferRef work, size_t rows, uint8_t* labels8, uint16_t* labels16) {
  const Layout& l = *work.layout;
  if (!HasClassTargets(l.loss.kind)) return Status::kInvalidArgument;
  if (Status s = CheckRows(work.max_batch, rows); s != Status::kOk) return s;
  const float* z = InferOutput(work);
  for (size_t r = 0; r < rows; ++r) {
    const size_t label = Argmax(z + r, work.plan->stride, l.outputs());
    if (labels8) labels8[r] = static_cast<uint8_t>(label);
    else labels16[r] = static_cast<uint16_t>(label);
  }
  return Status::kOk;
}

Status Probabilities(InferRef work, size_t rows, float* out) {
  const Layout& l = *work.layout;
  if (Status s = CheckRows(work.max_batch, rows); s != Status::kOk) return s;
  const float* z = InferOutput(work);
  for (size_t r = 0; r < rows; ++r) OutputsToProbabilities(l.loss, z + r, work.plan->stride, l.outputs(), out + r * l.outputs());
  return Status::kOk;
}

}  // namespace internal
}  // namespace descent
