// Gradient clipping: torch's float steps, with the norms summed in double.
#include "descent/clip.h"

#include <cmath>

namespace descent {
namespace {
// Sum of squares in a fixed order: kLanes interleaved partial sums (squares of
// floats are exact in double), then added pairwise. The lanes are independent,
// so the compiler may vectorize across them without changing a bit.
constexpr size_t kLanes = 8;
double SumOfSquares(const float* x, size_t n) {
  double s[kLanes] = {};
  size_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (size_t k = 0; k < kLanes; ++k) s[k] += static_cast<double>(x[i + k]) * static_cast<double>(x[i + k]);
  for (size_t k = 0; i < n; ++i, ++k) s[k] += static_cast<double>(x[i]) * static_cast<double>(x[i]);
  for (size_t width = kLanes / 2; width > 0; width /= 2)
    for (size_t k = 0; k < width; ++k) s[k] += s[k + width];
  return s[0];
}
}  // namespace

float ClipGradNorm(float* grads, const size_t* sizes, size_t tensors, double max_norm) {
  double total_squares = 0.0;
  const float* at = grads;
  size_t n = 0;
  for (size_t t = 0; t < tensors; ++t) {
    const float norm = static_cast<float>(std::sqrt(SumOfSquares(at, sizes[t])));  // torch.norm(g), a float
    total_squares += static_cast<double>(norm) * static_cast<double>(norm);
    at += sizes[t];
    n += sizes[t];
  }
  const float total = static_cast<float>(std::sqrt(total_squares));
  // clip_coef = max_norm / (total + 1e-6): torch evaluates it as reciprocal(total + 1e-6) * max_norm.
  const float coef = (1.0f / (total + 1e-6f)) * static_cast<float>(max_norm);
  if (coef < 1.0f || std::isnan(coef))  // clamp(max=1.0) keeps NaN; multiplying by 1 changes nothing
    for (size_t i = 0; i < n; ++i) grads[i] *= coef;
  return total;
}

void ClipGradValue(float* grads, size_t n, double clip_value) {
  const float hi = static_cast<float>(clip_value), lo = -hi;
  for (size_t i = 0; i < n; ++i) grads[i] = grads[i] < lo ? lo : (grads[i] > hi ? hi : grads[i]);
}

}  // namespace descent

namespace descent {
namespace internal {
void Clip(float* grads, const Layout& layout, const GradClip& clip) {
  // The trained layers' tensors (frozen ones have no gradient, as in torch).
  size_t sizes[2 * kMaxLayers];
  size_t tensors = 0;
  for (size_t l = layout.frozen; l < layout.num_layers; ++l) {
    sizes[tensors++] = layout.sizes[l] * layout.sizes[l + 1];
    sizes[tensors++] = layout.sizes[l + 1];
  }
  if (clip.max_norm > 0.0) ClipGradNorm(grads, sizes, tensors, clip.max_norm);
  if (clip.clip_value > 0.0) ClipGradValue(grads, layout.num_trainable, clip.clip_value);
}
}  // namespace internal
}  // namespace descent
