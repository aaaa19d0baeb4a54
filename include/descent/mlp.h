// A multilayer perceptron whose layer sizes are template parameters:
// Linear layers (torch's [out, in] weight layout), ReLU between them, and a
// fused log-softmax + NLL loss (mean over the batch). Parameters live in one
// flat aligned block, in torch's state_dict order (weight then bias, layer by
// layer), so an optimizer step is one pass over the whole model.
//
//   using Net = descent::Mlp<784, 100, 100, 10>;
//   static Net net;                        // parameters
//   static descent::Workspace<Net, 256> ws; // gradients + activations for 256 rows
//   descent::Init(net, seed);
//   ws.LoadImages(pixels, labels, order, rows);  // uint8 images -> floats / 256
//   float loss; descent::ForwardBackward(net, ws, rows, &loss);
//   opt.step(net.params(), ws.grads());
#ifndef DESCENT_MLP_H_
#define DESCENT_MLP_H_

#include <stddef.h>
#include <stdint.h>

#include "descent/config.h"
#include "descent/parallel.h"
#include "descent/status.h"

namespace descent {

inline constexpr size_t kMaxLayers = 8;

// Where each piece of a model and of its workspace sits, from the layer sizes
// alone. constexpr, so the templates size their storage with it and the
// size-erased code in src/ finds the same offsets at run time.
struct Layout {
  size_t num_layers = 0;
  size_t sizes[kMaxLayers + 1] = {};
  size_t weight[kMaxLayers] = {};  // offset of layer l's weight [out, in] in the parameter block
  size_t bias[kMaxLayers] = {};
  size_t num_params = 0;
  // Workspace (floats), for max_batch rows: the input, each layer's output,
  // two ping-pong buffers of gradients w.r.t. activations, and per layer the
  // weights transposed (plus the bias as a last row) and with padded rows.
  size_t max_batch = 0;
  size_t act[kMaxLayers + 1] = {};  // act[0] is the input
  size_t dact[2] = {};
  size_t wt[kMaxLayers] = {};
  size_t wp[kMaxLayers] = {};
  size_t workspace_floats = 0;

  static constexpr Layout Of(const size_t* s, size_t count, size_t max_batch) {
    Layout l;
    l.num_layers = count - 1;
    size_t widest = 0;
    for (size_t i = 0; i < count; ++i) l.sizes[i] = s[i];
    for (size_t i = 0; i < l.num_layers; ++i) {
      l.weight[i] = l.num_params;
      l.bias[i] = l.weight[i] + s[i] * s[i + 1];
      l.num_params = l.bias[i] + s[i + 1];
      widest = Padded(s[i + 1]) > widest ? Padded(s[i + 1]) : widest;
    }
    l.max_batch = max_batch;
    size_t at = 0;
    for (size_t i = 0; i < count; ++i) {
      l.act[i] = at;
      at += max_batch * Padded(s[i]);
    }
    for (size_t& d : l.dact) {
      d = at;
      at += max_batch * widest;
    }
    for (size_t i = 0; i < l.num_layers; ++i) {
      l.wt[i] = at;
      at += (s[i] + 1) * Padded(s[i + 1]);
      l.wp[i] = at;
      at += i == 0 ? 0 : s[i + 1] * Padded(s[i]);  // layer 0 needs no input gradient
    }
    l.workspace_floats = at;
    return l;
  }
};

namespace internal {
// The layer sizes as an array, in a class of their own so Mlp's members can use them.
template <size_t... kSizes>
struct SizeList {
  static constexpr size_t kValues[] = {kSizes...};
};
}  // namespace internal

template <size_t... kSizes>
class Mlp {
  static constexpr const size_t* kSizeList = internal::SizeList<kSizes...>::kValues;

 public:
  static_assert(sizeof...(kSizes) >= 2, "an Mlp needs an input and an output size");
  static_assert(sizeof...(kSizes) <= kMaxLayers + 1, "too many layers (kMaxLayers)");
  static_assert(((kSizes > 0) && ...), "layer sizes must be positive");
  static_assert(kSizeList[sizeof...(kSizes) - 1] <= 256, "labels are bytes: at most 256 classes");
  // A softmax over one class is 1 whatever the logit: its NLL is 0 and nothing would be learnt.
  static_assert(kSizeList[sizeof...(kSizes) - 1] >= 2, "log-softmax + NLL needs at least two classes");

