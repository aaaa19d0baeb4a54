// Proves training allocates nothing: operator new and malloc are replaced by
// counting versions, and every optimizer runs many training steps while counting.
#include <stdlib.h>

#include <new>
#include <vector>

#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include "descent/descent.h"
#include "tests/doctest_config.h"

extern "C" void* __libc_malloc(size_t);
extern "C" void* __libc_calloc(size_t, size_t);
extern "C" void* __libc_realloc(void*, size_t);
extern "C" void __libc_free(void*);

namespace {
bool g_counting = false;
size_t g_allocations = 0;
void Count() {
  if (g_counting) ++g_allocations;
}
}  // namespace

extern "C" void* malloc(size_t n) { return Count(), __libc_malloc(n); }
extern "C" void* calloc(size_t n, size_t m) { return Count(), __libc_calloc(n, m); }
extern "C" void* realloc(void* p, size_t n) { return Count(), __libc_realloc(p, n); }
extern "C" void free(void* p) { __libc_free(p); }
void* operator new(size_t n) {
  Count();
  if (void* p = __libc_malloc(n ? n : 1)) return p;
  abort();
}
void* operator new[](size_t n) { return operator new(n); }
void* operator new(size_t n, const std::nothrow_t&) noexcept { return Count(), __libc_malloc(n ? n : 1); }
void* operator new[](size_t n, const std::nothrow_t&) noexcept { return Count(), __libc_malloc(n ? n : 1); }
void operator delete(void* p) noexcept { __libc_free(p); }
void operator delete[](void* p) noexcept { __libc_free(p); }
void operator delete(void* p, size_t) noexcept { __libc_free(p); }
void operator delete[](void* p, size_t) noexcept { __libc_free(p); }

