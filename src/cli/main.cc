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
                                     "loss-csv", "checkpoint", "checkpoint-every", "resume"};
  std::vector<std::string> switches = {"no-shuffle"};
  for (const std::string& n : DashedHyperparameters()) {
    bool is_bool = n == "nesterov" || n == "centered" || n == "amsgrad";
    (is_bool ? switches : valued).push_back(n);
  }
  const Flags flags("train", argc, argv, valued, switches);
  if (flags.help()) {
    printf("usage: descent train [--data PATH] [--test PATH] [--optimizer NAME] [--lr X] [hyperparameter flags]\n"
           "                     [--epochs N] [--batch N] [--seed N] [--no-shuffle] [--init FILE] [--save FILE]\n"
           "                     [--loss-csv FILE]\n\n"
           "Trains the MLP 784-100-100-10 and prints a result line.\n\n%s"
           "  --optimizer NAME %s (default adam)\n"
           "  --no-shuffle     keep the data order (default: reshuffle every epoch from the seed)\n"
           "  --init FILE      start from these weights (safetensors) instead of a seeded init\n"
           "  --save FILE      write the trained weights (safetensors, torch state_dict names)\n"
           "  --loss-csv FILE  write step,epoch,batch,loss for every step\n"
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
           "momentum and nesterov are sgd with --momentum 0.9 (and --nesterov).\n",
           kDataHelp, Join(PresetNames(), ", ").c_str());
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
    });
  }
  if (flags.Has("loss-csv")) {
    std::string csv = "step,epoch,batch,loss\n";
    for (const StepRecord& r : result.steps)
      csv += std::to_string(r.step) + "," + std::to_string(r.epoch) + "," + std::to_string(r.batch) + "," +
             LossText(r.loss) + "\n";
    WriteOrDie(flags.Text("loss-csv", ""), csv);
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

int Compare(int argc, char** argv) {
  const Flags flags("compare", argc, argv, {"data", "test", "optimizers", "epochs", "batch", "seed", "threads", "out"}, {});
  if (flags.help()) {
    printf("usage: descent compare [--data PATH] [--test PATH] [--optimizers a,b,...] [--epochs N] [--batch N]\n"
           "                       [--seed N] [--out DIR]\n\n"
           "Trains the MLP with each optimizer from the same initial weights over the same batch order,\n"
           "then writes DIR/losses.csv, DIR/summary.csv and DIR/loss-curves.svg.\n\n%s"
           "  --optimizers L   comma-separated names (default: the notebook's %s)\n"
           "                   at the notebook's rates: sgd lr 1e-2; rmsprop alpha 0.9; the rest lr 1e-3\n"
           "  --out DIR        output directory (default out)\n",
           kDataHelp, Join(NotebookNames(), ",").c_str());
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
  const std::string out = flags.Text("out", "out");
  const host::Dataset train = LoadData(flags.Text("data", DESCENT_DATA_DIR), "train");
  const host::Dataset test = LoadData(DefaultTest(flags), "t10k");
  if (host::Error e = host::MakeDirectories(out)) Die(kExitBadFile, e.message);

  std::string losses = "optimizer,step,epoch,batch,loss\n";
  std::string summary = "optimizer,train_loss,test_loss,test_accuracy,seconds\n";
  host::Chart chart;
  chart.title = "Evolution of Optimizers";
  chart.subtitle = "MLP " + Architecture() + ", batch " + std::to_string(base.batch) + ", " +
                   std::to_string(base.epochs) + " epochs on " + std::to_string(train.count) + " samples, seed " +
                   std::to_string(base.seed) + "; legend: optimizer (lr), test accuracy";
  chart.x_label = "step (one batch each)";
  chart.y_label = "training loss (NLL, log scale)";
  const size_t batches = (train.count + base.batch - 1) / base.batch;
  for (size_t e = 1; e < base.epochs; ++e) {
    chart.x_markers.push_back(static_cast<double>(e * batches) + 0.5);
    chart.x_marker_labels.push_back("epoch " + std::to_string(e + 1));
  }
  printf("%-10s %-8s %10s %10s %9s %8s\n", "optimizer", "lr", "train_loss", "test_loss", "accuracy", "seconds");
  bool any_failed = false;
  for (const OptimizerConfig& config : configs) {
    TrainConfig run = base;
    run.optimizer = config;
    Init(TheNet(), base.seed);
    TrainResult result;
    {
      Progress progress(config.name);
      result = Train(run, train, [&](const StepRecord& r, size_t n, double sps) { progress.Update(r, run.epochs, n, sps); });
    }
    host::Series series;
    series.name = config.name + " (" + Lr(config) + ")";
    for (const StepRecord& r : result.steps) {
      losses += config.name + "," + std::to_string(r.step) + "," + std::to_string(r.epoch) + "," +
                std::to_string(r.batch) + "," + LossText(r.loss) + "\n";
      series.x.push_back(static_cast<double>(r.step));
      series.y.push_back(r.loss);
    }
    if (result.status != Status::kOk) {
      any_failed = true;
      fprintf(stderr, "descent: compare: %s: the loss became non-finite at step %zu; its curve stops there\n",
              config.name.c_str(), result.steps.size());
      summary += config.name + ",nan,nan,nan," + Format("%.3f", result.seconds) + "\n";
      series.note = "diverged";
      printf("%-10s %-8s %10s %10s %9s %8.2f\n", config.name.c_str(), Lr(config).c_str(), "nan", "-", "-", result.seconds);
    } else {
      const EvalResult eval = Evaluate(test, base.threads);
      summary += config.name + "," + Format("%.6f", result.train_loss) + "," + Format("%.6f", eval.loss) + "," +
                 Format("%.4f", eval.accuracy) + "," + Format("%.3f", result.seconds) + "\n";
      series.note = Format("%.1f %%", 100.0 * eval.accuracy);
      printf("%-10s %-8s %10.4f %10.4f %8.1f%% %8.2f\n", config.name.c_str(), Lr(config).c_str(), result.train_loss,
             eval.loss, 100.0 * eval.accuracy, result.seconds);
    }
    chart.series.push_back(std::move(series));
  }
  WriteOrDie(out + "/losses.csv", losses);
  WriteOrDie(out + "/summary.csv", summary);
  WriteOrDie(out + "/loss-curves.svg", host::RenderSvg(chart));
  printf("wrote %s/losses.csv, %s/summary.csv, %s/loss-curves.svg\n", out.c_str(), out.c_str(), out.c_str());
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
  if (command == "eval") return Eval(argc - 2, argv + 2);
  if (command == "--help" || command == "-h" || command == "help") return MainHelp(stdout);
  fprintf(stderr, "descent: unknown command '%s'\n", command.c_str());
  return MainHelp(stderr);
}
