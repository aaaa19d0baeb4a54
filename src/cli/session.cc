// The training loop, the range test and evaluation.
#include "src/cli/session.h"

#include <algorithm>
#include <memory>
#include <type_traits>

#include "src/cli/progress.h"
#include "src/core/double_math.h"
#include "src/host/thread_pool.h"

namespace descent {
namespace cli {
namespace {

// An optimizer for the run's parameters: the core's update (internal::Step, the
// same code and bits as descent::Optimizer) over state arrays on the heap.
template <class Rule>
class HostOptimizer {
 public:
  static constexpr size_t kSlots = Rule::kSlots;
  HostOptimizer(const Rule& hp, size_t n) : hp_(hp), n_(n) {
    for (auto& slot : slots_) slot.assign(n, 0.0f);
  }
  Status step(float* params, const float* grads, const ParallelFor& pf, bool* finite) {
    float* slots[kSlots + 1];
    for (size_t k = 0; k < kSlots; ++k) slots[k] = slots_[k].data();
    return internal::Step(hp_, clock_, params, grads, slots, n_, pf, finite);
  }
  Rule& hyperparameters() { return hp_; }
  StepClock& clock() { return clock_; }
  float* slot(size_t k) { return slots_[k].data(); }

 private:
  Rule hp_;
  StepClock clock_;
  size_t n_;
  std::vector<float> slots_[kSlots > 0 ? kSlots : 1];
};

template <class Opt>
SlotsRef Slots(Opt& opt, float** storage) {
  using Rule = std::decay_t<decltype(opt.hyperparameters())>;
  for (size_t k = 0; k < Opt::kSlots; ++k) storage[k] = opt.slot(k);
  return {Opt::kSlots, Rule::kSlotNames, storage};
}

// One run of Session::Train with one rule: the position in the run, the
// schedule, evaluations and early stopping, checkpoints.
template <class Rule>
class Run {
 public:
  using Opt = HostOptimizer<Rule>;

  Run(const TrainConfig& config, const host::Dataset& data, const Rule& hp, Net& net, TrainWorkspace& ws, Net& best,
      const ParallelFor& pf, Session& session, TrainResult& result)
      : config_(config), data_(data), net_(net), ws_(ws), best_(best), pf_(pf), session_(session), result_(result),
        opt_(new Opt(hp, net.num_params())), schedule_(config.schedule, Evaluating(), hp.lr),
        order_(data.count), batches_((data.count + config.batch - 1) / config.batch) {
    at_.optimizer = config.optimizer;
    at_.batch = config.batch, at_.seed = config.seed, at_.shuffle = config.shuffle;
    at_.schedule = Describe(config.schedule), at_.clip = DescribeClip(config.clip);
    if (!config.checkpoint.empty() || config.resume) at_.data = DataFingerprint(data);
  }

  // Continues a checkpointed run: its weights, state and position, the schedule replayed to it.
  bool Resume(const Checkpoint& from) {
    float* storage[Opt::kSlots];
    if (host::Error e = RestoreCheckpoint(from, &net_, Slots(*opt_, storage))) {
      result_.error = e.message;
      return false;
    }
    opt_->clock() = from.clock;
    at_.epoch = from.epoch, at_.next_batch = from.next_batch, at_.epoch_loss_sum = from.epoch_loss_sum;
    const size_t epochs_done = from.epoch + (from.next_batch == batches_ ? 1 : 0);
    for (uint64_t i = 0; i < from.clock.step; ++i) schedule_.AfterStep();
    for (size_t e = 0; e < epochs_done; ++e) schedule_.AfterEpoch(0.0);
    return true;
  }

  void Train(const StepObserver& observe) {
    const double start = NowSeconds();
    bool stop = false;
    for (; at_.epoch < config_.epochs && !stop && Ok(); ++at_.epoch, at_.next_batch = 0, at_.epoch_loss_sum = 0.0) {
      if (at_.next_batch == batches_) continue;  // resumed at the end of an epoch
      EpochOrder(order_.data(), data_.count, config_.seed, at_.epoch, config_.shuffle);
      for (; at_.next_batch < batches_ && !stop && Ok(); ++at_.next_batch) stop = !Step(observe, start);
      if (!Ok()) break;
      const double epoch_loss = at_.epoch_loss_sum / static_cast<double>(at_.next_batch);
      if (at_.next_batch == batches_) {
        schedule_.AfterEpoch(epoch_loss);
        if (Evaluating() && config_.eval_every_epochs && (at_.epoch + 1) % config_.eval_every == 0 && !Evaluate())
          stop = true;
      }
      if (stop || at_.epoch + 1 == config_.epochs) {
        result_.train_loss = epoch_loss;
        if (!config_.checkpoint.empty()) Save();  // the final checkpoint
        break;
      }
    }
    result_.stopped_early = stop;
    if (config_.early_stop && !result_.evals.empty() && result_.status == Status::kOk && best_loss_ < kInfinity) {
      net_ = best_;  // end with the best weights
      result_.kept_best = true;
    }
    if (config_.resume && result_.steps.empty() && result_.status == Status::kOk)  // nothing left to train
      result_.train_loss = config_.resume->epoch_loss_sum / static_cast<double>(batches_);
    result_.seconds = NowSeconds() - start;
  }

