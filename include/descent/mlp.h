// Multilayer perceptrons whose layer sizes, hidden activation, loss and
// frozen layers are template parameters: Linear layers (torch's [out, in]
// weight layout), one activation between them (descent/layers.h) and a loss on
// the last layer's outputs (mean over the batch, as torch's reduction='mean').
// Trained parameters live in one flat aligned block, in torch's state_dict
// order (weight then bias, layer by layer), so an optimizer step is one pass.
//
//   using Net = descent::Mlp<784, 100, 100, 10>;  // the notebook's: ReLU, log-softmax + NLL
//   static Net net;                                // parameters
//   static descent::Workspace<Net, 256> ws;        // gradients + activations for 256 rows
//   descent::Init(net, seed);
//   ws.LoadImages(pixels, labels, order, rows);    // uint8 images -> floats / 256
//   float loss; descent::ForwardBackward(net, ws, rows, &loss);
//   opt.step(net.params(), ws.grads());
//
//   // Regression on float features: tanh hidden layers, mean squared error.
//   using Reg = descent::Model<descent::Sizes<10, 16, 1>, descent::Tanh, descent::Mse>;
//   static descent::Workspace<Reg, 32> rws;
//   rws.LoadRows(features, targets, order, rows);  // features[i * 10 + f], targets[i * 1 + o]
//
// Rows in memory: features are `inputs` consecutive floats per sample (uint8
// for LoadImages), targets `outputs` floats per sample (element losses) or one
// integer label per sample (class losses). ws.input(r) is row r of a FastPlan batch:
// write kInputs floats there directly if you prefer; the padding after them is
// never read.
#ifndef DESCENT_MLP_H_
#define DESCENT_MLP_H_

#include <stddef.h>
#include <stdint.h>

#include <type_traits>

#include "descent/config.h"
#include "descent/layers.h"
#include "descent/parallel.h"
#include "descent/status.h"

namespace descent {

inline constexpr size_t kMaxLayers = 8;

// Where each piece of a model and of its workspace sits, from the layer sizes,
// activation, loss and frozen layers alone. constexpr, so the templates size
// their storage with it and the size-erased code in src/ finds the same
// offsets at run time (the CLI builds one at run time from its flags).
struct Layout {
  size_t num_layers = 0;
  size_t sizes[kMaxLayers + 1] = {};
  ActivationSpec activation;  // between layers
  LossSpec loss;              // on the last layer's outputs
  size_t frozen = 0;          // layers 0..frozen-1 get no gradient, state or update
  size_t weight[kMaxLayers] = {};  // offset of layer l's weight [out, in] in the parameter order
  size_t bias[kMaxLayers] = {};
  size_t num_params = 0;
  size_t trainable_begin = 0;  // weight[frozen]: the trained parameters are [trainable_begin, num_params)
  size_t num_trainable = 0;
  // Workspace (floats), for max_batch rows: the input, each layer's output
  // (and, where the activation's derivative needs it, its input `pre`), two
  // ping-pong buffers of gradients w.r.t. activations, per layer the weights
  // transposed (plus the bias as a last row) and with padded rows, and the
  // float targets of element losses.
  size_t max_batch = 0;
  size_t act[kMaxLayers + 1] = {};  // act[0] is the input
  size_t pre[kMaxLayers + 1] = {};  // hidden layers' pre-activations, if kept (has_pre)
  bool has_pre = false;
  size_t dact[2] = {};
  size_t wt[kMaxLayers] = {};
  size_t wp[kMaxLayers] = {};
  size_t targets = 0;  // max_batch * outputs floats, element losses only
  // LeanPlan: no input copy, weight copies or gradient buffer; one row of a layer's
  // weight gradient (and its bias gradient) at a time, `grad_row`.
  bool lean = false;
  size_t grad_row = 0;
  size_t workspace_floats = 0;

  size_t inputs() const { return sizes[0]; }
  size_t outputs() const { return sizes[num_layers]; }

