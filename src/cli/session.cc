// Training and evaluation loops over host data sets, and model files.
#include "src/cli/session.h"

#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>

#include "src/host/safetensors.h"
#include "src/host/thread_pool.h"

namespace descent {
namespace cli {
namespace {

TrainWorkspace& TheWorkspace() {
  static TrainWorkspace ws;
  return ws;
}

// One static optimizer per rule: only the ones used ever touch their pages.
template <class Rule>
Optimizer<Rule, Net::kNumParams>& OptimizerFor(const Rule& hp) {
  static Optimizer<Rule, Net::kNumParams> opt;
  opt.reset(hp);
  return opt;
}

std::string LayerName(size_t layer, const char* what) {
  return "linears." + std::to_string(layer) + "." + what;
}

}  // namespace

Net& TheNet() {
  static Net net;
  return net;
}

double NowSeconds() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

TrainResult Train(const TrainConfig& config, const host::Dataset& data, const StepObserver& observe) {
  TrainResult result;
  Net& net = TheNet();
  TrainWorkspace& ws = TheWorkspace();
  std::vector<uint32_t> order(data.count);
  const size_t batches = (data.count + config.batch - 1) / config.batch;
  host::ThreadPool pool(config.threads);
  const ParallelFor pf = pool.parallel_for();
  std::visit([&](const auto& hp) {
    auto& opt = OptimizerFor(hp);
    const double start = NowSeconds();
    double epoch_loss = 0.0;
    for (size_t epoch = 0; epoch < config.epochs && result.status == Status::kOk; ++epoch) {
      EpochOrder(order.data(), data.count, config.seed, epoch, config.shuffle);
      epoch_loss = 0.0;
      for (size_t b = 0; b < batches; ++b) {
        const size_t first = b * config.batch;
        const size_t rows = std::min(config.batch, data.count - first);
        float loss = 0.0f;
        result.status = ws.LoadImages(data.pixels.data(), data.labels.data(), order.data() + first, rows, pf);
        if (result.status == Status::kOk) result.status = TrainStep(net, ws, opt, rows, &loss, pf);
        const StepRecord record{result.steps.size() + 1, epoch + 1, b + 1, loss};
        result.steps.push_back(record);
        result.samples += rows;
        if (result.status != Status::kOk) break;
        epoch_loss += loss;
        if (observe) observe(record, batches, static_cast<double>(result.samples) / (NowSeconds() - start));
      }
    }
    result.seconds = NowSeconds() - start;
    result.train_loss = epoch_loss / static_cast<double>(batches);
  }, config.optimizer.rule);
  return result;
}

EvalResult Evaluate(const host::Dataset& data, size_t threads) {
  host::ThreadPool pool(threads);
  const ParallelFor pf = pool.parallel_for();
  Net& net = TheNet();
  TrainWorkspace& ws = TheWorkspace();
  double loss_sum = 0.0;
  size_t correct = 0;
  // 256 rows at a time: larger batches only touch more memory.
  constexpr size_t kEvalRows = 256;
  for (size_t first = 0; first < data.count; first += kEvalRows) {
    const size_t rows = std::min(kEvalRows, data.count - first);
    // Data sets are validated against the model before they get here.
    (void)ws.LoadImages(data.pixels.data() + first * Net::kInputs, data.labels.data() + first, nullptr, rows, pf);
    (void)descent::Evaluate(net, ws, rows, &loss_sum, &correct, pf);
  }
  const double n = static_cast<double>(data.count);
  return {loss_sum / n, static_cast<double>(correct) / n};
}

std::string Architecture() {
  std::string s;
  for (size_t i = 0; i <= Net::kNumLayers; ++i) s += (i ? "-" : "") + std::to_string(Net::sizes()[i]);
  return s;
}

host::Error SaveModel(const std::string& path) {
  const Net& net = TheNet();
  std::vector<host::TensorRef> tensors;
  for (size_t l = 0; l < Net::kNumLayers; ++l) {
    const size_t in = Net::sizes()[l], out = Net::sizes()[l + 1];
    tensors.push_back({LayerName(l, "weight"), {out, in}, net.weight(l)});
    tensors.push_back({LayerName(l, "bias"), {out}, net.bias(l)});
  }
  return host::WriteSafetensors(path, tensors, {{"format", "pt"}, {"architecture", Architecture()}});
}

host::Error LoadModel(const std::string& path) {
  host::Safetensors file;
  if (host::Error e = host::ReadSafetensors(path, &file)) return e;
  // Read into a copy so a failure halfway leaves the model as it was.
  static Net loaded;
  for (size_t l = 0; l < Net::kNumLayers; ++l) {
    const size_t in = Net::sizes()[l], out = Net::sizes()[l + 1];
    if (host::Error e = file.ReadF32(LayerName(l, "weight"), {out, in}, loaded.weight(l))) return e;
    if (host::Error e = file.ReadF32(LayerName(l, "bias"), {out}, loaded.bias(l))) return e;
  }
  if (file.entries.size() != 2 * Net::kNumLayers)
    return host::Fail(path, "has " + std::to_string(file.entries.size()) + " tensors, a " + Architecture() +
                                " model has " + std::to_string(2 * Net::kNumLayers));
  for (size_t i = 0; i < Net::kNumParams; ++i)
    if (!std::isfinite(loaded.params()[i]))
      return host::Fail(path, "holds a non-finite weight (parameter " + std::to_string(i) + ")");
  TheNet() = loaded;
  return host::Error{};
}

uint64_t ParamsHash() { return host::Fnv1a64(TheNet().params(), sizeof(float) * Net::kNumParams); }

Progress::Progress(std::string label) : label_(std::move(label)), enabled_(isatty(STDERR_FILENO)) {}

Progress::~Progress() {
  if (shown_) fprintf(stderr, "\r\033[K");
}

void Progress::Update(const StepRecord& r, size_t epochs, size_t batches_per_epoch, double samples_per_second) {
  if (!enabled_) return;
  const double now = NowSeconds();
  const bool last = r.epoch == epochs && r.batch == batches_per_epoch;
  if (!last && now - last_ < 0.1) return;
  last_ = now;
  shown_ = true;
  fprintf(stderr, "\r\033[K%s  epoch %zu/%zu  batch %zu/%zu  loss %.4f  %.0f samples/s", label_.c_str(), r.epoch,
          epochs, r.batch, batches_per_epoch, static_cast<double>(r.loss), samples_per_second);
  fflush(stderr);
}

}  // namespace cli
}  // namespace descent
