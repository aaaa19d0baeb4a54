// LeanPlan for models with convolutions or pooling (Layout::StreamBuffers): a convolution's
// output at a whole batch is far larger than its weights, so the step streams the samples one
// at a time. A first pass runs each sample forward and keeps only its outputs (the loss is over
// the whole batch: its gradient needs every row's outputs); the second runs each sample forward
// again, then backward, each layer adding its terms to the step's gradient in the order
// FastPlan's chains run (over samples, then positions): the same bits as FastPlan. Then
// clipping, and the optimizer over the whole gradient. Recomputing the forward pass costs less
// memory than keeping it: a sample's activations are held once, not once per sample.
#include <string.h>

#include <cmath>

#include "descent/clip.h"
#include "descent/optimizer.h"
#include "src/core/layers/layer_ops.h"
#include "src/core/loss.h"
#include "src/core/passes.h"

namespace descent {
namespace internal {

Status StreamForward(ModelRef model, WorkRef work, size_t rows) {
  const Layout& l = *work.layout;
  for (size_t n = 0; n < rows; ++n)
    for (size_t i = 0; i < l.num_layers; ++i) StreamForwardLayer(l, model, work, i, n);
  return Status::kOk;
}

Status StreamTrainStep(ModelRef model, WorkRef work, size_t rows, float* loss, const ParallelFor& pf,
                       const GradClip& clip, const GradientSink& sink) {
  const Layout& l = *work.layout;
  if (Status s = LeanForward(model, work, rows); s != Status::kOk) return s;
  if (Status s = LossAndOutputGradient(l, work, rows, pf); s != Status::kOk) return s;
  double sum = 0.0;
  for (size_t r = 0; r < rows; ++r) sum += work.row_loss[r];
  *loss = static_cast<float>(sum / static_cast<double>(rows));
  if (!std::isfinite(*loss)) return Status::kNonFinite;
  float* grads = work.F(l.grads);
  memset(grads, 0, l.num_trainable * sizeof(float));
  for (size_t n = 0; n < rows; ++n) {
    for (size_t i = 0; i < l.num_layers; ++i) StreamForwardLayer(l, model, work, i, n);
    for (size_t i = l.num_layers; i-- > 0;) StreamBackwardLayer(l, model, work, i, n);
  }
  if (clip.max_norm > 0.0 || clip.clip_value > 0.0) Clip(grads, l, clip);
  if (Status s = sink.begin(sink.self); s != Status::kOk) return s;
  sink.update(sink.self, 0, grads, l.num_trainable);
  sink.finish(sink.self);
  return Status::kOk;
}

}  // namespace internal
}  // namespace descent