  static constexpr Layout Of(const size_t* s, size_t count, size_t max_batch, ActivationSpec activation = {},
                             LossSpec loss = {}, size_t frozen = 0, bool lean = false) {
    Layout l;
    l.num_layers = count - 1;
    l.activation = activation;
    l.loss = loss;
    l.frozen = frozen;
    l.lean = lean;
    size_t widest = 0;
    for (size_t i = 0; i < count; ++i) l.sizes[i] = s[i];
    for (size_t i = 0; i < l.num_layers; ++i) {
      l.weight[i] = l.num_params;
      l.bias[i] = l.weight[i] + s[i] * s[i + 1];
      l.num_params = l.bias[i] + s[i + 1];
      widest = Padded(s[i + 1]) > widest ? Padded(s[i + 1]) : widest;
    }
    l.trainable_begin = frozen < l.num_layers ? l.weight[frozen] : l.num_params;
    l.num_trainable = l.num_params - l.trainable_begin;
    l.max_batch = max_batch;
    l.has_pre = NeedsPreActivation(activation) && count > 2;
    size_t at = lean ? l.LeanBuffers() : l.FastBuffers(widest);
    l.targets = at;
    at += HasClassTargets(loss.kind) ? 0 : max_batch * s[count - 1];
    l.workspace_floats = at;
    return l;
  }

 private:
  // FastPlan: every activation, two activation-gradient buffers of the widest layer,
  // and per layer the weights transposed (with the bias as a last row) and row-padded.
  constexpr size_t FastBuffers(size_t widest) {
    size_t at = 0;
    for (size_t i = 0; i <= num_layers; ++i) {
      act[i] = at;
      at += max_batch * Padded(sizes[i]);
    }
    for (size_t i = 1; has_pre && i < num_layers; ++i) {
      pre[i] = at;
      at += max_batch * Padded(sizes[i]);
    }
    for (size_t& d : dact) {
      d = at;
      at += max_batch * widest;
    }
    for (size_t i = 0; i < num_layers; ++i) {
      wt[i] = at;
      at += (sizes[i] + 1) * Padded(sizes[i + 1]);
      wp[i] = at;
      at += i <= frozen ? 0 : sizes[i + 1] * Padded(sizes[i]);  // only layers above a trained one pass a gradient down
    }
    return at;
  }
  // LeanPlan: the input is read where the caller keeps it; only the hidden outputs the
  // backward pass reads are kept (from the first trained layer's input up); the frozen
  // layers' outputs, the logits and the activation gradients share two buffers, each
  // sized for what passes through it; one weight-gradient row.
  constexpr size_t LeanBuffers() {
    size_t at = 0;
    for (size_t j = 1; j < num_layers; ++j) {
      if (j < frozen) continue;
      act[j] = at;
      at += max_batch * Padded(sizes[j]);
      if (has_pre && j > frozen) {
        pre[j] = at;
        at += max_batch * Padded(sizes[j]);
      }
    }
    size_t slot[2] = {max_batch * Padded(sizes[num_layers]), max_batch * Padded(sizes[num_layers])};  // dz, logits
    for (size_t j = 1; j < frozen; ++j)  // frozen layers' outputs, in turn
      slot[(j - 1) % 2] = max_batch * Padded(sizes[j]) > slot[(j - 1) % 2] ? max_batch * Padded(sizes[j]) : slot[(j - 1) % 2];
    for (size_t i = frozen + 1; i < num_layers; ++i) {  // layer i's input gradient
      const size_t k = (num_layers - 1 - i) % 2 == 0 ? 1 : 0;
      slot[k] = max_batch * Padded(sizes[i]) > slot[k] ? max_batch * Padded(sizes[i]) : slot[k];
    }
    for (size_t k = 0; k < 2; ++k) {
      dact[k] = at;
      at += slot[k];
    }
    for (size_t j = 1; j < frozen && j < num_layers; ++j) act[j] = dact[(j - 1) % 2];
    act[num_layers] = dact[1];
    size_t row = 0, column = 0;
    for (size_t i = frozen; i < num_layers; ++i) {
      row = sizes[i] > row ? sizes[i] : row;
      column = sizes[i + 1] > column ? sizes[i + 1] : column;
    }
    grad_row = at;
    return at + row + column;
  }
};

// The layer sizes, input first: Model<Sizes<784, 100, 10>, ...>.
template <size_t... kSizes>
struct Sizes {
  static constexpr size_t kValues[] = {kSizes...};
};
// The first kLayers Linear layers are frozen (torch's requires_grad_(False)):
// their weights are read from a caller's const block (flash, say) and get no
// gradient, optimizer state or update; no input gradient is computed below the
// first trained layer. Layers above a trained one cannot be frozen.
template <size_t kLayers>
struct Frozen {
  static constexpr size_t kCount = kLayers;
};

namespace internal {
// Where a model with frozen layers reads them; nothing at all without.
template <size_t kFrozen>
struct FrozenBlock {
  const float* frozen_ = nullptr;
};
template <>
struct FrozenBlock<0> {};
}  // namespace internal

template <class S, class Act = Relu, class Loss = Nll, class Freeze = Frozen<0>>
class Model;

template <size_t... kSizes, class Act, class Loss, size_t kFrozen>
class Model<Sizes<kSizes...>, Act, Loss, Frozen<kFrozen>> : public internal::FrozenBlock<kFrozen> {
  static constexpr const size_t* kSizeList = Sizes<kSizes...>::kValues;
  static constexpr size_t kCount = sizeof...(kSizes);

