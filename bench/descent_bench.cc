// descent-bench: training throughput, optimizer-update bandwidth and memory,
// each printed next to the baselines it is compared with, all measured in the
// same run (this machine is shared and noisy: ratios, not absolute numbers).
//
//   build/bench/descent-bench [--quick] [--out DIR] [--data DIR] [--fashion DIR]
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <limits.h>
#include <link.h>
#include <dlfcn.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "descent/backend.h"
#include "descent/descent.h"
#include "src/cli/optimizers.h"
#include "src/host/dataset.h"
#include "src/host/files.h"
#include "src/host/thread_pool.h"
#include "src/kernels/kernels.h"
#if DESCENT_BENCH_TORCH
#include "bench/torch_baseline.h"
#endif

#ifndef DESCENT_DATA_DIR
#define DESCENT_DATA_DIR "data"
#endif

namespace descent_bench {
double FmaLoop(size_t iterations, float* sink);  // fma_peak.cc
}

namespace descent {
namespace {

using Net = Mlp<784, 100, 100, 10>;
constexpr size_t kBatch = 256;
using Ws = Workspace<Net, kBatch>;
Net g_net;
Ws g_ws;

double Now() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

double MedianOf(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

template <class F>
double Median(int reps, const F& measure) {
  std::vector<double> v;
  for (int i = 0; i < reps; ++i) v.push_back(measure());
  return MedianOf(v);
}

// a and b measured alternately, `rounds` times: the median of each and of b / a
// per round. A busy neighbour slows both sides of a round alike, so the ratio of
// a round is steadier than the ratio of two medians taken minutes apart.
struct Pair {
  double a, b, ratio;
};
template <class A, class B>
Pair Interleaved(int rounds, const A& a, const B& b) {
  std::vector<double> va, vb, vr;
  for (int i = 0; i < rounds; ++i) {
    va.push_back(a());
    vb.push_back(b());
    vr.push_back(vb.back() / va.back());
  }
  return {MedianOf(va), MedianOf(vb), MedianOf(vr)};
}

// FLOPs of one training sample: forward, weight gradients, input gradients
// (not for the first layer), two per multiply-add.
constexpr double FlopsPerSample() {
  double f = 0;
  for (size_t l = 0; l < Net::kNumLayers; ++l) {
    const double mac = static_cast<double>(Net::sizes()[l] * Net::sizes()[l + 1]);
    f += 2 * mac * (l == 0 ? 2 : 3);
  }
  return f;
}

// Output: a readable table on stdout and one CSV row per figure.
struct Report {
  std::string csv = "section,name,threads,n,value,unit,baseline,ratio\n";
  void Row(const std::string& section, const std::string& name, size_t threads, size_t n, double value,
           const char* unit, const std::string& baseline = "", double ratio = 0) {
    char line[512];
    snprintf(line, sizeof(line), "%s,%s,%zu,%zu,%.6g,%s,%s,%.4g\n", section.c_str(), name.c_str(), threads, n, value,
             unit, baseline.c_str(), ratio);
    csv += line;
  }
};

// ---- FMA peak ------------------------------------------------------------

double PeakGflops(size_t threads) {
  const size_t iterations = 20000000;
  return Median(5, [&] {
    std::vector<std::thread> pool;
    std::vector<float> sinks(threads);
    const double start = Now();
    for (size_t t = 0; t < threads; ++t)
      pool.emplace_back([&, t] { descent_bench::FmaLoop(iterations, &sinks[t]); });
    for (auto& th : pool) th.join();
    const double seconds = Now() - start;
    float sink = 0;
    return descent_bench::FmaLoop(1, &sink) / 2 * 2 * static_cast<double>(iterations) * static_cast<double>(threads) /
           seconds / 1e9;
  });
}

// ---- training --------------------------------------------------------------

struct TrainFigures {
  double samples_per_second;
  uint64_t hash;
};

template <class Rule, class W = Ws>
TrainFigures Train(const Rule& hp, const host::Dataset& data, size_t epochs, const ParallelFor& pf, W& ws = g_ws) {
  constexpr size_t batch = W::kMaxRows;
  static Optimizer<Rule, Net::kNumParams> opt;
  opt.reset(hp);
  Init(g_net, 0);
  std::vector<uint32_t> order(data.count);
  const double start = Now();
  for (size_t e = 0; e < epochs; ++e) {
    EpochOrder(order.data(), data.count, 0, e, true);
    for (size_t first = 0; first < data.count; first += batch) {
      const size_t rows = std::min(batch, data.count - first);
      float loss;
      if (ws.LoadImages(data.pixels.data(), data.labels.data(), order.data() + first, rows, pf) != Status::kOk ||
          TrainStep(g_net, ws, opt, rows, &loss, pf) != Status::kOk) {
        fprintf(stderr, "descent-bench: training failed\n");
        exit(1);
      }
    }
  }
  const double seconds = Now() - start;
  return {static_cast<double>(data.count * epochs) / seconds,
          host::Fnv1a64(g_net.params(), sizeof(float) * Net::kNumParams)};
}

// 1 and 2 threads in interleaved rounds; exits if their weights differ.
template <class Rule, class W = Ws>
Pair TrainOneTwo(const Rule& hp, const host::Dataset& data, size_t epochs, int rounds, host::ThreadPool& pool2,
                 const char* what, W& ws = g_ws) {
  uint64_t hash1 = 0, hash2 = 0;
  const Pair p = Interleaved(
      rounds, [&] { auto f = Train(hp, data, epochs, ParallelFor(), ws); hash1 = f.hash; return f.samples_per_second; },
      [&] { auto f = Train(hp, data, epochs, pool2.parallel_for(), ws); hash2 = f.hash; return f.samples_per_second; });
  if (hash1 != hash2) {
    fprintf(stderr, "descent-bench: 1 and 2 threads gave different weights for %s\n", what);
    exit(1);
  }
  return p;
}

// ---- convolutions ----------------------------------------------------------

// LeNet-5 as the README trains it on Fashion-MNIST, on the bundled digits here.
using LeNet = Sequential<Input<1, 28, 28>, Conv2d<6, 5, 1, 2>, Relu, MaxPool2d<2>, Conv2d<16, 5>, Relu, MaxPool2d<2>,
                         Flatten, Linear<120>, Relu, Linear<84>, Relu, Linear<10>, CrossEntropy>;
constexpr size_t kLeNetBatch = 64;

// FLOPs of one LeNet-5 training sample: forward, weight gradients, input gradients (not for the
// first layer), two per multiply-add of each convolution and Linear layer.
constexpr double LeNetFlopsPerSample() {
  double f = 0;
  for (size_t l = 0; l < LeNet::kLayout.num_layers; ++l) {
    const Layer& d = LeNet::kLayout.layers[l];
    if (!d.has_params()) continue;
    const double mac = static_cast<double>(d.out * d.fan_in());
    f += 2 * mac * (l == 0 ? 2 : 3);
  }
  return f;
}

TrainFigures TrainLeNet(const host::Dataset& data, size_t epochs, const ParallelFor& pf) {
  static LeNet net;
  static Workspace<LeNet, kLeNetBatch, FastPlan> ws;
  static Optimizer<Adam, LeNet::kNumTrainable, 2> opt;
  opt.reset(Adam());
  Init(net, 0);
  const double start = Now();
  for (size_t e = 0; e < epochs; ++e)
    for (size_t first = 0; first < data.count; first += kLeNetBatch) {
      const size_t rows = std::min(kLeNetBatch, data.count - first);
      float loss;
      if (ws.LoadImages(data.pixels.data() + first * 784, data.labels.data() + first, nullptr, rows, pf) != Status::kOk ||
          TrainStep(net, ws, opt, rows, &loss, pf) != Status::kOk) {
        fprintf(stderr, "descent-bench: LeNet training failed\n");
        exit(1);
      }
    }
  return {static_cast<double>(data.count * epochs) / (Now() - start),
          host::Fnv1a64(net.params(), sizeof(float) * LeNet::kNumTrainable)};
}

// LeNet-5 training on 1 and 2 threads (the same weights), as a fraction of the FMA peak, and against
// libtorch when it is built in: interleaved rounds.
void BenchCnn(Report& report, const host::Dataset& data, double peak1, int rounds) {
  host::ThreadPool pool2(2);
  uint64_t hash1 = 0, hash2 = 0;
  const Pair p = Interleaved(
      rounds, [&] { auto f = TrainLeNet(data, 1, ParallelFor()); hash1 = f.hash; return f.samples_per_second; },
      [&] { auto f = TrainLeNet(data, 1, pool2.parallel_for()); hash2 = f.hash; return f.samples_per_second; });
  const double gflops = p.a * LeNetFlopsPerSample() / 1e9;
  printf("\n## LeNet-5 (Adam, batch %zu, mnist-8k, 1 epoch, %.2f MFLOP per training sample), %d interleaved rounds\n",
         kLeNetBatch, LeNetFlopsPerSample() / 1e6, rounds);
  printf("1 thread %.0f samples/s (%.1f GFLOP/s, %.1f%% of the FMA peak)   2 threads %.0f samples/s (%.2fx)   "
         "same weights: %s\n", p.a, gflops, 100 * gflops / peak1, p.b, p.ratio, hash1 == hash2 ? "yes" : "NO");
  report.Row("cnn", "lenet_train", 1, data.count, p.a, "samples/s", "fma_peak", gflops / peak1);
  report.Row("cnn", "lenet_train", 2, data.count, p.b, "samples/s", "1_thread", p.ratio);
  if (hash1 != hash2) {
    fprintf(stderr, "descent-bench: LeNet on 1 and 2 threads gave different weights\n");
    exit(1);
  }
#if DESCENT_BENCH_TORCH
  double loss = 0;
  const Pair t = Interleaved(
      rounds,
      [&] { return descent_bench::TorchLeNetSamplesPerSecond(data.pixels.data(), data.labels.data(), data.count, 1, &loss); },
      [&] { return TrainLeNet(data, 1, ParallelFor()).samples_per_second; });
  printf("against libtorch 1.13 (1 thread, the same net, batch and data): descent %.0f samples/s   libtorch %.0f   "
         "ratio %.2fx (per round)\n", t.b, t.a, t.ratio);
  report.Row("cnn", "lenet_libtorch", 1, data.count, t.a, "samples/s");
  report.Row("cnn", "lenet_descent_vs_libtorch", 1, data.count, t.ratio, "x", "libtorch", t.ratio);
#endif
}

void BenchTraining(Report& report, const host::Dataset& data, const std::string& name, size_t epochs, double peak1,
                   int reps, bool all_optimizers) {
  printf("\n## Training, batch %zu, %s (%zu samples, %zu epoch%s), 1 and 2 threads in %d interleaved rounds: medians\n",
         kBatch, name.c_str(), data.count, epochs, epochs == 1 ? "" : "s", reps);
  printf("%-10s %8s %14s %10s %12s %11s\n", "optimizer", "threads", "samples/s", "ms/epoch", "dense/peak",
         "vs 1 thread");
  host::ThreadPool pool2(2);
  const std::vector<std::string> names =
      all_optimizers ? cli::PresetNames() : std::vector<std::string>{"adam"};
  for (const std::string& optimizer : names) {
    cli::OptimizerConfig config;
    cli::NotebookPreset(optimizer, &config);
    std::visit([&](const auto& hp) {
      const Pair p = TrainOneTwo(hp, data, epochs, reps, pool2, optimizer.c_str());
      for (size_t threads : {1, 2}) {
        const double sps = threads == 1 ? p.a : p.b;
        const double pct = 100.0 * sps * FlopsPerSample() / 1e9 / (peak1 * static_cast<double>(threads));
        printf("%-10s %8zu %14.0f %10.1f %11.1f%% %10.2fx\n", optimizer.c_str(), threads, sps,
               1e3 * static_cast<double>(data.count) / sps, pct, threads == 1 ? 1.0 : p.ratio);
        report.Row("train_" + name, optimizer, threads, data.count, sps, "samples/s", "fma_peak", pct / 100);
      }
      report.Row("train_" + name, optimizer + "_scaling", 2, data.count, p.ratio, "x", "1 thread", p.ratio);
    }, config.rule);
  }
}

// Two-thread scaling of Adam training at three batch sizes (same weights on 1 and 2 threads).
Workspace<Net, 64> g_ws64;
Workspace<Net, 1024> g_ws1024;

void BenchScaling(Report& report, const host::Dataset& data, int rounds) {
  printf("\n## Two-thread scaling, Adam, mnist-8k, 3 epochs, %d interleaved rounds: medians\n", rounds);
  printf("%-8s %16s %16s %20s\n", "batch", "1 thread /s", "2 threads /s", "scaling (per round)");
  host::ThreadPool pool2(2);
  auto row = [&](size_t batch, const Pair& p) {
    printf("%-8zu %16.0f %16.0f %19.2fx\n", batch, p.a, p.b, p.ratio);
    report.Row("scaling", "adam_batch_" + std::to_string(batch), 2, data.count, p.ratio, "x", "1 thread", p.ratio);
  };
  row(64, TrainOneTwo(Adam(), data, 3, rounds, pool2, "batch 64", g_ws64));
  row(256, TrainOneTwo(Adam(), data, 3, rounds, pool2, "batch 256", g_ws));
  row(1024, TrainOneTwo(Adam(), data, 3, rounds, pool2, "batch 1024", g_ws1024));
}

// ---- where a step's time goes ---------------------------------------------

// One batch-256 Adam step taken apart, 1 and 2 threads: loading the batch, the forward pass,
// forward + loss + backward (the backward is the difference), the update, and the whole
// step as training runs it (load + TrainStep, finite checks included); each timed over
// `steps` calls, 1 and 2 threads alternating in each of `reps` rounds, then the medians.
// What scales badly is what bounds two-thread training.
void BenchPhases(Report& report, const host::Dataset& data, int reps) {
  constexpr int steps = 40;
  static Optimizer<Adam, Net::kNumParams> opt;
  std::vector<uint32_t> order(data.count);
  EpochOrder(order.data(), data.count, 0, 0, true);
  printf("\n## Step phases, Adam, batch %zu, mnist-8k: microseconds per step, %d interleaved rounds: medians\n",
         kBatch, reps);
  printf("%-34s %10s %10s %12s\n", "phase", "1 thread", "2 threads", "scaling");
  host::ThreadPool pool2(2);
  const char* names[] = {"load batch (bytes / 256)", "forward", "loss + backward", "update (Adam step)",
                         "whole step (load + TrainStep)", "empty parallel loop (pool)"};
  constexpr int kPhases = 6;
  std::vector<double> times[kPhases][2];
  for (int round = 0; round < reps; ++round) {
    for (size_t t = 0; t < 2; ++t) {
      const ParallelFor pf = t == 0 ? ParallelFor() : pool2.parallel_for();
      Init(g_net, 0);
      opt.reset(Adam());
      float loss;
      auto per_step = [&](auto&& body) {
        const double start = Now();
        for (int s = 0; s < steps; ++s) body(s);
        return (Now() - start) * 1e6 / steps;
      };
      auto load = [&](int s) {
        (void)g_ws.LoadImages(data.pixels.data(), data.labels.data(), order.data() + (s % 31) * kBatch, kBatch, pf);
      };
      times[0][t].push_back(per_step(load));
      const double forward = per_step([&](int) { (void)Forward(g_net, g_ws, kBatch, pf); });
      const double both = per_step([&](int) { (void)ForwardBackward(g_net, g_ws, kBatch, &loss, pf); });
      times[1][t].push_back(forward);
      times[2][t].push_back(both - forward);
      times[3][t].push_back(per_step([&](int) { (void)opt.step(g_net.params(), g_ws.grads(), pf); }));
      times[4][t].push_back(per_step([&](int s) {
        load(s);
        (void)TrainStep(g_net, g_ws, opt, kBatch, &loss, pf);
      }));
      times[5][t].push_back(per_step([&](int) {
        for (int i = 0; i < 100; ++i) pf.For(2, [](size_t) {});
      }) / 100);
    }
  }
  for (int k = 0; k < kPhases; ++k) {
    const double median[2] = {MedianOf(times[k][0]), MedianOf(times[k][1])};
    printf("%-34s %10.1f %10.1f %11.2fx\n", names[k], median[0], median[1], median[0] / median[1]);
    report.Row("phases", names[k], 2, kBatch, median[1], "us", "1 thread", median[0] / median[1]);
  }
  printf("(the weight copies are inside forward and backward; the parameters' finite checks only in the\n"
         " whole step; 'empty parallel loop' is the pool's round trip, its 1-thread column a plain call)\n");
}

// ---- the matrix products against the FMA peak ---------------------------------

// Each product of a training step alone, on the batch-256 shapes of this MLP, as
// a fraction of one core's FMA peak (dense FLOP: 2 x rows x in x out). Layer 0's
// products run twice: on MNIST's pixels (zero pixels skipped, exactly) and on the
// same pixels made dense (+1/512 everywhere), which shows the kernel itself.
void BenchProducts(Report& report, const host::Dataset& data, double peak1, int reps) {
  const kernels::Kernels& k = kernels::ActiveKernels();
  constexpr size_t R = kBatch, I = 784, H = 100, O = 10;
  constexpr size_t PI = Padded(I), PH = Padded(H), PO = Padded(O);
  std::vector<float> x0(R * PI, 0.0f), x0_dense(R * PI, 0.0f), wt0((I + 1) * PH), y0(R * PH), h1(R * PH),
      wt1((H + 1) * PH), wt2((H + 1) * PO), y2(R * PO), dy2(R * PO), dy1(R * PH), wp1(H * PH), wp2(O * PH),
      dx(R * PH), dw(I * H), db(H), dwt0(I * PH);
  size_t nonzero = 0;
  for (size_t r = 0; r < R; ++r) {
    k.scale_pixels(data.pixels.data() + r * I, x0.data() + r * PI, I);
    for (size_t i = 0; i < I; ++i) {
      nonzero += x0[r * PI + i] != 0.0f;
      x0_dense[r * PI + i] = x0[r * PI + i] + 1.0f / 512.0f;
    }
  }
  Rng rng(1, 0, 0);
  for (auto* v : {&wt0, &wt1, &wt2, &dy2, &dy1, &wp1, &wp2})
    for (float& f : *v) f = rng.Uniform01() - 0.5f;
  for (size_t i = 0; i < h1.size(); ++i) h1[i] = rng.Uniform01() < 0.5f ? 0.0f : rng.Uniform01();  // ReLU-like
  struct Product {
    const char* name;
    size_t in, out;
    std::function<void()> run;
  };
  const Product products[] = {
      {"forward L0 784>100, MNIST (skips zeros)", I, H,
       [&] { k.linear_forward(x0.data(), PI, wt0.data(), PH, y0.data(), PH, R, I, H, true, true); }},
      {"forward L0 784>100, dense", I, H,
       [&] { k.linear_forward(x0_dense.data(), PI, wt0.data(), PH, y0.data(), PH, R, I, H, true, true); }},
      {"forward L1 100>100", H, H,
       [&] { k.linear_forward(h1.data(), PH, wt1.data(), PH, y0.data(), PH, R, H, H, true, false); }},
      {"forward L2 100>10", H, O,
       [&] { k.linear_forward(h1.data(), PH, wt2.data(), PO, y2.data(), PO, R, H, O, false, false); }},
      {"input grad L2 10>100", H, O,
       [&] { k.linear_backward_input(dy2.data(), PO, wp2.data(), PH, h1.data(), PH, dx.data(), PH, R, H, O); }},
      {"input grad L1 100>100", H, H,
       [&] { k.linear_backward_input(dy1.data(), PH, wp1.data(), PH, h1.data(), PH, dx.data(), PH, R, H, H); }},
      {"weight grad L2 10x100", H, O,
       [&] { k.linear_backward_params(dy2.data(), PO, h1.data(), PH, dw.data(), db.data(), R, H, O); }},
      {"weight grad L1 100x100", H, H,
       [&] { k.linear_backward_params(dy1.data(), PH, h1.data(), PH, dw.data(), db.data(), R, H, H); }},
      {"weight grad L0 784x100, MNIST (skips)", I, H,
       [&] { k.linear_backward_params_t(x0.data(), PI, dy1.data(), PH, dwt0.data(), PH, R, I, H); }},
      {"weight grad L0 784x100, dense", I, H,
       [&] { k.linear_backward_params_t(x0_dense.data(), PI, dy1.data(), PH, dwt0.data(), PH, R, I, H); }},
  };
  printf("\n## Matrix products, batch %zu, 1 thread, against the FMA peak (%.1f GFLOP/s), median of %d\n", R, peak1,
         reps);
  printf("MNIST batch: %.1f%% of the pixels are non-zero\n", 100.0 * nonzero / (R * I));
  printf("%-40s %10s %12s %10s\n", "product", "us", "GFLOP/s", "of peak");
  for (const Product& p : products) {
    const double flop = 2.0 * R * p.in * p.out;
    const int calls = std::max(5, static_cast<int>(2e8 / flop));
    const double s = Median(reps, [&] {
      const double t = Now();
      for (int c = 0; c < calls; ++c) p.run();
      return (Now() - t) / calls;
    });
    const double gflops = flop / s / 1e9;
    printf("%-40s %10.1f %12.1f %9.1f%%\n", p.name, s * 1e6, gflops, 100.0 * gflops / peak1);
    report.Row("products", p.name, 1, R, gflops, "GFLOP/s", "fma_peak", gflops / peak1);
  }
}

// ---- optimizer updates -----------------------------------------------------

// What a user would write for Adam without thinking about SIMD: the same
// arithmetic as torch in plain C++, compiled with the project's flags.
void PlainAdam(float* p, const float* g, float* m, float* v, size_t n, float b1, float b2, float step, float bc2,
               float eps) {
  for (size_t i = 0; i < n; ++i) {
    m[i] = b1 * m[i] + (1 - b1) * g[i];
    v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
    p[i] -= step * m[i] / (std::sqrt(v[i]) / bc2 + eps);
  }
}

// STREAM triad a = b + s*c: 12 bytes per element.
void Triad(float* a, const float* b, const float* c, size_t n, float s) {
  for (size_t i = 0; i < n; ++i) a[i] = b[i] + s * c[i];
}

// Floats read and written per parameter by each preset's update.
size_t FloatsPerParam(const std::string& name) {
  if (name == "sgd") return 3;  // p, g -> p
  if (name == "momentum" || name == "nesterov" || name == "adagrad" || name == "rmsprop") return 5;
  return 7;  // two state arrays: p, g, s1, s2 -> p, s1, s2
}

void BenchUpdates(Report& report, bool quick) {
  // 4096 fits in L1: the compute floor (two IEEE divisions and a sqrt per Adam parameter).
  const std::vector<size_t> sizes =
      quick ? std::vector<size_t>{89610, 1u << 20, 16u << 20} : std::vector<size_t>{4096, 89610, 1u << 20, 16u << 20};
  host::ThreadPool pool2(2);
  for (size_t n : sizes) {
    const size_t reps = std::max<size_t>(3, (quick ? 50000000 : 400000000) / (n * 28));
    printf("\n## Optimizer update alone, n = %zu parameters, %zu steps per sample, median of 5\n", n, reps);
    std::vector<float> p(n, 0.5f), g(n, 0.01f), s1(n, 0.0f), s2(n, 0.0f), s3(n, 0.0f);
    for (size_t i = 0; i < n; ++i) g[i] = 0.001f * static_cast<float>(i % 97) - 0.05f;
    float* slots[3] = {s1.data(), s2.data(), s3.data()};
    // Baselines over the same bytes as Adam (28 per parameter).
    const double adam_bytes = 28.0 * static_cast<double>(n);
    const size_t triad_n = static_cast<size_t>(adam_bytes / 12);
    std::vector<float> ta(triad_n, 1.0f), tb(triad_n, 2.0f), tc(triad_n, 3.0f);
    const double triad_s = Median(5, [&] {
      const double t = Now();
      for (size_t r = 0; r < reps; ++r) Triad(ta.data(), tb.data(), tc.data(), triad_n, 0.5f + 1e-9f * r);
      return (Now() - t) / static_cast<double>(reps);
    });
    const double triad_gbs = adam_bytes / triad_s / 1e9;
    const double plain_s = Median(5, [&] {
      const double t = Now();
      for (size_t r = 0; r < reps; ++r) PlainAdam(p.data(), g.data(), s1.data(), s2.data(), n, 0.9f, 0.999f, 1e-3f, 0.5f, 1e-8f);
      return (Now() - t) / static_cast<double>(reps);
    });
    const double plain_ns = plain_s * 1e9 / static_cast<double>(n);
    double torch_ns = 0;
#if DESCENT_BENCH_TORCH
    // The MLP's six tensors at its own size, one flat tensor at the others.
    torch_ns = Median(5, [&] { return descent_bench::TorchAdamStepNsPerParam(n == 89610 ? 0 : n, reps); });
#endif
    printf("%-22s %10s %10s %14s %14s\n", "kernel", "ns/param", "GB/s", "vs plain loop", "vs triad GB/s");
    printf("%-22s %10.3f %10.1f %14s %14s\n", "stream triad (same B)", triad_s * 1e9 / static_cast<double>(n), triad_gbs, "", "1.00");
    printf("%-22s %10.3f %10.1f %14s %14.2f\n", "plain C++ adam loop", plain_ns, adam_bytes / plain_s / 1e9, "1.00x",
           adam_bytes / plain_s / 1e9 / triad_gbs);
    report.Row("update", "triad", 1, n, triad_gbs, "GB/s");
    report.Row("update", "plain_adam", 1, n, plain_ns, "ns/param");
    if (torch_ns > 0) {
      printf("%-22s %10.3f %10.1f %14s %14.2f\n", "torch Adam.step()", torch_ns, 28.0 / torch_ns, "",
             28.0 / torch_ns / triad_gbs);
      report.Row("update", "torch_adam_step", 1, n, torch_ns, "ns/param");
    }
    for (const std::string& name : cli::PresetNames()) {
      cli::OptimizerConfig config;
      cli::Preset(name, &config);
      for (size_t threads : {1, 2}) {
        const ParallelFor pf = threads == 1 ? ParallelFor() : pool2.parallel_for();
        const double s = Median(5, [&] {
          StepClock clock;
          const double t = Now();
          std::visit([&](const auto& hp) {
            for (size_t r = 0; r < reps; ++r) (void)internal::Step(hp, clock, p.data(), g.data(), slots, n, pf);
          }, config.rule);
          return (Now() - t) / static_cast<double>(reps);
        });
        const double ns = s * 1e9 / static_cast<double>(n);
        const double gbs = 4.0 * static_cast<double>(FloatsPerParam(name) * n) / s / 1e9;
        char label[64];
        snprintf(label, sizeof(label), "%s%s", name.c_str(), threads == 2 ? " (2 threads)" : "");
        std::string vs_torch;
        if (torch_ns > 0 && name == "adam") {
          char buf[64];
          snprintf(buf, sizeof(buf), "  %.1fx torch's step", torch_ns / ns);
          vs_torch = buf;
          report.Row("update", name + "_vs_torch", threads, n, torch_ns / ns, "x", "torch_adam_step", torch_ns / ns);
        }
        printf("%-22s %10.3f %10.1f %13.2fx %14.2f%s\n", label, ns, gbs, plain_ns / ns, gbs / triad_gbs, vs_torch.c_str());
        report.Row("update", name, threads, n, ns, "ns/param", "plain_adam", plain_ns / ns);
        report.Row("update", name + "_bandwidth", threads, n, gbs, "GB/s", "triad", gbs / triad_gbs);
      }
    }
    // Gradient clipping by norm: one thread, a double sum in fixed order (so it is the same
    // everywhere); here the norm is below max_norm, so this is the reduction alone.
    const size_t sizes_one[1] = {n};
    const double clip_s = Median(5, [&] {
      const double t = Now();
      for (size_t r = 0; r < reps; ++r) (void)ClipGradNorm(g.data(), sizes_one, 1, 1e30);
      return (Now() - t) / static_cast<double>(reps);
    });
    const double clip_ns = clip_s * 1e9 / static_cast<double>(n);
    printf("%-22s %10.3f %10.1f %14s %14.2f\n", "clip_grad_norm (sum)", clip_ns, 4.0 * static_cast<double>(n) / clip_s / 1e9,
           "", 4.0 * static_cast<double>(n) / clip_s / 1e9 / triad_gbs);
    report.Row("update", "clip_grad_norm", 1, n, clip_ns, "ns/param", "plain_adam", plain_ns / clip_ns);
  }
}

// ---- memory ------------------------------------------------------------------

// Peak RSS (KiB) of a fresh process running `argv`: its own VmHWM, polled
// until it exits (ru_maxrss would also count this big process, forked before exec).
long ChildPeakRss(const std::vector<const char*>& argv) {
  std::vector<char*> args;
  for (const char* a : argv) args.push_back(const_cast<char*>(a));
  args.push_back(nullptr);
  // The parent learns that exec has happened when the close-on-exec pipe closes:
  // polling before that would read the forked copy of this process.
  int exec_done[2];
  if (pipe2(exec_done, O_CLOEXEC) != 0) return -1;
  const pid_t pid = fork();
  if (pid == 0) {
    const int null = open("/dev/null", O_WRONLY);
    dup2(null, STDOUT_FILENO);
    execv(args[0], args.data());
    _exit(127);
  }
  close(exec_done[1]);
  char byte;
  while (read(exec_done[0], &byte, 1) > 0) {
  }
  close(exec_done[0]);
  const std::string status_path = "/proc/" + std::to_string(pid) + "/status";
  long peak = -1;
  int status = 0;
  while (waitpid(pid, &status, WNOHANG) == 0) {
    if (FILE* f = fopen(status_path.c_str(), "r")) {
      char line[256];
      while (fgets(line, sizeof(line), f))
        if (strncmp(line, "VmHWM:", 6) == 0) peak = std::max(peak, strtol(line + 6, nullptr, 10));
      fclose(f);
    }
    usleep(500);
  }
  return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? peak : -1;
}

host::Dataset LoadOrDie(const std::string& path) {
  host::Dataset d;
  if (host::Error e = host::LoadDataset(path, "train", "", &d)) {
    fprintf(stderr, "descent-bench: %s\n", e.message.c_str());
    exit(3);
  }
  return d;
}

// The libtorch side of the memory comparison, in a process of its own.
int RunTorchChild() {
  const host::Dataset data = LoadOrDie(DESCENT_DATA_DIR);
#if DESCENT_BENCH_TORCH
  double loss;
  descent_bench::TorchTrainSamplesPerSecond(data.pixels.data(), data.labels.data(), data.count, 3, &loss);
  return 0;
#else
  return 1;
#endif
}

#if DESCENT_BENCH_TORCH
// The shared library libtorch's BLAS calls resolve to (Debian's alternatives choose
// it: the reference BLAS is ~30x slower than OpenBLAS, so the ratio depends on it).
std::string TorchBlas() {
  std::string found = "unknown";
  dl_iterate_phdr([](dl_phdr_info* info, size_t, void* out) {
    const std::string name = info->dlpi_name ? info->dlpi_name : "";
    if (name.find("blas") != std::string::npos) {
      char real[PATH_MAX];
      *static_cast<std::string*>(out) = realpath(name.c_str(), real) ? real : name;
      return 1;
    }
    return 0;
  }, &found);
  return found;
}

// OpenBLAS 0.3.21 does not know the newest CPUs (Emerald Rapids) and falls back to its SSE3
// kernels, which makes libtorch several times slower than it can be: the baseline gets the
// widest kernel family this CPU runs (same results), chosen before OpenBLAS initialises, by
// running the bench again with OPENBLAS_CORETYPE set.
void UseWidestOpenBlasKernels(char** argv) {
  const char* widest = __builtin_cpu_supports("avx512f") ? "SkylakeX" : __builtin_cpu_supports("avx2") ? "Haswell" : nullptr;
  const char* set = getenv("OPENBLAS_CORETYPE");
  if (!widest || (set && strcmp(set, widest) == 0) || getenv("DESCENT_BENCH_BLAS_SET")) return;
  setenv("OPENBLAS_CORETYPE", widest, 1);
  setenv("DESCENT_BENCH_BLAS_SET", "1", 1);  // once: no loop if the exec fails or changes nothing
  execv("/proc/self/exe", argv);
}

// The kernel family OpenBLAS chose (openblas_get_corename), or "unknown".
std::string BlasCore() {
  auto name = reinterpret_cast<char* (*)()>(dlsym(RTLD_DEFAULT, "openblas_get_corename"));
  return name ? name() : "unknown";
}
#endif

}  // namespace
}  // namespace descent

int main(int argc, char** argv) {
  using namespace descent;
#if DESCENT_BENCH_TORCH
  UseWidestOpenBlasKernels(argv);
#endif
  bool quick = false;
  std::string out = ".", fashion = "/usr/share/datasets/fashion-mnist", data_dir = DESCENT_DATA_DIR, only;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--child-torch") return RunTorchChild();
    if (a == "--quick") quick = true;
    else if (a == "--out" && i + 1 < argc) out = argv[++i];
    else if (a == "--fashion" && i + 1 < argc) fashion = argv[++i];
    else if (a == "--data" && i + 1 < argc) data_dir = argv[++i];
    else if (a == "--only" && i + 1 < argc) only = "," + std::string(argv[++i]) + ",";
    else {
      fprintf(stderr, "usage: descent-bench [--quick] [--out DIR] [--data DIR] [--fashion DIR] [--only SECTIONS]\n"
                      "sections (comma-separated): train scaling phases products cnn fashion plans libtorch updates memory\n");
      return 2;
    }
  }
  const auto want = [&](const char* section) { return only.empty() || only.find("," + std::string(section) + ",") != std::string::npos; };
  const int reps = quick ? 3 : 5;
  const int rounds = quick ? 5 : 9;  // interleaved rounds of the 1-vs-2-thread and libtorch comparisons
  Report report;
  printf("# descent-bench: backend %s, instruction set %s, %u hardware threads\n", BackendName(), ActiveIsa(),
         std::thread::hardware_concurrency());
  const double peak1 = PeakGflops(1), peak2 = PeakGflops(2);
  printf("\n## FP32 FMA peak (16 independent chains, %s)\n1 thread: %.1f GFLOP/s   2 threads: %.1f GFLOP/s\n",
         ActiveIsa(), peak1, peak2);
  printf("One training sample of the MLP 784-100-100-10 is %.0f FLOP computed densely; 'dense/peak' below is\n"
         "samples/s x that / peak. Zero pixels are skipped exactly, so on sparse data it can pass 100%%.\n",
         FlopsPerSample());
  report.Row("peak", "fma", 1, 0, peak1, "GFLOP/s");
  report.Row("peak", "fma", 2, 0, peak2, "GFLOP/s");

