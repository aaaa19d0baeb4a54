// LeanPlan (descent/workspace.h): training at the memory floor. Each layer's kind runs the
// same operations as FastPlan's kernels, in the same order for every element, as plain
// loops over the caller's rows and the weights where they are (src/core/layers/); this file
// runs them: the forward pass, the loss, then per trained layer from the top its input
// gradient (before its weights change) and its gradients, piece by piece, handed to the
// optimizer at once. The microcontrollers this is for run scalar code anyway; on a desktop
// it is slower than FastPlan.
#include <cmath>

#include "descent/clip.h"
#include "descent/optimizer.h"
#include "src/core/layers/layer_ops.h"
#include "src/core/loss.h"
#include "src/core/passes.h"

namespace descent {
namespace internal {
namespace {

bool HasInput(const WorkRef& work) { return work.input.bytes || work.input.floats; }

// The backward pass from the loss gradient (the last layer's dy): per trained layer from the
// top, the input gradient (before the weights change), then every gradient piece to `take`.
template <class Take>
void Backward(const ModelRef& model, const WorkRef& work, size_t rows, const Take& take) {
  const Layout& l = *work.layout;
  const GradientTake sink{const_cast<Take*>(&take), [](void* self, size_t offset, const float* g, size_t n) {
                            (*static_cast<Take*>(self))(offset, g, n);
                          }};
  for (size_t i = l.num_layers; i-- > l.frozen;) {
    if (i > l.frozen) LeanInputGradientLayer(l, model, work, i, rows);
    LeanGradientsLayer(l, work, i, rows, sink);
  }
}

}  // namespace

Status LeanForward(ModelRef model, WorkRef work, size_t rows) {
  const Layout& l = *work.layout;
  if (Status s = CheckRows(l, rows); s != Status::kOk) return s;
  if (!HasInput(work) || !(l.all_linear() || l.streamable())) return Status::kInvalidArgument;
  if (Status s = CheckModel(model); s != Status::kOk) return s;
  if (!l.all_linear()) return StreamForward(model, work, rows);
  for (size_t i = 0; i < l.num_layers; ++i) LeanForwardLayer(l, model, work, i, rows);
  return Status::kOk;
}

Status LeanTrainStep(ModelRef model, WorkRef work, size_t rows, float* loss, const ParallelFor& pf,
                     const GradClip& clip, const GradientSink& sink) {
  const Layout& l = *work.layout;
  if (!l.all_linear()) return StreamTrainStep(model, work, rows, loss, pf, clip, sink);
  auto forward_and_loss = [&]() {
    if (Status s = LeanForward(model, work, rows); s != Status::kOk) return s;
    return LossAndOutputGradient(l, work, rows, pf);
  };
  if (Status s = forward_and_loss(); s != Status::kOk) return s;
  double sum = 0.0;
  for (size_t r = 0; r < rows; ++r) sum += work.row_loss[r];
  *loss = static_cast<float>(sum / static_cast<double>(rows));
  if (!std::isfinite(*loss)) return Status::kNonFinite;

  // clip_grad_norm_ needs every gradient before any update: a first backward pass only
  // sums the squares, tensor by tensor in clip.cc's order; then forward and backward again.
  float coef = 1.0f;
  bool scale = false;
  if (clip.max_norm > 0.0) {
    // The pieces of one tensor arrive together (tensors from the top down): one running sum,
    // and each tensor's total kept to be added in parameter order.
    double totals[2 * kMaxLayers] = {};
    SquareSum sum;
    size_t current = l.num_tensors;
    Backward(model, work, rows, [&](size_t offset, const float* g, size_t n) {
      for (size_t t = 0; t < l.num_tensors; ++t) {  // which tensor the piece belongs to, and where in it
        const ParamTensor& p = l.tensors[t];
        if (p.offset < l.trainable_begin || offset < p.offset - l.trainable_begin ||
            offset >= p.offset - l.trainable_begin + p.size())
          continue;
        if (t != current) {
          if (current < l.num_tensors) totals[current] = sum.Total();
          sum = SquareSum{};
          current = t;
        }
        sum.Add(g, n, offset - (p.offset - l.trainable_begin));
      }
    });
    if (current < l.num_tensors) totals[current] = sum.Total();
    NormAccumulator norms;
    for (size_t t = 0; t < l.num_tensors; ++t)
      if (l.tensors[t].offset >= l.trainable_begin) norms.AddTensor(totals[t]);
    coef = norms.Coefficient(clip.max_norm);
    scale = Scales(coef);
    if (Status s = forward_and_loss(); s != Status::kOk) return s;
  }
  if (Status s = sink.begin(sink.self); s != Status::kOk) return s;
  const float hi = static_cast<float>(clip.clip_value), lo = -hi;
  Backward(model, work, rows, [&](size_t offset, const float* g, size_t n) {
    float* grad = const_cast<float*>(g);  // the row buffer, ours to change
    if (scale)
      for (size_t k = 0; k < n; ++k) grad[k] *= coef;
    if (clip.clip_value > 0.0)  // ClipGradValue, after the norm
      for (size_t k = 0; k < n; ++k) grad[k] = grad[k] < lo ? lo : (grad[k] > hi ? hi : grad[k]);
    sink.update(sink.self, offset, grad, n);
  });
  sink.finish(sink.self);
  return Status::kOk;
}

}  // namespace internal
}  // namespace descent
