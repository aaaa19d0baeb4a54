// torch.nn.MaxPool2d/1d, nn.AvgPool2d/1d and nn.AdaptiveAvgPool2d/1d(1) (an average over the
// whole input plane), and the activation after them, on FastPlan. Plain loops: a pooling
// layer's work is a small part of a step next to the products around it.
//   max      y = the largest input in the window (NaN wins, the first of equals, as torch);
//            its gradient goes to that input, found again from the kept input;
//   average  y = (sum of the window's inputs in order) / divisor, the divisor counting the
//            zero padding (count_include_pad) or not; each input of the window gets dy / divisor.
#include <string.h>

#include <limits>

#include "src/core/layers/layer_ops.h"
#include "src/core/passes.h"
#include "src/kernels/kernels.h"

namespace descent {
namespace internal {
namespace {

// The window of output (oy, ox) clipped to the input: rows [y0, y1), columns [x0, x1) in
// steps of the dilation, and the average's divisor.
struct Span {
  size_t y0, y1, x0, x1, divisor;
};
Span SpanOf(const Layer& d, size_t oy, size_t ox) {
  const Window& w = d.window;
  const size_t h = d.in_shape.h, wd = d.in_shape.w;
  // In padded coordinates, then clipped (torch's avg_pool2d: the padded extent is the divisor).
  const size_t py0 = oy * w.sh, px0 = ox * w.sw;
  const size_t py1 = py0 + (w.kh - 1) * w.dh + 1, px1 = px0 + (w.kw - 1) * w.dw + 1;
  const size_t ey1 = py1 < h + 2 * w.top ? py1 : h + 2 * w.top, ex1 = px1 < wd + 2 * w.left ? px1 : wd + 2 * w.left;
  Span s;
  // The first tap inside the input (taps are dilation apart).
  auto first = [](size_t p0, size_t pad, size_t step) { return p0 >= pad ? p0 : p0 + (pad - p0 + step - 1) / step * step; };
  s.y0 = first(py0, w.top, w.dh);
  s.x0 = first(px0, w.left, w.dw);
  s.y1 = py1 < h + w.top ? py1 : h + w.top;
  s.x1 = px1 < wd + w.left ? px1 : wd + w.left;
  const size_t inside = (s.y1 > s.y0 ? (s.y1 - s.y0 + w.dh - 1) / w.dh : 0) * (s.x1 > s.x0 ? (s.x1 - s.x0 + w.dw - 1) / w.dw : 0);
  s.divisor = d.count_include_pad ? (ey1 - py0) * (ex1 - px0) : inside;
  s.y0 -= w.top, s.y1 -= w.top, s.x0 -= w.left, s.x1 -= w.left;  // input coordinates
  if (s.y1 < s.y0 || s.y1 > h) s.y1 = s.y0;
  if (s.x1 < s.x0 || s.x1 > wd) s.x1 = s.x0;
  return s;
}

// The index in the plane of the window's maximum (torch: NaN wins, the first of equals).
size_t ArgmaxOf(const Layer& d, const float* plane, const Span& s) {
  size_t best = s.y0 * d.in_shape.w + s.x0;
  float top = -std::numeric_limits<float>::infinity();
  for (size_t y = s.y0; y < s.y1; y += d.window.dh)
    for (size_t x = s.x0; x < s.x1; x += d.window.dw) {
      const float v = plane[y * d.in_shape.w + x];
      if (v > top || v != v) {
        top = v;
        best = y * d.in_shape.w + x;
        if (v != v) return best;
      }
    }
  return best;
}

}  // namespace

namespace pool {

void Init(const ModelRef&, size_t, Rng&) {}  // no parameters

void Forward(const ModelRef&, const WorkRef& work, size_t i, size_t rows, const ParallelFor& pf) {
  const Layout& l = *work.layout;
  const Layer& d = l.layers[i];
  const size_t plane = d.in_shape.positions(), P = d.out_shape.positions();
  const bool relu = d.act.kind == ActivationKind::kRelu;
  const float* x = work.F(l.act[i]);
  float* y = work.F(l.act[i + 1]);
  float* z = l.keeps_pre[i + 1] ? work.F(l.pre[i + 1]) : y;
  SplitRows(pf, rows, 1, [&](size_t r0, size_t r1) {
    for (size_t n = r0; n < r1; ++n) {
      float* zn = z + n * Padded(d.out);
      for (size_t c = 0; c < d.in_shape.c; ++c) {
        const float* in = x + n * Padded(d.in) + c * plane;
        for (size_t oy = 0; oy < d.out_shape.h; ++oy)
          for (size_t ox = 0; ox < d.out_shape.w; ++ox) {
            const Span s = SpanOf(d, oy, ox);
            float v;
            if (d.pool == PoolKind::kMax) {
              v = s.y1 > s.y0 && s.x1 > s.x0 ? in[ArgmaxOf(d, in, s)] : -std::numeric_limits<float>::infinity();
            } else {
              float sum = 0.0f;
              for (size_t yy = s.y0; yy < s.y1; ++yy)
                for (size_t xx = s.x0; xx < s.x1; ++xx) sum += in[yy * d.in_shape.w + xx];
              v = sum / static_cast<float>(s.divisor);
            }
            zn[c * P + oy * d.out_shape.w + ox] = relu && v < 0.0f ? 0.0f : v;
          }
      }
      if (OwnPass(d.act))
        kernels::ActiveKernels().activation_forward(d.act, zn, y + n * Padded(d.out), d.out);
    }
  });
}

void Backward(const ModelRef&, const WorkRef& work, size_t i, size_t rows, const ParallelFor& pf) {
  const Layout& l = *work.layout;
  const Layer& d = l.layers[i];
  if (i == l.frozen) return;  // no parameters: only the input gradient, for a trained layer below
  const size_t plane = d.in_shape.positions(), P = d.out_shape.positions();
  const float* x = work.F(l.act[i]);
  const float* dy = work.F(l.dy[i]);
  float* dx = work.F(l.dy[i - 1]);
  SplitRows(pf, rows, 1, [&](size_t r0, size_t r1) {
    for (size_t n = r0; n < r1; ++n) {
      float* dxn = dx + n * Padded(d.in);
      memset(dxn, 0, d.in * sizeof(float));
      for (size_t c = 0; c < d.in_shape.c; ++c) {
        const float* in = x + n * Padded(d.in) + c * plane;
        float* g = dxn + c * plane;
        const float* gy = dy + n * Padded(d.out) + c * P;
        for (size_t oy = 0; oy < d.out_shape.h; ++oy)
          for (size_t ox = 0; ox < d.out_shape.w; ++ox) {
            const Span s = SpanOf(d, oy, ox);
            const float go = gy[oy * d.out_shape.w + ox];
            if (s.y1 == s.y0 || s.x1 == s.x0) continue;
            if (d.pool == PoolKind::kMax) {
              g[ArgmaxOf(d, in, s)] += go;
            } else {
              const float share = go / static_cast<float>(s.divisor);
              for (size_t yy = s.y0; yy < s.y1; ++yy)
                for (size_t xx = s.x0; xx < s.x1; ++xx) g[yy * d.in_shape.w + xx] += share;
            }
          }
      }
    }
    BelowDerivative(work, i, r0, r1);
  });
}

}  // namespace pool
}  // namespace internal
}  // namespace descent
