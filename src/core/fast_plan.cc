// FastPlan (descent/workspace.h): the forward and backward passes and evaluation of any
// layer list, each layer run by its kind's code (src/core/layers/) over the whole batch,
// split over threads; the kernels' products do the work.
#include <cmath>

#include "src/core/layers/layer_ops.h"
#include "src/core/loss.h"
#include "src/core/passes.h"

namespace descent {
namespace internal {

Status Forward(ModelRef model, WorkRef work, size_t rows, const ParallelFor& pf) {
  const Layout& w = *work.layout;
  if (w.lean) return LeanForward(model, work, rows);
  if (Status s = CheckRows(w, rows); s != Status::kOk) return s;
  if (Status s = CheckModel(model, pf); s != Status::kOk) return s;
  for (size_t i = 0; i < w.num_layers; ++i) ForwardLayer(w, model, work, i, rows, pf);
  return Status::kOk;
}

Status ForwardBackward(ModelRef model, WorkRef work, size_t rows, float* loss, const ParallelFor& pf) {
  const Layout& w = *work.layout;
  // Training: batch norm normalizes with the batch's statistics (torch refuses a single value per
  // channel) and dropout draws this step's masks.
  for (size_t i = 0; i < w.num_layers; ++i)
    if (w.layers[i].kind == LayerKind::kBatchNorm && rows * w.layers[i].in_shape.positions() < 2)
      return Status::kInvalidArgument;
  work.training = true;
  if (Status s = Forward(model, work, rows, pf); s != Status::kOk) return s;
  if (work.noise) ++work.noise[1];
  if (Status s = LossAndOutputGradient(w, work, rows, pf); s != Status::kOk) return s;
  double sum = 0.0;
  for (size_t r = 0; r < rows; ++r) sum += work.row_loss[r];
  *loss = static_cast<float>(sum / static_cast<double>(rows));
  if (!std::isfinite(*loss)) return Status::kNonFinite;
  // From the top: each trained layer's gradients, and its input gradient for the one below.
  for (size_t i = w.num_layers; i-- > w.frozen;) BackwardLayer(w, model, work, i, rows, pf);
  return Status::kOk;
}

Status Evaluate(ModelRef model, WorkRef work, size_t rows, double* loss_sum, size_t* correct,
                const ParallelFor& pf) {
  const Layout& w = *work.layout;
  if (Status s = Forward(model, work, rows, pf); s != Status::kOk) return s;
  if (Status s = LossAndOutputGradient(w, work, rows, pf); s != Status::kOk) return s;
  const size_t outputs = w.outputs();
  for (size_t r = 0; r < rows; ++r) {
    *loss_sum += work.row_loss[r];
    const float* z = work.F(w.act[w.num_layers]) + r * Padded(outputs);
    if (HasClassTargets(w.loss.kind)) {
      *correct += Argmax(z, 1, outputs) == (work.labels8 ? work.labels8[r] : work.labels16[r]);
    } else if (w.loss.kind == LossKind::kBceWithLogits) {
      const float* t = work.F(w.targets) + r * outputs;
      bool right = true;
      for (size_t o = 0; o < outputs; ++o) right = right && ((z[o] > 0.0f) == (t[o] >= 0.5f));
      *correct += right;
    }
  }
  return Status::kOk;
}

}  // namespace internal
}  // namespace descent
