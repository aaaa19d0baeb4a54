// A model: an ordered list of layers (torch's nn.Sequential) with a loss on its
// outputs, and its trained parameters in one flat aligned block in state_dict
// order, so an optimizer step is one pass.
//
//   // torch: nn.Sequential(nn.Flatten(), nn.Linear(784, 100), nn.Tanh(), nn.Linear(100, 10))
//   using Net = descent::Sequential<descent::Input<1, 28, 28>, descent::Flatten, descent::Linear<100>,
//                                   descent::Tanh, descent::Linear<10>, descent::CrossEntropy>;
//   // The notebook's MLP: ReLU between Linear layers, log-softmax + NLL (SimpleNet's names).
//   using Mlp = descent::Mlp<784, 100, 100, 10>;
//   using Reg = descent::Model<descent::Sizes<10, 16, 1>, descent::Tanh, descent::Mse>;
//
// Layers: Linear<out, bias = true> (torch.nn.Linear, weight [out, in]), Freeze<Linear<...>>
// (requires_grad_(False): leading layers only), Conv2d / Conv1d<out_channels, kernel,
// stride, padding, dilation, groups, bias>, MaxPool2d / MaxPool1d<kernel, stride, padding>,
// AvgPool2d / AvgPool1d<kernel, stride, padding, count_include_pad>, AdaptiveAvgPool2d /
// AdaptiveAvgPool1d<1>, BatchNorm2d / BatchNorm1d, Dropout<percent>, Flatten, and the
// activations of descent/layers.h (Relu, Tanh, ..., Identity), each right after a layer. The
// loss, if any, ends the list (default Nll). Input<C>, Input<C, L> or Input<C, H, W> starts it.
// (Convolutions, pooling, batch norm and dropout run on FastPlan workspaces, for now.)
// Parameters are named as nn.Sequential names them (`1.weight`, `3.bias`); Model<Sizes<...>>
// keeps the notebook's SimpleNet names (`linears.0.weight`).
#ifndef DESCENT_MODEL_H_
#define DESCENT_MODEL_H_

#include <stddef.h>
#include <stdint.h>

#include <type_traits>

#include "descent/config.h"
#include "descent/layers.h"
#include "descent/layout.h"

namespace descent {

namespace internal {
// Where a model with frozen layers reads them; nothing at all without.
template <bool kHasFrozen>
struct FrozenBlock {
  const float* frozen_ = nullptr;
};
template <>
struct FrozenBlock<false> {};
// Batch norm's running statistics and batch counts; nothing at all without batch norm.
template <size_t kRunning, size_t kTracked>
struct RunningBlock {
  float running_[kRunning] = {};
  int64_t tracked_[kTracked] = {};
  float* running() { return running_; }
  int64_t* tracked() { return tracked_; }
};
template <>
struct RunningBlock<0, 0> {
  float* running() { return nullptr; }
  int64_t* tracked() { return nullptr; }
};
}  // namespace internal

// Every model type: Desc::kLayout says what it is (descent/layout.h); this holds its
// trained parameters.
template <class Desc>
class Network : public internal::FrozenBlock<(Desc::kLayout.frozen > 0)>,
                public internal::RunningBlock<Desc::kLayout.num_running, Desc::kLayout.num_tracked> {
 public:
  static constexpr Layout kLayout = Desc::kLayout;
  static constexpr size_t kNumLayers = kLayout.num_layers;
  static constexpr size_t kFrozenLayers = kLayout.frozen;
  static constexpr size_t kNumParams = kLayout.num_params;        // every weight and bias
  static constexpr size_t kNumTrainable = kLayout.num_trainable;  // what params() holds
  static constexpr size_t kNumFrozen = kNumParams - kNumTrainable;
  static constexpr size_t kInputs = kLayout.sizes[0];
  static constexpr size_t kOutputs = kLayout.sizes[kNumLayers];
  static constexpr size_t kClasses = kOutputs;
  static constexpr LossSpec kLoss = kLayout.loss;
  static constexpr const size_t* sizes() { return kLayout.sizes; }
  // A class loss's label type: a byte up to 256 classes.
  using Label = std::conditional_t<(kOutputs <= 256), uint8_t, uint16_t>;

  // The trained parameters (all of them without frozen layers), state_dict order.
  float* params() { return params_; }
  const float* params() const { return params_; }
  // The frozen layers' weights and biases, kNumFrozen floats in state_dict order,
  // owned by the caller (e.g. a const array in flash); set before any use.
  template <size_t k = kFrozenLayers, class = std::enable_if_t<(k > 0)>>
  void set_frozen_params(const float* block) { this->frozen_ = block; }
  template <size_t k = kFrozenLayers, class = std::enable_if_t<(k > 0)>>
  const float* frozen_params() const { return this->frozen_; }

  // Linear layer l's weight, [out, in] row-major, and bias [out] (nullptr without one);
  // frozen layers: const only.
  const float* weight(size_t l) const { return At(kLayout.layers[l].weight); }
  const float* bias(size_t l) const { return kLayout.layers[l].has_bias ? At(kLayout.layers[l].bias) : nullptr; }
  float* weight(size_t l) { return l < kFrozenLayers ? nullptr : params_ + kLayout.layers[l].weight - kLayout.trainable_begin; }
  float* bias(size_t l) {
    return l < kFrozenLayers || !kLayout.layers[l].has_bias ? nullptr
                                                            : params_ + kLayout.layers[l].bias - kLayout.trainable_begin;
  }

 private:
  const float* At(size_t offset) const {
    if constexpr (kFrozenLayers > 0)
      if (offset < kLayout.trainable_begin) return this->frozen_ ? this->frozen_ + offset : nullptr;
    return params_ + offset - kLayout.trainable_begin;
  }
  alignas(kAlign) float params_[kNumTrainable > 0 ? kNumTrainable : 1] = {};
};

// ---- The notebook's kind of model: sizes, one hidden activation, a loss ----

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
template <class S, class Act, class Loss, size_t kFrozen>
struct MlpDesc {
  static constexpr Layout kLayout =
      Layout::Of(S::kValues, sizeof(S::kValues) / sizeof(size_t), 0, Act::kSpec, Loss::kSpec, kFrozen);
};
}  // namespace internal

