// torch.nn.Conv2d and nn.Conv1d (a 1-d input is [C, 1, L]), and the activation after
// them, on FastPlan: each sample unrolled (im2col) into the plan's `columns` slot, and
// the products on the kernels' matmul, per group:
//   forward      y[n, o, p] = act(fma chain over k of W[o, k] * col_n[k, p], + b[o]), ReLU fused;
//   weight grad  dW[o, k] = one fma chain over the samples in order and, within each, the
//                positions p in order, of dy[n, o, p] * col_n[k, p]: the split is by output
//                channel, never by sample, so a plan that streams samples continues the chain;
//                db[o] = the sum of dy[n, o, p] in the same order;
//   input grad   dcol_n[k, p] = fma chain over o of W[o, k] * dy[n, o, p], folded back
//                (col2im) in the order of p then k, then the derivative of the activation below.
// LeanPlan streams one sample at a time through the same chains: one output position p at a
// time, with the column of output gradients at p (StreamBackward).
// k runs over (input channel of the group, ky, kx), torch's weight layout [out, in/groups, kh, kw].
#include <stddef.h>
#include <string.h>

#include <cmath>

#include "src/core/layers/layer_ops.h"
#include "src/core/passes.h"
#include "src/kernels/kernels.h"
#include "src/kernels/scalar_math.h"

