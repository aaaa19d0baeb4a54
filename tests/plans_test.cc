// LeanPlan against FastPlan: the same bits for every optimizer (with and without
// weight decay), clipping, frozen layers, activations, losses and both kinds of
// input rows, and the memory each plan takes.
#include <string.h>

#include <vector>

#include "descent/descent.h"
#include "src/host/thread_pool.h"
#include "tests/doctest_config.h"
#include "tests/isa_util.h"

namespace descent {
namespace {

constexpr size_t kSamples = 90, kBatch = 24;  // a short last batch: 24, 24, 24, 18

struct Data {
  std::vector<uint8_t> pixels;
  std::vector<float> features, targets;
  std::vector<uint8_t> labels;
};

Data MakeData(size_t inputs, size_t outputs, size_t classes, uint64_t seed) {
  Data d;
  Rng rng(seed);
  d.pixels.resize(kSamples * inputs);
  for (uint8_t& p : d.pixels) p = rng.Below(3) == 0 ? static_cast<uint8_t>(rng.Below(256)) : 0;  // sparse, like digits
  d.features.resize(kSamples * inputs);
  for (float& x : d.features) x = 4.0f * rng.Uniform01() - 2.0f;
  d.targets.resize(kSamples * outputs);
  for (float& t : d.targets) t = rng.Uniform01();
  d.labels.resize(kSamples);
  for (uint8_t& l : d.labels) l = static_cast<uint8_t>(rng.Below(classes));
  return d;
}

// Three epochs of TrainStep with plan Plan; the per-step losses, then every trained parameter.
template <class Net, class Plan, class Rule>
std::vector<float> Train(const Rule& hp, const Data& d, bool bytes, const GradClip& clip, const float* frozen,
                         const ParallelFor& pf = {}) {
  static Net net;
  static Workspace<Net, kBatch, Plan> ws;
  static Optimizer<Rule, Net::kNumTrainable> opt;
  if constexpr (Net::kFrozenLayers > 0) net.set_frozen_params(frozen);
  Init(net, 4);
  opt.reset(hp);
  std::vector<float> shift(Net::kInputs), scale(Net::kInputs);
  for (size_t f = 0; f < Net::kInputs; ++f) shift[f] = 0.25f * static_cast<float>(f % 5), scale[f] = 0.5f + 0.125f * (f % 3);
  std::vector<float> out;
  uint32_t order[kSamples];
  size_t last_rows = 0;
  for (uint64_t epoch = 0; epoch < 3; ++epoch) {
    EpochOrder(order, kSamples, 7, epoch, true);
    for (size_t first = 0; first < kSamples; first += kBatch) {
      const size_t rows = first + kBatch <= kSamples ? kBatch : kSamples - first;
      Status s;
      if constexpr (HasClassTargets(Net::kLoss.kind)) {
        s = bytes ? ws.LoadImages(d.pixels.data(), d.labels.data(), order + first, rows, pf)
                  : ws.LoadRows(d.features.data(), d.labels.data(), order + first, rows, shift.data(), scale.data(), pf);
      } else {
        s = bytes ? ws.LoadImages(d.pixels.data(), d.targets.data(), order + first, rows, pf)
                  : ws.LoadRows(d.features.data(), d.targets.data(), order + first, rows, nullptr, nullptr, pf);
      }
      REQUIRE(s == Status::kOk);
      float loss = 0;
      REQUIRE(TrainStep(net, ws, opt, rows, &loss, pf, clip) == Status::kOk);
      out.push_back(loss);
      last_rows = rows;
    }
  }
  double loss_sum = 0;
  size_t correct = 0;
  REQUIRE(Evaluate(net, ws, last_rows, &loss_sum, &correct, pf) == Status::kOk);  // the last batch loaded
  out.push_back(static_cast<float>(loss_sum));
  out.push_back(static_cast<float>(correct));
  out.insert(out.end(), net.params(), net.params() + Net::kNumTrainable);
  return out;
}

struct Negative {
  static constexpr ActivationSpec kSpec{ActivationKind::kLeakyRelu, -0.3f};
};

template <class Net, class Rule>
void Same(const char* what, const Rule& hp, bool bytes = true, const GradClip& clip = {}) {
  CAPTURE(std::string(what));
  const Data d = MakeData(Net::kInputs, Net::kOutputs, Net::kOutputs, 3);
  std::vector<float> frozen(Net::kNumFrozen + 1);
  Rng rng(5);
  for (float& w : frozen) w = 0.2f * rng.Uniform01() - 0.1f;
  const std::vector<float> fast = Train<Net, FastPlan>(hp, d, bytes, clip, frozen.data());
  CHECK(SameBits(Train<Net, LeanPlan>(hp, d, bytes, clip, frozen.data()), fast));
  host::ThreadPool pool(3);
  CHECK(SameBits(Train<Net, LeanPlan>(hp, d, bytes, clip, frozen.data(), pool.parallel_for()), fast));
}

TEST_CASE("plans: LeanPlan gives FastPlan's bits with every optimizer, with and without weight decay") {
  using Net = Mlp<50, 12, 7, 4>;  // odd sizes: no whole vectors anywhere
  ForEachType(Rules{}, [&](auto rule) {
    using Rule = decltype(rule);
    Rule hp;
    hp.lr = 0.01;
    Same<Net>(Rule::kName, hp);
    Rule::Reflect(hp, [&](const char* name, auto& field) {
      if (std::string(name) == "weight_decay") field = 0.05;
    });
    Same<Net>((std::string(Rule::kName) + " weight_decay").c_str(), hp);
  });
}

TEST_CASE("plans: LeanPlan gives FastPlan's bits with clipping, frozen layers, float rows, every activation and loss") {
  Adam adam;
  adam.lr = 0.02;
  GradClip norm;
  norm.max_norm = 0.5;
  GradClip both = norm;
  both.clip_value = 0.01;
  using Net = Mlp<50, 12, 7, 4>;
  Same<Net>("clip norm", adam, true, norm);
  Same<Net>("clip norm and value", adam, true, both);
  Same<Net>("float rows, shifted and scaled", adam, false);
  Same<Model<Sizes<50, 12, 7, 4>, Relu, Nll, Frozen<1>>>("one frozen layer", adam);
  Same<Model<Sizes<50, 12, 7, 4>, Gelu, Nll, Frozen<2>>>("two frozen layers", adam, true, norm);
  Same<Model<Sizes<50, 12, 7, 1>, Tanh, Mse>>("tanh mse", adam, false);
  Same<Model<Sizes<50, 12, 7, 2>, Sigmoid, BceWithLogits>>("sigmoid bce", adam);
  Same<Model<Sizes<50, 12, 7, 3>, GeluTanh, Huber>>("gelu-tanh huber", adam, false, both);
  Same<Model<Sizes<50, 12, 7, 5>, LeakyRelu, CrossEntropy>>("leaky cross-entropy", adam);
  Same<Model<Sizes<50, 12, 7, 1>, Negative, L1>>("leaky (negative slope) l1", adam, false);
  Same<Model<Sizes<50, 9, 300>, Identity, CrossEntropy>>("16-bit labels", adam);
}

// Layer lists: an activation per layer, Linear layers without a bias, an activation after
// the last layer, frozen leading layers.
struct Leaky02 {
  static constexpr ActivationSpec kSpec{ActivationKind::kLeakyRelu, 0.2f};
};
using Mixed = Sequential<Input<50>, Linear<12>, Tanh, Linear<9, false>, Relu, Linear<7>, Leaky02, Linear<4>, Nll>;
using NoBias = Sequential<Input<50>, Linear<12, false>, Gelu, Linear<7, false>, Sigmoid, Linear<3, false>, Huber>;
using Squashed = Sequential<Input<50>, Linear<12>, Relu, Linear<2>, Sigmoid, Mse>;
using Gated = Sequential<Input<50>, Linear<12>, Relu, Linear<1>, Gelu, L1>;
using FrozenList = Sequential<Input<50>, Freeze<Linear<12, false>>, Tanh, Linear<7>, Relu, Linear<4>, CrossEntropy>;

TEST_CASE("plans: layer lists (an activation per layer, no bias, a last activation, frozen) give FastPlan's bits on LeanPlan") {
  Adam adam;
  adam.lr = 0.02;
  GradClip norm;
  norm.max_norm = 0.5;
  Same<Mixed>("tanh, relu, leaky(0.2); a Linear without bias", adam);
  Same<Mixed>("the same, clipped by norm, float rows", adam, false, norm);
  Same<NoBias>("no biases, gelu and sigmoid, huber", adam, false, norm);
  Same<Squashed>("sigmoid on the outputs, mse", adam, false);
  Same<Gated>("gelu on the output (its input kept), l1", adam, false, norm);
  Same<FrozenList>("a frozen first layer without bias", adam, true, norm);
}

TEST_CASE("plans: the notebook's MLP as a layer list trains to the same bits") {
  using List = Sequential<Input<50>, Linear<12>, Relu, Linear<7>, Relu, Linear<4>>;
  using Net = Mlp<50, 12, 7, 4>;
  static_assert(List::kNumParams == Net::kNumParams && List::kLayout.sequential_names, "");
  Adam adam;
  adam.lr = 0.01;
  const Data d = MakeData(50, 4, 4, 3);
  for (bool bytes : {true, false}) {
    CHECK(SameBits(Train<List, FastPlan>(adam, d, bytes, {}, nullptr), Train<Net, FastPlan>(adam, d, bytes, {}, nullptr)));
    CHECK(SameBits(Train<List, LeanPlan>(adam, d, bytes, {}, nullptr), Train<Net, LeanPlan>(adam, d, bytes, {}, nullptr)));
  }
}

TEST_CASE("plans: a lean workspace holds no gradient, no weight copies and no input copy") {
  using Net = Mlp<784, 32, 10>;
  using Lean = Workspace<Net, 32, LeanPlan>;
  using Fast = Workspace<Net, 32, FastPlan>;
  // Kept: the hidden output (32 x 32), the loss gradient (32 x 16), the logits and then the hidden
  // layer's input gradient (32 x 32), one weight-gradient row and its bias (784 + 32 floats).
  static_assert(Lean::kLayout.workspace_bytes == 4 * (32 * 32 + 32 * 16 + 32 * 32 + 784 + 32), "the lean layout");
  static_assert(sizeof(Lean) < sizeof(Fast) / 15, "at least 15 times smaller");
  // Without a batch loaded, a lean workspace has no rows to read.
  static Net net;
  static Lean empty;
  CHECK(Forward(net, empty, 1) == Status::kInvalidArgument);
}

}  // namespace
}  // namespace descent

