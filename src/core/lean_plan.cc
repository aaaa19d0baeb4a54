// LeanPlan (descent/workspace.h): training at the memory floor. The same operations as
// FastPlan's kernels, in the same order for every element, as plain loops over the
// caller's rows and the [out, in] weights where they are:
//   forward      y[r,o] = act(fma chain over i of x[r,i] * W[o,i], + b[o]), zero inputs skipped
//                (exact: fma(0, w, acc) == acc for finite w, and acc never becomes -0);
//   input grad   dx[r,i] = fma chain over o of dy[r,o] * W[o,i], then the activation's derivative,
//                computed before the layer's weights change;
//   weight grad  dW[o,i] = fma chain over r of dy[r,o] * x[r,i], db[o] = sum over r of dy[r,o],
//                one row o at a time, handed to the optimizer at once (its update is elementwise).
// The microcontrollers this is for run scalar code anyway; on a desktop it is slower than FastPlan.
#include <cmath>
#include <string.h>

#include "descent/clip.h"
#include "descent/optimizer.h"
#include "src/core/loss.h"
#include "src/core/passes.h"
#include "src/kernels/kernels.h"
#include "src/kernels/scalar_math.h"

namespace descent {
namespace internal {
namespace {

const kernels::Kernels& K() { return kernels::ActiveKernels(); }

// Row r of a layer's input, resolved once per row: the activations, or the caller's rows:
// floats or bytes, shifted and scaled, or bytes without a transform (scaled by 1/256).
struct InputRow {
  const float* floats = nullptr;
  const uint8_t* bytes = nullptr;
  const float* shift = nullptr;
  const float* scale = nullptr;
};

// Layer i's input: the caller's rows for layer 0, else the kept (or passing) activation.
struct LayerInput {
  const float* act = nullptr;  // layers above 0
  size_t stride = 0;
  InputRows rows;
  size_t inputs = 0;

