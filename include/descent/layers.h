// What sits between and after a model's Linear layers, by torch's names and
// defaults: the hidden layers' activation and the loss on the last layer's
// outputs. Each is a type a Model takes as a template parameter, whose kSpec
// holds its kind and parameters as compile-time constants; another parameter
// is another such type:
//
//   struct Leaky02 { static constexpr descent::ActivationSpec kSpec{descent::ActivationKind::kLeakyRelu, 0.2f}; };
//   struct Huber05 { static constexpr descent::LossSpec kSpec{descent::LossKind::kHuber, 0.0f, 0.5f}; };
//   using Net = descent::Model<descent::Sizes<10, 16, 1>, Leaky02, Huber05>;  // descent/model.h
//
// The size-erased code reads them as an ActivationSpec / LossSpec, which the
// CLI fills at run time from its flags.
#ifndef DESCENT_LAYERS_H_
#define DESCENT_LAYERS_H_

#include <stdint.h>

namespace descent {

enum class ActivationKind : uint8_t { kRelu, kLeakyRelu, kTanh, kSigmoid, kGelu, kGeluTanh, kIdentity };

struct ActivationSpec {
  ActivationKind kind = ActivationKind::kRelu;
  float negative_slope = 0.01f;  // kLeakyRelu only
};

// torch.nn.ReLU: max(x, 0).
struct Relu {
  static constexpr ActivationSpec kSpec{ActivationKind::kRelu};
};
// torch.nn.LeakyReLU(negative_slope=0.01): x > 0 ? x : x * slope.
struct LeakyRelu {
  static constexpr ActivationSpec kSpec{ActivationKind::kLeakyRelu, 0.01f};
};
// torch.nn.Tanh.
struct Tanh {
  static constexpr ActivationSpec kSpec{ActivationKind::kTanh};
};
// torch.nn.Sigmoid: 1 / (1 + exp(-x)).
struct Sigmoid {
  static constexpr ActivationSpec kSpec{ActivationKind::kSigmoid};
};
// torch.nn.GELU(approximate='none'): x * Phi(x), Phi the normal CDF.
struct Gelu {
  static constexpr ActivationSpec kSpec{ActivationKind::kGelu};
};
// torch.nn.GELU(approximate='tanh'): x/2 * (1 + tanh(sqrt(2/pi) * (x + 0.044715 x^3))).
struct GeluTanh {
  static constexpr ActivationSpec kSpec{ActivationKind::kGeluTanh};
};
// torch.nn.Identity: a stack of Linear layers with nothing between them.
struct Identity {
  static constexpr ActivationSpec kSpec{ActivationKind::kIdentity};
};

// Whether an activation's derivative needs its input z, not just its output y
// (torch's backward reads z for GELU and LeakyReLU; with a slope >= 0, y > 0
// exactly when z > 0, so y serves). A workspace keeps z only then.
constexpr bool NeedsPreActivation(const ActivationSpec& a) {
  return a.kind == ActivationKind::kGelu || a.kind == ActivationKind::kGeluTanh ||
         (a.kind == ActivationKind::kLeakyRelu && !(a.negative_slope >= 0.0f));
}

enum class LossKind : uint8_t { kNll, kCrossEntropy, kMse, kL1, kHuber, kBceWithLogits };

// Every loss is torch's with reduction='mean': over the rows for the class
// losses (nll, cross-entropy), over rows x outputs for the others.
struct LossSpec {
  LossKind kind = LossKind::kNll;
  float label_smoothing = 0.0f;  // kCrossEntropy: targets (1 - s) one-hot + s / classes
  float delta = 1.0f;            // kHuber
  float pos_weight = 1.0f;       // kBceWithLogits: weight of the positive term, every output
};

// Class losses read one label per row; the others one float target per output.
constexpr bool HasClassTargets(LossKind k) { return k == LossKind::kNll || k == LossKind::kCrossEntropy; }
// The least number of outputs a loss makes sense with: a softmax over one
// class is 1 whatever the logit, so its NLL is 0 and nothing would be learnt.
constexpr unsigned MinOutputs(LossKind k) { return HasClassTargets(k) ? 2 : 1; }

// Why a spec is unusable, or nullptr (NaN fails every comparison, so it is refused too).
constexpr const char* InvalidReason(const ActivationSpec& a) {
  return a.kind == ActivationKind::kLeakyRelu && !(a.negative_slope > -1e30f && a.negative_slope < 1e30f)
             ? "negative_slope must be finite"
             : nullptr;
}
constexpr const char* InvalidReason(const LossSpec& l) {
  return !(l.label_smoothing >= 0.0f && l.label_smoothing <= 1.0f) ? "label_smoothing must be in [0, 1]"
         : !(l.delta > 0.0f && l.delta < 1e30f)                    ? "delta must be positive and finite"
         : !(l.pos_weight >= 0.0f && l.pos_weight < 1e30f)         ? "pos_weight must be >= 0 and finite"
                                                                    : nullptr;
}

// The notebook's: log-softmax then NLL (torch.nn.LogSoftmax + nn.NLLLoss).
struct Nll {
  static constexpr LossSpec kSpec{LossKind::kNll};
};
// torch.nn.CrossEntropyLoss(label_smoothing=0.0): the same as Nll at 0.
struct CrossEntropy {
  static constexpr LossSpec kSpec{LossKind::kCrossEntropy, 0.0f};
};
// torch.nn.MSELoss.
struct Mse {
  static constexpr LossSpec kSpec{LossKind::kMse};
};
// torch.nn.L1Loss.
struct L1 {
  static constexpr LossSpec kSpec{LossKind::kL1};
};
// torch.nn.HuberLoss(delta=1.0).
struct Huber {
  static constexpr LossSpec kSpec{LossKind::kHuber, 0.0f, 1.0f};
};
// torch.nn.BCEWithLogitsLoss(pos_weight=None): one output per independent
// binary label, targets in [0, 1].
struct BceWithLogits {
  static constexpr LossSpec kSpec{LossKind::kBceWithLogits};
};

}  // namespace descent

#endif  // DESCENT_LAYERS_H_
