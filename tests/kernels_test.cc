// Every kernel on every instruction set this machine runs, against the scalar
// reference, bit for bit; then whole training runs per instruction set.
#include <string.h>

#include <cmath>
#include <initializer_list>
#include <string>
#include <vector>

#include "descent/backend.h"
#include "descent/descent.h"
#include "src/kernels/kernels.h"
#include "src/host/thread_pool.h"
#include "src/kernels/scalar_math.h"
#include "tests/doctest_config.h"
#include "tests/isa_util.h"

namespace descent {
namespace {

using kernels::Kernels;

std::vector<float> Random(size_t n, uint64_t seed, float scale = 1.0f) {
  Rng rng(seed);
  std::vector<float> v(n);
  for (float& x : v) x = scale * (2.0f * rng.Uniform01() - 1.0f);
  return v;
}

TEST_CASE("kernels: the backend reports its instruction sets") {
  const char* names[32];
  REQUIRE(CompiledIsas(names, 32) >= 1);
  REQUIRE(SupportedIsas(names, 32) >= 1);
  CHECK(std::string(names[0]) == ActiveIsa());  // the best one is the default
  CHECK(SelectIsa("no-such-isa") == Status::kUnsupported);
  CHECK(SelectIsa("scalar") == Status::kOk);
  CHECK(std::string(ActiveIsa()) == "scalar");
  REQUIRE(SelectIsa(names[0]) == Status::kOk);
}

TEST_CASE("kernels: matrix products match the reference on every ISA") {
  // Shapes: odd sizes everywhere; narrow outputs (one and two vectors of columns on AVX-512) over
  // many rows: whole tiles, then a shorter one for the rows left.
  struct Shape {
    size_t rows, in, out;
  };
  for (const Shape shape : {Shape{7, 19, 23}, Shape{61, 19, 10}, Shape{50, 33, 30}, Shape{29, 5, 3}}) {
  CAPTURE(shape.rows);
  CAPTURE(shape.out);
  const Kernels& ref = kernels::ScalarKernels();
  const size_t rows = shape.rows, in = shape.in, out = shape.out, xs = Padded(in), ys = Padded(out);
  std::vector<float> x = Random(rows * xs, 1);
  const std::vector<float> w = Random(out * in, 2), b = Random(out, 3);
  for (size_t k = 0; k < x.size(); k += 3) x[k] = (k % 2) ? 0.0f : -0.0f;  // zeros for the skipping paths
  const std::vector<float> dy = Random(rows * ys, 4), act = Random(rows * xs, 5);
  std::vector<float> wt((in + 1) * ys, 0.0f), wp(out * xs, 0.0f);
  for (size_t o = 0; o < out; ++o) {  // the layouts src/core/layers/linear.cc prepares
    for (size_t i = 0; i < in; ++i) wt[i * ys + o] = wp[o * xs + i] = w[o * in + i];
    wt[in * ys + o] = b[o];
  }
  auto run = [&](const Kernels& k, std::vector<float>* y, std::vector<float>* y_relu, std::vector<float>* dx,
                 std::vector<float>* dw, std::vector<float>* db, std::vector<float>* dwt, bool sparse) {
    y->assign(rows * ys, 0.0f), y_relu->assign(rows * ys, 0.0f), dx->assign(rows * xs, 0.0f);
    dw->assign(out * in + 1, 7.0f), db->assign(out + 1, 7.0f);  // one sentinel past the end
    dwt->assign(in * ys, 0.0f);
    k.linear_forward(x.data(), xs, wt.data(), ys, y->data(), ys, rows, in, out, false, sparse);
    k.linear_forward(x.data(), xs, wt.data(), ys, y_relu->data(), ys, rows, in, out, true, sparse);
    k.linear_backward_input(dy.data(), ys, wp.data(), xs, act.data(), xs, dx->data(), xs, rows, in, out);
    k.linear_backward_params(dy.data(), ys, x.data(), xs, dw->data(), db->data(), rows, in, out);
    k.linear_backward_params_t(x.data(), xs, dy.data(), ys, dwt->data(), ys, rows, in, out);
  };
  std::vector<float> y0, r0, dx0, dw0, db0, dwt0;
  run(ref, &y0, &r0, &dx0, &dw0, &db0, &dwt0, false);
  for (size_t o = 0; o < out; ++o)
    for (size_t i = 0; i < in; ++i) REQUIRE(dwt0[i * ys + o] == dw0[o * in + i]);  // the same sums, transposed
  CHECK(dw0.back() == 7.0f);
  CHECK(db0.back() == 7.0f);
  // The reference itself: one element by hand.
  float acc = 0;
  const size_t o = out > 5 ? 5 : out - 1;
  for (size_t i = 0; i < in; ++i) acc = std::fma(x[2 * xs + i], w[o * in + i], acc);
  CHECK(y0[2 * ys + o] == acc + b[o]);
  ForEachIsa([&](const Kernels& k) {
    for (bool sparse : {false, true}) {
      CAPTURE(sparse);
      std::vector<float> y, r, dx, dw, db, dwt;
      run(k, &y, &r, &dx, &dw, &db, &dwt, sparse);
      for (size_t row = 0; row < rows; ++row) {
        CHECK(memcmp(&y[row * ys], &y0[row * ys], out * 4) == 0);
        CHECK(memcmp(&r[row * ys], &r0[row * ys], out * 4) == 0);
        CHECK(memcmp(&dx[row * xs], &dx0[row * xs], in * 4) == 0);
      }
      for (size_t i = 0; i < in; ++i) CHECK(memcmp(&dwt[i * ys], &dwt0[i * ys], out * 4) == 0);
      CHECK(SameBits(dw, dw0));
      CHECK(SameBits(db, db0));
    }
  });
  }
}

TEST_CASE("kernels: matmul (the convolutions' products) matches the reference on every ISA") {
  // Row strides as the convolutions use them: A read along rows or down columns, c's rows exactly
  // n floats (the last vector stored lane by lane), chains continued over calls (accumulate).
  struct Shape {
    size_t M, n, K;
  };
  for (const Shape shape : {Shape{6, 784, 25}, Shape{16, 37, 150}, Shape{1, 9, 100}, Shape{25, 19, 6}, Shape{7, 3, 1}}) {
    CAPTURE(shape.M);
    CAPTURE(shape.n);
    const size_t M = shape.M, n = shape.n, K = shape.K, ldb = Padded(n);
    const std::vector<float> a = Random(M * K, 11), b = Random(K * ldb, 12), bias = Random(M, 13);
    auto run = [&](const Kernels& k) {
      std::vector<float> c(M * n + 1, 7.0f), t(M * n + 1, 7.0f), acc(M * n + 1, 0.0f);  // a sentinel past the end
      k.matmul(a.data(), K, 1, b.data(), ldb, c.data(), n, M, n, K, bias.data(), false, true);
      k.matmul(a.data(), 1, M, b.data(), ldb, t.data(), n, M, n, K, nullptr, false, false);  // A transposed in place
      for (size_t half = 0; half < 2; ++half)  // one chain over K, in two calls
        k.matmul(a.data() + half * (K / 2), K, 1, b.data() + half * (K / 2) * ldb, ldb, acc.data(), n, M, n,
                 half ? K - K / 2 : K / 2, nullptr, half > 0, false);
      return std::vector<std::vector<float>>{c, t, acc};
    };
    const std::vector<std::vector<float>> ref = run(kernels::ScalarKernels());
    for (const auto& v : ref) CHECK(v.back() == (&v == &ref[2] ? 0.0f : 7.0f));
    // The reference by hand: one element, relu(chain + bias), and the split chain equals the whole one.
    float whole = 0;
    for (size_t k = 0; k < K; ++k) whole = std::fma(a[(M - 1) * K + k], b[k * ldb + n - 1], whole);
    CHECK(ref[0][(M - 1) * n + n - 1] == std::max(0.0f, whole + bias[M - 1]));
    CHECK(ref[2][(M - 1) * n + n - 1] == whole);
    ForEachIsa([&](const Kernels& k) {
      const std::vector<std::vector<float>> got = run(k);
      for (size_t v = 0; v < got.size(); ++v) CHECK(SameBits(got[v], ref[v]));
    });
  }
}

TEST_CASE("kernels: zero-skipping products equal the dense reference at every density") {
  // Shapes past every edge of the sparse paths: sums over several 64-bit words and
  // 32-term blocks, rows in groups of 16, spans of 64 and tiles, the rows left over;
  // column vectors in chunks of 8 and a remainder; sums too long for the bit rows.
  const Kernels& ref = kernels::ScalarKernels();
  struct Shape {
    size_t rows, in, out;
  };
  for (const Shape shape : {Shape{37, 150, 100}, Shape{21, 784, 23}, Shape{9, 1100, 10}, Shape{130, 70, 17}}) {
    const size_t rows = shape.rows, in = shape.in, out = shape.out, xs = Padded(in), ys = Padded(out);
    CAPTURE(in);
    const std::vector<float> wt = Random((in + 1) * ys, 11), dy = Random(rows * ys, 13);
    for (double density : {0.02, 0.2, 0.6, 1.0}) {
      CAPTURE(density);
      Rng rng(12, 0, 0);
      std::vector<float> x(rows * xs, 0.0f);
      for (size_t r = 0; r < rows; ++r) {
        // Rows of different fill, so tiles mix sparse and dense rows; signed zeros and subnormals.
        const double fill = r % 5 == 4 ? 1.0 : density;
        for (size_t i = 0; i < in; ++i) {
          const double u = rng.Uniform01();
          x[r * xs + i] = u < fill ? 2.0f * rng.Uniform01() - 1.0f : (i % 2 ? -0.0f : 0.0f);
        }
        x[r * xs + (r * 7) % in] = 1e-40f;
      }
      // The forward product (rows of x read along) and the transposed weight gradient
      // dW^T = X^T dY (x read across its rows).
      std::vector<float> y0(rows * ys, 0.0f), dwt0(in * ys, 0.0f);
      ref.linear_forward(x.data(), xs, wt.data(), ys, y0.data(), ys, rows, in, out, true, false);
      ref.linear_backward_params_t(x.data(), xs, dy.data(), ys, dwt0.data(), ys, rows, in, out);
      ForEachIsa([&](const Kernels& k) {
        std::vector<float> y(rows * ys, 0.0f), dwt(in * ys, 0.0f);
        k.linear_forward(x.data(), xs, wt.data(), ys, y.data(), ys, rows, in, out, true, true);
        k.linear_backward_params_t(x.data(), xs, dy.data(), ys, dwt.data(), ys, rows, in, out);
        for (size_t r = 0; r < rows; ++r) CHECK(memcmp(&y[r * ys], &y0[r * ys], out * 4) == 0);
        for (size_t i = 0; i < in; ++i) CHECK(memcmp(&dwt[i * ys], &dwt0[i * ys], out * 4) == 0);
      });
    }
  }
}

TEST_CASE("kernels: log-softmax + NLL matches the reference, extreme logits included") {
  const Kernels& ref = kernels::ScalarKernels();
  const size_t rows = 13, classes = 10, stride = 16;
  std::vector<float> z = Random(rows * stride, 9, 5.0f);
  z[3 * stride + 2] = 95.0f;   // exp overflow territory before the max is subtracted
  z[4 * stride + 7] = -150.0f; // underflows to 0
  z[5 * stride + 0] = 1e-30f;
  std::vector<uint8_t> labels(rows);
  for (size_t r = 0; r < rows; ++r) labels[r] = static_cast<uint8_t>((r * 7) % classes);
  std::vector<float> loss0(rows), dz0(rows * stride, 0.0f);
  ref.log_softmax_nll(z.data(), stride, labels.data(), rows, classes, 256, loss0.data(), dz0.data());
  for (size_t r = 0; r < rows; ++r) {
    double sum = 0, max = -1e30;
    for (size_t j = 0; j < classes; ++j) max = std::max(max, double{z[r * stride + j]});
    for (size_t j = 0; j < classes; ++j) sum += std::exp(z[r * stride + j] - max);
    const double expected = -(z[r * stride + labels[r]] - max - std::log(sum));
    CHECK(loss0[r] == doctest::Approx(expected).epsilon(1e-6));
  }
  ForEachIsa([&](const Kernels& k) {
    std::vector<float> loss(rows), dz(rows * stride, 0.0f);
    k.log_softmax_nll(z.data(), stride, labels.data(), rows, classes, 256, loss.data(), dz.data());
    CHECK(SameBits(loss, loss0));
    CHECK(SameBits(dz, dz0));
  });
}

TEST_CASE("kernels: exp and log are accurate to 2 ulp") {
  for (float x = -87.0f; x < 88.0f; x += 0.0137f) {
    const double e = std::exp(double{x});
    REQUIRE(std::fabs(math::Exp(x) - e) <= 2.5e-7 * e);
  }
  for (float x = 1e-30f; x < 1e30f; x *= 1.0731f) {
    const double l = std::log(double{x});
    REQUIRE(std::fabs(math::Log(x) - l) <= 2.5e-7 * std::max(1.0, std::fabs(l)));
  }
  CHECK(math::Exp(-200.0f) == 0.0f);
  CHECK(std::isnan(math::Exp(std::nanf(""))));
  CHECK(std::isinf(math::Log(0.0f)));
  CHECK(std::isnan(math::Log(-1.0f)));
  CHECK(math::Log(1.0f) == 0.0f);
}

TEST_CASE("kernels: every optimizer update matches the reference on every ISA") {
  const size_t n = 37;
  const std::vector<float> p0 = Random(n, 11), g = Random(n, 12), s1 = Random(n, 13), s2 = Random(n, 14);
  std::vector<float> positive(n);
  for (size_t i = 0; i < n; ++i) positive[i] = std::fabs(s2[i]) + 0.01f;
  // Runs `update(k, p, a, b, c)` on copies of the state and returns everything it wrote.
  auto state_after = [&](const Kernels& k, const auto& update) {
    std::vector<float> p = p0, a = s1, b = positive, c = positive;
    update(k, p.data(), a.data(), b.data(), c.data());
    p.insert(p.end(), a.begin(), a.end());
    p.insert(p.end(), b.begin(), b.end());
    p.insert(p.end(), c.begin(), c.end());
    return p;
  };
  // One update of the n elements with the table's kernel for Rule.
  auto update_with = [&](auto rule, const Kernels& k, const auto& scalars, float* p, std::initializer_list<float*> slots) {
    std::vector<float*> s(slots);
    k.update<decltype(rule)>()(scalars, p, g.data(), s.data(), n);
  };
  auto check_all = [&](const char* what, const auto& update) {
    CAPTURE(std::string(what));
    const std::vector<float> expected = state_after(kernels::ScalarKernels(), update);
    CHECK(!SameBits(expected, state_after(kernels::ScalarKernels(), [](auto&&...) {})));  // it did something
    ForEachIsa([&](const Kernels& k) { CHECK(SameBits(state_after(k, update), expected)); });
  };
  for (int variant = 0; variant < 4; ++variant) {
    const bool x = variant & 1, y = variant & 2;
    Sgd::Scalars sgd{-0.1f, 0.9f, 0.7f, 0.01f, x, true, y, variant == 0};
    check_all("sgd", [&](const Kernels& k, float* p, float* a, float*, float*) { update_with(Sgd{}, k, sgd, p, {a}); });
    Adagrad::Scalars adagrad{-0.1f, 1e-10f, 0.02f, x};
    check_all("adagrad", [&](const Kernels& k, float* p, float*, float* b, float*) { update_with(Adagrad{}, k, adagrad, p, {b}); });
    Adadelta::Scalars adadelta{-1.0f, 0.9f, 0.1f, 1e-6f, 0.03f, x};
    check_all("adadelta", [&](const Kernels& k, float* p, float*, float* b, float* c) { update_with(Adadelta{}, k, adadelta, p, {b, c}); });
    RmsProp::Scalars rms{-0.01f, 0.9f, 0.1f, 1e-8f, 0.5f, 0.01f, x, y, variant >= 1};
    check_all("rmsprop", [&](const Kernels& k, float* p, float* a, float* b, float* c) {
      // centered needs sq >= ga^2: use the positive state for sq, a small ga.
      for (size_t i = 0; i < n; ++i) a[i] *= 0.01f;
      update_with(RmsProp{}, k, rms, p, {b, c, a});
    });
    Adam::Scalars adam{0.9f, 0.1f, 0.999f, 0.001f, -0.01f, 0.3f, 1e-8f, 0.01f, 0.999f, !x && y, x, y};
    check_all("adam", [&](const Kernels& k, float* p, float* a, float* b, float* c) { update_with(Adam{}, k, adam, p, {a, b, c}); });
    Adamax::Scalars adamax{0.9f, 0.1f, 0.999f, 1e-8f, -0.02f, 0.01f, x};
    check_all("adamax", [&](const Kernels& k, float* p, float* a, float* b, float*) { update_with(Adamax{}, k, adamax, p, {a, b}); });
    NAdam::Scalars nadam{0.9f, 0.1f, 0.999f, 0.001f, 0.01f, 1e-8f, -0.01f, -0.02f, 0.01f, x};
    check_all("nadam", [&](const Kernels& k, float* p, float* a, float* b, float*) { update_with(NAdam{}, k, nadam, p, {a, b}); });
    RAdam::Scalars radam{0.9f, 0.1f, 0.999f, 0.001f, 0.5f, 0.01f, 1e-8f, 0.2f, 0.8f, 0.01f, x, y};
    check_all("radam", [&](const Kernels& k, float* p, float* a, float* b, float*) { update_with(RAdam{}, k, radam, p, {a, b}); });
  }
}

TEST_CASE("kernels: whole training runs give the same bits on every ISA") {
  using Net = Mlp<784, 40, 30, 10>;
  static Net net;
  static Workspace<Net, 50> ws;
  static Optimizer<NAdam, Net::kNumParams> opt;
  std::vector<uint8_t> pixels(300 * 784), labels(300);
  Rng rng(5);
  for (uint8_t& b : pixels) b = static_cast<uint8_t>(rng.Next() >> 56);
  for (uint8_t& l : labels) l = static_cast<uint8_t>(rng.Below(10));
  auto train = [&] {
    Init(net, 8);
    opt.reset(NAdam());
    uint32_t order[300];
    std::vector<float> curve;
    for (uint64_t epoch = 0; epoch < 2; ++epoch) {
      EpochOrder(order, 300, 8, epoch, true);
      for (size_t first = 0; first < 300; first += 50) {
        float loss;
        REQUIRE(ws.LoadImages(pixels.data(), labels.data(), order + first, 50) == Status::kOk);
        REQUIRE(TrainStep(net, ws, opt, 50, &loss) == Status::kOk);
        curve.push_back(loss);
      }
    }
    curve.insert(curve.end(), net.params(), net.params() + Net::kNumParams);
    return curve;
  };
  const std::vector<float> expected = OnScalarIsa(train);
  ForEachIsa([&](const Kernels&) { CHECK(SameBits(train(), expected)); });
}

}  // namespace
}  // namespace descent

