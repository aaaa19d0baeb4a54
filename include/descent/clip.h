// Gradient clipping as torch.nn.utils.clip_grad_norm_ (2-norm) and
// clip_grad_value_ compute it. The norm is summed in double in one fixed
// order on the calling thread, so it is the same for every backend, ISA and
// thread count. TrainStep applies both through a GradClip (descent/train.h).
#ifndef DESCENT_CLIP_H_
#define DESCENT_CLIP_H_

#include <stddef.h>

#include "descent/train.h"

namespace descent {

// grads holds `tensors` consecutive tensors of sizes[i] floats. As torch: the
// 2-norm of each tensor, the 2-norm of those, then every gradient times
// min(1, max_norm / (total + 1e-6)) in float. Returns the total norm.
float ClipGradNorm(float* grads, const size_t* sizes, size_t tensors, double max_norm);
// Clamps every gradient to [-clip_value, clip_value] (NaN stays NaN).
void ClipGradValue(float* grads, size_t n, double clip_value);

namespace internal {
// ClipGradNorm's sums in its fixed order, for gradients that arrive in pieces
// (a LeanPlan step): element j of a tensor goes to lane j % 8, each lane adds in
// index order, then the lanes add pairwise.
struct SquareSum {
  static constexpr size_t kLanes = 8;
  double lanes[kLanes] = {};
  void Add(const float* x, size_t n, size_t first);  // x[i] is the tensor's element first + i
  double Total() const;
};
// The norm of norms, tensor by tensor in the parameter order, and torch's coefficient.
struct NormAccumulator {
  double total_squares = 0.0;
  void AddTensor(double sum_of_squares);
  float Coefficient(double max_norm, float* total_norm = nullptr) const;
};
// clamp(max=1.0) keeps NaN; multiplying by 1 would change nothing.
inline bool Scales(float coef) { return coef < 1.0f || coef != coef; }
}  // namespace internal

}  // namespace descent

#endif  // DESCENT_CLIP_H_