 public:
  static_assert(kCount >= 2, "a model needs an input and an output size");
  static_assert(kCount <= kMaxLayers + 1, "too many layers (kMaxLayers)");
  static_assert(((kSizes > 0) && ...), "layer sizes must be positive");
  static_assert(InvalidReason(Act::kSpec) == nullptr, "invalid activation parameters");
  static_assert(InvalidReason(Loss::kSpec) == nullptr, "invalid loss parameters");
  // A softmax over one class is 1 whatever the logit: its NLL is 0 and nothing would be learnt.
  static_assert(!HasClassTargets(Loss::kSpec.kind) || kSizeList[kCount - 1] >= 2,
                "log-softmax + NLL / cross-entropy needs at least two classes (one output: use Mse or BceWithLogits)");
  static_assert(!HasClassTargets(Loss::kSpec.kind) || kSizeList[kCount - 1] <= 65536,
                "labels are 16-bit: at most 65536 classes");
  static_assert(kFrozen < kCount - 1, "at least the last layer must be trained");

  static constexpr size_t kNumLayers = kCount - 1;
  static constexpr size_t kFrozenLayers = kFrozen;
  static constexpr Layout kLayout = Layout::Of(kSizeList, kCount, 0, Act::kSpec, Loss::kSpec, kFrozen);
  static constexpr size_t kNumParams = kLayout.num_params;        // every weight and bias
  static constexpr size_t kNumTrainable = kLayout.num_trainable;  // what params() holds
  static constexpr size_t kNumFrozen = kNumParams - kNumTrainable;
  static constexpr size_t kInputs = kSizeList[0];
  static constexpr size_t kOutputs = kSizeList[kNumLayers];
  static constexpr size_t kClasses = kOutputs;
  static constexpr ActivationSpec kActivation = Act::kSpec;
  static constexpr LossSpec kLoss = Loss::kSpec;
  static constexpr const size_t* sizes() { return kSizeList; }
  // A class loss's label type: a byte up to 256 classes.
  using Label = std::conditional_t<(kOutputs <= 256), uint8_t, uint16_t>;

  // The trained parameters (all of them without frozen layers), state_dict order.
  float* params() { return params_; }
  const float* params() const { return params_; }
  // The frozen layers' weights and biases, kNumFrozen floats in state_dict order,
  // owned by the caller (e.g. a const array in flash); set before any use.
  template <size_t k = kFrozen, class = std::enable_if_t<(k > 0)>>
  void set_frozen_params(const float* block) { this->frozen_ = block; }
  template <size_t k = kFrozen, class = std::enable_if_t<(k > 0)>>
  const float* frozen_params() const { return this->frozen_; }

  // Layer l's weight, [out, in] row-major, and bias [out]; frozen layers: const only.
  const float* weight(size_t l) const { return At(kLayout.weight[l]); }
  const float* bias(size_t l) const { return At(kLayout.bias[l]); }
  float* weight(size_t l) { return l < kFrozen ? nullptr : params_ + kLayout.weight[l] - kLayout.trainable_begin; }
  float* bias(size_t l) { return l < kFrozen ? nullptr : params_ + kLayout.bias[l] - kLayout.trainable_begin; }