  const host::Dataset mnist = LoadOrDie(data_dir);
  if (want("train")) BenchTraining(report, mnist, "mnist-8k", 3, peak1, rounds, true);
  if (want("scaling")) BenchScaling(report, mnist, rounds);
  if (want("phases")) BenchPhases(report, mnist, rounds);
  if (want("products")) BenchProducts(report, mnist, peak1, reps);
  if (want("cnn")) BenchCnn(report, mnist, peak1, quick ? 3 : rounds);
  if (!want("fashion")) {
  } else if (host::IsDirectory(fashion)) {
    const host::Dataset f = LoadOrDie(fashion);
    BenchTraining(report, f, "fashion-60k", 1, peak1, quick ? 3 : rounds, !quick);
  } else {
    printf("\n(Fashion-MNIST not found at %s: install dataset-fashion-mnist for the full-size run)\n", fashion.c_str());
  }

  if (want("plans")) {  // The two memory plans of descent/workspace.h: the same bits, LeanPlan at a fraction of the RAM.
    static Workspace<Net, kBatch, LeanPlan> lean;
    uint64_t fast_hash = 0, lean_hash = 0;
    const double fast = Median(reps, [&] { auto f = Train(Adam(), mnist, 1, ParallelFor()); fast_hash = f.hash; return f.samples_per_second; });
    const double slow = Median(reps, [&] { auto f = Train(Adam(), mnist, 1, ParallelFor(), lean); lean_hash = f.hash; return f.samples_per_second; });
    printf("\n## Memory plans (Adam, batch %zu, 1 thread, mnist-8k, 1 epoch), median of %d\n", kBatch, reps);
    printf("FastPlan %.0f samples/s (workspace %zu bytes)   LeanPlan %.0f samples/s (workspace %zu bytes)   "
           "lean/fast %.3fx   same weights: %s\n", fast, sizeof(g_ws), slow, sizeof(lean), slow / fast,
           fast_hash == lean_hash ? "yes" : "NO");
    report.Row("plans", "lean_vs_fast", 1, mnist.count, slow / fast, "x", "fast_plan", slow / fast);
    if (fast_hash != lean_hash) {
      fprintf(stderr, "descent-bench: the lean and fast plans gave different weights\n");
      return 1;
    }
  }

#if DESCENT_BENCH_TORCH
  if (want("libtorch")) {
    double loss = 0;
    const Pair p = Interleaved(
        rounds,
        [&] { return descent_bench::TorchTrainSamplesPerSecond(mnist.pixels.data(), mnist.labels.data(), mnist.count, 3, &loss); },
        [&] { return Train(Adam(), mnist, 3, ParallelFor()).samples_per_second; });
    printf("\n## Against libtorch 1.13 (Adam, batch 256, 1 thread, mnist-8k, 3 epochs), %d interleaved rounds: medians\n",
           rounds);
    const char* coretype = getenv("OPENBLAS_CORETYPE");
    printf("libtorch's BLAS: %s (threads: %d; 0 = not OpenBLAS), kernels: %s (OPENBLAS_CORETYPE=%s)\n",
           TorchBlas().c_str(), descent_bench::BlasThreads(), BlasCore().c_str(), coretype ? coretype : "unset");
    printf("descent %.0f samples/s   libtorch %.0f samples/s   ratio %.2fx (per round)\n", p.b, p.a, p.ratio);
    report.Row("libtorch", "train_adam", 1, mnist.count, p.a, "samples/s");
    report.Row("libtorch", "descent_vs_libtorch", 1, mnist.count, p.ratio, "x", "libtorch", p.ratio);
  }
#else
  printf("\n(libtorch baseline not built: meson configure -Dlibtorch=enabled, needs libtorch-dev)\n");
#endif