 private:
  static constexpr double kInfinity = __builtin_inf();

  bool Evaluating() const { return config_.test && config_.eval_every; }
  bool Ok() const { return result_.status == Status::kOk && result_.error.empty(); }

  // One batch; false when the run should stop (observer, early stopping, an error).
  bool Step(const StepObserver& observe, double start) {
    const size_t first = at_.next_batch * config_.batch;
    const size_t rows = std::min(config_.batch, data_.count - first);
    float loss = 0.0f;
    Rule& rule = opt_->hyperparameters();
    rule.lr = schedule_.lr();
    if (CyclesMomentum(config_.schedule)) SetCycledMomentum(rule, schedule_.momentum());
    result_.status = ws_.Load(data_, net_.transform(), order_.data() + first, rows, pf_);
    if (result_.status == Status::kOk) result_.status = TrainStep(rows, &loss);
    const StepRecord record{opt_->clock().step + (result_.status == Status::kOk ? 0 : 1), at_.epoch + 1,
                            at_.next_batch + 1, loss, rule.lr};
    result_.steps.push_back(record);
    result_.samples += rows;
    if (result_.status != Status::kOk) return false;  // the last checkpoint stays the last good one
    at_.epoch_loss_sum += loss;
    schedule_.AfterStep();
    bool go_on = !observe || observe(record, batches_, static_cast<double>(result_.samples) / (NowSeconds() - start));
    const uint64_t step = opt_->clock().step;
    if (Evaluating() && !config_.eval_every_epochs && step % config_.eval_every == 0 && !Evaluate()) go_on = false;
    if (config_.checkpoint_every && step % config_.checkpoint_every == 0) {
      const Checkpoint here = at_;
      at_.next_batch += 1;  // the position after this step
      Save();
      at_ = here;
    }
    return go_on && result_.error.empty();
  }

  // descent::TrainStep on the run-time model, on the workspace's plan.
  Status TrainStep(size_t rows, float* loss) {
    // Dropout's masks from the run's seed and the step: a resumed run draws the same ones.
    ws_.noise[0] = config_.seed, ws_.noise[1] = opt_->clock().step;
    if (ws_.layout().lean)
      return internal::TrainStepOn<true>(net_.Ref(), ws_.Ref(), *opt_, rows, loss, pf_, config_.clip);
    return internal::TrainStepOn<false>(net_.Ref(), ws_.Ref(), *opt_, rows, loss, pf_, config_.clip);
  }

  // An evaluation; false when early stopping ends the run.
  bool Evaluate() {
    const EvalResult eval = session_.Evaluate(*config_.test, pf_);
    result_.evals.push_back({static_cast<size_t>(opt_->clock().step), eval.loss, eval.accuracy});
    schedule_.AfterEval(eval.loss);
    if (!config_.early_stop) return true;
    if (eval.loss < best_loss_ - config_.min_delta) {
      best_loss_ = eval.loss, evals_since_best_ = 0;
      best_ = net_;
      result_.best_eval = result_.evals.size() - 1;
      return true;
    }
    return ++evals_since_best_ < config_.early_stop;
  }

  // A checkpoint, unless the optimizer state has overflowed: that run stops (kNonFinite) with
  // its last good checkpoint in place, as a non-finite loss does.
  void Save() {
    at_.clock = opt_->clock();
    float* storage[Opt::kSlots];
    for (size_t k = 0; k < Opt::kSlots; ++k)
      if (!internal::ParamsFinite(opt_->slot(k), net_.num_params(), pf_)) {
        result_.status = Status::kNonFinite;
        result_.nonfinite = std::string("the optimizer's ") + Rule::kSlotNames[k];
        return;
      }
    if (host::Error e = WriteCheckpoint(config_.checkpoint, at_, net_, Slots(*opt_, storage))) result_.error = e.message;
    else ++result_.checkpoints;
  }

