// Where a model's training and inference steps keep what they touch besides the
// parameters, for up to kMaxBatch rows, as the plan lays it out (descent/layout.h).
//
//   static descent::Workspace<Net, 256> ws;        // gradients + activations for 256 rows
//   ws.LoadImages(pixels, labels, order, rows);    // uint8 images -> floats / 256
//   static descent::Workspace<Reg, 32> rws;
//   rws.LoadRows(features, targets, order, rows);  // features[i * 10 + f], targets[i * 1 + o]
//
// Rows in memory: features are `inputs` consecutive floats per sample (uint8
// for LoadImages), targets `outputs` floats per sample (element losses) or one
// integer label per sample (class losses). ws.input(r) is row r of a FastPlan batch:
// write kInputs floats there directly if you prefer; the padding after them is
// never read.
#ifndef DESCENT_WORKSPACE_H_
#define DESCENT_WORKSPACE_H_

#include <stddef.h>
#include <stdint.h>

#include <type_traits>

#include "descent/config.h"
#include "descent/layout.h"
#include "descent/model.h"
#include "descent/parallel.h"
#include "descent/status.h"

namespace descent {

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
  const uint8_t* bytes = nullptr;  // LoadImages: scaled by 1/256 as they are read (or shifted and scaled)
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
// Dropout's masks: from a seed and the training step (ForwardBackward counts the steps);
// nothing at all without dropout.
template <bool kHasDropout>
struct NoiseBlock {
  void set_noise(uint64_t seed, uint64_t step) { noise_[0] = seed, noise_[1] = step; }
  uint64_t* noise() { return noise_; }
  uint64_t noise_[2] = {};
};
template <>
struct NoiseBlock<false> {
  uint64_t* noise() { return nullptr; }
};
}  // namespace internal