namespace descent {
namespace {

// The layout builder's refusals, each with its reason (the CLI turns them into messages naming the
// module; Sequential<...> into static_asserts naming the layer).
TEST_CASE("layouts: the builder refuses what cannot be built, and lays out any depth") {
  const size_t flat[] = {20}, image[] = {1, 4, 5};
  {
    LayoutBuilder b(image, 3, true);
    CHECK(b.Linear(8) == LayoutError::kMultiDimensional);
  }
  {
    LayoutBuilder b(image, 3, true);
    CHECK(b.Flatten() == LayoutError::kNone);
    CHECK(b.Linear(8) == LayoutError::kNone);
    CHECK(b.layout().layers[0].in == 20);
    CHECK(b.layout().layers[0].module == 1);  // nn.Sequential's index: Flatten is 0
  }
  {
    LayoutBuilder b(flat, 1, true);
    CHECK(b.Activation({ActivationKind::kTanh}) == LayoutError::kActivationPlace);
  }
  {
    LayoutBuilder b(flat, 1, true);
    CHECK(b.Linear(8) == LayoutError::kNone);
    CHECK(b.Activation({ActivationKind::kTanh}) == LayoutError::kNone);
    CHECK(b.Activation({ActivationKind::kRelu}) == LayoutError::kActivationPlace);
  }
  {
    LayoutBuilder b(flat, 1, true);
    CHECK(b.Linear(8) == LayoutError::kNone);
    CHECK(b.Linear(8, true, /*frozen=*/true) == LayoutError::kFrozenAfterTrained);
  }
  {
    LayoutBuilder b(flat, 1, true);
    CHECK(b.Linear(8, true, true) == LayoutError::kNone);
    CHECK(b.Finish(LossSpec{}) == LayoutError::kAllFrozen);
  }
  {
    LayoutBuilder b(flat, 1, true);
    CHECK(b.Linear(1) == LayoutError::kNone);
    CHECK(b.Finish(LossSpec{}) == LayoutError::kTooFewOutputs);  // nll over one output
  }
  {
    LayoutBuilder b(flat, 1, true);
    CHECK(b.Linear(0) == LayoutError::kBadWidth);
  }
  {
    LayoutBuilder b(flat, 1, true);
    for (size_t i = 0; i < kMaxLayers; ++i) REQUIRE(b.Linear(3) == LayoutError::kNone);
    CHECK(b.Linear(3) == LayoutError::kTooManyLayers);
  }
  // The deepest model there is: its tensors cover its parameters, its plans hold every slot.
  LayoutBuilder deep(flat, 1, true);
  for (size_t i = 0; i < kMaxLayers; ++i) {
    REQUIRE(deep.Linear(i % 2 ? 7 : 5, i % 3 != 0) == LayoutError::kNone);
    if (i + 1 < kMaxLayers) REQUIRE(deep.Activation({ActivationKind::kGelu}) == LayoutError::kNone);
  }
  REQUIRE(deep.Finish(LossSpec{}) == LayoutError::kNone);
  const Layout l = deep.layout();
  size_t covered = 0;
  for (size_t t = 0; t < l.num_tensors; ++t) covered += l.tensors[t].size();
  CHECK(covered == l.num_params);
  for (bool lean : {false, true}) {
    const Layout p = l.Planned(16, lean);
    CHECK(p.workspace_bytes > 0);
    for (size_t i = 0; i < p.num_layers; ++i) {
      CHECK(p.dy[i].offset % kAlign == 0);
      CHECK(p.dy[i].offset < p.workspace_bytes);
    }
  }
}

}  // namespace
}  // namespace descent

