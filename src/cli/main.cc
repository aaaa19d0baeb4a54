// The descent program: train, compare optimizers, evaluate.
// Exit status: 0 success, 2 usage error, 3 bad input or output file, 4 non-finite loss.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <type_traits>
#include <vector>

#include "descent/backend.h"
#include "src/cli/optimizers.h"
#include "src/cli/session.h"
#include "src/host/svg_plot.h"

#ifndef DESCENT_DATA_DIR
#define DESCENT_DATA_DIR "data"
#endif

namespace descent {
namespace cli {
namespace {

constexpr int kExitUsage = 2, kExitBadFile = 3, kExitNonFinite = 4;

[[noreturn]] void Die(int code, const std::string& message) {
  fprintf(stderr, "descent: %s\n", message.c_str());
  exit(code);
}

std::string Dashed(std::string name) {
  std::replace(name.begin(), name.end(), '_', '-');
  return name;
}

// --name value, --name=value, and switches (--name, --name=true|false).
class Flags {
 public:
  Flags(const char* command, int argc, char** argv, std::vector<std::string> valued,
        std::vector<std::string> switches)
      : command_(command) {
    for (int i = 0; i < argc; ++i) {
      std::string arg = argv[i];
      if (arg == "-h" || arg == "--help") {
        help_ = true;
        continue;
      }
      if (arg.compare(0, 2, "--") != 0) Usage("unexpected argument '" + arg + "'");
      arg = arg.substr(2);
      std::string value;
      const size_t eq = arg.find('=');
      const bool inline_value = eq != std::string::npos;
      if (inline_value) value = arg.substr(eq + 1), arg = arg.substr(0, eq);
      const bool is_switch = std::find(switches.begin(), switches.end(), arg) != switches.end();
      if (!is_switch && std::find(valued.begin(), valued.end(), arg) == valued.end())
        Usage("unknown flag --" + arg);
      if (values_.count(arg)) Usage("--" + arg + " given twice");
      if (is_switch) {
        if (!inline_value) value = "true";
      } else if (!inline_value) {
        if (i + 1 >= argc) Usage("--" + arg + " needs a value");
        value = argv[++i];
      }
      values_[arg] = value;
      order_.push_back(arg);
    }
  }

  bool help() const { return help_; }
  bool Has(const std::string& name) const { return values_.count(name) != 0; }
  const std::string& Value(const std::string& name) const { return values_.at(name); }
  const std::vector<std::string>& order() const { return order_; }
  std::string Text(const std::string& name, const std::string& fallback) const {
    auto it = values_.find(name);
    return it == values_.end() ? fallback : it->second;
  }
  double Number(const std::string& name, double fallback) const {
    if (!Has(name)) return fallback;
    const std::string& text = values_.at(name);
    char* end = nullptr;
    const double v = strtod(text.c_str(), &end);
    if (text.empty() || *end != '\0' || !std::isfinite(v)) Usage("--" + name + " expects a number, got '" + text + "'");
    return v;
  }
  uint64_t Count(const std::string& name, uint64_t fallback, uint64_t lo, uint64_t hi) const {
    if (!Has(name)) return fallback;
    const std::string& text = values_.at(name);
    char* end = nullptr;
    const unsigned long long v = strtoull(text.c_str(), &end, 10);
    if (text.empty() || text[0] == '-' || *end != '\0' || v < lo || v > hi)
      Usage("--" + name + " expects a whole number in [" + std::to_string(lo) + ", " + std::to_string(hi) +
            "], got '" + text + "'");
    return v;
  }
  bool Switch(const std::string& name) const {
    const std::string text = Text(name, "false");
    if (text == "true" || text == "1") return true;
    if (text == "false" || text == "0") return false;
    Usage("--" + name + " expects true or false, got '" + text + "'");
  }
  [[noreturn]] void Usage(const std::string& problem) const {
    Die(kExitUsage, std::string(command_) + ": " + problem + " (see 'descent " + command_ + " --help')");
  }

