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
#include "src/core/lean_rows.h"

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

// LeanPlan with convolutions (stream_plan.cc, Layout::StreamBuffers): sample n alone, its
// forward pass; its backward pass, adding to the step's gradient (work.F(grads)) in the order
// FastPlan's chains run, and its input gradient into dy[i - 1], through the activation below.
#define DESCENT_STREAM_LAYER_FUNCTIONS                                              \
  void StreamForward(const ModelRef& model, const WorkRef& work, size_t i, size_t n); \
  void StreamBackward(const ModelRef& model, const WorkRef& work, size_t i, size_t n);

namespace linear {
DESCENT_LAYER_FUNCTIONS
DESCENT_LEAN_LAYER_FUNCTIONS
DESCENT_STREAM_LAYER_FUNCTIONS
}  // namespace linear
namespace conv {
DESCENT_LAYER_FUNCTIONS
DESCENT_STREAM_LAYER_FUNCTIONS
// Output (o, p) of convolution i for sample n, its activation applied (a max pooling fused
// with it asks for the outputs its windows cover).
float OutputAt(const ModelRef& model, const WorkRef& work, size_t i, size_t n, size_t o, size_t p);
}  // namespace conv
namespace pool {
DESCENT_LAYER_FUNCTIONS
DESCENT_STREAM_LAYER_FUNCTIONS
// The gradient w.r.t. output (c, p) of the convolution fused into max pooling i, for sample n:
// what the pooling's backward pass would have left there, through the convolution's ReLU.
float FusedGradientAt(const WorkRef& work, size_t i, size_t n, size_t c, size_t p);
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

// dst[c, r] = src[r, c] for rows r < rows and columns c0 <= c < c1: a copy in cache-sized blocks
// (src/core/layers/linear.cc).
void Transpose(const float* src, size_t src_stride, size_t rows, size_t c0, size_t c1, float* dst, size_t dst_stride);

// The activation after a layer, as its own pass over n values (not ReLU: the layers fuse it).
void ActivationPass(const ActivationSpec& act, const float* z, float* y, size_t n);

// After layer i's input gradient (rows [r0, r1) of dy[i - 1]): the derivative of the
// activation after layer i - 1 (ReLU: zero where its output is not positive).
void BelowDerivative(const WorkRef& work, size_t i, size_t r0, size_t r1);
// The same for the streamed LeanPlan's one sample in dy[i - 1] (its one-sample buffers are row 0).
inline void StreamBelowDerivative(const WorkRef& work, size_t i) { BelowDerivative(work, i, 0, 1); }

// Where a streamed layer finds sample n: its input (the caller's row for layer 0, else the
// one-sample buffer), its output (the last layer's: row n of the batch's) and its output's gradient.
struct SampleIn {
  InputRow row;
  float operator[](size_t f) const {
    if (!row.bytes && !row.shift && !row.scale) return row.floats[f];
    if (row.bytes && !row.shift && !row.scale) return static_cast<float>(row.bytes[f]) * (1.0f / 256.0f);
    float v = row.bytes ? static_cast<float>(row.bytes[f]) : row.floats[f];
    if (row.shift) v = v - row.shift[f];
    if (row.scale) v = v * row.scale[f];
    return v;
  }
};
inline SampleIn StreamIn(const WorkRef& work, size_t i, size_t n) {
  const Layout& l = *work.layout;
  if (i > 0) return {InputRow{work.F(l.act[i])}};
  LayerInput x;
  x.rows = work.input;
  x.inputs = l.sizes[0];
  return {x.Row(n)};
}
inline float* StreamOut(const WorkRef& work, size_t i, size_t n) {
  const Layout& l = *work.layout;
  return work.F(l.act[i + 1]) + (i + 1 == l.num_layers ? n * Padded(l.sizes[i + 1]) : 0);
}
inline float* StreamPre(const WorkRef& work, size_t i, size_t n) {
  const Layout& l = *work.layout;
  if (!l.keeps_pre[i + 1]) return StreamOut(work, i, n);
  return work.F(l.pre[i + 1]) + (i + 1 == l.num_layers ? n * Padded(l.sizes[i + 1]) : 0);
}
inline float* StreamDy(const WorkRef& work, size_t i, size_t) { return work.F(work.layout->dy[i]); }

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
// The streamed LeanPlan runs what Layout::streamable allows.
#define DESCENT_STREAM_DISPATCH(call)             \
  switch (layout.layers[i].kind) {                \
    case LayerKind::kLinear: return linear::call; \
    case LayerKind::kConv: return conv::call;     \
    case LayerKind::kPool: return pool::call;     \
    default: return;                              \
  }
inline void StreamForwardLayer(const Layout& layout, const ModelRef& model, const WorkRef& work, size_t i, size_t n) {
  DESCENT_STREAM_DISPATCH(StreamForward(model, work, i, n))
}
inline void StreamBackwardLayer(const Layout& layout, const ModelRef& model, const WorkRef& work, size_t i, size_t n) {
  DESCENT_STREAM_DISPATCH(StreamBackward(model, work, i, n))
}
#undef DESCENT_DISPATCH
#undef DESCENT_LEAN_DISPATCH
#undef DESCENT_STREAM_DISPATCH

}  // namespace internal
}  // namespace descent

#endif  // DESCENT_SRC_CORE_LAYERS_LAYER_OPS_H_