  static constexpr Layout kLayout = Layout::Of(kSizeList, sizeof...(kSizes), 0);
  static constexpr size_t kNumLayers = sizeof...(kSizes) - 1;
  static constexpr size_t kNumParams = kLayout.num_params;
  static constexpr size_t kInputs = kSizeList[0];
  static constexpr size_t kClasses = kSizeList[kNumLayers];
  static constexpr const size_t* sizes() { return kSizeList; }

  float* params() { return params_; }
  const float* params() const { return params_; }
  // Layer l's weight, [out, in] row-major, and bias [out].
  float* weight(size_t l) { return params_ + kLayout.weight[l]; }
  float* bias(size_t l) { return params_ + kLayout.bias[l]; }
  const float* weight(size_t l) const { return params_ + kLayout.weight[l]; }
  const float* bias(size_t l) const { return params_ + kLayout.bias[l]; }

 private:
  alignas(kAlign) float params_[kNumParams] = {};
};

// Everything one training or evaluation step touches besides the parameters,
// for up to kMaxBatch rows: gradients (same layout as the parameters), the
// input batch, activations and scratch.
template <class Net, size_t kMaxBatch>
class Workspace {
 public:
  static_assert(kMaxBatch > 0, "the workspace needs room for at least one row");
  static constexpr Layout kLayout = Layout::Of(Net::sizes(), Net::kNumLayers + 1, kMaxBatch);
  static constexpr size_t kMaxRows = kMaxBatch;

  float* grads() { return grads_; }
  const float* grads() const { return grads_; }
  float* scratch() { return scratch_; }
  uint8_t* labels() { return labels_; }
  // Row r of the input batch (Net::kInputs floats; write it directly or use LoadImages).
  float* input(size_t r) { return scratch_ + kLayout.act[0] + r * Padded(Net::kInputs); }
  // Row r of the output logits after Forward / ForwardBackward.
  const float* logits(size_t r) const {
    return scratch_ + kLayout.act[Net::kNumLayers] + r * Padded(Net::kClasses);
  }
  // Per-row loss of the last ForwardBackward / Evaluate.
  const float* row_loss() const { return row_loss_; }
  float* row_loss() { return row_loss_; }

  // Copies rows images (index order[r], each Net::kInputs bytes in `pixels`)
  // and labels into the batch, scaling pixels by 1/256 as the notebook does.
  // order == nullptr takes images 0..rows-1.
  Status LoadImages(const uint8_t* pixels, const uint8_t* labels, const uint32_t* order,
                    size_t rows, const ParallelFor& pf = {});