 private:
  const char* command_;
  bool help_ = false;
  std::map<std::string, std::string> values_;
  std::vector<std::string> order_;
};

std::string Join(const std::vector<std::string>& items, const char* sep) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) out += (i ? sep : "") + items[i];
  return out;
}

std::vector<std::string> DashedHyperparameters() {
  std::vector<std::string> names;
  for (const std::string& n : AllHyperparameterNames()) names.push_back(Dashed(n));
  return names;
}

// Every hyperparameter as a flag: the booleans are switches, the rest take a value.
void AddHyperparameterFlags(std::vector<std::string>* valued, std::vector<std::string>* switches) {
  for (const std::string& n : DashedHyperparameters()) {
    const bool is_bool = n == "nesterov" || n == "centered" || n == "amsgrad";
    (is_bool ? switches : valued)->push_back(n);
  }
}

// Applies hyperparameter flags to the preset; a flag the rule does not have is a usage error.
void ApplyHyperparameters(const Flags& flags, OptimizerConfig* config) {
  const std::vector<std::string> all = DashedHyperparameters();
  for (const std::string& flag : flags.order()) {
    if (std::find(all.begin(), all.end(), flag) == all.end()) continue;
    bool applied = false;
    std::vector<std::string> own;
    std::visit([&](auto& hp) {
      ForEachHyperparameter(hp, [&](const char* name, auto& value) {
        own.push_back("--" + Dashed(name));
        if (Dashed(name) != flag) return;
        applied = true;
        if constexpr (std::is_same_v<std::decay_t<decltype(value)>, bool>) value = flags.Switch(flag);
        else value = flags.Number(flag, value);
      });
    }, config->rule);
    if (!applied) flags.Usage("--" + flag + " does not apply to " + config->name + " (it takes " + Join(own, ", ") + ")");
  }
  if (const char* why = InvalidReason(*config)) flags.Usage(config->name + ": " + why);
}

// Loads a data set and checks it fits the model; bad files end the program with status 3.
host::Dataset LoadData(const std::string& path, const char* prefix) {
  host::Dataset data;
  if (host::Error e = host::LoadDataset(path, prefix, &data)) Die(kExitBadFile, e.message);
  if (host::Error e = host::CheckFits(data, Net::kInputs, Net::kClasses)) Die(kExitBadFile, e.message);
  return data;
}

std::string DefaultTest(const Flags& flags) {
  const std::string data = flags.Text("data", DESCENT_DATA_DIR);
  return flags.Text("test", host::IsDirectory(data) ? data : std::string(DESCENT_DATA_DIR));
}

void WriteOrDie(const std::string& path, const std::string& text) {
  if (host::Error e = host::WriteFileAtomic(path, text)) Die(kExitBadFile, e.message);
}

std::string Format(const char* fmt, double v) {
  char buf[64];
  snprintf(buf, sizeof(buf), fmt, v);
  return buf;
}

std::string LossText(float loss) { return Format("%.9g", static_cast<double>(loss)); }

const char* const kControlHelp =
    "  --schedule NAME  learning-rate schedule (torch.optim.lr_scheduler), stepped after every batch:\n"
    "                   constant (default); step --step-size N [--gamma 0.1]; multistep --milestones a,b,..\n"
    "                   [--gamma 0.1]; exponential --gamma G; cosine [--t-max N] [--eta-min 0];\n"
    "                   warmup-cosine [--warmup-steps 5] [--start-factor 1/3] [--t-max N] [--eta-min 0];\n"
    "                   onecycle [--max-lr LR] [--total-steps N] [--pct-start 0.3] [--anneal-strategy cos|linear]\n"
    "                   [--cycle-momentum true|false] [--base-momentum 0.85] [--max-momentum 0.95]\n"
    "                   [--div-factor 25] [--final-div-factor 1e4] [--three-phase true|false];\n"
    "                   plateau [--mode min|max] [--factor 0.1] [--patience 10] [--threshold 1e-4]\n"
    "                   [--threshold-mode rel|abs] [--cooldown 0] [--min-lr 0] [--plateau-eps 1e-8]\n"
    "                   (plateau follows the test loss of each --eval-every, else each epoch's training loss).\n"
    "                   --t-max and --total-steps default to the run's length, --max-lr to --lr\n"
    "  --schedule-unit step|epoch  step the schedule after every batch (default) or every epoch\n"
    "  --clip-norm X    clip the gradient's global 2-norm to X (torch.nn.utils.clip_grad_norm_)\n"
    "  --clip-value X   clamp every gradient to [-X, X] (clip_grad_value_; after --clip-norm)\n"
    "  --eval-every N[steps|epochs]  evaluate on the test data every N steps (or epochs); the loss CSV\n"
    "                   gains test_loss,test_accuracy columns and the plot the test loss\n"
    "  --early-stop P   stop after P evaluations without a test loss below best - --min-delta (default 0),\n"
    "                   and end with (and --save) the best weights\n";

std::vector<std::string> ControlFlags() {
  std::vector<std::string> names = {"schedule", "schedule-unit", "clip-norm", "clip-value", "eval-every",
                                    "early-stop", "min-delta"};
  for (const std::string& n : ScheduleFlagNames()) names.push_back(n);
  return names;
}

// Schedule, clipping, evaluation and early stopping from the flags, for a run of
// `epochs` epochs of `batches` steps with the optimizer already in config.
void ApplyControls(const Flags& flags, size_t epochs, size_t batches, TrainConfig* config,
                   const Checkpoint* resume = nullptr) {
  bool schedule_flags = flags.Has("schedule") || flags.Has("schedule-unit");
  for (const std::string& n : ScheduleFlagNames()) schedule_flags |= flags.Has(n);
  const bool clip_flags = flags.Has("clip-norm") || flags.Has("clip-value");
  const std::string unit = flags.Text("schedule-unit", "step");
  if (unit != "step" && unit != "epoch") flags.Usage("--schedule-unit expects step or epoch, got '" + unit + "'");
  config->schedule.per_epoch = unit == "epoch";
  const int64_t length = static_cast<int64_t>(config->schedule.per_epoch ? epochs : epochs * batches);
  const double lr = std::visit([](const auto& hp) { return hp.lr; }, config->optimizer.rule);
  const std::string name = flags.Text("schedule", "constant");
  const std::string error = MakeSchedule(
      name, [&](const std::string& flag) { return flags.Has(flag) ? &flags.Value(flag) : nullptr; }, length, lr,
      &config->schedule);
  if (!error.empty()) flags.Usage(error);
  if (resume && !schedule_flags && !ParseSchedule(resume->schedule, &config->schedule))  // continue the checkpoint's
    Die(kExitBadFile, flags.Text("resume", "") + ": names a schedule this program cannot read: " + resume->schedule);
  if (const OneCycleLR* one = std::get_if<OneCycleLR>(&config->schedule.rule); one && one->total_steps < length)
    flags.Usage("--schedule onecycle's total_steps " + std::to_string(one->total_steps) + " is shorter than the run (" +
                std::to_string(length) + "); torch stops there with an error");
  if (CyclesMomentum(config->schedule) &&
      (std::holds_alternative<Adagrad>(config->optimizer.rule) || std::holds_alternative<Adadelta>(config->optimizer.rule)))
    flags.Usage("--schedule onecycle cycles momentum, which " + config->optimizer.name +
                " does not have (torch raises the same); add --cycle-momentum false");
  config->clip.max_norm = flags.Number("clip-norm", 0.0);
  config->clip.clip_value = flags.Number("clip-value", 0.0);
  if (config->clip.max_norm < 0 || config->clip.clip_value < 0) flags.Usage("--clip-norm and --clip-value must be positive");
  if (resume && !clip_flags &&
      sscanf(resume->clip.c_str(), "max_norm=%lf clip_value=%lf", &config->clip.max_norm, &config->clip.clip_value) != 2)
    Die(kExitBadFile, flags.Text("resume", "") + ": has unreadable clipping settings: " + resume->clip);
  if (flags.Has("eval-every")) {
    std::string text = flags.Text("eval-every", "");
    for (const char* suffix : {"epochs", "epoch", "steps", "step"}) {
      const size_t n = strlen(suffix);
      if (text.size() > n && text.compare(text.size() - n, n, suffix) == 0) {
        config->eval_every_epochs = suffix[0] == 'e';
        text.resize(text.size() - n);
        break;
      }
    }
    char* end = nullptr;
    const unsigned long long every = strtoull(text.c_str(), &end, 10);
    if (text.empty() || text[0] == '-' || *end != '\0' || every == 0)
      flags.Usage("--eval-every expects N, Nsteps or Nepochs with N >= 1, got '" + flags.Text("eval-every", "") + "'");
    config->eval_every = every;
  }
  config->early_stop = flags.Count("early-stop", 0, 1, 1000000);
  config->min_delta = flags.Number("min-delta", 0.0);
  if (config->early_stop && !config->eval_every) flags.Usage("--early-stop needs --eval-every (it watches the test loss)");
  if (flags.Has("min-delta") && !config->early_stop) flags.Usage("--min-delta needs --early-stop");
  if (config->min_delta < 0) flags.Usage("--min-delta must not be negative");
}

// step,epoch,batch,loss per step, then lr (with a schedule) and the evaluations (with --eval-every).
std::string LossCsv(const TrainResult& result, const TrainConfig& config, const std::string& prefix = "") {
  const bool lr = config.schedule.name != "constant", evals = config.eval_every != 0;
  std::string csv;
  size_t next_eval = 0;
  for (const StepRecord& r : result.steps) {
    csv += prefix + std::to_string(r.step) + "," + std::to_string(r.epoch) + "," + std::to_string(r.batch) + "," +
           LossText(r.loss);
    if (lr) csv += "," + Format("%.9g", r.lr);
    if (evals) {
      if (next_eval < result.evals.size() && result.evals[next_eval].step == r.step) {
        csv += "," + Format("%.6f", result.evals[next_eval].test_loss) + "," +
               Format("%.4f", result.evals[next_eval].test_accuracy);
        ++next_eval;
      } else {
        csv += ",,";
      }
    }
    csv += "\n";
  }
  return csv;
}

std::string LossCsvHeader(const TrainConfig& config) {
  return std::string("step,epoch,batch,loss") + (config.schedule.name != "constant" ? ",lr" : "") +
         (config.eval_every ? ",test_loss,test_accuracy" : "");
}

// The test loss of each evaluation, as a dotted series in the colour of its run.
host::Series EvalSeries(const TrainResult& result, const std::string& name, int color) {
  host::Series s;
  s.name = name;
  s.color = color;
  s.dots = true;
  for (const EvalRecord& e : result.evals) {
    s.x.push_back(static_cast<double>(e.step));
    s.y.push_back(e.test_loss);
  }
  if (!result.evals.empty()) s.note = Format("%.1f %%", 100.0 * result.evals.back().test_accuracy);
  return s;
}

const char* const kDataHelp =
    "  --data PATH      training data: a directory with train-images-idx3-ubyte[.gz] and\n"
    "                   train-labels-idx1-ubyte[.gz], or a Kaggle CSV (label,pixel0,...)\n"
    "                   (default: the bundled " DESCENT_DATA_DIR ")\n"
    "  --test PATH      test data: a directory with t10k-*-ubyte[.gz], or a CSV\n"
    "                   (default: the --data directory, else the bundled data)\n"
    "  --epochs N       passes over the training data (default 3)\n"
    "  --batch N        samples per step, 1..1024; the last batch may be smaller (default 256)\n"
    "  --seed N         seed of the initial weights and the shuffles (default 0)\n"
    "  --threads N      worker threads, 1..64; results are identical for every N (default 1)\n";

int Train(int argc, char** argv) {
  std::vector<std::string> valued = {"data", "test", "optimizer", "epochs", "batch", "seed", "threads", "init", "save",
                                     "loss-csv", "plot", "checkpoint", "checkpoint-every", "resume"};
  for (const std::string& n : ControlFlags()) valued.push_back(n);
  std::vector<std::string> switches = {"no-shuffle"};
  AddHyperparameterFlags(&valued, &switches);
  const Flags flags("train", argc, argv, valued, switches);
  if (flags.help()) {
    printf("usage: descent train [--data PATH] [--test PATH] [--optimizer NAME] [--lr X] [hyperparameter flags]\n"
           "                     [--epochs N] [--batch N] [--seed N] [--no-shuffle] [--init FILE] [--save FILE]\n"
           "                     [--loss-csv FILE] [--plot FILE] [--schedule NAME ...] [--clip-norm X] [--clip-value X]\n"
           "                     [--eval-every N[steps|epochs]] [--early-stop P [--min-delta D]]\n\n"
           "Trains the MLP 784-100-100-10 and prints a result line.\n\n%s"
           "  --optimizer NAME %s (default adam)\n"
           "  --no-shuffle     keep the data order (default: reshuffle every epoch from the seed)\n"
           "  --init FILE      start from these weights (safetensors) instead of a seeded init\n"
           "  --save FILE      write the trained weights (safetensors, torch state_dict names)\n"
           "  --loss-csv FILE  write step,epoch,batch,loss for every step (see --schedule, --eval-every)\n"
           "  --plot FILE      draw the training loss (and the test loss of each evaluation) as SVG\n"
           "  --checkpoint FILE         write a checkpoint (weights, optimizer state, position) at the end\n"
           "  --checkpoint-every N      ...and every N steps; each write is atomic\n"
           "  --resume FILE             continue a checkpointed run exactly; --epochs counts from the start\n\n"
           "Hyperparameters (torch.optim names; defaults are torch's for the optimizer):\n"
           "  --lr --momentum --dampening --weight-decay --nesterov (sgd, momentum, nesterov)\n"
           "  --lr --lr-decay --weight-decay --initial-accumulator-value --eps (adagrad)\n"
           "  --lr --rho --eps --weight-decay (adadelta)\n"
           "  --lr --alpha --eps --weight-decay --momentum --centered (rmsprop)\n"
           "  --lr --beta1 --beta2 --eps --weight-decay --amsgrad (adam, adamw)\n"
           "  --lr --beta1 --beta2 --eps --weight-decay [--momentum-decay] (adamax, radam [nadam])\n"
           "momentum and nesterov are sgd with --momentum 0.9 (and --nesterov).\n\n%s",
           kDataHelp, Join(PresetNames(), ", ").c_str(), kControlHelp);
    return 0;
  }
  TrainConfig config;
  static Checkpoint resume;  // the run to continue, when --resume is given
  const bool resuming = flags.Has("resume");
  if (resuming) {
    if (flags.Has("init")) flags.Usage("--init and --resume exclude each other (a checkpoint holds its weights)");
    if (host::Error e = ReadCheckpoint(flags.Text("resume", ""), &resume)) Die(kExitBadFile, e.message);
    config.resume = &resume;
  }
  const std::string optimizer = flags.Text("optimizer", resuming ? resume.optimizer.name : "adam");
  if (!Preset(optimizer, &config.optimizer))
    flags.Usage("unknown optimizer '" + optimizer + "' (one of " + Join(PresetNames(), ", ") + ")");
  if (resuming) {
    if (optimizer != resume.optimizer.name)
      flags.Usage("--optimizer " + optimizer + ", but the checkpoint was trained with " + resume.optimizer.name);
    config.optimizer = resume.optimizer;
  }
  ApplyHyperparameters(flags, &config.optimizer);
  if (resuming && Describe(config.optimizer) != Describe(resume.optimizer))
    flags.Usage("hyperparameters differ from the checkpoint's (" + Describe(resume.optimizer) + ")");
  config.epochs = flags.Count("epochs", 3, 1, 1000000);
  config.batch = flags.Count("batch", resuming ? resume.batch : 256, 1, kMaxBatch);
  config.seed = flags.Count("seed", resuming ? resume.seed : 0, 0, UINT64_MAX);
  config.shuffle = flags.Has("no-shuffle") ? !flags.Switch("no-shuffle") : (resuming ? resume.shuffle : true);
  config.threads = flags.Count("threads", 1, 1, 64);
  if (resuming && (config.batch != resume.batch || config.seed != resume.seed || config.shuffle != resume.shuffle))
    flags.Usage("--batch, --seed and --no-shuffle must match the checkpoint's (batch " + std::to_string(resume.batch) +
                ", seed " + std::to_string(resume.seed) + (resume.shuffle ? ", shuffled)" : ", no shuffle)"));
  config.checkpoint = flags.Text("checkpoint", "");
  config.checkpoint_every = flags.Count("checkpoint-every", 0, 1, UINT64_MAX);
  if (config.checkpoint_every && config.checkpoint.empty()) flags.Usage("--checkpoint-every needs --checkpoint FILE");

  const host::Dataset train = LoadData(flags.Text("data", DESCENT_DATA_DIR), "train");
  const host::Dataset test = LoadData(DefaultTest(flags), "t10k");
  ApplyControls(flags, config.epochs, (train.count + config.batch - 1) / config.batch, &config,
                resuming ? &resume : nullptr);
  config.test = &test;
  if (resuming) {
    if (Describe(config.schedule) != resume.schedule)
      flags.Usage("the schedule differs from the checkpoint's (" + resume.schedule + ")");
    if (DescribeClip(config.clip) != resume.clip) flags.Usage("clipping differs from the checkpoint's (" + resume.clip + ")");
    if (IsPlateau(config.schedule) || config.early_stop)
      flags.Usage("--resume cannot continue --schedule plateau or --early-stop: a checkpoint does not hold their state");
  }
  if (resuming && DataFingerprint(train) != resume.data)
    Die(kExitBadFile, flags.Text("resume", "") + ": was made on other training data (" + resume.data +
                          "), not " + train.source + " (" + DataFingerprint(train) + ")");
  if (flags.Has("init")) {
    if (host::Error e = LoadModel(flags.Text("init", ""))) Die(kExitBadFile, e.message);
  } else if (!resuming) {
    Init(TheNet(), config.seed);
  }

  TrainResult result;
  {
    Progress progress(optimizer);
    result = Train(config, train, [&](const StepRecord& r, size_t batches, double sps) {
      progress.Update(r, config.epochs, batches, sps);
      return true;
    });
  }
  if (flags.Has("loss-csv")) WriteOrDie(flags.Text("loss-csv", ""), LossCsvHeader(config) + "\n" + LossCsv(result, config));
  if (flags.Has("plot")) {
    host::Chart chart;
    chart.title = optimizer + " on " + Architecture();
    chart.subtitle = Describe(config.optimizer) + (config.schedule.name == "constant" ? "" : "; " + Describe(config.schedule));
    chart.x_label = "step (one batch each)";
    chart.y_label = "loss (NLL, log scale)";
    host::Series loss;
    loss.name = "training loss";
    for (const StepRecord& r : result.steps) loss.x.push_back(static_cast<double>(r.step)), loss.y.push_back(r.loss);
    chart.series.push_back(loss);
    if (!result.evals.empty()) chart.series.push_back(EvalSeries(result, "test loss", 1));
    WriteOrDie(flags.Text("plot", ""), host::RenderSvg(chart));
  }
  if (result.stopped_early && config.early_stop) {
    const EvalRecord& best = result.evals[result.best_eval];
    fprintf(stderr, "descent: train: early stop after %zu evaluations without improvement; the weights are step %zu's "
            "(test loss %.6f)\n", config.early_stop, best.step, best.test_loss);
  }
  if (result.status == Status::kNonFinite) {
    const StepRecord& r = result.steps.back();
    Die(kExitNonFinite, "train: the loss or the weights became non-finite (loss " + LossText(r.loss) + ") at step " +
                            std::to_string(r.step) + " (epoch " + std::to_string(r.epoch) + ", batch " +
                            std::to_string(r.batch) + ") with " + optimizer + " " + Describe(config.optimizer) +
                            "; stopped there" + (config.checkpoint.empty() ? std::string() : ", " + config.checkpoint + " holds the last good step") +
                            " (try a smaller --lr)");
  }
  if (!result.error.empty()) Die(kExitBadFile, result.error);
  if (result.status != Status::kOk) Die(kExitBadFile, std::string("train: ") + StatusMessage(result.status));
  if (flags.Has("save"))
    if (host::Error e = SaveModel(flags.Text("save", ""))) Die(kExitBadFile, e.message);
  const EvalResult eval = Evaluate(test, config.threads);
  printf("result optimizer=%s epochs=%zu steps=%zu train_loss=%.6f test_loss=%.6f test_accuracy=%.4f "
         "params_hash=%016llx seconds=%.3f samples_per_second=%.0f\n",
         optimizer.c_str(), config.epochs, result.steps.size(), result.train_loss, eval.loss, eval.accuracy,
         static_cast<unsigned long long>(ParamsHash()), result.seconds,
         static_cast<double>(result.samples) / result.seconds);
  return 0;
}

int Eval(int argc, char** argv) {
  const Flags flags("eval", argc, argv, {"model", "test"}, {});
  if (flags.help()) {
    printf("usage: descent eval --model FILE [--test PATH]\n\n"
           "Evaluates saved weights (safetensors) on the test set and prints a result line.\n"
           "  --model FILE  weights written by 'descent train --save' (or torch's state_dict)\n"
           "  --test PATH   a directory with t10k-*-ubyte[.gz], or a CSV (default: the bundled data)\n");
    return 0;
  }
  if (!flags.Has("model")) flags.Usage("--model FILE is required");
  const host::Dataset test = LoadData(flags.Text("test", DESCENT_DATA_DIR), "t10k");
  if (host::Error e = LoadModel(flags.Text("model", ""))) Die(kExitBadFile, e.message);
  const EvalResult eval = Evaluate(test);
  printf("result test_loss=%.6f test_accuracy=%.4f\n", eval.loss, eval.accuracy);
  return 0;
}

std::string Lr(const OptimizerConfig& config) {
  return std::visit([](const auto& hp) { return Format("%g", hp.lr); }, config.rule);
}

const char* const kFindHelp =
    "  --start-lr X     first rate of the range test (default 1e-7)\n"
    "  --end-lr X       last rate (default 10)\n"
    "  --steps N        steps over which the rate grows, exponentially (default 100)\n";

struct FindSettings {
  double start_lr, end_lr;
  size_t steps;
};
FindSettings ReadFindSettings(const Flags& flags) {
  FindSettings f{flags.Number("start-lr", 1e-7), flags.Number("end-lr", 10.0), flags.Count("steps", 100, 2, 100000)};
  if (!(f.start_lr > 0 && f.end_lr > f.start_lr)) flags.Usage("the range test needs 0 < --start-lr < --end-lr");
  return f;
}

// DIR/<stem>.csv and DIR/<stem>.svg of a range test.
void WriteLrFind(const std::string& dir, const std::string& stem, const OptimizerConfig& config, const LrFindResult& r) {
  const std::string& optimizer = config.name;
  std::string hyperparameters = Describe(config);
  hyperparameters = hyperparameters.substr(hyperparameters.find(' ') + 1);  // all but lr, which the test sweeps
  std::string csv = "step,lr,loss,smoothed_loss\n";
  for (size_t i = 0; i < r.points.size(); ++i)
    csv += std::to_string(i + 1) + "," + Format("%.9g", r.points[i].lr) + "," + LossText(r.points[i].loss) + "," +
           Format("%.9g", r.points[i].smoothed) + "\n";
  WriteOrDie(dir + "/" + stem + ".csv", csv);
  host::Chart chart;
  chart.title = "Learning-rate range test: " + optimizer;
  chart.subtitle = hyperparameters + "; suggested lr " + Format("%.3g", r.suggestion) +
                   " (steepest descent of the smoothed loss)" + (r.diverged ? "; stopped at divergence" : "");
  chart.x_label = "learning rate (log scale)";
  chart.y_label = "training loss (NLL, log scale)";
  chart.log_x = true;
  host::Series raw, smooth;
  raw.name = "loss per step", smooth.name = "smoothed (EMA 0.98)";
  raw.color = 9;
  for (const LrFindPoint& p : r.points) {
    raw.x.push_back(p.lr), raw.y.push_back(p.loss);
    smooth.x.push_back(p.lr), smooth.y.push_back(p.smoothed);
  }
  smooth.color = 0;
  chart.series = {raw, smooth};
  if (!r.points.empty()) {
    chart.x_markers.push_back(r.points[r.suggestion_index].lr);
    chart.x_marker_labels.push_back("suggestion " + Format("%.3g", r.suggestion));
  }
  WriteOrDie(dir + "/" + stem + ".svg", host::RenderSvg(chart));
}

int LrFind(int argc, char** argv) {
  std::vector<std::string> valued = {"data", "optimizer", "batch", "seed", "threads", "out",
                                     "start-lr", "end-lr", "steps"};
  std::vector<std::string> switches = {"no-shuffle"};
  AddHyperparameterFlags(&valued, &switches);
  const Flags flags("lr-find", argc, argv, valued, switches);
  if (flags.help()) {
    printf("usage: descent lr-find [--data PATH] [--optimizer NAME] [hyperparameter flags] [--batch N] [--seed N]\n"
           "                       [--start-lr X] [--end-lr X] [--steps N] [--out DIR]\n\n"
           "Smith's learning-rate range test (fastai's lr_find): from the seeded initial weights, trains\n"
           "with a rate growing exponentially from --start-lr to --end-lr, records the loss smoothed by\n"
           "an exponential moving average (beta 0.98, bias-corrected) and stops when it exceeds 4 times its\n"
           "minimum. Suggests the rate where the smoothed loss falls fastest against log lr (fastai's\n"
           "'steep'), leaving out the first tenth of the steps and searching only up to the minimum of\n"
           "the smoothed loss.\n"
           "Writes DIR/lr-find.csv (step,lr,loss,smoothed_loss) and DIR/lr-find.svg.\n\n%s"
           "  --optimizer NAME %s (default adam)\n"
           "  --out DIR        output directory (default out)\n"
           "  --data, --batch, --seed, --threads, --no-shuffle and the hyperparameters as for train.\n",
           kFindHelp, Join(PresetNames(), ", ").c_str());
    return 0;
  }
  TrainConfig config;
  const std::string optimizer = flags.Text("optimizer", "adam");
  if (!Preset(optimizer, &config.optimizer))
    flags.Usage("unknown optimizer '" + optimizer + "' (one of " + Join(PresetNames(), ", ") + ")");
  ApplyHyperparameters(flags, &config.optimizer);
  if (flags.Has("lr")) flags.Usage("--lr has no meaning here: the test sweeps it (see --start-lr, --end-lr)");
  config.batch = flags.Count("batch", 256, 1, kMaxBatch);
  config.seed = flags.Count("seed", 0, 0, UINT64_MAX);
  config.shuffle = !flags.Switch("no-shuffle");
  config.threads = flags.Count("threads", 1, 1, 64);
  const FindSettings find = ReadFindSettings(flags);
  const std::string out = flags.Text("out", "out");
  const host::Dataset train = LoadData(flags.Text("data", DESCENT_DATA_DIR), "train");
  if (host::Error e = host::MakeDirectories(out)) Die(kExitBadFile, e.message);
  Init(TheNet(), config.seed);
  const LrFindResult r = FindLr(config, train, find.start_lr, find.end_lr, find.steps);
  WriteLrFind(out, "lr-find", config.optimizer, r);
  printf("suggestion optimizer=%s lr=%.6g steps=%zu diverged=%s\nwrote %s/lr-find.csv, %s/lr-find.svg\n",
         optimizer.c_str(), r.suggestion, r.points.size(), r.diverged ? "yes" : "no", out.c_str(), out.c_str());
  return 0;
}

int Compare(int argc, char** argv) {
  std::vector<std::string> valued = {"data", "test", "optimizers", "epochs", "batch", "seed", "threads", "out",
                                     "start-lr", "end-lr", "steps"};
  for (const std::string& n : ControlFlags()) valued.push_back(n);
  const Flags flags("compare", argc, argv, valued, {"tuned"});
  if (flags.help()) {
    printf("usage: descent compare [--data PATH] [--test PATH] [--optimizers a,b,...] [--epochs N] [--batch N]\n"
           "                       [--seed N] [--out DIR] [--tuned [--start-lr X] [--end-lr X] [--steps N]]\n"
           "                       [--schedule NAME ...] [--clip-norm X] [--clip-value X] [--eval-every N]\n\n"
           "Trains the MLP with each optimizer from the same initial weights over the same batch order,\n"
           "then writes DIR/losses.csv, DIR/summary.csv and DIR/loss-curves.svg.\n\n%s"
           "  --optimizers L   comma-separated names (default: the notebook's %s)\n"
           "                   at the notebook's rates: sgd lr 1e-2; rmsprop alpha 0.9; the rest lr 1e-3\n"
           "  --out DIR        output directory (default out)\n"
           "  --tuned          also run each optimizer at the rate 'descent lr-find' suggests for it (from the\n"
           "                   same initial weights): losses.csv and summary.csv gain a 'rates' column\n"
           "                   (notebook or tuned), DIR/loss-curves-tuned.svg shows the tuned runs and\n"
           "                   DIR/lr-find-<optimizer>.csv/.svg each range test\n%s"
           "Schedules, clipping and evaluation apply to every run, as in 'descent train':\n%s",
           kDataHelp, Join(NotebookNames(), ",").c_str(), kFindHelp, kControlHelp);
    return 0;
  }
  std::vector<OptimizerConfig> configs;
  const std::string list = flags.Text("optimizers", Join(NotebookNames(), ","));
  for (size_t at = 0; at <= list.size();) {
    size_t comma = list.find(',', at);
    if (comma == std::string::npos) comma = list.size();
    const std::string name = list.substr(at, comma - at);
    OptimizerConfig config;
    if (!NotebookPreset(name, &config))
      flags.Usage("unknown optimizer '" + name + "' in --optimizers (names: " + Join(PresetNames(), ", ") + ")");
    configs.push_back(config);
    at = comma + 1;
  }
  TrainConfig base;
  base.epochs = flags.Count("epochs", 3, 1, 1000000);
  base.batch = flags.Count("batch", 256, 1, kMaxBatch);
  base.seed = flags.Count("seed", 0, 0, UINT64_MAX);
  base.threads = flags.Count("threads", 1, 1, 64);
  const bool tuned = flags.Switch("tuned");
  if (!tuned && (flags.Has("start-lr") || flags.Has("end-lr") || flags.Has("steps")))
    flags.Usage("--start-lr, --end-lr and --steps set the range test of --tuned");
  const FindSettings find = ReadFindSettings(flags);
  const std::string out = flags.Text("out", "out");
  const host::Dataset train = LoadData(flags.Text("data", DESCENT_DATA_DIR), "train");
  const host::Dataset test = LoadData(DefaultTest(flags), "t10k");
  const size_t batches = (train.count + base.batch - 1) / base.batch;
  for (const OptimizerConfig& config : configs) {  // all flags checked before anything runs
    TrainConfig check = base;
    check.optimizer = config;
    ApplyControls(flags, base.epochs, batches, &check);
  }
  if (host::Error e = host::MakeDirectories(out)) Die(kExitBadFile, e.message);

  auto make_chart = [&](const std::string& rates) {
    host::Chart chart;
    chart.title = "Evolution of Optimizers" + rates;
    chart.subtitle = "MLP " + Architecture() + ", batch " + std::to_string(base.batch) + ", " +
                     std::to_string(base.epochs) + " epochs on " + std::to_string(train.count) + " samples, seed " +
                     std::to_string(base.seed) + "; legend: optimizer (lr), test accuracy";
    chart.x_label = "step (one batch each)";
    chart.y_label = flags.Has("eval-every") ? "loss (NLL, log scale): training, test (dots)"
                                            : "training loss (NLL, log scale)";
    for (size_t e = 1; e < base.epochs; ++e) {
      chart.x_markers.push_back(static_cast<double>(e * batches) + 0.5);
      chart.x_marker_labels.push_back("epoch " + std::to_string(e + 1));
    }
    return chart;
  };
  host::Chart notebook_chart = make_chart(""), tuned_chart = make_chart(" (rates from lr-find)");
  tuned_chart.subtitle += "; notebook rate in the legend";
  const std::string rates_column = tuned ? "rates," : "";
  std::string losses = "optimizer," + rates_column + LossCsvHeader(base) + "\n";
  std::string summary = "optimizer," + rates_column + (tuned ? "lr," : "") + "train_loss,test_loss,test_accuracy,seconds\n";
  printf("%-10s %-8s %-8s %10s %10s %9s %8s\n", "optimizer", "rates", "lr", "train_loss", "test_loss", "accuracy",
         "seconds");
  bool any_failed = false;
  // One run from the seeded weights: its row, its curve (and its evaluations) on `chart`.
  // legend_note: added to the legend after the rate (the tuned runs name the notebook's rate).
  auto run_one = [&](const OptimizerConfig& config, const char* rates, host::Chart* chart,
                     const std::string& legend_note) {
    TrainConfig run = base;
    run.optimizer = config;
    ApplyControls(flags, base.epochs, batches, &run);
    run.test = &test;
    Init(TheNet(), base.seed);
    TrainResult result;
    {
      Progress progress(config.name + (tuned ? std::string(" (") + rates + ")" : ""));
      result = Train(run, train, [&](const StepRecord& r, size_t n, double sps) {
        progress.Update(r, run.epochs, n, sps);
        return true;
      });
    }
    const std::string prefix = config.name + "," + (tuned ? std::string(rates) + "," : "");
    losses += LossCsv(result, run, prefix);
    host::Series series;
    series.name = config.name + " (" + Lr(config) + legend_note + ")";
    for (const StepRecord& r : result.steps) series.x.push_back(static_cast<double>(r.step)), series.y.push_back(r.loss);
    const std::string row = prefix + (tuned ? Lr(config) + "," : "");
    if (result.status != Status::kOk) {
      any_failed = true;
      fprintf(stderr, "descent: compare: %s: the loss became non-finite at step %zu; its curve stops there\n",
              config.name.c_str(), result.steps.size());
      summary += row + "nan,nan,nan," + Format("%.3f", result.seconds) + "\n";
      series.note = "diverged";
      printf("%-10s %-8s %-8s %10s %10s %9s %8.2f\n", config.name.c_str(), rates, Lr(config).c_str(), "nan", "-", "-",
             result.seconds);
    } else {
      const EvalResult eval = Evaluate(test, base.threads);
      summary += row + Format("%.6f", result.train_loss) + "," + Format("%.6f", eval.loss) + "," +
                 Format("%.4f", eval.accuracy) + "," + Format("%.3f", result.seconds) + "\n";
      series.note = Format("%.1f %%", 100.0 * eval.accuracy);
      printf("%-10s %-8s %-8s %10.4f %10.4f %8.1f%% %8.2f\n", config.name.c_str(), rates, Lr(config).c_str(),
             result.train_loss, eval.loss, 100.0 * eval.accuracy, result.seconds);
    }
    // One colour per run, shared by its evaluations.
    series.color = static_cast<int>(std::count_if(chart->series.begin(), chart->series.end(),
                                                  [](const host::Series& s) { return !s.dots; }));
    const int color = series.color;
    chart->series.push_back(std::move(series));
    if (!result.evals.empty()) chart->series.push_back(EvalSeries(result, config.name + " test loss", color));
  };
  for (const OptimizerConfig& config : configs) {
    run_one(config, "notebook", &notebook_chart, "");
    if (!tuned) continue;
    TrainConfig find_config = base;
    find_config.optimizer = config;
    Init(TheNet(), base.seed);
    const LrFindResult found = FindLr(find_config, train, find.start_lr, find.end_lr, find.steps);
    WriteLrFind(out, "lr-find-" + config.name, config, found);
    OptimizerConfig at_suggestion = config;
    std::visit([&](auto& hp) { hp.lr = found.suggestion; }, at_suggestion.rule);
    run_one(at_suggestion, "tuned", &tuned_chart, "; notebook " + Lr(config));
  }
  WriteOrDie(out + "/losses.csv", losses);
  WriteOrDie(out + "/summary.csv", summary);
  WriteOrDie(out + "/loss-curves.svg", host::RenderSvg(notebook_chart));
  if (tuned) WriteOrDie(out + "/loss-curves-tuned.svg", host::RenderSvg(tuned_chart));
  printf("wrote %s/losses.csv, %s/summary.csv, %s/loss-curves.svg%s\n", out.c_str(), out.c_str(), out.c_str(),
         tuned ? (", " + out + "/loss-curves-tuned.svg and the range tests " + out + "/lr-find-*").c_str() : "");
  return any_failed ? kExitNonFinite : 0;
}

int Info(int argc, char** argv) {
  const Flags flags("info", argc, argv, {}, {});
  if (flags.help()) {
    printf("usage: descent info\n\nPrints the kernel backend, the instruction sets it was compiled for, those this\n"
           "CPU runs, and the one in use (pin it with the environment variable DESCENT_ISA).\n");
    return 0;
  }
  const char* names[32];
  const size_t compiled = CompiledIsas(names, 32);
  printf("backend: %s\ncompiled: %s\n", BackendName(), Join(std::vector<std::string>(names, names + std::min<size_t>(compiled, 32)), " ").c_str());
  const size_t supported = SupportedIsas(names, 32);
  printf("supported: %s\nactive: %s\n", Join(std::vector<std::string>(names, names + std::min<size_t>(supported, 32)), " ").c_str(), ActiveIsa());
  return 0;
}

// DESCENT_ISA pins the instruction set; a value this build or CPU cannot honour is a usage error.
void ApplyIsaFromEnvironment() {
  const char* pinned = getenv("DESCENT_ISA");
  if (!pinned || SelectIsa(pinned) == Status::kOk) return;
  const char* names[32];
  const size_t n = SupportedIsas(names, 32);
  Die(kExitUsage, std::string("DESCENT_ISA=") + pinned + " is not available here (this build and CPU run: " +
                      Join(std::vector<std::string>(names, names + std::min<size_t>(n, 32)), ", ") + ")");
}

int MainHelp(FILE* to) {
  fprintf(to,
          "usage: descent <command> [flags]\n\n"
          "  train    train the MLP 784-100-100-10 with one optimizer\n"
          "  compare  train it with several optimizers and plot their loss curves\n"
          "  lr-find  learning-rate range test: suggests a rate for an optimizer\n"
          "  eval     evaluate saved weights on a test set\n"
          "  info     show the kernel backend and instruction sets\n\n"
          "'descent <command> --help' describes each command's flags.\n");
  return to == stdout ? 0 : kExitUsage;
}

}  // namespace
}  // namespace cli
}  // namespace descent

int main(int argc, char** argv) {
  using namespace descent::cli;
  if (argc < 2) return MainHelp(stderr);
  const std::string command = argv[1];
  ApplyIsaFromEnvironment();
  if (command == "info") return Info(argc - 2, argv + 2);
  if (command == "train") return Train(argc - 2, argv + 2);
  if (command == "compare") return Compare(argc - 2, argv + 2);
  if (command == "lr-find") return LrFind(argc - 2, argv + 2);
  if (command == "eval") return Eval(argc - 2, argv + 2);
  if (command == "--help" || command == "-h" || command == "help") return MainHelp(stdout);
  fprintf(stderr, "descent: unknown command '%s'\n", command.c_str());
  return MainHelp(stderr);
}
