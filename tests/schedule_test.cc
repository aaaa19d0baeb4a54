// Learning-rate schedules and gradient clipping against torch (goldens from
// tests/golden/make_schedule_golden.py).
#include <string.h>

#include <cmath>
#include <string>
#include <vector>

#include "descent/descent.h"
#include "src/host/thread_pool.h"
#include "tests/doctest_config.h"
#include "tests/golden/schedule_golden.h"
#include "tests/isa_util.h"

namespace descent {
namespace {

// Equal once both are rounded to float, as the optimizers use the rate.
bool SameAsFloat(double a, double b) { return static_cast<float>(a) == static_cast<float>(b); }

template <class S>
void Advance(S& s, int i) { s.Step(); (void)i; }
void Advance(ReduceLROnPlateau& s, int i) {  // mode 'max' sees the metric negated
  s.Step(s.mode_max ? -golden::kPlateauMetrics[i] : golden::kPlateauMetrics[i]);
}

template <class S>
double Momentum(const S&) { return -1.0; }
double Momentum(const OneCycleLR& s) { return s.momentum(); }

// The rate before each step, as the golden records it; momentum where the schedule cycles it.
template <class S>
void CheckSequence(S s, const double* lr, const double* momentum) {
  REQUIRE(s.InvalidReason() == nullptr);
  s.Start(0.1);
  size_t exact = 0;
  for (int i = 0; i < golden::kScheduleSteps; ++i) {
    CAPTURE(i);
    REQUIRE(SameAsFloat(s.lr(), lr[i]));
    exact += s.lr() == lr[i];
    if (Momentum(s) >= 0) REQUIRE(SameAsFloat(Momentum(s), momentum[i]));
    Advance(s, i);
  }
  MESSAGE("rates equal to torch's in double: " << exact << " of " << golden::kScheduleSteps);
}

#define DESCENT_SCHEDULE_TEST(name, init)                      \
  TEST_CASE("schedule: " #name " follows torch for 200 steps") { \
    init CheckSequence(s, golden::k_##name##_lr, golden::k_##name##_momentum); \
  }
DESCENT_SCHEDULE_CASES(DESCENT_SCHEDULE_TEST)

TEST_CASE("schedule: invalid parameters are named") {
  StepLR step;
  step.step_size = 0;
  CHECK(std::string(step.InvalidReason()) == "step_size must be at least 1");
  MultiStepLR multi;
  multi.milestones[0] = 5, multi.milestones[1] = 3, multi.num_milestones = 2;
  CHECK(multi.InvalidReason() != nullptr);
  OneCycleLR one;
  CHECK(one.InvalidReason() != nullptr);  // max_lr and total_steps are required
  ReduceLROnPlateau plateau;
  plateau.factor = 1.0;
  CHECK(plateau.InvalidReason() != nullptr);
  WarmupCosineLR warm;
  warm.start_factor = 0.0;
  CHECK(warm.InvalidReason() != nullptr);
}

size_t GoldenSize() { return golden::kClipSizes[0] + golden::kClipSizes[1] + golden::kClipSizes[2]; }

// Float ulps between two finite floats of the same sign.
int64_t Ulps(float a, float b) {
  int32_t ia, ib;
  memcpy(&ia, &a, 4), memcpy(&ib, &b, 4);
  return std::abs(static_cast<int64_t>(ia) - ib);
}

TEST_CASE("clip: by norm and by value as torch.nn.utils computes them") {
  const size_t n = GoldenSize();
  for (const golden::ClipCase& c : golden::kClipCases) {
    CAPTURE(c.limit);
    std::vector<float> g(golden::kClipGrads, golden::kClipGrads + n);
    if (c.by_norm) {
      const float total = ClipGradNorm(g.data(), golden::kClipSizes, 3, c.limit);
      CHECK(Ulps(total, c.total_norm) <= 1);  // torch sums in float, we in double
      int64_t worst = 0;
      for (size_t i = 0; i < n; ++i) worst = std::max(worst, Ulps(g[i], c.grads[i]));
      CHECK(worst <= 2);
      if (c.limit > c.total_norm) CHECK(memcmp(g.data(), golden::kClipGrads, n * 4) == 0);  // untouched
      else CHECK(memcmp(g.data(), golden::kClipGrads, n * 4) != 0);
    } else {
      ClipGradValue(g.data(), n, c.limit);
      CHECK(memcmp(g.data(), c.grads, n * 4) == 0);  // clamping is exact
    }
  }
  std::vector<float> nan_grads(golden::kClipGrads, golden::kClipGrads + n);
  nan_grads[3] = NAN;
  ClipGradValue(nan_grads.data(), n, 0.1);
  CHECK(std::isnan(nan_grads[3]));
}

TEST_CASE("clip: training with clipping gives the same bits on every ISA and thread count") {
  using Net = Mlp<784, 32, 10>;
  static Net net;
  static Workspace<Net, 64> ws;
  static Optimizer<Sgd, Net::kNumParams> opt;
  std::vector<uint8_t> pixels(128 * 784), labels(128);
  Rng rng(9);
  for (uint8_t& b : pixels) b = static_cast<uint8_t>(rng.Next() >> 56);
  for (uint8_t& l : labels) l = static_cast<uint8_t>(rng.Below(10));
  Sgd hp;
  hp.lr = 0.5, hp.momentum = 0.9;
  GradClip clip;
  clip.max_norm = 0.25, clip.clip_value = 0.004;
  auto train = [&](size_t threads) {
    host::ThreadPool pool(threads);
    Init(net, 1);
    opt.reset(hp);
    for (size_t first = 0; first < 128; first += 64) {
      float loss;
      REQUIRE(ws.LoadImages(pixels.data(), labels.data(), nullptr, 64, pool.parallel_for()) == Status::kOk);
      REQUIRE(TrainStep(net, ws, opt, 64, &loss, pool.parallel_for(), clip) == Status::kOk);
    }
    return std::vector<float>(net.params(), net.params() + Net::kNumParams);
  };
  const std::vector<float> expected = OnScalarIsa([&] { return train(1); });
  ForEachIsa([&](const kernels::Kernels&) {
    for (size_t threads : {1, 3}) CHECK(SameBits(train(threads), expected));
  });
  // And the clipping did something: the unclipped run ends elsewhere.
  clip = GradClip();
  CHECK(!SameBits(train(1), expected));
}

}  // namespace
}  // namespace descent
