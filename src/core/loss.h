// The losses on a model's last layer, torch's formulas with reduction='mean'
// (descent/layers.h), and the probabilities its outputs stand for.
#ifndef DESCENT_SRC_CORE_LOSS_H_
#define DESCENT_SRC_CORE_LOSS_H_

#include <stddef.h>

#include "descent/mlp.h"

namespace descent {
namespace internal {

// Per-row losses (each the mean over the row's outputs for element losses)
// into work.row_loss, and d(mean loss)/d(outputs) into the first activation-
// gradient buffer. kInvalidArgument for a label >= classes or a BCE target
// outside [0, 1] (NaN included).
Status LossAndOutputGradient(const Layout& l, const WorkRef& work, size_t rows, const ParallelFor& pf);

// out[o] for outputs z[o * stride], o < n: softmax (class losses), sigmoid (BCE)
// or the outputs themselves (regression losses).
void OutputsToProbabilities(const LossSpec& loss, const float* z, size_t stride, size_t n, float* out);

}  // namespace internal
}  // namespace descent

#endif  // DESCENT_SRC_CORE_LOSS_H_