template <class S, class Act = Relu, class Loss = Nll, class Freeze = Frozen<0>>
class Model;

// Linear layers of the given sizes, Act after every one but the last, Loss on the outputs.
template <size_t... kSizes, class Act, class Loss, size_t kFrozen>
class Model<Sizes<kSizes...>, Act, Loss, Frozen<kFrozen>>
    : public Network<internal::MlpDesc<Sizes<kSizes...>, Act, Loss, kFrozen>> {
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
  static_assert(!HasClassTargets(Loss::kSpec.kind) || kSizeList[kCount - 1] <= kMaxWidth,
                "labels are 16-bit: at most 65536 classes");
  static_assert(kFrozen < kCount - 1, "at least the last layer must be trained");
  static constexpr ActivationSpec kActivation = Act::kSpec;
};

// The notebook's model: ReLU hidden layers, log-softmax + NLL.
template <size_t... kSizes>
using Mlp = Model<Sizes<kSizes...>>;

// ---- Layer lists: torch's nn.Sequential ----

// The input's shape without the batch: features C, or C,L (Conv1d's), or C,H,W (images).
template <size_t... kDims>
struct Input {
  static constexpr size_t kShape[] = {kDims...};
  static constexpr size_t kDimCount = sizeof...(kDims);
};
// torch.nn.Linear(in, kOut, bias=kBias); `in` is the previous layer's width.
template <size_t kOut, bool kBias = true>
struct Linear {
  static constexpr size_t kOutFeatures = kOut;
  static constexpr bool kHasBias = kBias;
  static constexpr bool kFrozen = false;
};
// A Linear with requires_grad_(False), its weights in a caller's const block
// (set_frozen_params); only a leading run of Linear layers can be frozen.
template <class L>
struct Freeze : L {
  static constexpr bool kFrozen = true;
};
// torch.nn.Flatten: [C, H, W] to [C * H * W], values in the same order.
struct Flatten {};
// torch.nn.Conv2d(in, kOut, kKernel, stride, padding, dilation, groups, bias) and Conv1d.
template <size_t kOut, size_t kKernel, size_t kStride = 1, size_t kPadding = 0, size_t kDilation = 1,
          size_t kGroups = 1, bool kBias = true>
struct Conv2d {
  static constexpr LayoutError AddTo(LayoutBuilder& b) {
    return b.Conv(kOut, SquareWindow(kKernel, kStride, kPadding, kDilation, false), kGroups, kBias, false);
  }
};
template <size_t kOut, size_t kKernel, size_t kStride = 1, size_t kPadding = 0, size_t kDilation = 1,
          size_t kGroups = 1, bool kBias = true>