  const TrainConfig& config_;
  const host::Dataset& data_;
  Net& net_;
  TrainWorkspace& ws_;
  Net& best_;
  const ParallelFor& pf_;
  Session& session_;
  TrainResult& result_;
  std::unique_ptr<Opt> opt_;  // its state is zeroed on construction: touched whole either way
  ScheduleRunner schedule_;
  std::vector<uint32_t> order_;
  const size_t batches_;
  Checkpoint at_;  // the position, as a checkpoint records it
  double best_loss_ = kInfinity;
  size_t evals_since_best_ = 0;
};

}  // namespace

template <class Rule>
TrainResult Session::TrainWith(const Rule& hp, const TrainConfig& config, const host::Dataset& data,
                               const StepObserver& observe) {
  TrainResult result;
  host::ThreadPool pool(Workers(config.threads, config.batch));
  const ParallelFor pf = pool.parallel_for();
  Run<Rule> run(config, data, hp, net_, ws_, best_, pf, *this, result);
  if (!config.resume || run.Resume(*config.resume)) run.Train(observe);
  return result;
}

void Session::Configure(const Architecture& architecture, size_t max_batch, bool lean) {
  max_batch_ = std::max(max_batch, kEvalRows);
  lean_ = lean;
  net_.Configure(architecture);
  ws_.Configure(architecture, max_batch_, lean_);
}

host::Error Session::LoadModel(const std::string& path, bool adopt) {
  if (host::Error e = cli::LoadModel(path, adopt, &net_)) return e;
  if (adopt) ws_.Configure(net_.architecture(), max_batch_, lean_);
  return host::Error{};
}

TrainResult Session::Train(const TrainConfig& config, const host::Dataset& data, const StepObserver& observe) {
  return std::visit([&](const auto& hp) { return TrainWith(hp, config, data, observe); }, config.optimizer.rule);
}

LrFindResult Session::FindLr(const TrainConfig& config, const host::Dataset& data, double start_lr, double end_lr,
                             size_t steps) {
  start_ = net_;
  TrainConfig run = config;
  const size_t batches = (data.count + config.batch - 1) / config.batch;
  run.epochs = (steps + batches - 1) / batches;
  run.test = nullptr, run.eval_every = 0, run.early_stop = 0, run.checkpoint.clear(), run.checkpoint_every = 0;
  run.resume = nullptr;
  SetLearningRate(&run.optimizer, start_lr);
  // lr_i = start * gamma^i reaches end_lr at the last step; gamma without libm.
  ExponentialLR grow;
  // (The logs apart: end_lr / start_lr may overflow.)
  grow.gamma = internal::Exp((internal::Log(end_lr) - internal::Log(start_lr)) / static_cast<double>(steps > 1 ? steps - 1 : 1));
  run.schedule.name = ExponentialLR::kName;
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
  net_ = start_;
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

size_t Session::Workers(size_t threads, size_t rows) const {
  // A second thread pays once a step's products reach about 2 M multiply-adds (measured: the
  // notebook's MLP at batch 64 gains; 13-16-3 at batch 32 ran 2-3x slower on two threads).
  constexpr size_t kParallelWork = size_t{2} << 20;
  return rows * net_.num_params() >= kParallelWork ? threads : 1;
}

EvalResult Session::Evaluate(const host::Dataset& data, size_t threads) {
  host::ThreadPool pool(Workers(threads, kEvalRows));
  return Evaluate(data, pool.parallel_for());
}

template <class F>
void Session::ForEachBatch(const host::Dataset& data, const ParallelFor& pf, const F& f) {
  // 256 rows at a time, in order: larger batches only touch more memory.
  std::vector<uint32_t> order(kEvalRows);
  for (size_t first = 0; first < data.count; first += kEvalRows) {
    const size_t rows = std::min(kEvalRows, data.count - first);
    for (size_t r = 0; r < rows; ++r) order[r] = static_cast<uint32_t>(first + r);
    // Data sets are validated against the model before they get here.
    (void)ws_.Load(data, net_.transform(), order.data(), rows, pf);
    f(first, rows);
  }
}

EvalResult Session::Evaluate(const host::Dataset& data, const ParallelFor& pf) {
  double loss_sum = 0.0;
  size_t correct = 0;
  ForEachBatch(data, pf, [&](size_t, size_t rows) {
    (void)internal::Evaluate(net_.Ref(), ws_.Ref(), rows, &loss_sum, &correct, pf);
  });
  const double n = static_cast<double>(data.count);
  return {loss_sum / n, static_cast<double>(correct) / n};
}

std::vector<float> Session::Outputs(const host::Dataset& data, const ParallelFor& pf) {
  const Layout& l = ws_.layout();
  const size_t outputs = l.outputs();
  std::vector<float> out(data.count * outputs);
  ForEachBatch(data, pf, [&](size_t first, size_t rows) {
    (void)internal::Forward(net_.Ref(), ws_.Ref(), rows, pf);
    const float* z = ws_.Ref().F(l.act[l.num_layers]);
    for (size_t r = 0; r < rows; ++r)
      std::copy(z + r * Padded(outputs), z + r * Padded(outputs) + outputs, out.begin() + (first + r) * outputs);
  });
  return out;
}

}  // namespace cli
}  // namespace descent
