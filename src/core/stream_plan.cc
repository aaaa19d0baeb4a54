// LeanPlan for models with convolutions or pooling (Layout::StreamBuffers): a convolution's
// output at a whole batch is far larger than its weights, so the step streams the samples one
// at a time: forward, the sample's loss (its gradient is the batch mean's: it needs no other
// row), backward, each layer adding its terms to the step's gradient in the order FastPlan's
// chains run (over samples, then positions): the same bits as FastPlan. Then clipping, and the
// optimizer over the whole gradient. A sample's activations are held once, not once per sample,
// and a convolution feeding a max pooling keeps only the pooled values.
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
  if (Status s = CheckRows(l, rows); s != Status::kOk) return s;
  if ((work.input.bytes == nullptr && work.input.floats == nullptr) || !l.streamable())  // nothing loaded; not streamed
    return Status::kInvalidArgument;
  if (Status s = CheckModel(model); s != Status::kOk) return s;
  float* grads = work.F(l.grads);
  memset(grads, 0, l.num_trainable * sizeof(float));
  for (size_t n = 0; n < rows; ++n) {
    for (size_t i = 0; i < l.num_layers; ++i) StreamForwardLayer(l, model, work, i, n);
    if (Status s = LossOfRows(l, work, n, 1, rows, work.F(l.dy[l.num_layers - 1]), pf); s != Status::kOk) return s;
    for (size_t i = l.num_layers; i-- > 0;) StreamBackwardLayer(l, model, work, i, n);
  }
  double sum = 0.0;
  for (size_t r = 0; r < rows; ++r) sum += work.row_loss[r];
  *loss = static_cast<float>(sum / static_cast<double>(rows));
  if (!std::isfinite(*loss)) return Status::kNonFinite;
  if (clip.max_norm > 0.0 || clip.clip_value > 0.0) Clip(grads, l, clip);
  if (Status s = sink.begin(sink.self); s != Status::kOk) return s;
  sink.update(sink.self, 0, grads, l.num_trainable);
  sink.finish(sink.self);
  return Status::kOk;
}

}  // namespace internal
}  // namespace descent
