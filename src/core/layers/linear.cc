// torch.nn.Linear, and the activation after it, on every plan: its initialisation, FastPlan's
// products (through the kernel table), LeanPlan's plain loops over the caller's rows and the
// [out, in] weights in place, and inference over transposed activations. Every plan computes
// each element with the same operations in the same order:
//   forward      y[r,o] = act(fma chain over i of x[r,i] * W[o,i], + b[o] (+ 0 without a bias)),
//                ReLU fused; zero inputs skipped (exact: fma(0, w, acc) == acc for finite w, and
//                acc never becomes -0);
//   input grad   dx[r,i] = fma chain over o of dy[r,o] * W[o,i], then the derivative of the
//                activation below, computed before the layer's weights change;
//   weight grad  dW[o,i] = fma chain over r of dy[r,o] * x[r,i], db[o] = sum over r of dy[r,o]
//                (LeanPlan: one row o at a time, handed to the optimizer at once).
#include <string.h>

#include <cmath>

#include "src/core/layers/layer_ops.h"
#include "src/core/lean_rows.h"
#include "src/core/passes.h"
#include "src/kernels/kernels.h"
#include "src/kernels/scalar_math.h"

namespace descent {
namespace internal {
namespace {

const kernels::Kernels& K() { return kernels::ActiveKernels(); }

const float* BiasOf(const ModelRef& model, const Layer& d) { return d.has_bias ? model.at(d.bias) : nullptr; }

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

}  // namespace

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

namespace linear {

// torch.nn.Linear's reset_parameters: weight and bias uniform in [-1/sqrt(in), 1/sqrt(in)).
void Init(const ModelRef& model, size_t i, Rng& rng) { InitFanIn(model, i, rng); }

// ---- FastPlan ----

void Forward(const ModelRef& model, const WorkRef& work, size_t i, size_t rows, const ParallelFor& pf) {
  const Layout& w = *work.layout;
  const Layer& d = w.layers[i];
  const size_t in = d.in, out = d.out;
  const ActivationSpec& act = d.act;
  const bool relu = act.kind == ActivationKind::kRelu;
  float* wt = work.F(w.wt[i]);
  TransposeWeights(model.at(d.weight), BiasOf(model, d), out, in, wt, pf);
  const float* x = work.F(w.act[i]);
  float* y = work.F(w.act[i + 1]);
  float* z = w.keeps_pre[i + 1] ? work.F(w.pre[i + 1]) : y;  // the product's output
  SplitRows(pf, rows, kRowGrain, [&](size_t b, size_t e) {
    K().linear_forward(x + b * Padded(in), Padded(in), wt, Padded(out), z + b * Padded(out), Padded(out), e - b,
                       in, out, relu, /*sparse_x=*/i == 0);
    if (OwnPass(act)) K().activation_forward(act, z + b * Padded(out), y + b * Padded(out), (e - b) * Padded(out));
  });
}

void Backward(const ModelRef& model, const WorkRef& work, size_t i, size_t rows, const ParallelFor& pf) {
  const Layout& w = *work.layout;
  const Layer& d = w.layers[i];
  const size_t in = d.in, out = d.out;
  const float* dy = work.F(w.dy[i]);
  const float* x = work.F(w.act[i]);
  float* dw = work.grads + (d.weight - w.trainable_begin);
  // Without a bias its gradient goes to the bias row of the weight copy, unused by now.
  float* db = d.has_bias ? work.grads + (d.bias - w.trainable_begin) : work.F(w.wt[i]) + in * Padded(out);
  if (i == 0) {
    // The input layer's gradient as dW^T = X^T dY, which skips the zero pixels,
    // into the transposed-weight buffer the forward pass no longer needs.
    float* dwt = work.F(w.wt[0]);
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
      if (pad) PadRows(model.at(d.weight) + b * in, e - b, in, work.F(w.wp[i]) + b * Padded(in));
    });
  }
  if (i == w.frozen) return;  // the layer below is trained: it needs this layer's input gradient
  float* wp = work.F(w.wp[i]);
  float* dx = work.F(w.dy[i - 1]);
  const ActivationSpec& act = w.act_of(i - 1);  // the derivative of the activation below
  const bool relu = act.kind == ActivationKind::kRelu;
  const float* pre = w.keeps_pre[i] ? work.F(w.pre[i]) : nullptr;
  SplitRows(pf, rows, kRowGrain, [&](size_t b, size_t e) {
    const size_t at = b * Padded(in);
    K().linear_backward_input(dy + b * Padded(out), Padded(out), wp, Padded(in), relu ? x + at : nullptr, Padded(in),
                              dx + at, Padded(in), e - b, in, out);
    if (OwnPass(act)) K().activation_backward(act, x + at, pre ? pre + at : nullptr, dx + at, (e - b) * Padded(in));
  });
}

// ---- LeanPlan ----

DESCENT_FMA_CLONES void LeanForward(const ModelRef& model, const WorkRef& work, size_t i, size_t rows) {
  const Layout& l = *work.layout;
  const Layer& d = l.layers[i];
  const size_t in = d.in, out = d.out, stride = Padded(out);
  const bool relu = d.act.kind == ActivationKind::kRelu;
  const LayerInput x = InputOf(l, work, i);
  float* y = work.F(l.act[i + 1]);
  // The pre-activation is kept where a trained layer's backward needs it.
  float* z = l.keeps_pre[i + 1] ? work.F(l.pre[i + 1]) : y;
  const float* w = model.at(d.weight);
  const float* b = BiasOf(model, d);
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
DESCENT_FMA_CLONES void LeanInputGradient(const ModelRef& model, const WorkRef& work, size_t i, size_t rows) {
  const Layout& l = *work.layout;
  const Layer& d = l.layers[i];
  const size_t in = d.in, out = d.out, sy = Padded(out), sx = Padded(in);
  const float* dy = work.F(l.dy[i]);
  float* dx = work.F(l.dy[i - 1]);
  const float* w = model.at(d.weight);
  const float* act = work.F(l.act[i]);
  const float* pre = l.keeps_pre[i] ? work.F(l.pre[i]) : nullptr;
  const ActivationSpec& below = l.act_of(i - 1);
  const bool relu = below.kind == ActivationKind::kRelu;
  for (size_t r = 0; r < rows; ++r) {
    float* g_row = dx + r * sx;
    for (size_t c = 0; c < in; ++c) g_row[c] = 0.0f;
    for (size_t o = 0; o < out; ++o) {
      const float g = dy[r * sy + o];
      for (size_t c = 0; c < in; ++c) g_row[c] = std::fma(g, w[o * in + c], g_row[c]);
    }
    if (relu)
      for (size_t c = 0; c < in; ++c) g_row[c] = act[r * sx + c] > 0.0f ? g_row[c] : 0.0f;
    else if (OwnPass(below))
      K().activation_backward(below, act + r * sx, pre ? pre + r * sx : nullptr, g_row, in);
  }
}

// g[c] = fma chain over r of dy[r * sy] * x[r, c]: one row of a weight gradient.
static DESCENT_FMA_CLONES void GradientRow(const LayerInput& x, bool skip_zeros, const float* dy, size_t sy, size_t rows,
                                    size_t in, float* g) {
  for (size_t c = 0; c < in; ++c) g[c] = 0.0f;
  for (size_t r = 0; r < rows; ++r) {
    const float d = dy[r * sy];
    ForEachInput(x.Row(r), in, [&](size_t c, float xc) {
      if (!(skip_zeros && xc == 0.0f)) g[c] = std::fma(d, xc, g[c]);
    });
  }
}

// The weight gradient row by row, then the bias gradient, each to `take`. Layer 0 skips zero
// inputs, as FastPlan's sparse product does.
void LeanGradients(const WorkRef& work, size_t i, size_t rows, const GradientTake& take) {
  const Layout& l = *work.layout;
  const Layer& d = l.layers[i];
  const size_t in = d.in, out = d.out, sy = Padded(out);
  const float* dy = work.F(l.dy[i]);
  const LayerInput x = InputOf(l, work, i);
  float* g = work.F(l.grad_row);
  for (size_t o = 0; o < out; ++o) {
    GradientRow(x, i == 0, dy + o, sy, rows, in, g);
    take(d.weight - l.trainable_begin + o * in, g, in);
  }
  if (!d.has_bias) return;
  float* db = g + in;
  for (size_t o = 0; o < out; ++o) {
    float acc = 0.0f;
    for (size_t r = 0; r < rows; ++r) acc += dy[r * sy + o];
    db[o] = acc;
  }
  take(d.bias - l.trainable_begin, db, out);
}

// ---- LeanPlan, streamed (a model with convolutions): sample n alone ----

DESCENT_FMA_CLONES void StreamForward(const ModelRef& model, const WorkRef& work, size_t i, size_t n) {
  const Layer& d = work.layout->layers[i];
  const size_t in = d.in, out = d.out;
  const SampleIn x = StreamIn(work, i, n);
  float* y = StreamOut(work, i, n);
  float* z = StreamPre(work, i, n);
  const float* w = model.at(d.weight);
  const float* b = BiasOf(model, d);
  for (size_t o = 0; o < out; ++o) z[o] = 0.0f;
  for (size_t c = 0; c < in; ++c) {  // zero inputs skipped, as LeanForward
    const float xc = x[c];
    if (xc == 0.0f) continue;
    for (size_t o = 0; o < out; ++o) z[o] = std::fma(xc, w[o * in + c], z[o]);
  }
  for (size_t o = 0; o < out; ++o) {
    const float v = z[o] + (b ? b[o] : 0.0f);
    z[o] = d.act.kind == ActivationKind::kRelu && v < 0.0f ? 0.0f : v;
  }
  if (OwnPass(d.act)) K().activation_forward(d.act, z, y, out);
}

// The weight and bias gradients continue their chains over the batch's samples; the input
// gradient is FastPlan's chain over outputs.
DESCENT_FMA_CLONES void StreamBackward(const ModelRef& model, const WorkRef& work, size_t i, size_t n) {
  const Layout& l = *work.layout;
  const Layer& d = l.layers[i];
  const size_t in = d.in, out = d.out;
  const float* dy = StreamDy(work, i, n);
  const SampleIn x = StreamIn(work, i, n);
  float* gw = work.F(l.grads) + (d.weight - l.trainable_begin);
  for (size_t o = 0; o < out; ++o)
    for (size_t c = 0; c < in; ++c) gw[o * in + c] = std::fma(dy[o], x[c], gw[o * in + c]);
  if (d.has_bias) {
    float* gb = work.F(l.grads) + (d.bias - l.trainable_begin);
    for (size_t o = 0; o < out; ++o) gb[o] = gb[o] + dy[o];
  }
  if (i == l.frozen) return;
  const float* w = model.at(d.weight);
  float* dx = work.F(l.dy[i - 1]);
  for (size_t c = 0; c < in; ++c) {
    float acc = 0.0f;
    for (size_t o = 0; o < out; ++o) acc = std::fma(dy[o], w[o * in + c], acc);
    dx[c] = acc;
  }
  StreamBelowDerivative(work, i);
}

// ---- Inference ----

void Infer(const ModelRef& model, const InferRef& work, size_t i, size_t rows, const ParallelFor& pf) {
  const Layer& d = model.layout->layers[i];
  const size_t in = d.in, out = d.out, S = work.plan->stride;
  const bool relu = d.act.kind == ActivationKind::kRelu;
  const float* x = work.F(work.plan->act[i]);
  float* y = work.F(work.plan->act[i + 1]);
  const float* weight = model.at(d.weight);
  const float* bias = BiasOf(model, d);
  // Split by output unit: each row of yt is one unit over every sample.
  SplitRows(pf, out, kRowGrain, [&](size_t o0, size_t o1) {
    K().linear_forward_t(weight + o0 * in, bias ? bias + o0 : nullptr, x, S, y + o0 * S, S, rows, in, o1 - o0, relu);
    if (OwnPass(d.act)) K().activation_forward(d.act, y + o0 * S, y + o0 * S, (o1 - o0) * S);
  });
}

}  // namespace linear

}  // namespace internal
}  // namespace descent
