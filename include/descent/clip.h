// Gradient clipping as torch.nn.utils.clip_grad_norm_ (2-norm) and
// clip_grad_value_ compute it. The norm is summed in double in one fixed
// order on the calling thread, so it is the same for every backend, ISA and
// thread count. TrainStep applies both through a GradClip (descent/mlp.h).
#ifndef DESCENT_CLIP_H_
#define DESCENT_CLIP_H_

#include <stddef.h>

#include "descent/mlp.h"

namespace descent {

// grads holds `tensors` consecutive tensors of sizes[i] floats. As torch: the
// 2-norm of each tensor, the 2-norm of those, then every gradient times
// min(1, max_norm / (total + 1e-6)) in float. Returns the total norm.
float ClipGradNorm(float* grads, const size_t* sizes, size_t tensors, double max_norm);
// Clamps every gradient to [-clip_value, clip_value] (NaN stays NaN).
void ClipGradValue(float* grads, size_t n, double clip_value);

}  // namespace descent

#endif  // DESCENT_CLIP_H_
