// What the plans ask of one layer kind (descent/layout.h's LayerKind): a table of
// functions per kind, filled in the kind's own source (src/core/layers/<kind>.cc), so
// the plans' passes (fast_plan.cc, lean_plan.cc, inference.cc) only walk the list.
// Layer i reads its input at act[i] and writes its output (after its activation) at
// act[i + 1]; its backward reads dy[i], the gradient w.r.t. its product output.
#ifndef DESCENT_SRC_CORE_LAYERS_LAYER_OPS_H_
#define DESCENT_SRC_CORE_LAYERS_LAYER_OPS_H_

#include <stddef.h>

#include "descent/rng.h"
#include "descent/train.h"

namespace descent {
namespace internal {

// Where a lean backward hands each piece of gradient: take(self, offset, g, n) for the n
// gradients of the trained parameters from `offset` (each piece inside one tensor, the
// pieces of a tensor one after another).
struct GradientTake {
  void* self;
  void (*take)(void* self, size_t offset, const float* g, size_t n);
  void operator()(size_t offset, const float* g, size_t n) const { take(self, offset, g, n); }
};

struct LayerOps {
  // torch's default initialisation of layer i's parameters, from the stream (frozen ones
  // drawn too, not written).
  void (*init)(const ModelRef& model, size_t i, Rng& rng);
  // FastPlan, split over pf's workers: the forward pass; the backward pass (the gradient of
  // the layer's parameters, and its input gradient into dy[i - 1] when the layer below is
  // trained, through that layer's activation).
  void (*forward)(const ModelRef& model, const WorkRef& work, size_t i, size_t rows, const ParallelFor& pf);
  void (*backward)(const ModelRef& model, const WorkRef& work, size_t i, size_t rows, const ParallelFor& pf);
  // LeanPlan, one thread, the caller's rows for layer 0: the forward pass; the input gradient
  // (with the weights before the update); the parameters' gradient piece by piece.
  void (*lean_forward)(const ModelRef& model, const WorkRef& work, size_t i, size_t rows);
  void (*lean_input_gradient)(const ModelRef& model, const WorkRef& work, size_t i, size_t rows);
  void (*lean_gradients)(const WorkRef& work, size_t i, size_t rows, const GradientTake& take);
  // Inference, activations transposed ([features, rows]).
  void (*infer)(const ModelRef& model, const InferRef& work, size_t i, size_t rows, const ParallelFor& pf);
};

const LayerOps& LinearOps();

inline const LayerOps& OpsOf(LayerKind kind) {
  switch (kind) {
    case LayerKind::kLinear: break;
  }
  return LinearOps();
}

}  // namespace internal
}  // namespace descent

#endif  // DESCENT_SRC_CORE_LAYERS_LAYER_OPS_H_