namespace descent {
namespace {

TEST_CASE("threads: every thread count gives the same bits") {
  using Net = Mlp<784, 64, 32, 10>;
  static Net net;
  static Workspace<Net, 100> ws;
  static Optimizer<RmsProp, Net::kNumParams> opt;
  std::vector<uint8_t> pixels(350 * 784), labels(350);
  Rng rng(6);
  for (uint8_t& b : pixels) b = static_cast<uint8_t>(rng.Next() >> 58 == 0 ? rng.Next() >> 56 : 0);  // sparse
  for (uint8_t& l : labels) l = static_cast<uint8_t>(rng.Below(10));
  RmsProp hp;
  hp.centered = true;
  hp.momentum = 0.5;
  auto train = [&](size_t threads) {
    host::ThreadPool pool(threads);
    const ParallelFor pf = pool.parallel_for();
    Init(net, 3);
    opt.reset(hp);
    uint32_t order[350];
    for (uint64_t epoch = 0; epoch < 2; ++epoch) {
      EpochOrder(order, 350, 3, epoch, true);
      for (size_t first = 0; first < 350; first += 100) {
        const size_t rows = std::min<size_t>(100, 350 - first);
        float loss;
        REQUIRE(ws.LoadImages(pixels.data(), labels.data(), order + first, rows, pf) == Status::kOk);
        REQUIRE(TrainStep(net, ws, opt, rows, &loss, pf) == Status::kOk);
      }
    }
    return std::vector<float>(net.params(), net.params() + Net::kNumParams);
  };
  const std::vector<float> one = train(1);
  for (size_t threads : {2, 3, 5}) {
    CAPTURE(threads);
    CHECK(SameBits(train(threads), one));
  }
}

}  // namespace
}  // namespace descent