  if (want("updates")) BenchUpdates(report, quick);

  if (want("memory")) {
    printf("\n## Memory\n");
    const size_t footprint = Footprint<Net, Workspace<Net, kBatch>, Optimizer<Adam, Net::kNumParams>>();
    printf("static footprint (model + batch-256 workspace + Adam state): %.2f MiB\n", footprint / 1048576.0);
    report.Row("memory", "static_footprint", 1, 0, static_cast<double>(footprint), "bytes");
    // Our side runs the descent program itself: the bench binary maps libtorch.
    const long ours_rss = ChildPeakRss({DESCENT_EXE, "train", "--optimizer", "adam"});
    printf("peak RSS, training Adam 3 epochs on mnist-8k: descent %.1f MiB", ours_rss / 1024.0);
    report.Row("memory", "peak_rss_descent", 1, 0, static_cast<double>(ours_rss), "KiB");
  #if DESCENT_BENCH_TORCH
    const long torch_rss = ChildPeakRss({"/proc/self/exe", "--child-torch"});
    printf("   libtorch %.1f MiB   ratio %.3f", torch_rss / 1024.0, static_cast<double>(ours_rss) / torch_rss);
    report.Row("memory", "peak_rss_libtorch", 1, 0, static_cast<double>(torch_rss), "KiB", "", 0);
    report.Row("memory", "rss_descent_vs_libtorch", 1, 0, static_cast<double>(ours_rss) / torch_rss, "x", "libtorch",
               static_cast<double>(ours_rss) / torch_rss);
  #endif
    printf("\n");
  }
  const std::string csv_path = out + "/bench-results.csv";
  if (host::Error e = host::WriteFileAtomic(csv_path, report.csv)) {
    fprintf(stderr, "descent-bench: %s\n", e.message.c_str());
    return 3;
  }
  printf("\nwrote %s\n", csv_path.c_str());
  return 0;
}