// Everything one training or evaluation step touches besides the parameters,
// for up to kMaxBatch rows: gradients (the trained parameters' layout), the
// input batch, targets, activations and scratch, as the Plan lays them out.
template <class Net, size_t kMaxBatch, class Plan = DefaultPlan>
class Workspace : public internal::PlanBlock<Plan::kLean, Net::kNumTrainable>,
                  public internal::NoiseBlock<Net::kLayout.has_dropout()> {
 public:
  static_assert(kMaxBatch > 0, "the workspace needs room for at least one row");
  static_assert(!Plan::kLean || Net::kLayout.all_linear() || Net::kLayout.streamable(),
                "LeanPlan trains Linear layers, convolutions and pooling (not batch norm, dropout or frozen layers "
                "with them, nor pooling first)");
  static constexpr bool kLean = Plan::kLean;
  static constexpr Layout kLayout = Net::kLayout.Planned(kMaxBatch, kLean);
  static constexpr size_t kMaxRows = kMaxBatch;
  static constexpr bool kClassTargets = HasClassTargets(Net::kLoss.kind);
  using Label = typename Net::Label;

  // The gradient of the last ForwardBackward (FastPlan only).
  template <bool kHas = !kLean, class = std::enable_if_t<kHas>>
  float* grads() { return this->grads_; }
  template <bool kHas = !kLean, class = std::enable_if_t<kHas>>
  const float* grads() const { return this->grads_; }
  const internal::InputRows& input_rows() const { return this->input_rows_; }
  // The plan's buffers; slot(kLayout.act[i]) is layer i's input, and so on (descent/layout.h).
  unsigned char* scratch() { return reinterpret_cast<unsigned char*>(scratch_); }
  float* slot(const Slot& s) { return reinterpret_cast<float*>(scratch() + s.offset); }
  const float* slot(const Slot& s) const { return reinterpret_cast<const float*>(reinterpret_cast<const unsigned char*>(scratch_) + s.offset); }
  // Class losses: the batch's labels.
  Label* labels() { return labels_; }
  // Element losses: row r's Net::kOutputs targets.
  float* targets(size_t r) { return slot(kLayout.targets) + r * Net::kOutputs; }
  // Row r of the input batch (Net::kInputs floats; write it directly or use LoadImages / LoadRows).
  // FastPlan only: a LeanPlan workspace reads the rows where LoadImages / LoadRows found them.
  template <bool kHas = !kLean, class = std::enable_if_t<kHas>>
  float* input(size_t r) { return slot(kLayout.act[0]) + r * Padded(Net::kInputs); }
  // Row r of the last layer's outputs (logits) after Forward / ForwardBackward.
  const float* logits(size_t r) const {
    return slot(kLayout.act[Net::kNumLayers]) + r * Padded(Net::kOutputs);
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

  alignas(kAlign) float scratch_[kLayout.workspace_bytes / sizeof(float)] = {};  // float32 slots only, for now
  float row_loss_[kMaxBatch] = {};
  Label labels_[kClassTargets ? kMaxBatch : 1] = {};
};

// Where an inference workspace keeps each layer's input, transposed ([features, rows],
// rows padded to `stride`): the model's input first, then the layers' outputs in two
// buffers of the widest layer, in turn.
struct InferencePlan {
  size_t stride = 0;  // rows, padded
  size_t widest = 0;
  Slot act[kMaxLayers + 1] = {};  // act[i]: layer i's input; act[num_layers]: the outputs
  size_t floats = 0;
  static constexpr InferencePlan Of(const Layout& l, size_t max_batch) {
    InferencePlan p;
    p.stride = Padded(max_batch);
    for (size_t i = 1; i <= l.num_layers; ++i) p.widest = l.sizes[i] > p.widest ? l.sizes[i] : p.widest;
    for (size_t i = 1; i <= l.num_layers; ++i)
      p.act[i] = Slot{(l.sizes[0] + ((i - 1) % 2) * p.widest) * p.stride * sizeof(float), Dtype::kFloat32};
    p.floats = (l.sizes[0] + 2 * p.widest) * p.stride;
    return p;
  }
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
  static_assert(Net::kLayout.all_linear(), "InferenceWorkspace runs Linear layers only, for now: use a FastPlan Workspace's Forward");
  static constexpr InferencePlan kPlan = InferencePlan::Of(Net::kLayout, kMaxBatch);
  static constexpr size_t kStride = kPlan.stride;
  static constexpr size_t kWidest = kPlan.widest;
  static constexpr size_t kFloats = kPlan.floats;
  static constexpr size_t kMaxRows = kMaxBatch;

  float* scratch() { return scratch_; }
  // Input feature f of row r.
  float& input(size_t r, size_t f) { return scratch_[f * kStride + r]; }
  // Output o of row r after Forward (a logit, for the class and BCE losses).
  float output(size_t r, size_t o) const { return scratch_[OutputOffset() + o * kStride + r]; }
  static constexpr size_t OutputOffset() { return kPlan.act[Net::kNumLayers].offset / sizeof(float); }

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
  float* running = nullptr;    // batch norm's running statistics (layout->num_running)
  int64_t* tracked = nullptr;  // ...and num_batches_tracked (layout->num_tracked)
  const float* at(size_t offset) const {
    return offset < layout->trainable_begin ? frozen + offset : params + (offset - layout->trainable_begin);
  }
};
struct WorkRef {
  const Layout* layout;
  float* grads;  // the trained parameters' gradients (FastPlan)
  unsigned char* scratch;  // the plan's slots
  float* F(const Slot& s) const { return reinterpret_cast<float*>(scratch + s.offset); }
  float* row_loss;
  uint8_t* labels8;    // class losses up to 256 classes
  uint16_t* labels16;  // class losses above
  InputRows input;     // LeanPlan: the rows in the caller's memory
  // Dropout's masks come from (noise[0], noise[1]): a seed and the training step, counted by
  // ForwardBackward (the caller may set both: a resumed run continues its masks).
  uint64_t* noise = nullptr;
  bool training = false;  // batch norm's batch statistics and dropout (ForwardBackward), or evaluation
};
struct InferRef {
  const Layout* layout;  // the model's
  const InferencePlan* plan;
  float* scratch;  // floats; plan->act[i].offset in bytes
  float* F(const Slot& s) const { return reinterpret_cast<float*>(reinterpret_cast<unsigned char*>(scratch) + s.offset); }
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
Status Predict(InferRef work, size_t rows, uint8_t* labels8, uint16_t* labels16);  // one of them
Status Probabilities(InferRef work, size_t rows, float* out);
// No infinity or NaN among n floats; split over pf's workers when it is worth it.
bool ParamsFinite(const float* params, size_t n, const ParallelFor& pf = {});

template <class Desc>
ModelRef Ref(Network<Desc>& net) {
  using Net = Network<Desc>;
  if constexpr (Net::kFrozenLayers > 0) return {&Net::kLayout, net.params(), net.frozen_params(), net.running(), net.tracked()};
  else return {&Net::kLayout, net.params(), nullptr, net.running(), net.tracked()};
}
template <class Net, size_t kMaxBatch, class Plan>
WorkRef Ref(Workspace<Net, kMaxBatch, Plan>& ws) {
  using W = Workspace<Net, kMaxBatch, Plan>;
  WorkRef r{&W::kLayout, nullptr, ws.scratch(), ws.row_loss(), nullptr, nullptr, ws.input_rows(), ws.noise()};
  if constexpr (!W::kLean) r.grads = ws.grads();
  if constexpr (std::is_same<typename Net::Label, uint8_t>::value) r.labels8 = ws.labels();
  else r.labels16 = ws.labels();
  if (!W::kClassTargets) r.labels8 = nullptr, r.labels16 = nullptr;
  return r;
}
template <class Net, size_t kMaxBatch>
InferRef Ref(InferenceWorkspace<Net, kMaxBatch>& ws) {
  using W = InferenceWorkspace<Net, kMaxBatch>;
  return {&Net::kLayout, &W::kPlan, ws.scratch(), kMaxBatch};
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
  } else if (Status s = internal::LoadFeatures(kLayout, slot(kLayout.act[0]), Padded(Net::kInputs), 1, kMaxBatch,
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

}  // namespace descent

#endif  // DESCENT_WORKSPACE_H_
