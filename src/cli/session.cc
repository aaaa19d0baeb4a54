// Training and evaluation loops over host data sets, and model files.
#include "src/cli/session.h"

#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include <string.h>

#include <algorithm>
#include <cmath>
#include <type_traits>

#include "src/core/double_math.h"
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

// The weights under the notebook's state_dict names, in state_dict order.
std::vector<host::TensorRef> WeightTensors(const Net& net) {
  std::vector<host::TensorRef> tensors;
  for (size_t l = 0; l < Net::kNumLayers; ++l) {
    const size_t in = Net::sizes()[l], out = Net::sizes()[l + 1];
    tensors.push_back({LayerName(l, "weight"), {out, in}, net.weight(l)});
    tensors.push_back({LayerName(l, "bias"), {out}, net.bias(l)});
  }
  return tensors;
}

// Reads them back, each checked for dtype and shape.
host::Error ReadWeights(const host::Safetensors& file, Net* net) {
  for (const host::TensorRef& t : WeightTensors(*net))
    if (host::Error e = file.ReadF32(t.name, t.shape, const_cast<float*>(t.data))) return e;
  return host::Error{};
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

namespace {

std::string Hex(uint64_t v, int digits) {
  char buf[24];
  snprintf(buf, sizeof(buf), "%0*llx", digits, static_cast<unsigned long long>(v));
  return buf;
}

template <class T>
uint64_t Bits(T v) {
  uint64_t b = 0;
  memcpy(&b, &v, sizeof(v));
  return b;
}

constexpr const char* kCheckpointFormat = "descent-checkpoint";
constexpr const char* kCheckpointVersion = "1";

// Weights (state_dict names), optimizer slots ("optimizer.<torch state name>")
// and, in the metadata, everything needed to continue exactly.
template <class Opt>
host::Error WriteCheckpoint(const std::string& path, const TrainConfig& config, const Opt& opt,
                            const Checkpoint& at) {
  using Rule = std::decay_t<decltype(opt.hyperparameters())>;
  std::vector<host::TensorRef> tensors = WeightTensors(TheNet());
  for (size_t k = 0; k < Opt::kSlots; ++k)
    tensors.push_back({std::string("optimizer.") + Rule::kSlotNames[k], {Net::kNumParams}, opt.slot(k)});
  uint32_t crc = 0;
  for (const host::TensorRef& t : tensors) {
    size_t n = 1;
    for (size_t d : t.shape) n *= d;
    crc = Crc32(t.data, n * sizeof(float), crc);
  }
  const host::Metadata meta = {
      {"format", kCheckpointFormat},
      {"format_version", kCheckpointVersion},
      {"architecture", Architecture()},
      {"optimizer", config.optimizer.name},
      {"hyperparameters", Describe(config.optimizer)},
      {"batch", std::to_string(config.batch)},
      {"seed", std::to_string(config.seed)},
      {"shuffle", config.shuffle ? "true" : "false"},
      {"step", std::to_string(opt.clock().step)},
      {"epoch", std::to_string(at.epoch)},
      {"next_batch", std::to_string(at.next_batch)},
      {"epoch_loss_sum", Hex(Bits(at.epoch_loss_sum), 16)},
      {"mu_product", Hex(Bits(opt.clock().mu_product), 8)},
      {"schedule", Describe(config.schedule)},
      {"clip", DescribeClip(config.clip)},
      {"data", at.data},
      {"tensor_crc32", Hex(crc, 8)},
  };
  return host::WriteSafetensors(path, tensors, meta);
}

template <class Opt>
host::Error RestoreCheckpoint(const Checkpoint& from, Opt& opt) {
  using Rule = std::decay_t<decltype(opt.hyperparameters())>;
  static Net loaded;
  if (host::Error e = ReadWeights(from.file, &loaded)) return e;
  for (size_t k = 0; k < Opt::kSlots; ++k)
    if (host::Error e = from.file.ReadF32(std::string("optimizer.") + Rule::kSlotNames[k], {Net::kNumParams}, opt.slot(k)))
      return e;
  TheNet() = loaded;
  opt.clock() = from.clock;
  return host::Error{};
}

}  // namespace

std::string DataFingerprint(const host::Dataset& data) {
  const uint64_t h = host::Fnv1a64(data.pixels.data(), data.pixels.size()) ^
                     (host::Fnv1a64(data.labels.data(), data.labels.size()) * 0x9E3779B97F4A7C15ull);
  return std::to_string(data.count) + ":" + Hex(h, 16);
}

TrainResult Train(const TrainConfig& config, const host::Dataset& data, const StepObserver& observe) {
  TrainResult result;
  Net& net = TheNet();
  TrainWorkspace& ws = TheWorkspace();
  std::vector<uint32_t> order(data.count);
  const size_t batches = (data.count + config.batch - 1) / config.batch;
  host::ThreadPool pool(config.threads);
  const ParallelFor pf = pool.parallel_for();
  Checkpoint at;
  if (!config.checkpoint.empty() || config.resume) at.data = DataFingerprint(data);
  if (config.resume) {
    at.epoch = config.resume->epoch;
    at.next_batch = config.resume->next_batch;
    at.epoch_loss_sum = config.resume->epoch_loss_sum;
  }
  static Net best;  // early stopping's best weights so far
  double best_loss = __builtin_inf();
  size_t evals_since_best = 0;
  const bool evaluating = config.test && config.eval_every;
  std::visit([&](const auto& hp) {
    auto& opt = OptimizerFor(hp);
    ScheduleRunner schedule(config.schedule, evaluating, hp.lr);
    if (config.resume) {
      if (host::Error e = RestoreCheckpoint(*config.resume, opt)) {
        result.error = e.message;
        return;
      }
      // Schedules without metrics are replayed to where the run stopped.
      const size_t epochs_done = config.resume->epoch + (config.resume->next_batch == batches ? 1 : 0);
      for (uint64_t i = 0; i < config.resume->step; ++i) schedule.AfterStep();
      for (size_t e = 0; e < epochs_done; ++e) schedule.AfterEpoch(0.0);
    }
    auto save = [&] {
      if (host::Error e = WriteCheckpoint(config.checkpoint, config, opt, at)) result.error = e.message;
    };
    // An evaluation; false when early stopping ends the run.
    auto evaluate = [&]() {
      const EvalResult eval = Evaluate(*config.test, pf);
      result.evals.push_back({static_cast<size_t>(opt.clock().step), eval.loss, eval.accuracy});
      schedule.AfterEval(eval.loss);
      if (!config.early_stop) return true;
      if (eval.loss < best_loss - config.min_delta) {
        best_loss = eval.loss, evals_since_best = 0;
        best = net;
        result.best_eval = result.evals.size() - 1;
        return true;
      }
      return ++evals_since_best < config.early_stop;
    };
    const double start = NowSeconds();
    bool stop = false;
    for (; at.epoch < config.epochs && !stop && result.status == Status::kOk && result.error.empty();
         ++at.epoch, at.next_batch = 0, at.epoch_loss_sum = 0.0) {
      if (at.next_batch == batches) continue;  // resumed at the end of an epoch
      EpochOrder(order.data(), data.count, config.seed, at.epoch, config.shuffle);
      for (; at.next_batch < batches && !stop; ++at.next_batch) {
        const size_t first = at.next_batch * config.batch;
        const size_t rows = std::min(config.batch, data.count - first);
        float loss = 0.0f;
        auto& rule = opt.hyperparameters();
        rule.lr = schedule.lr();
        if (CyclesMomentum(config.schedule)) SetCycledMomentum(rule, schedule.momentum());
        result.status = ws.LoadImages(data.pixels.data(), data.labels.data(), order.data() + first, rows, pf);
        if (result.status == Status::kOk) result.status = TrainStep(net, ws, opt, rows, &loss, pf, config.clip);
        const StepRecord record{opt.clock().step + (result.status == Status::kOk ? 0 : 1), at.epoch + 1,
                                at.next_batch + 1, loss, rule.lr};
        result.steps.push_back(record);
        result.samples += rows;
        if (result.status != Status::kOk) break;  // the last checkpoint stays the last good one
        at.epoch_loss_sum += loss;
        schedule.AfterStep();
        if (observe && !observe(record, batches, static_cast<double>(result.samples) / (NowSeconds() - start)))
          stop = true;
        if (evaluating && !config.eval_every_epochs && opt.clock().step % config.eval_every == 0 && !evaluate())
          stop = true;
        if (config.checkpoint_every && opt.clock().step % config.checkpoint_every == 0) {
          const Checkpoint here = at;
          at.next_batch += 1;  // the position after this step
          save();
          at = here;
          if (!result.error.empty()) break;
        }
      }
      if (result.status != Status::kOk || !result.error.empty()) break;
      const double epoch_loss = at.epoch_loss_sum / static_cast<double>(at.next_batch);
      if (at.next_batch == batches) {
        schedule.AfterEpoch(epoch_loss);
        if (evaluating && config.eval_every_epochs && (at.epoch + 1) % config.eval_every == 0 && !evaluate())
          stop = true;
      }
      if (stop || at.epoch + 1 == config.epochs) {
        result.train_loss = epoch_loss;
        if (!config.checkpoint.empty()) save();  // the final checkpoint
        break;
      }
    }
    result.stopped_early = stop;
    if (config.early_stop && !result.evals.empty() && result.status == Status::kOk && best_loss < __builtin_inf())
      net = best;  // end with the best weights
    if (config.resume && result.steps.empty() && result.status == Status::kOk)  // nothing left to train
      result.train_loss = config.resume->epoch_loss_sum / static_cast<double>(batches);
    result.seconds = NowSeconds() - start;
  }, config.optimizer.rule);
  return result;
}

LrFindResult FindLr(const TrainConfig& config, const host::Dataset& data, double start_lr, double end_lr,
                    size_t steps) {
  static Net initial;
  initial = TheNet();
  TrainConfig run = config;
  const size_t batches = (data.count + config.batch - 1) / config.batch;
  run.epochs = (steps + batches - 1) / batches;
  run.test = nullptr, run.eval_every = 0, run.early_stop = 0, run.checkpoint.clear(), run.checkpoint_every = 0;
  run.resume = nullptr;
  std::visit([&](auto& hp) { hp.lr = start_lr; }, run.optimizer.rule);
  // lr_i = start * gamma^i reaches end_lr at the last step; gamma without libm.
  ExponentialLR grow;
  grow.gamma = internal::Exp(internal::Log(end_lr / start_lr) / static_cast<double>(steps > 1 ? steps - 1 : 1));
  run.schedule.name = "exponential";
  run.schedule.rule = grow;
  run.schedule.per_epoch = false;
  constexpr double kBeta = 0.98;
  LrFindResult result;
  double average = 0.0, beta_power = 1.0, best = __builtin_inf();
  const TrainResult trained = Train(run, data, [&](const StepRecord& r, size_t, double) {
    average = static_cast<double>(r.loss) + kBeta * (average - static_cast<double>(r.loss));  // torch.lerp(loss, avg, beta)
    beta_power *= kBeta;
    const double smoothed = average / (1.0 - beta_power);
    result.points.push_back({r.lr, r.loss, smoothed});
    best = smoothed < best ? smoothed : best;
    if (smoothed > 4.0 * best) {
      result.diverged = true;
      return false;
    }
    return result.points.size() < steps;
  });
  if (trained.status != Status::kOk) result.diverged = true;  // a non-finite loss ends the test too
  TheNet() = initial;
  // fastai's "steep", searched only on the way down: skip the first tenth of
  // the steps, stop at the minimum of the smoothed loss (past it, recoveries from
  // spikes look like descents), and take the most negative slope of the smoothed
  // loss against log lr (the points are evenly spaced in log lr, so the steepest
  // difference).
  const size_t n = result.points.size(), first = steps / 10;
  size_t lowest = 0;
  for (size_t i = 0; i < n; ++i)
    if (result.points[i].smoothed < result.points[lowest].smoothed) lowest = i;
  const bool steep = lowest > first + 1;
  if (steep) {
    size_t at = first;
    for (size_t i = first; i < lowest; ++i)
      if (result.points[i + 1].smoothed - result.points[i].smoothed <
          result.points[at + 1].smoothed - result.points[at].smoothed)
        at = i;
    result.suggestion_index = at;
  } else {  // the loss never fell: a tenth of the rate with the lowest smoothed loss
    result.suggestion_index = lowest;
  }
  if (n) result.suggestion = result.points[result.suggestion_index].lr / (steep ? 1.0 : 10.0);
  return result;
}

std::string DescribeClip(const GradClip& clip) {
  char buf[96];
  snprintf(buf, sizeof(buf), "max_norm=%.17g clip_value=%.17g", clip.max_norm, clip.clip_value);
  return buf;
}

host::Error ReadCheckpoint(const std::string& path, Checkpoint* out) {
  std::vector<uint8_t> bytes;
  if (host::Error e = host::ReadFile(path, size_t{1} << 32, &bytes)) return e;
  return ParseCheckpoint(path, std::move(bytes), out);
}

host::Error ParseCheckpoint(const std::string& path, std::vector<uint8_t> bytes, Checkpoint* out) {
  if (host::Error e = host::ParseSafetensors(path, std::move(bytes), &out->file)) return e;
  const host::Safetensors& f = out->file;
  auto meta = [&](const char* key, std::string* value) -> host::Error {
    const std::string* v = f.Meta(key);
    if (!v) return host::Fail(path, std::string("is not a descent checkpoint (no \"") + key + "\" in its metadata)");
    *value = *v;
    return host::Error{};
  };
  auto number = [&](const char* key, int base, uint64_t* value) -> host::Error {
    std::string text;
    if (host::Error e = meta(key, &text)) return e;
    char* end = nullptr;
    *value = strtoull(text.c_str(), &end, base);
    if (text.empty() || *end != '\0' || text[0] == '-')
      return host::Fail(path, std::string("checkpoint field \"") + key + "\" is not a number: " + text);
    return host::Error{};
  };
  std::string text;
  if (host::Error e = meta("format", &text)) return e;
  if (text != kCheckpointFormat) return host::Fail(path, "is not a descent checkpoint (format \"" + text + "\")");
  if (host::Error e = meta("format_version", &text)) return e;
  if (text != kCheckpointVersion) return host::Fail(path, "has checkpoint format version " + text + ", this program reads " + kCheckpointVersion);
  if (host::Error e = meta("architecture", &text)) return e;
  if (text != Architecture())
    return host::Fail(path, "was saved from an MLP " + text + ", this model is " + Architecture());
  std::string name, hyper;
  if (host::Error e = meta("optimizer", &name)) return e;
  if (host::Error e = meta("hyperparameters", &hyper)) return e;
  if (!Preset(name, &out->optimizer) || !ParseHyperparameters(hyper, &out->optimizer))
    return host::Fail(path, "names an unknown optimizer or hyperparameters: " + name + " " + hyper);
  uint64_t v = 0;
  if (host::Error e = number("batch", 10, &v)) return e;
  out->batch = v;
  if (host::Error e = number("seed", 10, &out->seed)) return e;
  if (host::Error e = meta("shuffle", &text)) return e;
  out->shuffle = text == "true";
  if (host::Error e = number("step", 10, &out->step)) return e;
  if (host::Error e = number("epoch", 10, &v)) return e;
  out->epoch = v;
  if (host::Error e = number("next_batch", 10, &v)) return e;
  out->next_batch = v;
  if (host::Error e = number("epoch_loss_sum", 16, &v)) return e;
  memcpy(&out->epoch_loss_sum, &v, 8);
  if (host::Error e = number("mu_product", 16, &v)) return e;
  const uint32_t mu_bits = static_cast<uint32_t>(v);
  memcpy(&out->clock.mu_product, &mu_bits, 4);
  out->clock.step = out->step;
  // Optional: files from before schedules and clipping had neither.
  out->schedule = f.Meta("schedule") ? *f.Meta("schedule") : "constant";
  out->clip = f.Meta("clip") ? *f.Meta("clip") : DescribeClip(GradClip());
  if (host::Error e = meta("data", &out->data)) return e;
  if (host::Error e = number("tensor_crc32", 16, &v)) return e;
  // The checksum covers the tensors in file order, which is the order they were written in.
  std::vector<const host::Safetensors::Entry*> entries;
  for (const auto& entry : f.entries) entries.push_back(&entry);
  std::sort(entries.begin(), entries.end(), [](auto* a, auto* b) { return a->begin < b->begin; });
  uint32_t crc = 0;
  for (const auto* entry : entries) crc = Crc32(f.bytes.data() + f.data_start + entry->begin, entry->end - entry->begin, crc);
  if (crc != v) return host::Fail(path, "is corrupted: the tensors' checksum does not match (CRC-32 " + Hex(crc, 8) + ", expected " + Hex(v, 8) + ")");
  if (out->batch == 0 || out->batch > kMaxBatch) return host::Fail(path, "has an invalid batch size " + std::to_string(out->batch));
  return host::Error{};
}

bool ParseHyperparameters(const std::string& text, OptimizerConfig* config) {
  size_t at = 0;
  while (at < text.size()) {
    size_t end = text.find(' ', at);
    if (end == std::string::npos) end = text.size();
    const std::string item = text.substr(at, end - at);
    at = end + 1;
    const size_t eq = item.find('=');
    if (eq == std::string::npos) return false;
    const std::string name = item.substr(0, eq), value = item.substr(eq + 1);
    bool ok = false;
    std::visit([&](auto& hp) {
      ForEachHyperparameter(hp, [&](const char* n, auto& field) {
        if (name != n) return;
        if constexpr (std::is_same_v<std::decay_t<decltype(field)>, bool>) {
          ok = value == "true" || value == "false";
          field = value == "true";
        } else {
          char* e = nullptr;
          field = strtod(value.c_str(), &e);
          ok = !value.empty() && *e == '\0';
        }
      });
    }, config->rule);
    if (!ok) return false;
  }
  return InvalidReason(*config) == nullptr;
}

EvalResult Evaluate(const host::Dataset& data, size_t threads) {
  host::ThreadPool pool(threads);
  return Evaluate(data, pool.parallel_for());
}

EvalResult Evaluate(const host::Dataset& data, const ParallelFor& pf) {
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
  return host::WriteSafetensors(path, WeightTensors(TheNet()), {{"format", "pt"}, {"architecture", Architecture()}});
}

host::Error LoadModel(const std::string& path) {
  host::Safetensors file;
  if (host::Error e = host::ReadSafetensors(path, &file)) return e;
  // Read into a copy so a failure halfway leaves the model as it was.
  static Net loaded;
  if (host::Error e = ReadWeights(file, &loaded)) return e;
  size_t weights = 0;  // a checkpoint also holds "optimizer.*" tensors
  for (const auto& entry : file.entries) weights += entry.name.rfind("optimizer.", 0) != 0;
  if (weights != 2 * Net::kNumLayers)
    return host::Fail(path, "has " + std::to_string(weights) + " weight tensors, a " + Architecture() +
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
