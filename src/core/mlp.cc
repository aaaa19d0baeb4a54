// FastPlan's forward, backward and evaluation, and inference, of any model through its
// size-erased Layout (descent/layout.h): one copy of this code serves every layer list.
#include <string.h>

#include <cmath>

#include "descent/mlp.h"
#include "descent/rng.h"
#include "src/core/loss.h"
#include "src/core/passes.h"
#include "src/kernels/kernels.h"

namespace descent {
namespace internal {
namespace {

const kernels::Kernels& K() { return kernels::ActiveKernels(); }

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

// dst[c, r] = src[r, c] for rows r < rows and columns c0 <= c < c1 (a copy, no
// arithmetic), in 16 x 16 blocks so both sides stay in cache, each block in 4 x 4
// tiles of four vector loads, eight shuffles and four stores (GCC/Clang vector
// extensions: SSE or NEON, plain moves where there is no vector unit).
void Transpose(const float* src, size_t src_stride, size_t rows, size_t c0, size_t c1, float* dst,
               size_t dst_stride) {
  for (size_t cb = c0; cb < c1; cb += 16)
    for (size_t rb = 0; rb < rows; rb += 16) {
      const size_t ce = cb + 16 < c1 ? cb + 16 : c1, re = rb + 16 < rows ? rb + 16 : rows;
      size_t c = cb;
#if defined(__GNUC__)
      using V4 = float __attribute__((vector_size(16)));
      const auto load = [](const float* p) { V4 v; memcpy(&v, p, sizeof(v)); return v; };
      const auto store = [](float* p, V4 v) { memcpy(p, &v, sizeof(v)); };
      for (; c + 4 <= ce; c += 4) {
        size_t r = rb;
        for (; r + 4 <= re; r += 4) {
          const V4 r0 = load(src + r * src_stride + c), r1 = load(src + (r + 1) * src_stride + c);
          const V4 r2 = load(src + (r + 2) * src_stride + c), r3 = load(src + (r + 3) * src_stride + c);
          const V4 t0 = __builtin_shufflevector(r0, r1, 0, 4, 1, 5), t1 = __builtin_shufflevector(r0, r1, 2, 6, 3, 7);
          const V4 t2 = __builtin_shufflevector(r2, r3, 0, 4, 1, 5), t3 = __builtin_shufflevector(r2, r3, 2, 6, 3, 7);
          store(dst + c * dst_stride + r, __builtin_shufflevector(t0, t2, 0, 1, 4, 5));
          store(dst + (c + 1) * dst_stride + r, __builtin_shufflevector(t0, t2, 2, 3, 6, 7));
          store(dst + (c + 2) * dst_stride + r, __builtin_shufflevector(t1, t3, 0, 1, 4, 5));
          store(dst + (c + 3) * dst_stride + r, __builtin_shufflevector(t1, t3, 2, 3, 6, 7));
        }
        for (; r < re; ++r)
          for (size_t k = c; k < c + 4; ++k) dst[k * dst_stride + r] = src[r * src_stride + k];
      }
#endif
      for (; c < ce; ++c)
        for (size_t r = rb; r < re; ++r) dst[c * dst_stride + r] = src[r * src_stride + c];
    }
}

// The forward pass's copy of a weight: wt[i, o] = w[o, i] plus the bias (or zeros) as row
// `in`, split by destination rows.
void TransposeWeights(const float* w, const float* b, size_t out, size_t in, float* wt, const ParallelFor& pf) {
  SplitRows(pf, in, 16, [&](size_t i0, size_t i1) { Transpose(w, in, out, i0, i1, wt, Padded(out)); });
  if (b) memcpy(wt + in * Padded(out), b, out * sizeof(float));
  else memset(wt + in * Padded(out), 0, out * sizeof(float));
}

// The input gradient's copy of a weight: w with rows padded to whole vectors.
void PadRows(const float* w, size_t out, size_t in, float* wp) {
  for (size_t o = 0; o < out; ++o) memcpy(wp + o * Padded(in), w + o * in, in * sizeof(float));
}

// Where Infer leaves the last layer's outputs (transposed).
const float* InferOutput(const InferRef& work) { return work.scratch + work.plan->act[work.layout->num_layers]; }

const float* BiasOf(const ModelRef& model, const DenseLayer& d) { return d.has_bias ? model.at(d.bias) : nullptr; }

}  // namespace

bool ParamsFinite(const float* p, size_t n, const ParallelFor& pf) {
  auto finite = [](const float* q, size_t count) {
    uint32_t bad = 0;
    for (size_t i = 0; i < count; ++i) {
      uint32_t bits;
      memcpy(&bits, &q[i], 4);
      bad |= (bits & 0x7F800000u) == 0x7F800000u;
    }
    return bad == 0;
  };
  const size_t parts = n >= 16384 ? pf.workers : 1;
  return pf.All(parts, [&](size_t part) {
    const Range r = Split(n, parts, part, 16);
    return finite(p + r.begin, r.end - r.begin);
  });
}

void Init(ModelRef model, uint64_t seed) {
  const Layout& l = *model.layout;
  Rng rng(seed, kStreamInit, 0);
  for (size_t i = 0; i < l.num_layers; ++i) {
    const DenseLayer& d = l.layers[i];
    const float bound = static_cast<float>(1.0 / std::sqrt(static_cast<double>(d.in)));
    // Weights then bias, each in memory order: the stream order is the layout order.
    const size_t end = d.weight + d.in * d.out + (d.has_bias ? d.out : 0);
    for (size_t k = d.weight; k < end; ++k) {
      const float v = bound * (2.0f * rng.Uniform01() - 1.0f);
      if (k >= l.trainable_begin) model.params[k - l.trainable_begin] = v;
    }
  }
}

Status LoadFeatures(const Layout& l, float* dst, size_t dst_row, size_t dst_col, size_t max_batch,
                    const uint8_t* pixels, const float* features, const uint32_t* order, size_t rows,
                    const float* shift, const float* scale, const ParallelFor& pf) {
  if (Status s = CheckRows(max_batch, rows); s != Status::kOk) return s;
  const size_t inputs = l.sizes[0];
  const bool transformed = shift || scale;
  SplitRows(pf, rows, kRowGrain, [&](size_t b, size_t e) {
    for (size_t r = b; r < e; ++r) {
      const size_t index = order ? order[r] : r;
      float* row = dst + r * dst_row;
      if (pixels && !transformed && dst_col == 1) {
        K().scale_pixels(pixels + index * inputs, row, inputs);
      } else if (pixels && !transformed) {
        for (size_t f = 0; f < inputs; ++f)
          row[f * dst_col] = static_cast<float>(pixels[index * inputs + f]) * (1.0f / 256.0f);
      } else {  // floats, or bytes under a transform of the caller's
        for (size_t f = 0; f < inputs; ++f) {
          float v = pixels ? static_cast<float>(pixels[index * inputs + f]) : features[index * inputs + f];
          if (shift) v = v - shift[f];
          if (scale) v = v * scale[f];
          row[f * dst_col] = v;
        }
      }
    }
  });
  return Status::kOk;
}

Status LoadFloatTargets(WorkRef work, const float* targets, const uint32_t* order, size_t rows) {
  const Layout& l = *work.layout;
  if (Status s = CheckRows(l, rows); s != Status::kOk) return s;
  const size_t outputs = l.outputs();
  for (size_t r = 0; r < rows; ++r)
    memcpy(work.scratch + l.targets + r * outputs, targets + (order ? order[r] : r) * outputs,
           outputs * sizeof(float));
  return Status::kOk;
}

Status Forward(ModelRef model, WorkRef work, size_t rows, const ParallelFor& pf) {
  const Layout& w = *work.layout;
  if (w.lean) return LeanForward(model, work, rows);
  if (Status s = CheckRows(w, rows); s != Status::kOk) return s;
  if (Status s = CheckModel(model, pf); s != Status::kOk) return s;
  for (size_t i = 0; i < w.num_layers; ++i) {
    const DenseLayer& d = w.layers[i];
    const size_t in = d.in, out = d.out;
    const ActivationSpec& act = d.act;
    const bool relu = act.kind == ActivationKind::kRelu;
    float* wt = work.scratch + w.wt[i];
    TransposeWeights(model.at(d.weight), BiasOf(model, d), out, in, wt, pf);
    const float* x = work.scratch + w.act[i];
    float* y = work.scratch + w.act[i + 1];
    float* z = w.keeps_pre[i + 1] ? work.scratch + w.pre[i + 1] : y;  // the product's output
    SplitRows(pf, rows, kRowGrain, [&](size_t b, size_t e) {
      K().linear_forward(x + b * Padded(in), Padded(in), wt, Padded(out), z + b * Padded(out), Padded(out), e - b,
                         in, out, relu, /*sparse_x=*/i == 0);
      if (OwnPass(act))
        K().activation_forward(act, z + b * Padded(out), y + b * Padded(out), (e - b) * Padded(out));
    });
  }
  return Status::kOk;
}

Status ForwardBackward(ModelRef model, WorkRef work, size_t rows, float* loss, const ParallelFor& pf) {
  const Layout& w = *work.layout;
  if (Status s = Forward(model, work, rows, pf); s != Status::kOk) return s;
  if (Status s = LossAndOutputGradient(w, work, rows, pf); s != Status::kOk) return s;
  double sum = 0.0;
  for (size_t r = 0; r < rows; ++r) sum += work.row_loss[r];
  *loss = static_cast<float>(sum / static_cast<double>(rows));
  if (!std::isfinite(*loss)) return Status::kNonFinite;

  // Layer i reads its dy and writes its input gradient, layer i-1's dy.
  for (size_t i = w.num_layers; i-- > w.frozen;) {
    const DenseLayer& d = w.layers[i];
    const size_t in = d.in, out = d.out;
    const float* dy = work.scratch + w.dy[i];
    const float* x = work.scratch + w.act[i];
    float* dw = work.grads + (d.weight - w.trainable_begin);
    // Without a bias its gradient goes to the bias row of the weight copy, unused by now.
    float* db = d.has_bias ? work.grads + (d.bias - w.trainable_begin) : work.scratch + w.wt[i] + in * Padded(out);
    if (i == 0) {
      // The input layer's gradient as dW^T = X^T dY, which skips the zero pixels,
      // into the transposed-weight buffer the forward pass no longer needs.
      float* dwt = work.scratch + w.wt[0];
      SplitRows(pf, in, kRowGrain, [&](size_t b, size_t e) {
        K().linear_backward_params_t(x + b, Padded(in), dy, Padded(out), dwt + b * Padded(out), Padded(out), rows,
                                     e - b, out);
      });
      // dW back from dW^T, and the bias gradient of the same outputs (columns of dy).
      SplitRows(pf, out, 16, [&](size_t o0, size_t o1) {
        if (d.has_bias) K().bias_gradient(dy + o0, Padded(out), db + o0, rows, o1 - o0);
        Transpose(dwt, Padded(out), in, o0, o1, dw, in);
      });
    } else {
      // Split by output unit: each keeps its whole sum over rows (and pads the same
      // rows of the weight for the input gradient below).
      const bool pad = i > w.frozen;
      SplitRows(pf, out, kRowGrain, [&](size_t b, size_t e) {
        K().linear_backward_params(dy + b, Padded(out), x, Padded(in), dw + b * in, db + b, rows, in, e - b);
        if (pad) PadRows(model.at(d.weight) + b * in, e - b, in, work.scratch + w.wp[i] + b * Padded(in));
      });
    }
    if (i > w.frozen) {  // the layer below is trained: it needs this layer's input gradient
      float* wp = work.scratch + w.wp[i];
      float* dx = work.scratch + w.dy[i - 1];
      const ActivationSpec& act = w.act_of(i - 1);  // the derivative of the activation below
      const bool relu = act.kind == ActivationKind::kRelu;
      const float* pre = w.keeps_pre[i] ? work.scratch + w.pre[i] : nullptr;
      SplitRows(pf, rows, kRowGrain, [&](size_t b, size_t e) {
        const size_t at = b * Padded(in);
        K().linear_backward_input(dy + b * Padded(out), Padded(out), wp, Padded(in), relu ? x + at : nullptr,
                                  Padded(in), dx + at, Padded(in), e - b, in, out);
        if (OwnPass(act))
          K().activation_backward(act, x + at, pre ? pre + at : nullptr, dx + at, (e - b) * Padded(in));
      });
    }
  }
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
    const float* z = work.scratch + w.act[w.num_layers] + r * Padded(outputs);
    if (HasClassTargets(w.loss.kind)) {
      *correct += Argmax(z, 1, outputs) == (work.labels8 ? work.labels8[r] : work.labels16[r]);
    } else if (w.loss.kind == LossKind::kBceWithLogits) {
      const float* t = work.scratch + w.targets + r * outputs;
      bool right = true;
      for (size_t o = 0; o < outputs; ++o) right = right && ((z[o] > 0.0f) == (t[o] >= 0.5f));
      *correct += right;
    }
  }
  return Status::kOk;
}

Status Infer(ModelRef model, InferRef work, size_t rows, const ParallelFor& pf) {
  const Layout& l = *model.layout;
  if (Status s = CheckRows(work.max_batch, rows); s != Status::kOk) return s;
  if (Status s = CheckModel(model, pf); s != Status::kOk) return s;
  const size_t S = work.plan->stride;
  for (size_t i = 0; i < l.num_layers; ++i) {
    const DenseLayer& d = l.layers[i];
    const size_t in = d.in, out = d.out;
    const bool relu = d.act.kind == ActivationKind::kRelu;
    const float* x = work.scratch + work.plan->act[i];
    float* y = work.scratch + work.plan->act[i + 1];
    const float* weight = model.at(d.weight);
    const float* bias = BiasOf(model, d);
    // Split by output unit: each row of yt is one unit over every sample.
    SplitRows(pf, out, kRowGrain, [&](size_t o0, size_t o1) {
      K().linear_forward_t(weight + o0 * in, bias + o0, x, S, y + o0 * S, S, rows, in, o1 - o0, relu);
      if (OwnPass(d.act)) K().activation_forward(d.act, y + o0 * S, y + o0 * S, (o1 - o0) * S);
    });
  }
  return Status::kOk;
}

Status Predict(InferRef work, size_t rows, uint16_t* labels) {
  const Layout& l = *work.layout;
  if (!HasClassTargets(l.loss.kind)) return Status::kInvalidArgument;
  if (Status s = CheckRows(work.max_batch, rows); s != Status::kOk) return s;
  const float* z = InferOutput(work);
  for (size_t r = 0; r < rows; ++r) labels[r] = static_cast<uint16_t>(Argmax(z + r, work.plan->stride, l.outputs()));
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
