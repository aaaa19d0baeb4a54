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

// The index in the plane of the window's maximum (torch: NaN wins, the first of equals), its
// value at(index) read once per tap.
template <class At>
size_t ArgmaxOf(const Layer& d, const Span& s, const At& at, float* top) {
  size_t best = s.y0 * d.in_shape.w + s.x0;
  *top = -std::numeric_limits<float>::infinity();
  for (size_t y = s.y0; y < s.y1; y += d.window.dh)
    for (size_t x = s.x0; x < s.x1; x += d.window.dw) {
      const float v = at(y * d.in_shape.w + x);
      if (v > *top || v != v) {
        *top = v;
        best = y * d.in_shape.w + x;
        if (v != v) return best;
      }
    }
  return best;
}
size_t ArgmaxOf(const Layer& d, const float* plane, const Span& s) {
  float top;
  return ArgmaxOf(d, s, [&](size_t k) { return plane[k]; }, &top);
}

// Windows without padding or dilation lie inside the input: the common case, without spans.
bool Plain(const Layer& d) {
  const Window& w = d.window;
  return w.top == 0 && w.left == 0 && w.bottom == 0 && w.right == 0 && w.dh == 1 && w.dw == 1;
}

// Where the first NaN of a plain window (its top-left input at `in`) is, row by row.
size_t FirstNan(const Layer& d, const float* in) {
  for (size_t yy = 0; yy < d.window.kh; ++yy)
    for (size_t xx = 0; xx < d.window.kw; ++xx)
      if (in[yy * d.in_shape.w + xx] != in[yy * d.in_shape.w + xx]) return yy * d.in_shape.w + xx;
  return 0;
}

// One sample: the pooled values of `in` (relu: fused) into z. Each window's span once, for every channel.
void PoolSample(const Layer& d, const float* x, float* z) {
  const size_t plane = d.in_shape.positions(), P = d.out_shape.positions();
  const bool relu = d.act.kind == ActivationKind::kRelu;
  if (Plain(d)) {  // the same operations in the same order as the general loop below
    const Window& w = d.window;
    const float divisor = static_cast<float>(w.kh * w.kw);
    for (size_t c = 0; c < d.in_shape.c; ++c)
      for (size_t oy = 0; oy < d.out_shape.h; ++oy)
        for (size_t ox = 0; ox < d.out_shape.w; ++ox) {
          const float* in = x + c * plane + oy * w.sh * d.in_shape.w + ox * w.sw;
          float v;
          if (d.pool == PoolKind::kMax) {  // the first of equals; a NaN (rare: found again) wins
            v = -std::numeric_limits<float>::infinity();
            bool nan = false;
            for (size_t yy = 0; yy < w.kh; ++yy)
              for (size_t xx = 0; xx < w.kw; ++xx) {
                const float t = in[yy * d.in_shape.w + xx];
                v = t > v ? t : v;
                nan |= t != t;
              }
            if (nan) v = in[FirstNan(d, in)];
          } else {
            float sum = 0.0f;
            for (size_t yy = 0; yy < w.kh; ++yy)
              for (size_t xx = 0; xx < w.kw; ++xx) sum += in[yy * d.in_shape.w + xx];
            v = sum / divisor;
          }
          z[c * P + oy * d.out_shape.w + ox] = relu && v < 0.0f ? 0.0f : v;
        }
    return;
  }
  for (size_t oy = 0; oy < d.out_shape.h; ++oy)
    for (size_t ox = 0; ox < d.out_shape.w; ++ox) {
      const Span s = SpanOf(d, oy, ox);
      for (size_t c = 0; c < d.in_shape.c; ++c) {
        const float* in = x + c * plane;
        float v;
        if (d.pool == PoolKind::kMax) {
          v = s.y1 > s.y0 && s.x1 > s.x0 ? in[ArgmaxOf(d, in, s)] : -std::numeric_limits<float>::infinity();
        } else {
          float sum = 0.0f;
          for (size_t yy = s.y0; yy < s.y1; ++yy)
            for (size_t xx = s.x0; xx < s.x1; ++xx) sum += in[yy * d.in_shape.w + xx];
          v = sum / static_cast<float>(s.divisor);
        }
        z[c * P + oy * d.out_shape.w + ox] = relu && v < 0.0f ? 0.0f : v;
      }
    }
}