namespace descent {
namespace {

using Net = Mlp<784, 100, 100, 10>;
constexpr size_t kRows = 256, kSamples = 600;
Net g_net;
Workspace<Net, kRows> g_ws;
uint8_t g_pixels[kSamples * 784];
uint8_t g_labels[kSamples];
uint32_t g_order[kSamples];

template <class Rule>
size_t AllocationsWhileTraining(const Rule& hp) {
  static Optimizer<Rule, Net::kNumParams> opt;
  opt.reset(hp);
  Init(g_net, 1);
  float loss = 0;
  // One step before counting: the first call may resolve the kernel dispatch.
  REQUIRE(g_ws.LoadImages(g_pixels, g_labels, nullptr, kRows) == Status::kOk);
  REQUIRE(TrainStep(g_net, g_ws, opt, kRows, &loss) == Status::kOk);
  // With a schedule and clipping too: both are core code, heap-free.
  WarmupCosineLR schedule;
  schedule.warmup_steps = 3, schedule.T_max = 9;
  GradClip clip;
  clip.max_norm = 1.0, clip.clip_value = 0.5;
  g_allocations = 0;
  g_counting = true;
  schedule.Start(hp.lr);
  bool ok = true;
  for (uint64_t epoch = 0; epoch < 4; ++epoch) {
    EpochOrder(g_order, kSamples, 9, epoch, true);
    for (size_t first = 0; first < kSamples; first += kRows) {
      const size_t rows = kSamples - first < kRows ? kSamples - first : kRows;  // 256, 256, 88
      ok = ok && g_ws.LoadImages(g_pixels, g_labels, g_order + first, rows) == Status::kOk;
      opt.hyperparameters().lr = schedule.lr();
      ok = ok && TrainStep(g_net, g_ws, opt, rows, &loss, {}, clip) == Status::kOk;
      schedule.Step();
      double loss_sum = 0;
      size_t correct = 0;
      ok = ok && Evaluate(g_net, g_ws, rows, &loss_sum, &correct) == Status::kOk;
    }
  }
  g_counting = false;
  REQUIRE(ok);
  return g_allocations;
}

TEST_CASE("nomalloc: the counter sees allocations") {
  g_allocations = 0;
  g_counting = true;
  std::vector<int>* v = new std::vector<int>(100);
  void* p = malloc(10);
  g_counting = false;
  free(p);
  delete v;
  CHECK(g_allocations == 3);
}

TEST_CASE("nomalloc: training steps with every optimizer, a schedule and clipping allocate nothing") {
  Rng rng(4);
  for (uint8_t& b : g_pixels) b = static_cast<uint8_t>(rng.Next() >> 56);
  for (uint8_t& l : g_labels) l = static_cast<uint8_t>(rng.Below(10));
  Sgd nesterov;
  nesterov.momentum = 0.9;
  nesterov.nesterov = true;
  nesterov.weight_decay = 1e-4;
  RmsProp rms;
  rms.centered = true;
  rms.momentum = 0.5;
  Adam ams;
  ams.amsgrad = true;
  CHECK(AllocationsWhileTraining(Sgd()) == 0);
  CHECK(AllocationsWhileTraining(nesterov) == 0);
  CHECK(AllocationsWhileTraining(Adagrad()) == 0);
  CHECK(AllocationsWhileTraining(Adadelta()) == 0);
  CHECK(AllocationsWhileTraining(rms) == 0);
  CHECK(AllocationsWhileTraining(ams) == 0);
  CHECK(AllocationsWhileTraining(AdamW()) == 0);
  CHECK(AllocationsWhileTraining(Adamax()) == 0);
  CHECK(AllocationsWhileTraining(NAdam()) == 0);
  CHECK(AllocationsWhileTraining(RAdam()) == 0);
}

// Every activation and loss, float features and targets, frozen layers and inference, either plan.
template <class Net, class Plan = FastPlan>
size_t AllocationsWithModel() {
  static Net net;
  static Workspace<Net, 32, Plan> ws;
  static InferenceWorkspace<Net, 32> iws;
  static Optimizer<Adam, Net::kNumTrainable> opt;
  static float frozen[Net::kNumFrozen + 1];
  static float features[64 * Net::kInputs], targets[64 * Net::kOutputs], probabilities[32 * Net::kOutputs];
  static uint16_t labels[64], predicted[32];
  if constexpr (Net::kFrozenLayers > 0) net.set_frozen_params(frozen);
  Rng rng(2);
  for (float& x : features) x = rng.Uniform01();
  for (float& t : targets) t = rng.Uniform01();
  for (uint16_t& l : labels) l = static_cast<uint16_t>(rng.Below(Net::kOutputs));
  for (float& w : frozen) w = 0.01f;
  Init(net, 1);
  g_allocations = 0;
  g_counting = true;
  bool ok = true;
  for (size_t first = 0; first < 64; first += 32) {
    float loss;
    if constexpr (HasClassTargets(Net::kLoss.kind)) ok = ok && ws.LoadRows(features, labels, g_order + first, 32) == Status::kOk;
    else ok = ok && ws.LoadRows(features, targets, g_order + first, 32) == Status::kOk;
    ok = ok && TrainStep(net, ws, opt, 32, &loss) == Status::kOk;
    ok = ok && iws.LoadRows(features, g_order + first, 32) == Status::kOk;
    ok = ok && Forward(net, iws, 32) == Status::kOk;
    ok = ok && Probabilities(iws, 32, probabilities) == Status::kOk;
    if constexpr (HasClassTargets(Net::kLoss.kind)) ok = ok && Predict(iws, 32, predicted) == Status::kOk;
  }
  g_counting = false;
  REQUIRE(ok);
  return g_allocations;
}

struct Smooth {
  static constexpr LossSpec kSpec{LossKind::kCrossEntropy, 0.1f};
};

TEST_CASE("nomalloc: every activation and loss, frozen layers and inference allocate nothing") {
  EpochOrder(g_order, 64, 1, 0, true);
  CHECK(AllocationsWithModel<Model<Sizes<10, 16, 1>, Tanh, Mse>>() == 0);
  CHECK(AllocationsWithModel<Model<Sizes<10, 16, 3>, LeakyRelu, L1>>() == 0);
  CHECK(AllocationsWithModel<Model<Sizes<10, 16, 16, 2>, GeluTanh, Huber>>() == 0);
  CHECK(AllocationsWithModel<Model<Sizes<30, 16, 1>, Sigmoid, BceWithLogits>>() == 0);
  CHECK(AllocationsWithModel<Model<Sizes<64, 32, 10>, Gelu, Smooth>>() == 0);
  CHECK(AllocationsWithModel<Model<Sizes<64, 32, 300>, Identity, CrossEntropy>>() == 0);
  CHECK(AllocationsWithModel<Model<Sizes<64, 32, 16, 10>, Relu, Nll, Frozen<1>>>() == 0);
  CHECK(AllocationsWithModel<Model<Sizes<64, 32, 16, 10>, Gelu, Nll, Frozen<1>>, LeanPlan>() == 0);
  CHECK(AllocationsWithModel<Model<Sizes<10, 16, 1>, Tanh, Mse>, LeanPlan>() == 0);
}

}  // namespace
}  // namespace descent