 private:
  const float* At(size_t offset) const {
    if constexpr (kFrozen > 0)
      if (offset < kLayout.trainable_begin) return this->frozen_ ? this->frozen_ + offset : nullptr;
    return params_ + offset - kLayout.trainable_begin;
  }
  alignas(kAlign) float params_[kNumTrainable] = {};
};

// The notebook's model: ReLU hidden layers, log-softmax + NLL.
template <size_t... kSizes>
using Mlp = Model<Sizes<kSizes...>>;

// How a training workspace spends memory, chosen at compile time; both give the
// same bits.
// FastPlan: a copy of the input batch as floats, every activation, the whole
// gradient, and per layer the weights transposed and row-padded, so the products
// load whole vectors (SIMD desktop and server CPUs).
struct FastPlan {
  static constexpr bool kLean = false;
};
// LeanPlan: RAM at the physical limit (microcontrollers). The input rows are read
// where the caller keeps them (bytes stay bytes, e.g. in flash), the products read
// the [out, in] weights in place, and each weight-gradient row is handed to the
// optimizer as soon as it exists (fused backward + update: no gradient buffer), so
// a lean workspace trains through TrainStep only. Clipping by global norm needs
// every gradient before any update: the lean step then runs the backward pass
// twice (the first only sums the norm), the same bits at twice the backward cost.
struct LeanPlan {
  static constexpr bool kLean = true;
};
// Lean where the core runs its scalar loops anyway (no x86-64 or AArch64 vector
// unit: Cortex-M and the like); define DESCENT_DEFAULT_LEAN to choose.
#ifndef DESCENT_DEFAULT_LEAN
#if defined(__x86_64__) || defined(__aarch64__) || defined(_M_X64) || defined(_M_ARM64)
#define DESCENT_DEFAULT_LEAN 0
#else
#define DESCENT_DEFAULT_LEAN 1
#endif
#endif
using DefaultPlan = std::conditional_t<DESCENT_DEFAULT_LEAN != 0, LeanPlan, FastPlan>;

namespace internal {
// Where a LeanPlan workspace reads its input rows (the caller's memory).
struct InputRows {
  const uint8_t* bytes = nullptr;  // LoadImages: scaled by 1/256 as they are read
  const float* floats = nullptr;   // LoadRows: (x - shift) * scale as they are read
  const uint32_t* order = nullptr;
  const float* shift = nullptr;
  const float* scale = nullptr;
};
// What one plan's workspace holds and the other's does not: FastPlan the gradient,
// LeanPlan where its input rows are.
template <bool kLean, size_t kGradients>
struct PlanBlock {
  alignas(kAlign) float grads_[kGradients] = {};
  static constexpr InputRows input_rows_{};
};
template <size_t kGradients>
struct PlanBlock<true, kGradients> {
  InputRows input_rows_;
};
}  // namespace internal

// Everything one training or evaluation step touches besides the parameters,
// for up to kMaxBatch rows: gradients (the trained parameters' layout), the
// input batch, targets, activations and scratch, as the Plan lays them out.
template <class Net, size_t kMaxBatch, class Plan = DefaultPlan>
class Workspace : public internal::PlanBlock<Plan::kLean, Net::kNumTrainable> {
 public:
  static_assert(kMaxBatch > 0, "the workspace needs room for at least one row");
  static constexpr bool kLean = Plan::kLean;
  static constexpr Layout kLayout = Layout::Of(Net::sizes(), Net::kNumLayers + 1, kMaxBatch, Net::kActivation,
                                               Net::kLoss, Net::kFrozenLayers, kLean);
  static constexpr size_t kMaxRows = kMaxBatch;
  static constexpr bool kClassTargets = HasClassTargets(Net::kLoss.kind);
  using Label = typename Net::Label;

