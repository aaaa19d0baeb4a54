// The losses on a model's last layer, torch's formulas with reduction='mean'
// (descent/layers.h), and the probabilities its outputs stand for.
#ifndef DESCENT_SRC_CORE_LOSS_H_
#define DESCENT_SRC_CORE_LOSS_H_

#include <stddef.h>

#include "descent/train.h"

namespace descent {
namespace internal {

// Per-row losses (each the mean over the row's outputs for element losses)
// into work.row_loss, and the gradient of the mean loss w.r.t. the last layer's
// product output into its dy (through the last layer's activation, if it has one). kInvalidArgument for a label >= classes or a BCE target
// outside [0, 1] (NaN included).
Status LossAndOutputGradient(const Layout& l, const WorkRef& work, size_t rows, const ParallelFor& pf);
// The same for rows [r0, r0 + rows) of a batch of `batch` (the mean's divisor), their gradient
// into dz (row r0 first): a streamed LeanPlan's one sample at a time.
Status LossOfRows(const Layout& l, const WorkRef& work, size_t r0, size_t rows, size_t batch, float* dz,
                  const ParallelFor& pf);

// out[o] for outputs z[o * stride], o < n: softmax (class losses), sigmoid (BCE)
// or the outputs themselves (regression losses).
void OutputsToProbabilities(const LossSpec& loss, const float* z, size_t stride, size_t n, float* out);

}  // namespace internal
}  // namespace descent

#endif  // DESCENT_SRC_CORE_LOSS_H_
