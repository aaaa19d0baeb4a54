// Training and inference of any model (descent/model.h) on a workspace
// (descent/workspace.h): initialization, forward, backward, evaluation,
// predictions and one training step with clipping and an optimizer.
//
//   static Net net;
//   static descent::Workspace<Net, 256> ws;
//   descent::Init(net, seed);
//   ws.LoadImages(pixels, labels, order, rows);
//   float loss; descent::TrainStep(net, ws, opt, rows, &loss);
#ifndef DESCENT_TRAIN_H_
#define DESCENT_TRAIN_H_

#include <stddef.h>
#include <stdint.h>

#include <type_traits>

#include "descent/model.h"
#include "descent/optim/rule.h"
#include "descent/parallel.h"
#include "descent/status.h"
#include "descent/workspace.h"

namespace descent {

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
// losses: the first largest logit) into labels[r], as Net::Label (a byte up to 256
// classes) or uint16_t. kInvalidArgument for other losses.
template <class Net, size_t kMaxBatch, class T>
Status Predict(InferenceWorkspace<Net, kMaxBatch>& ws, size_t rows, T* labels) {
  static_assert(std::is_same<T, uint8_t>::value || std::is_same<T, uint16_t>::value,
                "labels are uint8_t (Net::Label up to 256 classes) or uint16_t");
  static_assert(Net::kClasses - 1 <= T(~T(0)), "this label type cannot hold every class: use uint16_t");
  if constexpr (std::is_same<T, uint8_t>::value) return internal::Predict(internal::Ref(ws), rows, labels, nullptr);
  else return internal::Predict(internal::Ref(ws), rows, nullptr, labels);
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

namespace internal {
// TrainStep on size-erased views: the one training step of the project (the CLI's
// run-time models take it too). Opt: step(params, grads, pf, &finite), hyperparameters(),
// clock(), slot(k) and kSlots, as descent::Optimizer has them. kLean: the workspace's plan.
template <bool kLean, class Opt>
Status TrainStepOn(ModelRef model, WorkRef work, Opt& opt, size_t rows, float* loss, const ParallelFor& pf,
                   const GradClip& clip) {
  const size_t n = work.layout->num_trainable;
  if constexpr (kLean) {  // each gradient row updates its weights as soon as it exists
    using Rule = std::remove_reference_t<decltype(opt.hyperparameters())>;
    if (internal::SlotsNeeded(opt.hyperparameters()) > Opt::kSlots) return Status::kInvalidArgument;
    float* slots[Rule::kSlots + 1] = {};
    for (size_t k = 0; k < Opt::kSlots; ++k) slots[k] = opt.slot(k);
    FusedStep<Rule> step{&opt.hyperparameters(), &opt.clock(), model.params, slots, n};
    if (Status s = LeanTrainStep(model, work, rows, loss, pf, clip, step.Sink()); s != Status::kOk) return s;
    return ParamsFinite(model.params, n) ? Status::kOk : Status::kNonFinite;
  } else {
    if (Status s = ForwardBackward(model, work, rows, loss, pf); s != Status::kOk) return s;
    if (clip.max_norm > 0.0 || clip.clip_value > 0.0) Clip(work.grads, *work.layout, clip);
    bool finite = false;  // checked range by range by the core that just updated it
    if (Status s = opt.step(model.params, work.grads, pf, &finite); s != Status::kOk) return s;
    return finite ? Status::kOk : Status::kNonFinite;
  }
}
}  // namespace internal

// One training step: ForwardBackward, clipping (descent/clip.h), then the
// optimizer's update (LeanPlan: fused, row by row). kNonFinite when the loss is not
// finite (the parameters are left untouched) or when the update made a parameter
// non-finite.
template <class Net, class Ws, class Opt>
Status TrainStep(Net& net, Ws& ws, Opt& opt, size_t rows, float* loss, const ParallelFor& pf = {},
                 const GradClip& clip = {}) {
  static_assert(Opt::kNumParams == Net::kNumTrainable, "optimizer sized for another model (its trained parameters)");
  return internal::TrainStepOn<Ws::kLean>(internal::Ref(net), internal::Ref(ws), opt, rows, loss, pf, clip);
}

}  // namespace descent

#endif  // DESCENT_TRAIN_H_