 private:
  alignas(kAlign) float grads_[Net::kNumParams] = {};
  alignas(kAlign) float scratch_[kLayout.workspace_floats] = {};
  float row_loss_[kMaxBatch] = {};
  uint8_t labels_[kMaxBatch] = {};
};

// The bytes a model, its optimizer and a training workspace need, known at
// compile time: static_assert(descent::Footprint<Net, Opt, Ws>() <= kRamBudget).
template <class... Parts>
constexpr size_t Footprint() { return (sizeof(Parts) + ... + 0); }

namespace internal {
// The size-erased views the templates hand to the code in src/.
struct ModelRef {
  const Layout* layout;
  float* params;
};
struct WorkRef {
  const Layout* layout;
  float* grads;
  float* scratch;
  float* row_loss;
  uint8_t* labels;
};
void Init(ModelRef model, uint64_t seed);
Status LoadImages(WorkRef work, const uint8_t* pixels, const uint8_t* labels,
                  const uint32_t* order, size_t rows, const ParallelFor& pf);
Status Forward(ModelRef model, WorkRef work, size_t rows, const ParallelFor& pf);
Status ForwardBackward(ModelRef model, WorkRef work, size_t rows, float* loss, const ParallelFor& pf);
Status Evaluate(ModelRef model, WorkRef work, size_t rows, double* loss_sum, size_t* correct,
                const ParallelFor& pf);
bool ParamsFinite(const float* params, size_t n);

template <size_t... kSizes>
ModelRef Ref(Mlp<kSizes...>& net) { return {&Mlp<kSizes...>::kLayout, net.params()}; }
template <class Net, size_t kMaxBatch>
WorkRef Ref(Workspace<Net, kMaxBatch>& ws) {
  return {&Workspace<Net, kMaxBatch>::kLayout, ws.grads(), ws.scratch(), ws.row_loss(), ws.labels()};
}
}  // namespace internal

template <class Net, size_t kMaxBatch>
Status Workspace<Net, kMaxBatch>::LoadImages(const uint8_t* pixels, const uint8_t* labels,
                                             const uint32_t* order, size_t rows, const ParallelFor& pf) {
  return internal::LoadImages(internal::Ref(*this), pixels, labels, order, rows, pf);
}

// torch.nn.Linear's default initialisation: weights and biases uniform in
// [-1/sqrt(fan_in), 1/sqrt(fan_in)), from our own PRNG stream (seed, init).
template <class Net>
void Init(Net& net, uint64_t seed) { internal::Init(internal::Ref(net), seed); }

// Logits of the rows loaded into the workspace. Every entry point takes an
// optional ParallelFor (descent/parallel.h); results do not depend on it.
template <class Net, class Ws>
Status Forward(Net& net, Ws& ws, size_t rows, const ParallelFor& pf = {}) {
  return internal::Forward(internal::Ref(net), internal::Ref(ws), rows, pf);
}

// Forward and backward over `rows` loaded rows: *loss is the mean NLL and
// ws.grads() its gradient (overwritten, like torch after zero_grad).
// kNonFinite if the loss is NaN or infinite, kInvalidArgument for a label
// outside [0, classes), kCapacityExceeded for rows outside [1, kMaxBatch].
template <class Net, class Ws>
Status ForwardBackward(Net& net, Ws& ws, size_t rows, float* loss, const ParallelFor& pf = {}) {
  return internal::ForwardBackward(internal::Ref(net), internal::Ref(ws), rows, loss, pf);
}

// Adds the rows' summed NLL to *loss_sum and their correct argmax
// predictions to *correct.
template <class Net, class Ws>
Status Evaluate(Net& net, Ws& ws, size_t rows, double* loss_sum, size_t* correct,
                const ParallelFor& pf = {}) {
  return internal::Evaluate(internal::Ref(net), internal::Ref(ws), rows, loss_sum, correct, pf);
}

// What TrainStep clips between backward and update; 0 turns a bound off.
struct GradClip {
  double max_norm = 0.0;    // torch.nn.utils.clip_grad_norm_(params, max_norm)
  double clip_value = 0.0;  // clip_grad_value_(params, clip_value), applied after the norm
};
namespace internal {
void Clip(float* grads, const Layout& layout, const GradClip& clip);
}  // namespace internal

// One training step: ForwardBackward, clipping (descent/clip.h), then the
// optimizer's update. kNonFinite when the loss is not finite (the parameters
// are left untouched) or when the update made a parameter non-finite.
template <class Net, class Ws, class Opt>
Status TrainStep(Net& net, Ws& ws, Opt& opt, size_t rows, float* loss, const ParallelFor& pf = {},
                 const GradClip& clip = {}) {
  static_assert(Opt::kNumParams == Net::kNumParams, "optimizer sized for another model");
  if (Status s = ForwardBackward(net, ws, rows, loss, pf); s != Status::kOk) return s;
  if (clip.max_norm > 0.0 || clip.clip_value > 0.0) internal::Clip(ws.grads(), Net::kLayout, clip);
  if (Status s = opt.step(net.params(), ws.grads(), pf); s != Status::kOk) return s;
  return internal::ParamsFinite(net.params(), Net::kNumParams) ? Status::kOk : Status::kNonFinite;
}

}  // namespace descent

#endif  // DESCENT_MLP_H_
