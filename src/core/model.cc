// What every plan shares about a model: the parameter check, torch's initialisation layer by
// layer, and loading rows and targets into a workspace.
#include <string.h>

#include <cmath>

#include "descent/rng.h"
#include "src/core/layers/layer_ops.h"
#include "src/core/passes.h"
#include "src/kernels/kernels.h"

namespace descent {
namespace internal {

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

void InitFanIn(const ModelRef& model, size_t i, Rng& rng) {
  const Layout& l = *model.layout;
  const Layer& d = l.layers[i];
  const float bound = static_cast<float>(1.0 / std::sqrt(static_cast<double>(d.fan_in())));
  const size_t rows = d.out_shape.c;  // out_features, out_channels
  // Weights then bias, each in memory order: the stream order is the layout order.
  const size_t end = d.weight + rows * d.fan_in() + (d.has_bias ? rows : 0);
  for (size_t k = d.weight; k < end; ++k) {
    const float v = bound * (2.0f * rng.Uniform01() - 1.0f);
    if (k >= l.trainable_begin) model.params[k - l.trainable_begin] = v;
  }
}

void ActivationPass(const ActivationSpec& act, const float* z, float* y, size_t n) {
  kernels::ActiveKernels().activation_forward(act, z, y, n);
}

void BelowDerivative(const WorkRef& work, size_t i, size_t r0, size_t r1) {
  const Layout& l = *work.layout;
  const ActivationSpec& act = l.act_of(i - 1);
  const size_t s = Padded(l.sizes[i]), n = l.sizes[i];
  float* dx = work.F(l.dy[i - 1]);
  const float* x = work.F(l.act[i]);
  if (act.kind == ActivationKind::kRelu) {
    for (size_t r = r0; r < r1; ++r)
      for (size_t c = 0; c < n; ++c) dx[r * s + c] = x[r * s + c] > 0.0f ? dx[r * s + c] : 0.0f;
  } else if (OwnPass(act)) {
    const float* pre = l.keeps_pre[i] ? work.F(l.pre[i]) + r0 * s : nullptr;
    kernels::ActiveKernels().activation_backward(act, x + r0 * s, pre, dx + r0 * s, (r1 - r0) * s);
  }
}

void Init(ModelRef model, uint64_t seed) {
  const Layout& l = *model.layout;
  Rng rng(seed, kStreamInit, 0);  // one stream: layer by layer, parameters in layout order
  for (size_t i = 0; i < l.num_layers; ++i) InitLayer(l, model, i, rng);
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
        kernels::ActiveKernels().scale_pixels(pixels + index * inputs, row, inputs);
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
    memcpy(work.F(l.targets) + r * outputs, targets + (order ? order[r] : r) * outputs,
           outputs * sizeof(float));
  return Status::kOk;
}

}  // namespace internal
}  // namespace descent