namespace descent {
namespace internal {
namespace {

const kernels::Kernels& K() { return kernels::ActiveKernels(); }

// Where one sample's transposed unrolled input starts in the layer's cols slot, and its scratch in the columns slot.
size_t ColStride(const Layer& d) { return d.out_shape.positions() * Padded(d.fan_in() * d.groups); }
size_t ColumnStride(const Layer& d) {
  const size_t k = d.fan_in() * d.groups, p = d.out_shape.positions();
  return k * Padded(p) > p * Padded(k) ? k * Padded(p) : p * Padded(k);
}

// The output columns [*ox0, *ox1) whose tap kx reads inside the input row (the others read padding).
void ValidColumns(const Layer& d, size_t kx, size_t* ox0, size_t* ox1) {
  const Window& w = d.window;
  const size_t off = kx * w.dw, wo = d.out_shape.w;  // ix = ox * sw + off - left
  *ox0 = off >= w.left ? 0 : (w.left - off + w.sw - 1) / w.sw;
  const size_t end = w.left + d.in_shape.w;  // ix < in.w  <=>  ox * sw + off < end
  *ox1 = off >= end ? 0 : (end - off + w.sw - 1) / w.sw;
  if (*ox1 > wo) *ox1 = wo;
  if (*ox0 > *ox1) *ox0 = *ox1;
}

// col[k, p] (rows of Padded(p)) for one sample: each row of taps copied from an input row
// (zeros in the padding).
void Unroll(const Layer& d, const float* x, float* col) {
  const Window& w = d.window;
  const size_t P = d.out_shape.positions(), wo = d.out_shape.w;
  const size_t plane = d.in_shape.positions();
  const size_t k_step = Padded(P), p_step = 1;
  for (size_t c = 0; c < d.in_shape.c; ++c)
    for (size_t ky = 0; ky < w.kh; ++ky)
      for (size_t kx = 0; kx < w.kw; ++kx) {
        const size_t k = (c * w.kh + ky) * w.kw + kx;
        size_t ox0, ox1;
        ValidColumns(d, kx, &ox0, &ox1);
        for (size_t oy = 0; oy < d.out_shape.h; ++oy) {
          float* out = col + k * k_step + oy * wo * p_step;
          const size_t iy = oy * w.sh + ky * w.dh;  // padded
          if (iy < w.top || iy - w.top >= d.in_shape.h) {
            for (size_t ox = 0; ox < wo; ++ox) out[ox * p_step] = 0.0f;
            continue;
          }
          const float* in = x + c * plane + (iy - w.top) * d.in_shape.w;  // read at ox * sw + kx * dw - left
          for (size_t ox = 0; ox < ox0; ++ox) out[ox * p_step] = 0.0f;
          for (size_t ox = ox0; ox < ox1; ++ox) out[ox * p_step] = in[ox * w.sw + kx * w.dw - w.left];
          for (size_t ox = ox1; ox < wo; ++ox) out[ox * p_step] = 0.0f;
        }
      }
}

// Where tap k = (c, ky, kx) of output position (oy, ox) reads the input: its index, or -1 in the padding.
ptrdiff_t TapIndex(const Layer& d, size_t c, size_t ky, size_t kx, size_t oy, size_t ox) {
  const Window& w = d.window;
  const size_t iy = oy * w.sh + ky * w.dh, ix = ox * w.sw + kx * w.dw;  // padded coordinates
  if (iy < w.top || iy - w.top >= d.in_shape.h || ix < w.left || ix - w.left >= d.in_shape.w) return -1;
  return static_cast<ptrdiff_t>((c * d.in_shape.h + iy - w.top) * d.in_shape.w + ix - w.left);
}

// Calls f(k, index) for every tap k of output position p over input channels [c0, c1), in the
// order of k (index -1: padding).
template <class F>
void ForEachTapOf(const Layer& d, size_t p, size_t c0, size_t c1, const F& f) {
  const Window& w = d.window;
  const size_t oy = p / d.out_shape.w, ox = p % d.out_shape.w;
  for (size_t c = c0, k = c0 * w.kh * w.kw; c < c1; ++c)
    for (size_t ky = 0; ky < w.kh; ++ky)
      for (size_t kx = 0; kx < w.kw; ++kx, ++k) f(k, TapIndex(d, c, ky, kx, oy, ox));
}

// dx += the unrolled gradient dcol[p, k] folded back, in the order of p, then k (the order
// LeanPlan's stream reaches them).
void Fold(const Layer& d, const float* dcol, float* dx) {
  const Window& w = d.window;
  const size_t wo = d.out_shape.w, plane = d.in_shape.positions(), K = Padded(d.fan_in() * d.groups);
  for (size_t oy = 0; oy < d.out_shape.h; ++oy)
    for (size_t ox = 0; ox < wo; ++ox) {
      const float* g = dcol + (oy * wo + ox) * K;
      for (size_t c = 0, k = 0; c < d.in_shape.c; ++c)
        for (size_t ky = 0; ky < w.kh; ++ky) {
          const size_t iy = oy * w.sh + ky * w.dh;
          if (iy < w.top || iy - w.top >= d.in_shape.h) {
            k += w.kw;
            continue;
          }
          float* row = dx + c * plane + (iy - w.top) * d.in_shape.w;
          for (size_t kx = 0; kx < w.kw; ++kx, ++k) {
            const size_t ix = ox * w.sw + kx * w.dw;
            if (ix >= w.left && ix - w.left < d.in_shape.w) row[ix - w.left] += g[k];
          }
        }
    }
}

}  // namespace

namespace conv {

void Init(const ModelRef& model, size_t i, Rng& rng) { InitFanIn(model, i, rng); }

void Forward(const ModelRef& model, const WorkRef& work, size_t i, size_t rows, const ParallelFor& pf) {
  const Layout& l = *work.layout;
  const Layer& d = l.layers[i];
  const size_t P = d.out_shape.positions(), kg = d.fan_in(), og = d.out_shape.c / d.groups;
  const bool relu = d.act.kind == ActivationKind::kRelu;
  const float* w = model.at(d.weight);
  const float* b = d.has_bias ? model.at(d.bias) : nullptr;
  const float* x = work.F(l.act[i]);
  float* y = work.F(l.act[i + 1]);
  float* z = l.keeps_pre[i + 1] ? work.F(l.pre[i + 1]) : y;  // the product's output
  float* cols = work.F(l.cols[i]);
  float* columns = work.F(l.columns);
  const size_t K_all = kg * d.groups;
  SplitRows(pf, rows, 1, [&](size_t r0, size_t r1) {
    for (size_t n = r0; n < r1; ++n) {
      float* col = columns + n * ColumnStride(d);
      Unroll(d, x + n * Padded(d.in), col);
      float* zn = z + n * Padded(d.out);
      for (size_t g = 0; g < d.groups; ++g)
        K().matmul(w + g * og * kg, kg, 1, col + g * kg * Padded(P), Padded(P), zn + g * og * P, P, og, P, kg,
                   b ? b + g * og : nullptr, false, relu);
      if (OwnPass(d.act)) K().activation_forward(d.act, zn, y + n * Padded(d.out), d.out);
      // Transposed while it is in cache: the weight gradient's [positions, taps].
      if (work.training) Transpose(col, Padded(P), K_all, 0, P, cols + n * ColStride(d), Padded(K_all));
    }
  });
}

void Backward(const ModelRef& model, const WorkRef& work, size_t i, size_t rows, const ParallelFor& pf) {
  const Layout& l = *work.layout;
  const Layer& d = l.layers[i];
  const size_t P = d.out_shape.positions(), kg = d.fan_in(), og = d.out_shape.c / d.groups;
  const size_t K_all = kg * d.groups;
  const float* dy = work.F(l.dy[i]);
  const float* cols = work.F(l.cols[i]);  // the forward pass's unrolled input, transposed
  float* columns = work.F(l.columns);
  float* dw = work.grads + (d.weight - l.trainable_begin);
  float* db = d.has_bias ? work.grads + (d.bias - l.trainable_begin) : nullptr;
  // Split by output channel; each chain runs over every sample in order.
  SplitRows(pf, d.out_shape.c, 1, [&](size_t o0, size_t o1) {
    for (size_t n = 0; n < rows; ++n) {
      const float* dyn = dy + n * Padded(d.out);
      const float* col = cols + n * ColStride(d);
      for (size_t o = o0; o < o1;) {  // the channels of one group at a time
        const size_t g = o / og, end = (g + 1) * og < o1 ? (g + 1) * og : o1;
        K().matmul(dyn + o * P, P, 1, col + g * kg, Padded(K_all), dw + o * kg, kg, end - o, kg, P, nullptr, n > 0,
                   false);
        o = end;
      }
    }
    if (db)
      for (size_t o = o0; o < o1; ++o) {
        float acc = 0.0f;
        for (size_t n = 0; n < rows; ++n)
          for (size_t p = 0; p < P; ++p) acc += dy[n * Padded(d.out) + o * P + p];
        db[o] = acc;
      }
  });
  if (i == l.frozen) return;  // the layer below is trained: it needs this layer's input gradient
  // dcol[p, k] = fma chain over o of dy[o, p] * W[o, k], vectorized over k: the weights row-padded.
  const float* w = model.at(d.weight);
  float* wp = work.F(l.wp[i]);
  for (size_t o = 0; o < d.out_shape.c; ++o) memcpy(wp + o * Padded(kg), w + o * kg, kg * sizeof(float));
  float* dx = work.F(l.dy[i - 1]);
  SplitRows(pf, rows, 1, [&](size_t r0, size_t r1) {
    for (size_t n = r0; n < r1; ++n) {
      float* dcol = columns + n * ColumnStride(d);
      for (size_t g = 0; g < d.groups; ++g)
        K().matmul(dy + n * Padded(d.out) + g * og * P, 1, P, wp + g * og * Padded(kg), Padded(kg), dcol + g * kg,
                   Padded(K_all), P, kg, og, nullptr, false, false);
      float* dxn = dx + n * Padded(d.in);
      memset(dxn, 0, d.in * sizeof(float));
      Fold(d, dcol, dxn);
    }
    BelowDerivative(work, i, r0, r1);
  });
}

// ---- LeanPlan, streamed: sample n alone ----

DESCENT_FMA_CLONES float OutputAt(const ModelRef& model, const WorkRef& work, size_t i, size_t n, size_t o, size_t p) {
  const Layer& d = work.layout->layers[i];
  const size_t kg = d.fan_in(), og = d.out_shape.c / d.groups, cg = d.in_shape.c / d.groups;
  const size_t g = o / og, first = g * kg;  // the group's channels and first tap
  const float* w = model.at(d.weight) + o * kg;
  const SampleIn x = StreamIn(work, i, n);
  float acc = 0.0f;
  ForEachTapOf(d, p, g * cg, (g + 1) * cg, [&](size_t k, ptrdiff_t at) {
    acc = std::fma(w[k - first], at >= 0 ? x[static_cast<size_t>(at)] : 0.0f, acc);
  });
  if (d.has_bias) acc = acc + model.at(d.bias)[o];
  return d.act.kind == ActivationKind::kRelu && acc < 0.0f ? 0.0f : acc;  // matmul's relu; OwnPass after
}

void StreamForward(const ModelRef& model, const WorkRef& work, size_t i, size_t n) {
  const Layout& l = *work.layout;
  if (l.FusedIntoPool(i)) return;  // the max pooling above asks for the outputs its windows cover
  const Layer& d = l.layers[i];
  const size_t P = d.out_shape.positions();
  float* z = StreamPre(work, i, n);
  for (size_t o = 0; o < d.out_shape.c; ++o)
    for (size_t p = 0; p < P; ++p) z[o * P + p] = OutputAt(model, work, i, n, o, p);
  if (OwnPass(d.act)) K().activation_forward(d.act, z, StreamOut(work, i, n), d.out);
}

// Position by position: the column of output gradients at p, then every weight-gradient chain's
// term of p (the chains run over samples, then positions, as FastPlan's) and the input gradient's
// sums of p, folded back as Fold does.
DESCENT_FMA_CLONES void StreamBackward(const ModelRef& model, const WorkRef& work, size_t i, size_t n) {
  const Layout& l = *work.layout;
  const Layer& d = l.layers[i];
  const size_t P = d.out_shape.positions(), kg = d.fan_in(), og = d.out_shape.c / d.groups, C = d.out_shape.c;
  const bool fused = l.FusedIntoPool(i), input_gradient = i > l.frozen;
  const float* dy = fused ? nullptr : StreamDy(work, i, n);
  float* column = work.F(l.dy_column);
  float* gw = work.F(l.grads) + (d.weight - l.trainable_begin);
  float* gb = d.has_bias ? work.F(l.grads) + (d.bias - l.trainable_begin) : nullptr;
  const float* w = model.at(d.weight);
  const SampleIn x = StreamIn(work, i, n);
  float* dx = input_gradient ? work.F(l.dy[i - 1]) : nullptr;
  if (dx) memset(dx, 0, d.in * sizeof(float));
  for (size_t p = 0; p < P; ++p) {
    for (size_t o = 0; o < C; ++o) column[o] = fused ? pool::FusedGradientAt(work, i + 1, n, o, p) : dy[o * P + p];
    ForEachTapOf(d, p, 0, d.in_shape.c, [&](size_t k, ptrdiff_t at) {
      const float v = at >= 0 ? x[static_cast<size_t>(at)] : 0.0f;
      const size_t g = k / kg;
      for (size_t o = g * og; o < (g + 1) * og; ++o) gw[o * kg + k - g * kg] = std::fma(column[o], v, gw[o * kg + k - g * kg]);
      if (!dx) return;
      float acc = 0.0f;
      for (size_t o = g * og; o < (g + 1) * og; ++o) acc = std::fma(w[o * kg + k - g * kg], column[o], acc);
      if (at >= 0) dx[at] += acc;
    });
    if (gb)
      for (size_t o = 0; o < C; ++o) gb[o] = gb[o] + column[o];
  }
  if (dx) StreamBelowDerivative(work, i);
}

}  // namespace conv
}  // namespace internal
}  // namespace descent
