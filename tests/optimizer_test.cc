// Every optimizer against torch.optim trajectories (tests/golden/make_golden.py),
// hyperparameter validation, and the optimizer's storage contract.
#include <string.h>

#include <cmath>
#include <cstdlib>
#include <string>
#include <type_traits>

#include "descent/optimizer.h"
#include "src/cli/optimizers.h"
#include "tests/doctest_config.h"
#include "tests/golden/optim_golden.h"

namespace descent {
namespace {

float FromBits(uint32_t u) {
  float f;
  memcpy(&f, &u, 4);
  return f;
}

// Distance in units in the last place between two finite floats.
int64_t UlpDistance(float a, float b) {
  auto key = [](float f) {
    int32_t i;
    memcpy(&i, &f, 4);
    return i < 0 ? int64_t{INT32_MIN} - i : int64_t{i};
  };
  return std::llabs(key(a) - key(b));
}

cli::OptimizerConfig ConfigFor(const golden::OptimCase& c) {
  cli::OptimizerConfig config;
  REQUIRE(cli::Preset(c.preset, &config));
  for (const golden::Hyperparameter& h : c.hp) {
    if (!h.name) break;
    bool found = false;
    std::visit([&](auto& hp) {
      std::decay_t<decltype(hp)>::Reflect(hp, [&](const char* name, auto& value) {
        if (strcmp(name, h.name) != 0) return;
        found = true;
        value = static_cast<std::decay_t<decltype(value)>>(h.value);
      });
    }, config.rule);
    REQUIRE_MESSAGE(found, c.name, ": no hyperparameter ", h.name);
  }
  return config;
}

TEST_CASE("optim: every rule follows torch.optim's trajectory bit for bit") {
  constexpr size_t kN = golden::kOptimN;
  for (const golden::OptimCase& c : golden::kOptimCases) {
    CAPTURE(c.name);
    const cli::OptimizerConfig config = ConfigFor(c);
    std::visit([&](const auto& hp) {
      static Optimizer<std::decay_t<decltype(hp)>, kN> opt;
      opt.reset(hp);
      float params[kN], grads[kN];
      for (size_t i = 0; i < kN; ++i) params[i] = FromBits(golden::kOptimInit[i]);
      int64_t worst = 0;
      for (int t = 0; t < golden::kOptimSteps; ++t) {
        for (size_t i = 0; i < kN; ++i) grads[i] = FromBits(golden::kOptimGrads[t * kN + i]);
        REQUIRE(opt.step(params, grads) == Status::kOk);
        for (size_t i = 0; i < kN; ++i) {
          const float expected = FromBits(c.trajectory[t * kN + i]);
          REQUIRE(std::isfinite(params[i]));
          worst = std::max(worst, UlpDistance(params[i], expected));
        }
      }
      CHECK_MESSAGE(worst == 0, c.name, ": largest difference from torch ", worst, " ulp");
    }, config.rule);
  }
}

TEST_CASE("optim: invalid hyperparameters are rejected like torch rejects them") {
  float p[4] = {1, 2, 3, 4}, g[4] = {1, 1, 1, 1};
  const float before[4] = {1, 2, 3, 4};
  auto rejects = [&](auto hp) {
    Optimizer<decltype(hp), 4> opt{hp};
    CHECK(opt.status() == Status::kInvalidArgument);
    CHECK(InvalidReason(hp) != nullptr);
    CHECK(opt.step(p, g) == Status::kInvalidArgument);
    CHECK(memcmp(p, before, sizeof(p)) == 0);
    CHECK(opt.clock().step == 0);
  };
  Sgd sgd;
  sgd.lr = -1;
  rejects(sgd);
  sgd = Sgd();
  sgd.nesterov = true;  // needs momentum > 0
  rejects(sgd);
  sgd.momentum = 0.9;
  sgd.dampening = 0.1;  // and zero dampening
  rejects(sgd);
  Adam adam;
  adam.beta1 = 1.0;
  rejects(adam);
  adam = Adam();
  adam.eps = -1e-8;
  rejects(adam);
  adam = Adam();
  adam.lr = std::nan("");
  rejects(adam);
  AdamW adamw;
  adamw.beta2 = -0.1;
  rejects(adamw);
  Adagrad adagrad;
  adagrad.initial_accumulator_value = -1;
  rejects(adagrad);
  Adadelta adadelta;
  adadelta.rho = 1.5;
  rejects(adadelta);
  RmsProp rmsprop;
  rmsprop.alpha = -0.5;
  rejects(rmsprop);
  NAdam nadam;
  nadam.momentum_decay = -1;
  rejects(nadam);
  Adamax adamax;
  adamax.weight_decay = -1;
  rejects(adamax);
  RAdam radam;
  radam.beta1 = 1.2;
  rejects(radam);
  // Edges torch accepts.
  Adadelta rho_one;
  rho_one.rho = 1.0;
  CHECK(InvalidReason(rho_one) == nullptr);
  Sgd zero_lr;
  zero_lr.lr = 0.0;
  CHECK(InvalidReason(zero_lr) == nullptr);
}

TEST_CASE("optim: torch's defaults") {
  CHECK(Sgd().lr == 1e-3);
  CHECK(Adagrad().lr == 1e-2);
  CHECK(Adagrad().eps == 1e-10);
  CHECK(Adadelta().lr == 1.0);
  CHECK(Adadelta().rho == 0.9);
  CHECK(Adadelta().eps == 1e-6);
  CHECK(RmsProp().lr == 1e-2);
  CHECK(RmsProp().alpha == 0.99);
  CHECK(Adam().lr == 1e-3);
  CHECK(Adam().beta2 == 0.999);
  CHECK(AdamW().weight_decay == 1e-2);
  CHECK(Adamax().lr == 2e-3);
  CHECK(NAdam().lr == 2e-3);
  CHECK(NAdam().momentum_decay == 4e-3);
  CHECK(RAdam().lr == 1e-3);
}

TEST_CASE("optim: state is sized at compile time and starts at zero") {
  static_assert(sizeof(Optimizer<Adam, 1037>) >= 3 * 1037 * sizeof(float));
  static_assert(sizeof(Optimizer<Sgd, 1037>) < 2 * 1037 * sizeof(float));
  static Optimizer<Adam, 1037> opt{Adam()};
  for (size_t k = 0; k < 3; ++k)
    for (size_t i = 0; i < 1037; ++i) REQUIRE(opt.slot(k)[i] == 0.0f);
  // Any alignment: params and grads offset by one float.
  static float p[1038], g[1038];
  for (size_t i = 0; i < 1038; ++i) p[i] = 1.0f, g[i] = 0.5f;
  REQUIRE(opt.step(p + 1, g + 1) == Status::kOk);
  CHECK(p[0] == 1.0f);  // untouched outside the array
  CHECK(p[1] < 1.0f);
  CHECK(opt.clock().step == 1);
  opt.reset();
  CHECK(opt.clock().step == 0);
  CHECK(opt.slot(0)[5] == 0.0f);
}

TEST_CASE("optim: Adam minimises a quadratic") {
  // f(x) = sum (x_i - i)^2; a convergence check independent of torch.
  constexpr size_t kN = 19;
  Adam hp;
  hp.lr = 0.05;
  static Optimizer<Adam, kN> opt{hp};
  float x[kN] = {}, g[kN];
  for (int step = 0; step < 2000; ++step) {
    for (size_t i = 0; i < kN; ++i) g[i] = 2.0f * (x[i] - static_cast<float>(i));
    REQUIRE(opt.step(x, g) == Status::kOk);
  }
  for (size_t i = 0; i < kN; ++i) CHECK(x[i] == doctest::Approx(static_cast<double>(i)).epsilon(1e-3));
}

}  // namespace
}  // namespace descent
