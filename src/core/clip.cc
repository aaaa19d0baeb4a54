// Gradient clipping: torch's float steps, with the norms summed in double.
#include "descent/clip.h"

#include <cmath>

namespace descent {
namespace internal {

// Element j of a tensor goes to lane j % 8 and each lane adds in index order, so
// pieces fed in any grouping give the same sums (squares of floats are exact in double).
void SquareSum::Add(const float* x, size_t n, size_t first) {
  size_t i = 0;
  for (; i < n && (first + i) % kLanes != 0; ++i) lanes[(first + i) % kLanes] += static_cast<double>(x[i]) * x[i];
  // Whole groups of eight: independent lanes the compiler may vectorize without changing a bit.
  for (; i + kLanes <= n; i += kLanes)
    for (size_t k = 0; k < kLanes; ++k) lanes[k] += static_cast<double>(x[i + k]) * static_cast<double>(x[i + k]);
  for (; i < n; ++i) lanes[(first + i) % kLanes] += static_cast<double>(x[i]) * x[i];
}

double SquareSum::Total() const {
  double s[kLanes];
  for (size_t k = 0; k < kLanes; ++k) s[k] = lanes[k];
  for (size_t width = kLanes / 2; width > 0; width /= 2)
    for (size_t k = 0; k < width; ++k) s[k] += s[k + width];
  return s[0];
}

void NormAccumulator::AddTensor(double sum_of_squares) {
  const float norm = static_cast<float>(std::sqrt(sum_of_squares));  // torch.norm(g), a float
  total_squares += static_cast<double>(norm) * static_cast<double>(norm);
}

float NormAccumulator::Coefficient(double max_norm, float* total_norm) const {
  const float total = static_cast<float>(std::sqrt(total_squares));
  if (total_norm) *total_norm = total;
  // clip_coef = max_norm / (total + 1e-6): torch evaluates it as reciprocal(total + 1e-6) * max_norm.
  return (1.0f / (total + 1e-6f)) * static_cast<float>(max_norm);
}

}  // namespace internal

float ClipGradNorm(float* grads, const size_t* sizes, size_t tensors, double max_norm) {
  internal::NormAccumulator norms;
  size_t n = 0;
  for (size_t t = 0; t < tensors; ++t) {
    internal::SquareSum sum;
    sum.Add(grads + n, sizes[t], 0);
    norms.AddTensor(sum.Total());
    n += sizes[t];
  }
  float total = 0.0f;
  const float coef = norms.Coefficient(max_norm, &total);
  if (internal::Scales(coef))
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
  for (size_t t = 0; t < layout.num_tensors; ++t)
    if (layout.tensors[t].offset >= layout.trainable_begin) sizes[tensors++] = layout.tensors[t].size();
  if (clip.max_norm > 0.0) ClipGradNorm(grads, sizes, tensors, clip.max_norm);
  if (clip.clip_value > 0.0) ClipGradValue(grads, layout.num_trainable, clip.clip_value);
}
}  // namespace internal
}  // namespace descent