struct Conv1d {
  static constexpr LayoutError AddTo(LayoutBuilder& b) {
    return b.Conv(kOut, SquareWindow(kKernel, kStride, kPadding, kDilation, true), kGroups, kBias, true);
  }
};
// torch.nn.MaxPool2d / MaxPool1d(kernel, stride = kernel, padding).
template <size_t kKernel, size_t kStride = kKernel, size_t kPadding = 0>
struct MaxPool2d {
  static constexpr LayoutError AddTo(LayoutBuilder& b) {
    return b.Pool(PoolKind::kMax, SquareWindow(kKernel, kStride, kPadding, 1, false), true, false);
  }
};
template <size_t kKernel, size_t kStride = kKernel, size_t kPadding = 0>
struct MaxPool1d {
  static constexpr LayoutError AddTo(LayoutBuilder& b) {
    return b.Pool(PoolKind::kMax, SquareWindow(kKernel, kStride, kPadding, 1, true), true, true);
  }
};
// torch.nn.AvgPool2d / AvgPool1d(kernel, stride = kernel, padding, count_include_pad).
template <size_t kKernel, size_t kStride = kKernel, size_t kPadding = 0, bool kCountIncludePad = true>
struct AvgPool2d {
  static constexpr LayoutError AddTo(LayoutBuilder& b) {
    return b.Pool(PoolKind::kAvg, SquareWindow(kKernel, kStride, kPadding, 1, false), kCountIncludePad, false);
  }
};
template <size_t kKernel, size_t kStride = kKernel, size_t kPadding = 0, bool kCountIncludePad = true>
struct AvgPool1d {
  static constexpr LayoutError AddTo(LayoutBuilder& b) {
    return b.Pool(PoolKind::kAvg, SquareWindow(kKernel, kStride, kPadding, 1, true), kCountIncludePad, true);
  }
};
// torch.nn.AdaptiveAvgPool2d(1) / AdaptiveAvgPool1d(1): the mean of each channel.
template <size_t kOutputSize>
struct AdaptiveAvgPool2d {
  static_assert(kOutputSize == 1, "AdaptiveAvgPool2d<1> only (global average pooling)");
  static constexpr LayoutError AddTo(LayoutBuilder& b) { return b.GlobalAvgPool(false); }
};
template <size_t kOutputSize>
struct AdaptiveAvgPool1d {
  static_assert(kOutputSize == 1, "AdaptiveAvgPool1d<1> only (global average pooling)");
  static constexpr LayoutError AddTo(LayoutBuilder& b) { return b.GlobalAvgPool(true); }
};
// torch.nn.BatchNorm2d / BatchNorm1d(C) with torch's defaults (eps 1e-5, momentum 0.1, affine).
struct BatchNorm2d {
  static constexpr LayoutError AddTo(LayoutBuilder& b) { return b.BatchNorm(false); }
};
struct BatchNorm1d {
  static constexpr LayoutError AddTo(LayoutBuilder& b) { return b.BatchNorm(true); }
};
// torch.nn.Dropout(p = kPercent / 100).
template <size_t kPercent>
struct Dropout {
  static constexpr LayoutError AddTo(LayoutBuilder& b) { return b.Dropout(static_cast<float>(kPercent) / 100.0f); }
};