// One sample: dx = the pooling's input gradient from dy (before the activation below); each
// channel's windows in order (overlapping windows add in that order).
void PoolGradient(const Layer& d, const float* x, const float* dy, float* dx) {
  const size_t plane = d.in_shape.positions(), P = d.out_shape.positions();
  memset(dx, 0, d.in * sizeof(float));
  if (Plain(d)) {
    const Window& w = d.window;
    const float divisor = static_cast<float>(w.kh * w.kw);
    for (size_t c = 0; c < d.in_shape.c; ++c)
      for (size_t oy = 0; oy < d.out_shape.h; ++oy)
        for (size_t ox = 0; ox < d.out_shape.w; ++ox) {
          const size_t at = c * plane + oy * w.sh * d.in_shape.w + ox * w.sw;
          const float go = dy[c * P + oy * d.out_shape.w + ox];
          if (d.pool == PoolKind::kMax) {
            size_t best = at;
            float top = -std::numeric_limits<float>::infinity();
            bool nan = false;
            for (size_t yy = 0; yy < w.kh; ++yy)
              for (size_t xx = 0; xx < w.kw; ++xx) {
                const size_t k = at + yy * d.in_shape.w + xx;
                const float t = x[k];
                best = t > top ? k : best;
                top = t > top ? t : top;
                nan |= t != t;
              }
            dx[nan ? at + FirstNan(d, x + at) : best] += go;
          } else {
            const float share = go / divisor;
            for (size_t yy = 0; yy < w.kh; ++yy)
              for (size_t xx = 0; xx < w.kw; ++xx) dx[at + yy * d.in_shape.w + xx] += share;
          }
        }
    return;
  }
  for (size_t oy = 0; oy < d.out_shape.h; ++oy)
    for (size_t ox = 0; ox < d.out_shape.w; ++ox) {
      const Span s = SpanOf(d, oy, ox);
      if (s.y1 == s.y0 || s.x1 == s.x0) continue;
      for (size_t c = 0; c < d.in_shape.c; ++c) {
        const float go = dy[c * P + oy * d.out_shape.w + ox];
        float* g = dx + c * plane;
        if (d.pool == PoolKind::kMax) {
          g[ArgmaxOf(d, x + c * plane, s)] += go;
        } else {
          const float share = go / static_cast<float>(s.divisor);
          for (size_t yy = s.y0; yy < s.y1; ++yy)
            for (size_t xx = s.x0; xx < s.x1; ++xx) g[yy * d.in_shape.w + xx] += share;
        }
      }
    }
}

}  // namespace

