// torch.nn.Dropout on FastPlan: in training each element is zeroed with probability p and the
// others scaled by 1 / (1 - p) (torch's inverted dropout); in evaluation the identity. The
// mask of element k of sample n in layer i at step s is draw n * features + k of the stream
// (seed, dropout, s * kMaxLayers + i): the same on every machine and thread count, found again
// for the backward pass instead of kept.
#include <string.h>

#include "src/core/layers/layer_ops.h"
#include "src/core/passes.h"

namespace descent {
namespace internal {
namespace {

// Calls f(k, keep) for the elements of sample n, in order.
template <class F>
void ForEachMask(const WorkRef& work, size_t i, size_t n, const F& f) {
  const Layer& d = work.layout->layers[i];
  Rng rng(work.noise ? work.noise[0] : 0, kStreamDropout, (work.noise ? work.noise[1] : 0) * kMaxLayers + i);
  rng.Discard(static_cast<uint64_t>(n) * d.in);
  for (size_t k = 0; k < d.in; ++k) f(k, !(rng.Uniform01() < d.p));
}

float Scale(const Layer& d) { return 1.0f / static_cast<float>(1.0 - static_cast<double>(d.p)); }

}  // namespace

namespace dropout {

void Init(const ModelRef&, size_t, Rng&) {}  // no parameters

void Forward(const ModelRef&, const WorkRef& work, size_t i, size_t rows, const ParallelFor& pf) {
  const Layout& l = *work.layout;
  const Layer& d = l.layers[i];
  const size_t stride = Padded(d.in);
  const float* x = work.F(l.act[i]);
  float* y = work.F(l.act[i + 1]);
  float* z = l.keeps_pre[i + 1] ? work.F(l.pre[i + 1]) : y;
  const bool relu = d.act.kind == ActivationKind::kRelu;
  const float scale = Scale(d);
  SplitRows(pf, rows, 1, [&](size_t r0, size_t r1) {
    for (size_t n = r0; n < r1; ++n) {
      const float* xn = x + n * stride;
      float* zn = z + n * stride;
      if (work.training) ForEachMask(work, i, n, [&](size_t k, bool keep) { zn[k] = keep ? xn[k] * scale : 0.0f; });
      else memcpy(zn, xn, d.in * sizeof(float));
      if (relu)
        for (size_t k = 0; k < d.in; ++k) zn[k] = zn[k] < 0.0f ? 0.0f : zn[k];
    }
    if (OwnPass(d.act)) ActivationPass(d.act, z + r0 * stride, y + r0 * stride, (r1 - r0) * stride);
  });
}

void Backward(const ModelRef&, const WorkRef& work, size_t i, size_t rows, const ParallelFor& pf) {
  const Layout& l = *work.layout;
  const Layer& d = l.layers[i];
  if (i == l.frozen) return;  // no parameters: only the input gradient, for a trained layer below
  const size_t stride = Padded(d.in);
  const float* dy = work.F(l.dy[i]);
  float* dx = work.F(l.dy[i - 1]);
  const float scale = Scale(d);
  SplitRows(pf, rows, 1, [&](size_t r0, size_t r1) {
    for (size_t n = r0; n < r1; ++n)
      ForEachMask(work, i, n, [&](size_t k, bool keep) { dx[n * stride + k] = keep ? dy[n * stride + k] * scale : 0.0f; });
    BelowDerivative(work, i, r0, r1);
  });
}

}  // namespace dropout
}  // namespace internal
}  // namespace descent
