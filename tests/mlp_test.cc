// The MLP: gradients (finite differences in double, then our float kernels
// against the double reference), initialisation, batches, errors, determinism.
#include <string.h>

#include <cmath>
#include <limits>
#include <vector>

#include "descent/descent.h"
#include "src/host/thread_pool.h"
#include "tests/doctest_config.h"
#include "tests/reference_mlp.h"

namespace descent {
namespace {

using Small = Mlp<13, 7, 5, 4>;  // odd sizes: every kernel takes its tail path

std::vector<uint8_t> RandomPixels(size_t n, uint64_t seed) {
  Rng rng(seed);
  std::vector<uint8_t> v(n);
  for (auto& b : v) b = static_cast<uint8_t>(rng.Next() >> 56);
  return v;
}

TEST_CASE("mlp: the double reference's gradient matches central differences") {
  const std::vector<size_t> sizes = {13, 7, 5, 4};
  static Small net;
  Init(net, 3);
  std::vector<double> params(net.params(), net.params() + Small::kNumParams);
  const size_t rows = 6;
  std::vector<double> x(rows * 13);
  Rng rng(11);
  for (double& v : x) v = rng.Uniform01();
  std::vector<uint8_t> labels = {0, 3, 1, 2, 3, 0};
  std::vector<double> grads;
  reference::LossAndGradient(sizes, params, x, labels, rows, &grads);
  const double h = 1e-6;
  double worst = 0;
  for (size_t k = 0; k < params.size(); ++k) {
    std::vector<double> plus = params, minus = params;
    plus[k] += h;
    minus[k] -= h;
    const double numeric = (reference::LossAndGradient(sizes, plus, x, labels, rows, static_cast<std::vector<double>*>(nullptr)) -
                            reference::LossAndGradient(sizes, minus, x, labels, rows, static_cast<std::vector<double>*>(nullptr))) / (2 * h);
    worst = std::max(worst, std::fabs(numeric - grads[k]) / std::max(1e-3, std::fabs(numeric)));
  }
  CHECK(worst < 1e-6);
}

TEST_CASE("mlp: float forward/backward matches the double reference") {
  const std::vector<size_t> sizes = {13, 7, 5, 4};
  static Small net;
  static Workspace<Small, 9> ws;
  Init(net, 5);
  const size_t rows = 9;
  const std::vector<uint8_t> pixels = RandomPixels(rows * 13, 7);
  const std::vector<uint8_t> labels = {0, 1, 2, 3, 3, 2, 1, 0, 2};
  REQUIRE(ws.LoadImages(pixels.data(), labels.data(), nullptr, rows) == Status::kOk);
  float loss = 0;
  REQUIRE(ForwardBackward(net, ws, rows, &loss) == Status::kOk);

  std::vector<double> params(net.params(), net.params() + Small::kNumParams), x(rows * 13), grads;
  for (size_t k = 0; k < x.size(); ++k) x[k] = pixels[k] / 256.0;
  const double expected = reference::LossAndGradient(sizes, params, x, labels, rows, &grads);
  CHECK(loss == doctest::Approx(expected).epsilon(1e-6));
  double scale = 0;
  for (double g : grads) scale = std::max(scale, std::fabs(g));
  for (size_t k = 0; k < grads.size(); ++k) {
    CAPTURE(k);
    CHECK(std::fabs(ws.grads()[k] - grads[k]) <= 1e-5 * scale);
  }
}

TEST_CASE("mlp: initialisation is torch.nn.Linear's range, seeded and reproducible") {
  using Net = Mlp<784, 100, 100, 10>;
  static Net a, b, c;
  Init(a, 42);
  Init(b, 42);
  Init(c, 43);
  CHECK(memcmp(a.params(), b.params(), sizeof(float) * Net::kNumParams) == 0);
  CHECK(memcmp(a.params(), c.params(), sizeof(float) * Net::kNumParams) != 0);
  const float bound0 = 1.0f / 28.0f, bound1 = 0.1f;
  float lo = 0, hi = 0;
  double mean = 0;
  for (size_t k = 0; k < 78400; ++k) {
    const float w = a.weight(0)[k];
    lo = std::min(lo, w), hi = std::max(hi, w), mean += w;
    REQUIRE(std::fabs(w) <= bound0);
  }
  CHECK(lo < -0.99f * bound0);  // the whole range is used
  CHECK(hi > 0.99f * bound0);
  CHECK(std::fabs(mean / 78400) < 0.01 * bound0);
  for (size_t k = 0; k < 100; ++k) REQUIRE(std::fabs(a.bias(1)[k]) <= bound1);
  CHECK(Net::kNumParams == 89610);
}

TEST_CASE("mlp: a smaller last batch, and the workspace's limits") {
  static Small net;
  static Workspace<Small, 8> ws;
  Init(net, 1);
  const std::vector<uint8_t> pixels = RandomPixels(20 * 13, 3);
  std::vector<uint8_t> labels(20, 1);
  float loss = 0;
  REQUIRE(ws.LoadImages(pixels.data(), labels.data(), nullptr, 3) == Status::kOk);
  CHECK(ForwardBackward(net, ws, 3, &loss) == Status::kOk);
  CHECK(loss > 0);
  CHECK(ws.LoadImages(pixels.data(), labels.data(), nullptr, 9) == Status::kCapacityExceeded);
  CHECK(ForwardBackward(net, ws, 0, &loss) == Status::kCapacityExceeded);
  CHECK(ForwardBackward(net, ws, 9, &loss) == Status::kCapacityExceeded);
  labels[2] = 4;  // the model has 4 classes: 0..3
  REQUIRE(ws.LoadImages(pixels.data(), labels.data(), nullptr, 3) == Status::kOk);
  CHECK(ForwardBackward(net, ws, 3, &loss) == Status::kInvalidArgument);
}

TEST_CASE("mlp: a non-finite loss or model is reported and the parameters are left alone") {
  static Small net;
  static Workspace<Small, 4> ws;
  static Optimizer<Sgd, Small::kNumParams> opt;
  const std::vector<uint8_t> pixels = RandomPixels(4 * 13, 9);
  const std::vector<uint8_t> labels = {0, 1, 2, 3};
  REQUIRE(ws.LoadImages(pixels.data(), labels.data(), nullptr, 4) == Status::kOk);
  static Small before;
  float loss = 0;
  // Finite weights whose logits overflow: the loss is not finite.
  Init(net, 2);
  for (size_t k = 0; k < 7 * 5; ++k) net.weight(1)[k] = 3e38f;
  before = net;
  CHECK(TrainStep(net, ws, opt, 4, &loss) == Status::kNonFinite);
  CHECK(!std::isfinite(loss));
  CHECK(memcmp(&before, &net, sizeof(net)) == 0);
  // A finite loss whose update overflows weights (g + 3e38 p, times lr 10): reported at this step.
  Init(net, 2);
  Sgd huge;
  huge.lr = 10;
  huge.weight_decay = 3e38;
  static Optimizer<Sgd, Small::kNumParams> overflowing{huge};
  CHECK(TrainStep(net, ws, overflowing, 4, &loss) == Status::kNonFinite);
  CHECK(std::isfinite(loss));
  // A non-finite weight: the model itself is refused.
  Init(net, 2);
  net.weight(2)[0] = std::numeric_limits<float>::infinity();
  before = net;
  CHECK(TrainStep(net, ws, opt, 4, &loss) == Status::kNonFinite);
  double loss_sum = 0;
  size_t correct = 0;
  CHECK(Evaluate(net, ws, 4, &loss_sum, &correct) == Status::kNonFinite);
  CHECK(memcmp(&before, &net, sizeof(net)) == 0);
}

TEST_CASE("mlp: the finite checks split over workers see every range") {
  // Large enough that the update and the check run in several ranges.
  constexpr size_t n = 50000;
  static float params[n], grads[n];
  host::ThreadPool pool(3);
  ParallelFor many;  // more parts than ParallelFor::All answers at once (run serially)
  many.workers = 100;
  for (const ParallelFor& pf : {ParallelFor(), pool.parallel_for(), many}) {
    for (size_t bad : {size_t{0}, n / 3, n / 2, n - 1}) {
      for (size_t i = 0; i < n; ++i) params[i] = 0.25f, grads[i] = 0.5f;
      CHECK(internal::ParamsFinite(params, n, pf));
      params[bad] = std::numeric_limits<float>::quiet_NaN();
      CHECK(!internal::ParamsFinite(params, n, pf));
      // The update's own check: an overflow made by this step, in whichever range it lands.
      params[bad] = 3e38f;
      grads[bad] = -3e38f;
      Sgd sgd;
      sgd.lr = 10;
      static Optimizer<Sgd, n> opt;
      opt.reset(sgd);
      bool finite = true;
      REQUIRE(opt.step(params, grads, pf, &finite) == Status::kOk);
      CHECK(!finite);
      CHECK(std::isinf(params[bad]));
      params[bad] = 0.25f, grads[bad] = 0.5f;
      REQUIRE(opt.step(params, grads, pf, &finite) == Status::kOk);
      CHECK(finite);
    }
  }
}

TEST_CASE("mlp: same seed and data give byte-identical weights") {
  using Net = Mlp<784, 32, 10>;
  static Net nets[2];
  static Workspace<Net, 64> ws;
  static Optimizer<Adam, Net::kNumParams> opt;
  const std::vector<uint8_t> pixels = RandomPixels(200 * 784, 1);
  std::vector<uint8_t> labels(200);
  for (size_t i = 0; i < labels.size(); ++i) labels[i] = static_cast<uint8_t>(pixels[i * 784 + 400] % 10);
  uint32_t order[200];
  for (Net& net : nets) {
    Init(net, 7);
    opt.reset(Adam());
    for (uint64_t epoch = 0; epoch < 2; ++epoch) {
      EpochOrder(order, 200, 7, epoch, true);
      for (size_t first = 0; first < 200; first += 64) {
        const size_t rows = std::min<size_t>(64, 200 - first);
        float loss;
        REQUIRE(ws.LoadImages(pixels.data(), labels.data(), order + first, rows) == Status::kOk);
        REQUIRE(TrainStep(net, ws, opt, rows, &loss) == Status::kOk);
      }
    }
  }
  CHECK(memcmp(nets[0].params(), nets[1].params(), sizeof(float) * Net::kNumParams) == 0);
}

TEST_CASE("rng: epoch orders are permutations, differ per epoch, and are fixed by the seed") {
  uint32_t a[1000], b[1000], c[1000];
  EpochOrder(a, 1000, 5, 0, true);
  EpochOrder(b, 1000, 5, 0, true);
  EpochOrder(c, 1000, 5, 1, true);
  CHECK(memcmp(a, b, sizeof(a)) == 0);
  CHECK(memcmp(a, c, sizeof(a)) != 0);
  std::vector<int> seen(1000, 0);
  for (uint32_t i : a) seen[i]++;
  for (int s : seen) REQUIRE(s == 1);
  EpochOrder(a, 1000, 5, 0, false);
  for (uint32_t i = 0; i < 1000; ++i) REQUIRE(a[i] == i);
  // Below(n) is unbiased enough to hit every residue.
  Rng rng(1);
  int hits[7] = {};
  for (int i = 0; i < 7000; ++i) hits[rng.Below(7)]++;
  for (int h : hits) CHECK(h > 850);
}

}  // namespace
}  // namespace descent