namespace pool {

void Init(const ModelRef&, size_t, Rng&) {}  // no parameters

void Forward(const ModelRef&, const WorkRef& work, size_t i, size_t rows, const ParallelFor& pf) {
  const Layout& l = *work.layout;
  const Layer& d = l.layers[i];
  const float* x = work.F(l.act[i]);
  float* y = work.F(l.act[i + 1]);
  float* z = l.keeps_pre[i + 1] ? work.F(l.pre[i + 1]) : y;
  SplitRows(pf, rows, 1, [&](size_t r0, size_t r1) {
    for (size_t n = r0; n < r1; ++n) {
      PoolSample(d, x + n * Padded(d.in), z + n * Padded(d.out));
      if (OwnPass(d.act)) ActivationPass(d.act, z + n * Padded(d.out), y + n * Padded(d.out), d.out);
    }
  });
}

void Backward(const ModelRef&, const WorkRef& work, size_t i, size_t rows, const ParallelFor& pf) {
  const Layout& l = *work.layout;
  const Layer& d = l.layers[i];
  if (i == l.frozen) return;  // no parameters: only the input gradient, for a trained layer below
  const float* x = work.F(l.act[i]);
  const float* dy = work.F(l.dy[i]);
  float* dx = work.F(l.dy[i - 1]);
  SplitRows(pf, rows, 1, [&](size_t r0, size_t r1) {
    for (size_t n = r0; n < r1; ++n) PoolGradient(d, x + n * Padded(d.in), dy + n * Padded(d.out), dx + n * Padded(d.in));
    BelowDerivative(work, i, r0, r1);
  });
}

// ---- LeanPlan, streamed: sample n alone ----

// A max pooling over a convolution (Layout::FusedIntoPool) asks it for the outputs each window
// covers and keeps the maximum and its tap; the others pool their kept input.
void StreamForward(const ModelRef& model, const WorkRef& work, size_t i, size_t n) {
  const Layout& l = *work.layout;
  const Layer& d = l.layers[i];
  float* z = StreamPre(work, i, n);
  if (i == 0 || !l.FusedIntoPool(i - 1)) {
    PoolSample(d, work.F(l.act[i]), z);
  } else {
    uint8_t* taps = reinterpret_cast<uint8_t*>(work.scratch + l.argmax[i].offset);
    const size_t P = d.out_shape.positions();
    for (size_t c = 0; c < d.in_shape.c; ++c)
      for (size_t oy = 0; oy < d.out_shape.h; ++oy)
        for (size_t ox = 0; ox < d.out_shape.w; ++ox) {
          const Span s = SpanOf(d, oy, ox);
          float top;
          const size_t best = ArgmaxOf(d, s, [&](size_t k) { return conv::OutputAt(model, work, i - 1, n, c, k); }, &top);
          const size_t q = c * P + oy * d.out_shape.w + ox;
          z[q] = top;  // the pooling's own activation is identity (FusedIntoPool)
          // The tap of the window (row-major, dilation steps), found again by FusedGradientAt.
          taps[q] = static_cast<uint8_t>((best / d.in_shape.w - s.y0) / d.window.dh * d.window.kw +
                                         (best % d.in_shape.w - s.x0) / d.window.dw);
        }
  }
  if (OwnPass(d.act)) ActivationPass(d.act, z, StreamOut(work, i, n), d.out);
}

void StreamBackward(const ModelRef&, const WorkRef& work, size_t i, size_t n) {
  const Layout& l = *work.layout;
  if (i == l.frozen || l.FusedIntoPool(i - 1)) return;  // a fused convolution reads the gradient itself
  const Layer& d = l.layers[i];
  PoolGradient(d, work.F(l.act[i]), StreamDy(work, i, n), work.F(l.dy[i - 1]));
  StreamBelowDerivative(work, i);
}

// What PoolGradient leaves at (c, p) of the fused convolution's output: the gradients of the
// windows whose maximum is there, added in window order, then ReLU's derivative (read off the
// pooled value: the convolution's output there).
float FusedGradientAt(const WorkRef& work, size_t i, size_t n, size_t c, size_t p) {
  const Layout& l = *work.layout;
  const Layer& d = l.layers[i];
  const Window& w = d.window;
  const uint8_t* taps = reinterpret_cast<const uint8_t*>(work.scratch + l.argmax[i].offset);
  const float* dy = StreamDy(work, i, n);
  const float* pooled = StreamOut(work, i, n);
  const size_t y = p / d.in_shape.w + w.top, x = p % d.in_shape.w + w.left;  // padded coordinates
  const size_t P = d.out_shape.positions();
  float g = 0.0f;
  bool positive = false;
  // Windows oy cover rows oy * sh .. oy * sh + (kh - 1) dh.
  const size_t span_y = (w.kh - 1) * w.dh, span_x = (w.kw - 1) * w.dw;
  const size_t oy0 = y > span_y ? (y - span_y + w.sh - 1) / w.sh : 0, ox0 = x > span_x ? (x - span_x + w.sw - 1) / w.sw : 0;
  for (size_t oy = oy0; oy < d.out_shape.h && oy * w.sh <= y; ++oy) {
    if ((y - oy * w.sh) % w.dh != 0) continue;
    for (size_t ox = ox0; ox < d.out_shape.w && ox * w.sw <= x; ++ox) {
      if ((x - ox * w.sw) % w.dw != 0) continue;
      const Span s = SpanOf(d, oy, ox);
      const size_t q = c * P + oy * d.out_shape.w + ox;
      const size_t tap = (p / d.in_shape.w - s.y0) / w.dh * w.kw + (p % d.in_shape.w - s.x0) / w.dw;
      if (p / d.in_shape.w < s.y0 || p % d.in_shape.w < s.x0 || taps[q] != tap) continue;
      g += dy[q];
      positive = pooled[q] > 0.0f;
    }
  }
  return l.layers[i - 1].act.kind == ActivationKind::kRelu && !positive ? 0.0f : g;
}

}  // namespace pool
}  // namespace internal
}  // namespace descent
