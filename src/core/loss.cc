// Losses as torch computes them, operation for operation where it matters for
// the gradient (torch 1.13's CPU kernels and autograd formulas; see each case).
// The log-softmax + NLL of byte labels runs vectorized (kernels' log_softmax_nll);
// the others are O(rows x outputs), a small fraction of a step, and run here on
// one thread with the scalar exp/log every backend shares, so their bits do not
// depend on the backend, instruction set or thread count.
#include "src/core/loss.h"

#include <math.h>

#include "src/kernels/kernels.h"
#include "src/kernels/scalar_math.h"

namespace descent {
namespace internal {
namespace {

using math::Exp;
using math::Log;

// Largest first logit, in the order the kernel's vector lanes compare.
float RowMax(const float* z, size_t stride, size_t n) {
  float max = z[0];
  for (size_t j = 1; j < n; ++j) max = z[j * stride] > max ? z[j * stride] : max;
  return max;
}

// torch.nn.CrossEntropyLoss(label_smoothing=eps) of one row over `batch` rows:
// loss = (1 - eps) nll + eps / C * (-sum_j log p_j); log_softmax's backward
// dz_j = g_j - exp(logp_j) * sum_k g_k with g the gradient w.r.t. log p. At
// eps = 0 this is the log_softmax_nll kernel, bit for bit.
float CrossEntropyRow(const float* z, size_t classes, size_t label, size_t batch, float eps, float* dz) {
  const float max = RowMax(z, 1, classes);
  float sum = 0.0f;
  for (size_t j = 0; j < classes; ++j) sum += Exp(z[j] - max);
  const float lse = Log(sum);
  const float at_label = -((1.0f - eps) / static_cast<float>(batch));
  const float everywhere = -((eps / static_cast<float>(classes)) / static_cast<float>(batch));
  float g_sum = 0.0f, nll = 0.0f;
  double smooth = 0.0;
  for (size_t j = 0; j < classes; ++j) {
    const float logp = (z[j] - max) - lse;
    g_sum += (j == label ? at_label : 0.0f) + everywhere;
    smooth -= logp;
    if (j == label) nll = -logp;
  }
  for (size_t j = 0; j < classes; ++j) {
    const float logp = (z[j] - max) - lse;
    dz[j] = ((j == label ? at_label : 0.0f) + everywhere) - Exp(logp) * g_sum;
  }
  if (eps == 0.0f) return nll;
  return static_cast<float>((1.0 - eps) * nll + eps / static_cast<double>(classes) * smooth);
}

float Sigmoid(float x) { return 1.0f / (1.0f + Exp(-x)); }

// One element of an element loss: its value, and its gradient for a mean over n elements.
struct Element {
  float loss, grad;
};
Element ElementLoss(const LossSpec& spec, float z, float t, float n) {
  const float d = z - t;
  switch (spec.kind) {
    case LossKind::kMse:  // mse_loss_backward: (2 / n) * (z - t)
      return {d * d, static_cast<float>(2.0 / static_cast<double>(n)) * d};
    case LossKind::kL1:  // autograd of mean(|z - t|): (1 / n) * sgn(z - t)
      return {fabsf(d), (d > 0.0f ? 1.0f : d < 0.0f ? -1.0f : 0.0f) * (1.0f / n)};
    case LossKind::kHuber: {  // huber_loss_backward with norm = 1 / n
      const float a = fabsf(d), delta = spec.delta, norm = static_cast<float>(1.0 / static_cast<double>(n));
      const float loss = a < delta ? (0.5f * a) * a : delta * (a - 0.5f * delta);
      const float grad = d <= -delta ? -norm * delta : d >= delta ? norm * delta : norm * d;
      return {loss, grad};
    }
    case LossKind::kBceWithLogits: {  // binary_cross_entropy_with_logits and its backward, / n
      const float m = -z > 0.0f ? -z : 0.0f;
      const float log_term = Log(Exp(-m) + Exp(-z - m));
      const float s = Sigmoid(z);
      if (spec.pos_weight == 1.0f)  // torch's pos_weight=None
        return {((1.0f - t) * z + m) + log_term, (s - t) / n};
      const float log_weight = (spec.pos_weight - 1.0f) * t + 1.0f;
      const float pt = spec.pos_weight * t;
      return {(1.0f - t) * z + log_weight * (log_term + m), (((pt + 1.0f) - t) * s - pt) / n};
    }
    default:
      return {0.0f, 0.0f};
  }
}

}  // namespace

// The loss's gradient w.r.t. the model's outputs, into the last layer's dy.
Status LossOfOutputs(const Layout& l, const WorkRef& work, size_t r0, size_t rows, size_t batch, float* dz,
                     const ParallelFor& pf);

Status LossAndOutputGradient(const Layout& l, const WorkRef& work, size_t rows, const ParallelFor& pf) {
  float* dz = work.F(l.dy[l.num_layers - 1]);
  if (l.lean && !l.all_linear()) {  // a streamed LeanPlan keeps one row of the gradient (Evaluate's is unused)
    for (size_t r = 0; r < rows; ++r)
      if (Status s = LossOfRows(l, work, r, 1, rows, dz, pf); s != Status::kOk) return s;
    return Status::kOk;
  }
  return LossOfRows(l, work, 0, rows, rows, dz, pf);
}

Status LossOfRows(const Layout& l, const WorkRef& work, size_t r0, size_t rows, size_t batch, float* dz,
                  const ParallelFor& pf) {
  if (Status s = LossOfOutputs(l, work, r0, rows, batch, dz, pf); s != Status::kOk) return s;
  // A last layer with an activation of its own: the gradient w.r.t. its product output.
  const size_t n = l.num_layers, stride = Padded(l.outputs());
  const ActivationSpec& act = l.act_of(n - 1);
  if (act.kind != ActivationKind::kIdentity)
    kernels::ActiveKernels().activation_backward(act, work.F(l.act[n]) + r0 * stride,
                                                 l.keeps_pre[n] ? work.F(l.pre[n]) + r0 * stride : nullptr, dz,
                                                 rows * stride);
  return Status::kOk;
}

Status LossOfOutputs(const Layout& l, const WorkRef& work, size_t r0, size_t rows, size_t batch, float* dz,
                     const ParallelFor& pf) {
  const size_t outputs = l.outputs(), stride = Padded(outputs);
  const float* z = work.F(l.act[l.num_layers]) + r0 * stride;
  uint8_t* const labels8 = work.labels8 ? work.labels8 + r0 : nullptr;
  uint16_t* const labels16 = work.labels16 ? work.labels16 + r0 : nullptr;
  float* const row_loss = work.row_loss + r0;
  if (HasClassTargets(l.loss.kind)) {
    for (size_t r = 0; r < rows; ++r)
      if ((labels8 ? labels8[r] : labels16[r]) >= outputs) return Status::kInvalidArgument;
    const bool smoothing = l.loss.kind == LossKind::kCrossEntropy && l.loss.label_smoothing != 0.0f;
    if (labels8 && !smoothing) {
      const auto& k = kernels::ActiveKernels();
      const size_t parts = rows >= 24 ? pf.workers : 1;
      pf.For(parts, [&](size_t part) {
        const Range r = Split(rows, parts, part, 12);
        if (r.end > r.begin)
          k.log_softmax_nll(z + r.begin * stride, stride, labels8 + r.begin, r.end - r.begin, outputs, batch,
                            row_loss + r.begin, dz + r.begin * stride);
      });
      return Status::kOk;
    }
    const float eps = smoothing ? l.loss.label_smoothing : 0.0f;
    for (size_t r = 0; r < rows; ++r) {
      const size_t label = labels8 ? labels8[r] : labels16[r];
      row_loss[r] = CrossEntropyRow(z + r * stride, outputs, label, batch, eps, dz + r * stride);
    }
    return Status::kOk;
  }
  const float* targets = work.F(l.targets) + r0 * outputs;
  const float n = static_cast<float>(batch * outputs);
  if (l.loss.kind == LossKind::kBceWithLogits)
    for (size_t k = 0; k < rows * outputs; ++k)
      if (!(targets[k] >= 0.0f && targets[k] <= 1.0f)) return Status::kInvalidArgument;
  for (size_t r = 0; r < rows; ++r) {
    double sum = 0.0;
    for (size_t o = 0; o < outputs; ++o) {
      const Element e = ElementLoss(l.loss, z[r * stride + o], targets[r * outputs + o], n);
      sum += e.loss;
      dz[r * stride + o] = e.grad;
    }
    row_loss[r] = static_cast<float>(sum / static_cast<double>(outputs));
  }
  return Status::kOk;
}

void OutputsToProbabilities(const LossSpec& loss, const float* z, size_t stride, size_t n, float* out) {
  if (HasClassTargets(loss.kind)) {  // torch.softmax: exp(z - max) / sum
    const float max = RowMax(z, stride, n);
    float sum = 0.0f;
    for (size_t j = 0; j < n; ++j) sum += Exp(z[j * stride] - max);
    for (size_t j = 0; j < n; ++j) out[j] = Exp(z[j * stride] - max) / sum;
  } else if (loss.kind == LossKind::kBceWithLogits) {
    for (size_t j = 0; j < n; ++j) out[j] = Sigmoid(z[j * stride]);
  } else {
    for (size_t j = 0; j < n; ++j) out[j] = z[j * stride];
  }
}

}  // namespace internal
}  // namespace descent