namespace internal {
template <class T, class = void>
struct IsLinear : std::false_type {};
template <class T>
struct IsLinear<T, std::void_t<decltype(T::kOutFeatures)>> : std::true_type {};
template <class T, class Spec, class = void>
struct HasSpec : std::false_type {};
template <class T, class Spec>
struct HasSpec<T, Spec, std::void_t<decltype(T::kSpec)>>
    : std::is_same<std::remove_cv_t<decltype(T::kSpec)>, Spec> {};
template <class T>
struct NotALayer : std::false_type {};
template <class T, class = void>
struct HasAddTo : std::false_type {};
template <class T>
struct HasAddTo<T, std::void_t<decltype(T::AddTo)>> : std::true_type {};

template <class T>
constexpr LayoutError AddLayer(LayoutBuilder& b) {
  if constexpr (IsLinear<T>::value) {
    return b.Linear(T::kOutFeatures, T::kHasBias, T::kFrozen);
  } else if constexpr (std::is_same<T, Flatten>::value) {
    return b.Flatten();
  } else if constexpr (HasAddTo<T>::value) {
    return T::AddTo(b);
  } else if constexpr (HasSpec<T, ActivationSpec>::value) {
    return b.Activation(T::kSpec);
  } else if constexpr (HasSpec<T, LossSpec>::value) {
    return LayoutError::kNone;  // the loss: Finish takes it
  } else {
    static_assert(NotALayer<T>::value, "not a layer: Linear, Freeze<Linear>, Conv2d, a pooling, BatchNorm2d, Dropout, Flatten, an activation or a loss");
    return LayoutError::kNone;
  }
}

// The loss ending a layer list, or Nll.
template <class... L>
struct LossOf {
  static constexpr LossSpec kSpec{};
};
template <class First, class... Rest>
struct LossOf<First, Rest...> {
  static constexpr LossSpec kSpec = [] {
    if constexpr (sizeof...(Rest) == 0 && HasSpec<First, LossSpec>::value) return First::kSpec;
    else return LossOf<Rest...>::kSpec;
  }();
};

template <size_t kIndex, class... L>
struct TypeAt;
template <class First, class... Rest>
struct TypeAt<0, First, Rest...> {
  using type = First;
};
template <size_t kIndex, class First, class... Rest>
struct TypeAt<kIndex, First, Rest...> : TypeAt<kIndex - 1, Rest...> {};

template <class In, class... L>
struct SequentialDesc {
  struct Built {
    Layout layout;
    LayoutError error;
    size_t position;  // of the layer that failed (sizeof...(L): the model as a whole)
  };
  static constexpr Built kBuilt = [] {
    LayoutBuilder b(In::kShape, In::kDimCount, true);
    LayoutError e = LayoutError::kNone;
    size_t position = 0;
    ((e == LayoutError::kNone ? (e = AddLayer<L>(b), position += e == LayoutError::kNone) : 0), ...);
    if (e == LayoutError::kNone) e = b.Finish(LossOf<L...>::kSpec);
    return Built{b.layout(), e, position};
  }();
  static constexpr Layout kLayout = kBuilt.layout;
};

// A layer that cannot be where it is: the compiler names it and its position (0-based,
// the Input not counted) in the instantiation of this check.
template <size_t kPosition, class Layer, LayoutError kError>
struct CheckLayer {
  static_assert(kError != LayoutError::kTooManyLayers, "too many layers (kMaxLayers)");
  static_assert(kError != LayoutError::kBadWidth, "a Linear's out_features must be in [1, 65536]");
  static_assert(kError != LayoutError::kMultiDimensional,
                "a Linear on a multi-dimensional input acts on its last dimension in torch: put Flatten before it");
  static_assert(kError != LayoutError::kActivationPlace,
                "an activation must follow a Linear, convolution or pooling layer (at most one after each)");
  static_assert(kError != LayoutError::kFrozenAfterTrained, "only leading Linear layers can be frozen");
  static_assert(kError != LayoutError::kBadActivation, "invalid activation parameters");
  static_assert(kError != LayoutError::kNoLinear, "a model needs at least one layer with parameters");
  static_assert(kError != LayoutError::kAllFrozen, "at least the last Linear layer must be trained");
  static_assert(kError != LayoutError::kBadInput, "the input shape must have 1 to 3 dimensions, each in [1, 65536]");
  static_assert(kError != LayoutError::kBadLoss, "invalid loss parameters");
  static_assert(kError != LayoutError::kTooFewOutputs,
                "log-softmax + NLL / cross-entropy needs at least two outputs (one output: Mse, L1, Huber or "
                "BceWithLogits)");
  static_assert(kError != LayoutError::kTooManyClasses, "labels are 16-bit: at most 65536 classes");
  static_assert(kError != LayoutError::kWrongDims,
                "a 2-d convolution or pooling needs a [C, H, W] input, a 1-d one a [C, L] input");
  static_assert(kError != LayoutError::kBadChannels,
                "out_channels must be in [1, 65536], and in_channels and out_channels divisible by groups");
  static_assert(kError != LayoutError::kBadWindow,
                "kernel size, stride and dilation must be at least 1 and padding at most half the kernel (pooling)");
  static_assert(kError != LayoutError::kWindowTooLarge,
                "the kernel does not fit in the padded input (an output size below 1)");
  static_assert(kError != LayoutError::kBadNorm, "BatchNorm2d needs a [C, H, W] input, BatchNorm1d a [C] or [C, L] one");
  static_assert(kError != LayoutError::kBadDropout, "dropout's p must be in [0, 1)");
  static_assert(kError != LayoutError::kTooLarge,
                "too large: a layer's output may have at most 2^26 values, a convolution at most 2^24 taps per output, "
                "a window's sizes and padding at most 65536");
  static constexpr bool kOk = true;
};
template <class Desc, class... L>
constexpr bool CheckSequential() {
  constexpr auto& built = Desc::kBuilt;
  if constexpr (built.error == LayoutError::kNone) {
    return true;
  } else if constexpr (built.position < sizeof...(L)) {
    return CheckLayer<built.position, typename TypeAt<built.position, L...>::type, built.error>::kOk;
  } else {
    return CheckLayer<built.position, void, built.error>::kOk;
  }
}
}  // namespace internal

// torch.nn.Sequential of the given layers after Input<...>, with the loss that ends the list.
template <class In, class... Layers>
class Sequential : public Network<internal::SequentialDesc<In, Layers...>> {
  static constexpr bool kChecked = internal::CheckSequential<internal::SequentialDesc<In, Layers...>, Layers...>();
  static_assert(kChecked, "");
};

}  // namespace descent

#endif  // DESCENT_MODEL_H_
