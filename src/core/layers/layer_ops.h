// What the plans ask of one layer kind (descent/layout.h's LayerKind): the same functions
// for every kind, each kind's in its namespace and defined in its own source
// (src/core/layers/<kind>.cc), so the plans' passes (fast_plan.cc, lean_plan.cc,
// inference.cc) only walk the list.
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

// Each kind's functions, declared in its namespace and defined in its home.
#define DESCENT_LAYER_FUNCTIONS                                                                                  \
  /* torch's default initialisation of layer i's parameters, from the stream (frozen ones drawn too, */          \
  /* not written). */                                                                                            \
  void Init(const ModelRef& model, size_t i, Rng& rng);                                                          \
  /* FastPlan, split over pf's workers: the forward pass; the backward pass (the gradient of the layer's */      \
  /* parameters, and its input gradient into dy[i - 1] when the layer below is trained, through that */          \
  /* layer's activation). */                                                                                     \
  void Forward(const ModelRef& model, const WorkRef& work, size_t i, size_t rows, const ParallelFor& pf);        \
  void Backward(const ModelRef& model, const WorkRef& work, size_t i, size_t rows, const ParallelFor& pf);
// LeanPlan and inference (Linear only, for now: Layout::all_linear).
#define DESCENT_LEAN_LAYER_FUNCTIONS                                                                             \
  /* LeanPlan, one thread, the caller's rows for layer 0: the forward pass; the input gradient (with the */      \
  /* weights before the update); the parameters' gradient piece by piece. */                                    \
  void LeanForward(const ModelRef& model, const WorkRef& work, size_t i, size_t rows);                          \
  void LeanInputGradient(const ModelRef& model, const WorkRef& work, size_t i, size_t rows);                    \
  void LeanGradients(const WorkRef& work, size_t i, size_t rows, const GradientTake& take);                     \
  /* Inference, activations transposed ([features, rows]). */                                                   \
  void Infer(const ModelRef& model, const InferRef& work, size_t i, size_t rows, const ParallelFor& pf);

namespace linear {
DESCENT_LAYER_FUNCTIONS
DESCENT_LEAN_LAYER_FUNCTIONS
}  // namespace linear
namespace conv {
DESCENT_LAYER_FUNCTIONS
}  // namespace conv
namespace pool {
DESCENT_LAYER_FUNCTIONS
}  // namespace pool
namespace batchnorm {
DESCENT_LAYER_FUNCTIONS
}  // namespace batchnorm
namespace dropout {
DESCENT_LAYER_FUNCTIONS
}  // namespace dropout

// torch's default for Linear and convolutions alike: weight, then bias, uniform in
// [-1/sqrt(fan_in), 1/sqrt(fan_in)), in memory order from one stream.
void InitFanIn(const ModelRef& model, size_t i, Rng& rng);

// The activation after a layer, as its own pass over n values (not ReLU: the layers fuse it).
void ActivationPass(const ActivationSpec& act, const float* z, float* y, size_t n);

// After layer i's input gradient (rows [r0, r1) of dy[i - 1]): the derivative of the
// activation after layer i - 1 (ReLU: zero where its output is not positive).
void BelowDerivative(const WorkRef& work, size_t i, size_t r0, size_t r1);

// The plans call layer i through these: one switch over the kinds each (no table of function
// pointers: on a microcontroller such a table lands in RAM).
#define DESCENT_DISPATCH(call)                    \
  switch (layout.layers[i].kind) {                \
    case LayerKind::kLinear: return linear::call; \
    case LayerKind::kConv: return conv::call;     \
    case LayerKind::kPool: return pool::call;     \
    case LayerKind::kBatchNorm: return batchnorm::call; \
    case LayerKind::kDropout: return dropout::call; \
  }
// LeanPlan and inference refuse other kinds before they run (Layout::all_linear).
#define DESCENT_LEAN_DISPATCH(call)               \
  switch (layout.layers[i].kind) {                \
    case LayerKind::kLinear: return linear::call; \
    default: return;                              \
  }
inline void InitLayer(const Layout& layout, const ModelRef& model, size_t i, Rng& rng) {
  DESCENT_DISPATCH(Init(model, i, rng))
}
inline void ForwardLayer(const Layout& layout, const ModelRef& model, const WorkRef& work, size_t i, size_t rows,
                         const ParallelFor& pf) {
  DESCENT_DISPATCH(Forward(model, work, i, rows, pf))
}
inline void BackwardLayer(const Layout& layout, const ModelRef& model, const WorkRef& work, size_t i, size_t rows,
                          const ParallelFor& pf) {
  DESCENT_DISPATCH(Backward(model, work, i, rows, pf))
}
inline void LeanForwardLayer(const Layout& layout, const ModelRef& model, const WorkRef& work, size_t i, size_t rows) {
  DESCENT_LEAN_DISPATCH(LeanForward(model, work, i, rows))
}
inline void LeanInputGradientLayer(const Layout& layout, const ModelRef& model, const WorkRef& work, size_t i,
                                   size_t rows) {
  DESCENT_LEAN_DISPATCH(LeanInputGradient(model, work, i, rows))
}
inline void LeanGradientsLayer(const Layout& layout, const WorkRef& work, size_t i, size_t rows,
                               const GradientTake& take) {
  DESCENT_LEAN_DISPATCH(LeanGradients(work, i, rows, take))
}
inline void InferLayer(const Layout& layout, const ModelRef& model, const InferRef& work, size_t i, size_t rows,
                       const ParallelFor& pf) {
  DESCENT_LEAN_DISPATCH(Infer(model, work, i, rows, pf))
}
#undef DESCENT_DISPATCH
#undef DESCENT_LEAN_DISPATCH

}  // namespace internal
}  // namespace descent

#endif  // DESCENT_SRC_CORE_LAYERS_LAYER_OPS_H_