  InputRow Row(size_t r) const {
    if (act) return {act + r * stride};
    const size_t at = (rows.order ? rows.order[r] : r) * inputs;
    if (rows.bytes) return {nullptr, rows.bytes + at, rows.shift, rows.scale};
    return {rows.floats + at, nullptr, rows.shift, rows.scale};
  }
};

// f(c, x) for every input c of a row, x as LoadFeatures computes it: the branch on the kind
// of row is taken once per row, not once per input.
template <class F>
inline void ForEachInput(const InputRow& row, size_t in, const F& f) {
  if (row.bytes && !row.shift && !row.scale) {
    for (size_t c = 0; c < in; ++c) f(c, static_cast<float>(row.bytes[c]) * (1.0f / 256.0f));
  } else if (!row.shift && !row.scale) {
    for (size_t c = 0; c < in; ++c) f(c, row.floats[c]);
  } else {
    for (size_t c = 0; c < in; ++c) {
      float v = row.bytes ? static_cast<float>(row.bytes[c]) : row.floats[c];
      if (row.shift) v = v - row.shift[c];
      if (row.scale) v = v * row.scale[c];
      f(c, v);
    }
  }
}

LayerInput InputOf(const Layout& l, const WorkRef& work, size_t i) {
  LayerInput x;
  if (i == 0) {
    x.rows = work.input;
    x.inputs = l.sizes[0];
  } else {
    x.act = work.scratch + l.act[i];
    x.stride = Padded(l.sizes[i]);
  }
  return x;
}

bool HasInput(const WorkRef& work) { return work.input.bytes || work.input.floats; }

// Layer i's outputs for `rows` rows: the product and bias (ReLU fused), then its activation.
DESCENT_FMA_CLONES void LayerForward(const ModelRef& model, const WorkRef& work, size_t i, size_t rows) {
  const Layout& l = *work.layout;
  const DenseLayer& d = l.layers[i];
  const size_t in = d.in, out = d.out, stride = Padded(out);
  const bool relu = d.act.kind == ActivationKind::kRelu;
  const LayerInput x = InputOf(l, work, i);
  float* y = work.scratch + l.act[i + 1];
  // The pre-activation is kept where a trained layer's backward needs it.
  float* z = l.keeps_pre[i + 1] ? work.scratch + l.pre[i + 1] : y;
  const float* w = model.at(d.weight);
  const float* b = d.has_bias ? model.at(d.bias) : nullptr;
  for (size_t r = 0; r < rows; ++r) {
    float* zr = z + r * stride;
    for (size_t o = 0; o < out; ++o) zr[o] = 0.0f;
    ForEachInput(x.Row(r), in, [&](size_t c, float xc) {  // row-major weights: inputs outside, outputs inside
      if (xc == 0.0f) return;
      for (size_t o = 0; o < out; ++o) zr[o] = std::fma(xc, w[o * in + c], zr[o]);
    });
    for (size_t o = 0; o < out; ++o) {
      const float v = zr[o] + (b ? b[o] : 0.0f);  // + 0 without a bias, as FastPlan's zero bias row
      zr[o] = relu && v < 0.0f ? 0.0f : v;
    }
    if (OwnPass(d.act)) K().activation_forward(d.act, zr, y + r * stride, out);
  }
}

// dx = dy W (old weights), then the derivative of the activation below.
DESCENT_FMA_CLONES void InputGradient(const ModelRef& model, const WorkRef& work, size_t i, size_t rows, const float* dy, float* dx) {
  const Layout& l = *work.layout;
  const size_t in = l.sizes[i], out = l.sizes[i + 1], sy = Padded(out), sx = Padded(in);
  const float* w = model.at(l.layers[i].weight);
  const float* act = work.scratch + l.act[i];
  const float* pre = l.keeps_pre[i] ? work.scratch + l.pre[i] : nullptr;
  const ActivationSpec& below = l.act_of(i - 1);
  const bool relu = below.kind == ActivationKind::kRelu;
  for (size_t r = 0; r < rows; ++r) {
    float* d = dx + r * sx;
    for (size_t c = 0; c < in; ++c) d[c] = 0.0f;
    for (size_t o = 0; o < out; ++o) {
      const float g = dy[r * sy + o];
      for (size_t c = 0; c < in; ++c) d[c] = std::fma(g, w[o * in + c], d[c]);
    }
    if (relu)
      for (size_t c = 0; c < in; ++c) d[c] = act[r * sx + c] > 0.0f ? d[c] : 0.0f;
    else if (OwnPass(below))
      K().activation_backward(below, act + r * sx, pre ? pre + r * sx : nullptr, d, in);
  }
}

// g[c] = fma chain over r of dy[r * sy] * x[r, c]: one row of a weight gradient.
DESCENT_FMA_CLONES void GradientRow(const LayerInput& x, bool skip_zeros, const float* dy, size_t sy, size_t rows,
                                    size_t in, float* g) {
  for (size_t c = 0; c < in; ++c) g[c] = 0.0f;
  for (size_t r = 0; r < rows; ++r) {
    const float d = dy[r * sy];
    ForEachInput(x.Row(r), in, [&](size_t c, float xc) {
      if (!(skip_zeros && xc == 0.0f)) g[c] = std::fma(d, xc, g[c]);
    });
  }
}

// Layer i's weight gradient row by row and its bias gradient, each passed to `take(offset, g, n)`
// (offsets in the trained parameters). Layer 0 skips zero inputs, as FastPlan's sparse product does.
template <class Take>
void WeightGradients(const WorkRef& work, size_t i, size_t rows, const float* dy, const Take& take) {
  const Layout& l = *work.layout;
  const size_t in = l.sizes[i], out = l.sizes[i + 1], sy = Padded(out);
  const LayerInput x = InputOf(l, work, i);
  float* g = work.scratch + l.grad_row;
  for (size_t o = 0; o < out; ++o) {
    GradientRow(x, i == 0, dy + o, sy, rows, in, g);
    take(l.layers[i].weight - l.trainable_begin + o * in, g, in);
  }
  if (!l.layers[i].has_bias) return;
  float* db = g + in;
  for (size_t o = 0; o < out; ++o) {
    float acc = 0.0f;
    for (size_t r = 0; r < rows; ++r) acc += dy[r * sy + o];
    db[o] = acc;
  }
  take(l.layers[i].bias - l.trainable_begin, db, out);
}

// The backward pass from the loss gradient (the last layer's dy): per trained layer from the
// top, the input gradient (before the weights change), then every gradient row to `take`.
template <class Take>
void Backward(const ModelRef& model, const WorkRef& work, size_t rows, const Take& take) {
  const Layout& l = *work.layout;
  for (size_t i = l.num_layers; i-- > l.frozen;) {
    const float* dy = work.scratch + l.dy[i];
    if (i > l.frozen) InputGradient(model, work, i, rows, dy, work.scratch + l.dy[i - 1]);
    WeightGradients(work, i, rows, dy, take);
  }
}

}  // namespace

Status LeanForward(ModelRef model, WorkRef work, size_t rows) {
  const Layout& l = *work.layout;
  if (Status s = CheckRows(l, rows); s != Status::kOk) return s;
  if (!HasInput(work)) return Status::kInvalidArgument;  // nothing loaded
  if (Status s = CheckModel(model); s != Status::kOk) return s;
  for (size_t i = 0; i < l.num_layers; ++i) LayerForward(model, work, i, rows);
  return Status::kOk;
}

Status LeanTrainStep(ModelRef model, WorkRef work, size_t rows, float* loss, const ParallelFor& pf,
                     const GradClip& clip, const GradientSink& sink) {
  const Layout& l = *work.layout;
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