  // The gradient of the last ForwardBackward (FastPlan only).
  template <bool kHas = !kLean, class = std::enable_if_t<kHas>>
  float* grads() { return this->grads_; }
  template <bool kHas = !kLean, class = std::enable_if_t<kHas>>
  const float* grads() const { return this->grads_; }
  const internal::InputRows& input_rows() const { return this->input_rows_; }
  float* scratch() { return scratch_; }
  // Class losses: the batch's labels.
  Label* labels() { return labels_; }
  // Element losses: row r's Net::kOutputs targets.
  float* targets(size_t r) { return scratch_ + kLayout.targets + r * Net::kOutputs; }
  // Row r of the input batch (Net::kInputs floats; write it directly or use LoadImages / LoadRows).
  // FastPlan only: a LeanPlan workspace reads the rows where LoadImages / LoadRows found them.
  template <bool kHas = !kLean, class = std::enable_if_t<kHas>>
  float* input(size_t r) { return scratch_ + kLayout.act[0] + r * Padded(Net::kInputs); }
  // Row r of the last layer's outputs (logits) after Forward / ForwardBackward.
  const float* logits(size_t r) const {
    return scratch_ + kLayout.act[Net::kNumLayers] + r * Padded(Net::kOutputs);
  }
  // Per-row loss (mean over the row's outputs) of the last ForwardBackward / Evaluate.
  const float* row_loss() const { return row_loss_; }
  float* row_loss() { return row_loss_; }

  // Copies rows samples (index order[r]; order == nullptr takes 0..rows-1) into the
  // batch (LeanPlan: notes where they are; they, and `order`, must stay as they are until
  // the step is done): uint8 images scaled by 1/256 as the notebook does, with their targets:
  // one integer label per sample for class losses (nll, cross-entropy), Net::kOutputs
  // floats per sample for the others. kInvalidArgument for a label the Label type cannot hold.
  template <class T>
  Status LoadImages(const uint8_t* pixels, const T* targets, const uint32_t* order, size_t rows,
                    const ParallelFor& pf = {});
  // The same for float features, each transformed as (x - shift[f]) * scale[f]
  // (either may be nullptr: no shift / no scale), e.g. a standardization.
  template <class T>
  Status LoadRows(const float* features, const T* targets, const uint32_t* order, size_t rows,
                  const float* shift = nullptr, const float* scale = nullptr, const ParallelFor& pf = {});

 private:
  template <class T>
  Status Load(const internal::InputRows& in, const T* targets, size_t rows, const ParallelFor& pf);
  template <class T>
  Status LoadTargets(const T* targets, const uint32_t* order, size_t rows);

  alignas(kAlign) float scratch_[kLayout.workspace_floats] = {};
  float row_loss_[kMaxBatch] = {};
  Label labels_[kClassTargets ? kMaxBatch : 1] = {};
};

// What forward-only inference needs for up to kMaxBatch rows, and no more: no
// gradients and no weight copies (the products read the [out, in] weights in
// place). Activations are kept transposed ([features, rows]), two buffers of
// the widest layer in turn, so its size is (inputs + 2 * widest) * Padded(kMaxBatch)
// floats. The outputs have the same bits as a training workspace's Forward.
template <class Net, size_t kMaxBatch>
class InferenceWorkspace {
 public:
  static_assert(kMaxBatch > 0, "the workspace needs room for at least one row");
  static constexpr size_t kStride = Padded(kMaxBatch);
  static constexpr size_t kWidest = [] {
    size_t w = 0;
    for (size_t i = 1; i <= Net::kNumLayers; ++i) w = Net::sizes()[i] > w ? Net::sizes()[i] : w;
    return w;
  }();
  static constexpr size_t kFloats = (Net::kInputs + 2 * kWidest) * kStride;
  static constexpr size_t kMaxRows = kMaxBatch;

  float* scratch() { return scratch_; }
  // Input feature f of row r.
  float& input(size_t r, size_t f) { return scratch_[f * kStride + r]; }
  // Output o of row r after Forward (a logit, for the class and BCE losses).
  float output(size_t r, size_t o) const { return scratch_[OutputOffset() + o * kStride + r]; }
  static constexpr size_t OutputOffset() {
    return (Net::kInputs + ((Net::kNumLayers - 1) % 2) * kWidest) * kStride;
  }