namespace descent {
namespace {

// A compile-time CNN with every new kind: the layout has torch's shapes and parameter tensors.
using SmallCnn = Sequential<Input<1, 12, 12>, Conv2d<4, 3, 1, 1>, BatchNorm2d, Relu, MaxPool2d<2>,
                            Conv2d<8, 3, 1, 1, 1, 4, false>, Tanh, AvgPool2d<2>, Dropout<25>, Flatten, Linear<5>,
                            CrossEntropy>;

}  // namespace

TEST_CASE("layers: a compile-time CNN has torch's shapes, and trains") {
  constexpr const Layout& l = SmallCnn::kLayout;
  static_assert(l.num_layers == 7, "conv, batch norm, max pool, conv, avg pool, dropout, linear");
  CHECK(l.layers[0].out_shape.c == 4);
  CHECK(l.layers[0].out_shape.h == 12);  // padding 1 keeps 12
  CHECK(l.layers[2].out_shape.h == 6);
  CHECK(l.layers[4].out_shape.h == 3);
  CHECK(l.layers[6].in == 8 * 3 * 3);
  // 0.weight [4,1,3,3], 0.bias, 1.weight, 1.bias (batch norm), 4.weight [8,1,3,3] (groups 4, no bias), 9.weight, 9.bias
  REQUIRE(l.num_tensors == 7);
  CHECK(l.tensors[0].dims == 4);
  CHECK(l.tensors[4].shape[1] == 1);
  CHECK(l.tensors[4].size() == 8 * 9);
  CHECK(l.num_running == 8);
  CHECK(l.num_tracked == 1);
  static SmallCnn net;
  Init(net, 3);
  CHECK(net.running()[4] == 1.0f);  // running_var starts at 1
  static Workspace<SmallCnn, 16, FastPlan> ws;
  static Optimizer<Adam, SmallCnn::kNumTrainable> opt;
  Adam hp;
  hp.lr = 1e-2;
  opt.reset(hp);
  std::vector<float> x(16 * 144);
  std::vector<uint8_t> y(16);
  Rng rng(5);
  for (size_t r = 0; r < 16; ++r) {
    y[r] = static_cast<uint8_t>(r % 5);
    for (size_t k = 0; k < 144; ++k) x[r * 144 + k] = rng.Uniform01() + (k % 12 == y[r] ? 1.0f : 0.0f);
  }
  REQUIRE(ws.LoadRows(x.data(), y.data(), nullptr, 16) == Status::kOk);
  float first = 0, loss = 0;
  for (int step = 0; step < 30; ++step) {
    REQUIRE(TrainStep(net, ws, opt, 16, &loss) == Status::kOk);
    if (step == 0) first = loss;
  }
  CHECK(loss < 0.5f * first);
  CHECK(net.tracked()[0] == 30);
}

namespace {

// Trains Net on both plans from the same weights (bytes or float rows, clipping): the weights after.
template <class Net, class Plan>
std::vector<float> TrainCnn(bool bytes, const GradClip& clip) {
  static Net net;
  static Workspace<Net, 12, Plan> ws;
  static Optimizer<Adam, Net::kNumTrainable> opt;
  Init(net, 9);
  Adam hp;
  hp.lr = 3e-3;
  opt.reset(hp);
  Rng rng(11);
  std::vector<uint8_t> pixels(30 * Net::kInputs), labels(30);
  std::vector<float> rows(30 * Net::kInputs);
  for (size_t k = 0; k < pixels.size(); ++k) {
    pixels[k] = rng.Below(3) == 0 ? static_cast<uint8_t>(rng.Below(256)) : 0;
    rows[k] = 2.0f * rng.Uniform01() - 1.0f;
  }
  for (uint8_t& y : labels) y = static_cast<uint8_t>(rng.Below(Net::kOutputs));
  std::vector<uint32_t> order(30);
  for (size_t epoch = 0; epoch < 2; ++epoch) {
    EpochOrder(order.data(), 30, 1, epoch, true);
    for (size_t b = 0; b < 30; b += 12) {
      const size_t n = b + 12 <= 30 ? 12 : 30 - b;  // 12, 12, 6
      REQUIRE((bytes ? ws.LoadImages(pixels.data(), labels.data(), order.data() + b, n)
                     : ws.LoadRows(rows.data(), labels.data(), order.data() + b, n)) == Status::kOk);
      float loss;
      REQUIRE(TrainStep(net, ws, opt, n, &loss, {}, clip) == Status::kOk);
    }
  }
  return std::vector<float>(net.params(), net.params() + Net::kNumTrainable);
}

// The firmware's CNN (a convolution fused into its max pooling, twice), one with average pooling,
// groups, stride, padding and own-pass activations, and one with overlapping padded max pooling
// over a dilated convolution and global average pooling; a Conv1d net.
using FirmwareCnn = Sequential<Input<1, 12, 12>, Conv2d<4, 3>, Relu, MaxPool2d<2>, Conv2d<6, 3>, Relu, MaxPool2d<2>,
                               Flatten, Linear<5>, CrossEntropy>;
using MixedCnn = Sequential<Input<2, 11, 9>, Conv2d<4, 3, 2, 1>, Tanh, AvgPool2d<2, 2, 1>, Conv2d<6, 1, 1, 0, 1, 2>,
                            Gelu, Flatten, Linear<7>, Sigmoid, Linear<3>, CrossEntropy>;
using OverlapCnn = Sequential<Input<1, 13, 13>, Conv2d<3, 3, 1, 1, 2>, MaxPool2d<3, 2, 1>, Conv2d<4, 3>, Relu,
                              AdaptiveAvgPool2d<1>, Flatten, Linear<3>, CrossEntropy>;
using SequenceCnn = Sequential<Input<3, 20>, Conv1d<5, 3, 1, 1>, Relu, MaxPool1d<2>, Conv1d<4, 3, 2>, Flatten,
                               Linear<4>, CrossEntropy>;

}  // namespace

TEST_CASE("plans: CNNs on LeanPlan (samples streamed) give FastPlan's bits, bytes or rows, with clipping") {
  GradClip clip;
  clip.max_norm = 0.5;
  for (bool bytes : {true, false}) {
    CAPTURE(bytes);
    CHECK(TrainCnn<FirmwareCnn, LeanPlan>(bytes, {}) == TrainCnn<FirmwareCnn, FastPlan>(bytes, {}));
    CHECK(TrainCnn<MixedCnn, LeanPlan>(bytes, clip) == TrainCnn<MixedCnn, FastPlan>(bytes, clip));
    CHECK(TrainCnn<OverlapCnn, LeanPlan>(bytes, {}) == TrainCnn<OverlapCnn, FastPlan>(bytes, {}));
    CHECK(TrainCnn<SequenceCnn, LeanPlan>(bytes, {}) == TrainCnn<SequenceCnn, FastPlan>(bytes, {}));
  }
  // The fused convolutions keep no output of their own: the lean workspace is a fraction of the fast one.
  CHECK(sizeof(Workspace<FirmwareCnn, 12, LeanPlan>) * 3 < sizeof(Workspace<FirmwareCnn, 12, FastPlan>));
}

TEST_CASE("layers: dropout zeroes a fraction p, scales the rest by 1/(1-p), the same masks on every thread count") {
  using Net = Sequential<Input<4000>, Dropout<30>, Linear<2>, CrossEntropy>;
  static Net net;
  Init(net, 1);
  std::vector<float> x(8 * 4000, 1.5f);
  const std::vector<uint8_t> y(8, 1);
  static Workspace<Net, 8, FastPlan> ws;
  std::vector<float> first;
  for (size_t threads : {1, 2, 3}) {
    host::ThreadPool pool(threads);
    REQUIRE(ws.LoadRows(x.data(), y.data(), nullptr, 8, nullptr, nullptr, pool.parallel_for()) == Status::kOk);
    ws.set_noise(42, 7);
    float loss;
    REQUIRE(ForwardBackward(net, ws, 8, &loss, pool.parallel_for()) == Status::kOk);
    const float* out = ws.slot(ws.kLayout.act[1]);
    size_t zeros = 0, scaled = 0;
    for (size_t r = 0; r < 8; ++r)
      for (size_t k = 0; k < 4000; ++k) {
        const float v = out[r * Padded(4000) + k];
        zeros += v == 0.0f;
        scaled += v == 1.5f * (1.0f / 0.7f);
      }
    CHECK(zeros + scaled == 32000);
    CHECK(zeros > 32000 * 0.28);
    CHECK(zeros < 32000 * 0.32);
    const std::vector<float> grads(ws.grads(), ws.grads() + Net::kNumTrainable);
    if (first.empty()) first = grads;
    else CHECK(memcmp(grads.data(), first.data(), grads.size() * 4) == 0);
  }
  // Another step: other masks. Evaluation: none.
  ws.set_noise(42, 8);
  float loss;
  REQUIRE(ForwardBackward(net, ws, 8, &loss) == Status::kOk);
  CHECK(memcmp(ws.grads(), first.data(), first.size() * 4) != 0);
  double sum = 0;
  size_t correct = 0;
  REQUIRE(Evaluate(net, ws, 8, &sum, &correct) == Status::kOk);
  CHECK(ws.slot(ws.kLayout.act[1])[17] == 1.5f);
}

}  // namespace descent