  Status LoadImages(const uint8_t* pixels, const uint32_t* order, size_t rows, const ParallelFor& pf = {});
  Status LoadRows(const float* features, const uint32_t* order, size_t rows, const float* shift = nullptr,
                  const float* scale = nullptr, const ParallelFor& pf = {});

 private:
  alignas(kAlign) float scratch_[kFloats] = {};
};

// The bytes a model, its optimizer and a training workspace need, known at
// compile time: static_assert(descent::Footprint<Net, Opt, Ws>() <= kRamBudget).
template <class... Parts>
constexpr size_t Footprint() { return (sizeof(Parts) + ... + 0); }

struct GradClip;

namespace internal {
struct GradientSink;  // descent/optimizer.h
template <class Rule>
struct FusedStep;

// The size-erased views the templates hand to the code in src/.
struct ModelRef {
  const Layout* layout;
  float* params;        // the trained parameters, from layout->trainable_begin
  const float* frozen;  // the frozen ones, from 0 (nullptr without frozen layers)
  const float* at(size_t offset) const {
    return offset < layout->trainable_begin ? frozen + offset : params + (offset - layout->trainable_begin);
  }
};
struct WorkRef {
  const Layout* layout;
  float* grads;  // the trained parameters' gradients (FastPlan)
  float* scratch;
  float* row_loss;
  uint8_t* labels8;    // class losses up to 256 classes
  uint16_t* labels16;  // class losses above
  InputRows input;     // LeanPlan: the rows in the caller's memory
};
struct InferRef {
  const Layout* layout;  // the model's
  float* scratch;
  size_t stride;  // of every transposed buffer
  size_t widest;
  size_t max_batch;
};
void Init(ModelRef model, uint64_t seed);
Status LoadFeatures(const Layout& layout, float* dst, size_t dst_row, size_t dst_col, size_t max_batch,
                    const uint8_t* pixels, const float* features, const uint32_t* order, size_t rows,
                    const float* shift, const float* scale, const ParallelFor& pf);
Status LoadFloatTargets(WorkRef work, const float* targets, const uint32_t* order, size_t rows);
Status Forward(ModelRef model, WorkRef work, size_t rows, const ParallelFor& pf);
Status ForwardBackward(ModelRef model, WorkRef work, size_t rows, float* loss, const ParallelFor& pf);
Status Evaluate(ModelRef model, WorkRef work, size_t rows, double* loss_sum, size_t* correct,
                const ParallelFor& pf);
Status Infer(ModelRef model, InferRef work, size_t rows, const ParallelFor& pf);
// LeanPlan's TrainStep: forward, loss, then per layer from the top the input gradient
// (with the old weights) and the weight gradient row by row, each handed to `sink`.
Status LeanTrainStep(ModelRef model, WorkRef work, size_t rows, float* loss, const ParallelFor& pf,
                     const GradClip& clip, const GradientSink& sink);
Status Predict(InferRef work, size_t rows, uint16_t* labels);
Status Probabilities(InferRef work, size_t rows, float* out);
// No infinity or NaN among n floats; split over pf's workers when it is worth it.
bool ParamsFinite(const float* params, size_t n, const ParallelFor& pf = {});

template <class S, class A, class L, class F>
ModelRef Ref(Model<S, A, L, F>& net) {
  using Net = Model<S, A, L, F>;
  if constexpr (Net::kFrozenLayers > 0) return {&Net::kLayout, net.params(), net.frozen_params()};
  else return {&Net::kLayout, net.params(), nullptr};
}
template <class Net, size_t kMaxBatch, class Plan>
WorkRef Ref(Workspace<Net, kMaxBatch, Plan>& ws) {
  using W = Workspace<Net, kMaxBatch, Plan>;
  WorkRef r{&W::kLayout, nullptr, ws.scratch(), ws.row_loss(), nullptr, nullptr, ws.input_rows()};
  if constexpr (!W::kLean) r.grads = ws.grads();
  if constexpr (std::is_same<typename Net::Label, uint8_t>::value) r.labels8 = ws.labels();
  else r.labels16 = ws.labels();
  if (!W::kClassTargets) r.labels8 = nullptr, r.labels16 = nullptr;
  return r;
}
template <class Net, size_t kMaxBatch>
InferRef Ref(InferenceWorkspace<Net, kMaxBatch>& ws) {
  using W = InferenceWorkspace<Net, kMaxBatch>;
  return {&Net::kLayout, ws.scratch(), W::kStride, W::kWidest, kMaxBatch};
}
}  // namespace internal

template <class Net, size_t kMaxBatch, class Plan>
template <class T>
Status Workspace<Net, kMaxBatch, Plan>::LoadTargets(const T* targets, const uint32_t* order, size_t rows) {
  if constexpr (kClassTargets) {
    static_assert(std::is_integral<T>::value, "class losses (nll, cross-entropy) take integer labels");
    for (size_t r = 0; r < rows; ++r) {
      const T label = targets[order ? order[r] : r];
      if (static_cast<int64_t>(label) < 0 || static_cast<uint64_t>(label) > Label(~Label(0)))
        return Status::kInvalidArgument;
      labels_[r] = static_cast<Label>(label);  // a label >= kOutputs is refused by the loss
    }
    return Status::kOk;
  } else {
    static_assert(std::is_same<T, float>::value, "element losses take Net::kOutputs float targets per row");
    return internal::LoadFloatTargets(internal::Ref(*this), targets, order, rows);
  }
}

template <class Net, size_t kMaxBatch, class Plan>
template <class T>
Status Workspace<Net, kMaxBatch, Plan>::Load(const internal::InputRows& in, const T* targets, size_t rows,
                                             const ParallelFor& pf) {
  if (rows == 0 || rows > kMaxBatch) return Status::kCapacityExceeded;
  if constexpr (kLean) {
    this->input_rows_ = in;  // read where they are, during the step
  } else if (Status s = internal::LoadFeatures(kLayout, scratch_ + kLayout.act[0], Padded(Net::kInputs), 1, kMaxBatch,
                                               in.bytes, in.floats, in.order, rows, in.shift, in.scale, pf);
             s != Status::kOk) {
    return s;
  }
  return LoadTargets(targets, in.order, rows);
}

template <class Net, size_t kMaxBatch, class Plan>
template <class T>
Status Workspace<Net, kMaxBatch, Plan>::LoadImages(const uint8_t* pixels, const T* targets, const uint32_t* order,
                                                   size_t rows, const ParallelFor& pf) {
  return Load(internal::InputRows{pixels, nullptr, order, nullptr, nullptr}, targets, rows, pf);
}

template <class Net, size_t kMaxBatch, class Plan>
template <class T>
Status Workspace<Net, kMaxBatch, Plan>::LoadRows(const float* features, const T* targets, const uint32_t* order,
                                                 size_t rows, const float* shift, const float* scale,
                                                 const ParallelFor& pf) {
  return Load(internal::InputRows{nullptr, features, order, shift, scale}, targets, rows, pf);
}

template <class Net, size_t kMaxBatch>
Status InferenceWorkspace<Net, kMaxBatch>::LoadImages(const uint8_t* pixels, const uint32_t* order, size_t rows,
                                                      const ParallelFor& pf) {
  return internal::LoadFeatures(Net::kLayout, scratch_, 1, kStride, kMaxBatch, pixels, nullptr, order, rows, nullptr,
                                nullptr, pf);
}

template <class Net, size_t kMaxBatch>
Status InferenceWorkspace<Net, kMaxBatch>::LoadRows(const float* features, const uint32_t* order, size_t rows,
                                                    const float* shift, const float* scale, const ParallelFor& pf) {
  return internal::LoadFeatures(Net::kLayout, scratch_, 1, kStride, kMaxBatch, nullptr, features, order, rows, shift,
                                scale, pf);
}

// torch.nn.Linear's default initialisation: weights and biases uniform in
// [-1/sqrt(fan_in), 1/sqrt(fan_in)), from our own PRNG stream (seed, init).
// Frozen layers are skipped (the stream still passes them, so the trained
// layers get the values a model without frozen layers would).
template <class Net>
void Init(Net& net, uint64_t seed) { internal::Init(internal::Ref(net), seed); }

// Outputs of the rows loaded into the workspace. Every entry point takes an
// optional ParallelFor (descent/parallel.h); results do not depend on it.
template <class Net, class Ws>
Status Forward(Net& net, Ws& ws, size_t rows, const ParallelFor& pf = {}) {
  if constexpr (std::is_same<decltype(internal::Ref(ws)), internal::InferRef>::value)
    return internal::Infer(internal::Ref(net), internal::Ref(ws), rows, pf);
  else
    return internal::Forward(internal::Ref(net), internal::Ref(ws), rows, pf);
}

// Forward and backward over `rows` loaded rows: *loss is the mean loss and
// ws.grads() its gradient w.r.t. the trained parameters (overwritten, like torch
// after zero_grad). kNonFinite if the loss is NaN or infinite, kInvalidArgument
// for a label outside [0, classes) or a BCE target outside [0, 1],
// kCapacityExceeded for rows outside [1, kMaxBatch].
template <class Net, class Ws>
Status ForwardBackward(Net& net, Ws& ws, size_t rows, float* loss, const ParallelFor& pf = {}) {
  static_assert(!Ws::kLean, "a LeanPlan workspace keeps no gradient: train it with TrainStep");
  return internal::ForwardBackward(internal::Ref(net), internal::Ref(ws), rows, loss, pf);
}

// Adds the rows' summed losses (each the mean over its outputs) to *loss_sum
// and the rows predicted right to *correct: the argmax for class losses, every
// output's sign for BCE (sigmoid > 0.5 against target >= 0.5); none for
// regression losses.
template <class Net, class Ws>
Status Evaluate(Net& net, Ws& ws, size_t rows, double* loss_sum, size_t* correct,
                const ParallelFor& pf = {}) {
  return internal::Evaluate(internal::Ref(net), internal::Ref(ws), rows, loss_sum, correct, pf);
}

// After Forward on an inference workspace: each row's predicted class (class
// losses: the first largest logit) into labels[r]. kInvalidArgument for other losses.
template <class Net, size_t kMaxBatch>
Status Predict(InferenceWorkspace<Net, kMaxBatch>& ws, size_t rows, uint16_t* labels) {
  return internal::Predict(internal::Ref(ws), rows, labels);
}
// After Forward on an inference workspace: out[r * kOutputs + o] is softmax for the
// class losses, sigmoid for BCE and the output itself for regression losses.
template <class Net, size_t kMaxBatch>
Status Probabilities(InferenceWorkspace<Net, kMaxBatch>& ws, size_t rows, float* out) {
  return internal::Probabilities(internal::Ref(ws), rows, out);
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
  static_assert(Opt::kNumParams == Net::kNumTrainable, "optimizer sized for another model (its trained parameters)");
  if constexpr (Ws::kLean) {  // each gradient row updates its weights as soon as it exists
    using Rule = std::remove_reference_t<decltype(opt.hyperparameters())>;
    float* slots[Opt::kSlots + 1];
    for (size_t k = 0; k < Opt::kSlots; ++k) slots[k] = opt.slot(k);
    internal::FusedStep<Rule> step{&opt.hyperparameters(), &opt.clock(), net.params(), slots, Net::kNumTrainable};
    if (Status s = internal::LeanTrainStep(internal::Ref(net), internal::Ref(ws), rows, loss, pf, clip, step.Sink());
        s != Status::kOk)
      return s;
  } else {
    if (Status s = ForwardBackward(net, ws, rows, loss, pf); s != Status::kOk) return s;
    if (clip.max_norm > 0.0 || clip.clip_value > 0.0) internal::Clip(ws.grads(), Net::kLayout, clip);
    bool finite = false;  // checked range by range by the core that just updated it
    if (Status s = opt.step(net.params(), ws.grads(), pf, &finite); s != Status::kOk) return s;
    return finite ? Status::kOk : Status::kNonFinite;
  }
  return internal::ParamsFinite(net.params(), Net::kNumTrainable) ? Status::kOk : Status::kNonFinite;
}

}  // namespace descent

#endif  // DESCENT_MLP_H_
