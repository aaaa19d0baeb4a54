#include "src/cli/commands/common.h"

#include <string.h>

#include <algorithm>

#include "src/host/files.h"

#ifndef DESCENT_DATA_DIR
#define DESCENT_DATA_DIR "data"
#endif

namespace descent {
namespace cli {

const char* const kDefaultDataDir = DESCENT_DATA_DIR;

const char* const kDataHelp =
    "  --data PATH      training data: a directory with train-images-idx3-ubyte[.gz] and\n"
    "                   train-labels-idx1-ubyte[.gz], or a CSV of numbers with a header (see --target)\n"
    "                   (default: the bundled " DESCENT_DATA_DIR ")\n"
    "  --test PATH      test data: a directory with t10k-*-ubyte[.gz], or a CSV\n"
    "                   (default: the --data directory, else the bundled data)\n"
    "  --epochs N       passes over the training data (default 3)\n"
    "  --batch N        samples per step, 1..1024; the last batch may be smaller (default 256)\n"
    "  --seed N         seed of the initial weights and the shuffles (default 0)\n"
    "  --threads N      worker threads, 1..64; results are identical for every N (default 1)\n";

const char* const kFindHelp =
    "  --start-lr X     first rate of the range test (default 1e-7)\n"
    "  --end-lr X       last rate (default 10)\n"
    "  --steps N        steps over which the rate grows, exponentially (default 100)\n";

namespace {
// Wraps `text` at 100 columns, continuation lines indented by `indent` spaces;
// never inside [...] or between a flag and its value.
std::string Wrap(const std::string& text, size_t indent) {
  std::vector<std::string> words(1);
  int depth = 0;
  for (const char c : text) {
    depth += c == '[' ? 1 : c == ']' ? -1 : 0;
    if (c == ' ' && depth == 0) words.emplace_back();
    else words.back() += c;
  }
  for (size_t i = 0; i + 1 < words.size(); ++i)  // a flag keeps its value: "--gamma X"
    if (words[i].rfind("--", 0) == 0 && words[i + 1][0] != '-' && words[i + 1][0] != '[')
      words[i] += " " + words[i + 1], words.erase(words.begin() + static_cast<long>(i) + 1);
  std::string out, line;
  for (const std::string& word : words) {
    if (!line.empty() && indent + line.size() + 1 + word.size() > 100) {
      out += line + "\n" + std::string(indent, ' ');
      line.clear();
    }
    line += (line.empty() ? "" : " ") + word;
  }
  return out + line;
}
}  // namespace

std::string ControlHelp() {
  return "  --schedule NAME  learning-rate schedule (torch.optim.lr_scheduler), stepped after every batch:\n"
         "                   " +
         Wrap(ScheduleHelp() + ". plateau follows the test loss of each --eval-every, else each epoch's training loss."
              " --t-max and --total-steps default to the run's length (N), --max-lr to --lr (LR)", 19) +
         "\n"
         "  --schedule-unit step|epoch  step the schedule after every batch (default) or every epoch\n"
         "  --clip-norm X    clip the gradient's global 2-norm to X (torch.nn.utils.clip_grad_norm_)\n"
         "  --clip-value X   clamp every gradient to [-X, X] (clip_grad_value_; after --clip-norm)\n"
         "  --eval-every N[steps|epochs]  evaluate on the test data every N steps (or epochs); the loss CSV\n"
         "                   gains test_loss,test_accuracy columns and the plot the test loss\n"
         "  --validation-split F  hold out this fraction of the training data (chosen from --seed) and evaluate\n"
         "                   there instead: --eval-every, --early-stop and plateau then leave the test data alone\n"
         "  --early-stop P   stop after P evaluations without a test loss below best - --min-delta (default 0),\n"
         "                   and end with (and --save) the best weights\n";
}

void OrDie(const host::Error& e) {
  if (e) Die(kExitBadFile, e.message);
}

std::string DefaultTest(const Flags& flags) {
  const std::string data = flags.Path("data", kDefaultDataDir);
  return flags.Path("test", host::IsDirectory(data) ? data : std::string());
}

void WriteOrDie(const std::string& path, const std::string& text) { OrDie(host::WriteFileAtomic(path, text)); }

namespace {
// Rows `rows` (in this order) of a data set, everything else as it is.
host::Dataset Subset(const host::Dataset& data, const std::vector<size_t>& rows) {
  host::Dataset out = data;
  out.count = rows.size();
  const size_t f = data.features;
  auto pick = [&](auto& dst, const auto& src, size_t width) {
    dst.clear();
    if (src.empty()) return;
    dst.reserve(rows.size() * width);
    for (size_t r : rows) dst.insert(dst.end(), src.begin() + static_cast<long>(r * width), src.begin() + static_cast<long>((r + 1) * width));
  };
  pick(out.pixels, data.pixels, f);
  pick(out.values, data.values, f);
  pick(out.labels, data.labels, 1);
  pick(out.targets, data.targets, 1);
  return out;
}

// The samples a fraction holds out of n, rounded to nearest.
size_t HeldOut(double fraction, size_t n) { return static_cast<size_t>(fraction * static_cast<double>(n) + 0.5); }
}  // namespace

host::Dataset SplitValidation(double fraction, uint64_t seed, host::Dataset* train) {
  const size_t n = train->count;
  const size_t held = HeldOut(fraction, n);
  std::vector<size_t> order(n);
  for (size_t i = 0; i < n; ++i) order[i] = i;
  Rng rng(seed, kStreamValidation, 0);  // Fisher-Yates, then each part in the data's order
  for (size_t i = n; i > 1; --i) std::swap(order[i - 1], order[rng.Below(static_cast<uint32_t>(i))]);
  std::vector<size_t> validation(order.begin(), order.begin() + static_cast<long>(held));
  std::vector<size_t> rest(order.begin() + static_cast<long>(held), order.end());
  std::sort(validation.begin(), validation.end());
  std::sort(rest.begin(), rest.end());
  host::Dataset held_out = Subset(*train, validation);
  *train = Subset(*train, rest);
  return held_out;
}

double ValidationFraction(const Flags& flags, size_t samples) {
  if (!flags.Has("validation-split")) return 0.0;
  const double f = flags.Number("validation-split", 0.0);
  if (!(f > 0.0 && f < 1.0)) flags.Usage("--validation-split must be in (0, 1), got " + flags.Text("validation-split", ""));
  const size_t held = HeldOut(f, samples);
  if (held == 0 || held == samples)
    flags.Usage("--validation-split " + flags.Text("validation-split", "") + " of " + std::to_string(samples) +
                " samples leaves " + (held == 0 ? "no validation sample" : "no training sample"));
  return f;
}

std::vector<NamedPath> DataFiles(const char* what, const host::Dataset& data) {
  std::vector<NamedPath> files = {{what, data.source}};
  if (data.labels_source != data.source) files.push_back({what, data.labels_source});
  return files;
}

void CheckOutputs(const Flags& flags, const std::vector<NamedPath>& outputs, const std::vector<NamedPath>& inputs,
                  const std::pair<std::string, std::string>& allowed) {
  for (size_t i = 0; i < outputs.size(); ++i) {
    const NamedPath& out = outputs[i];
    OrDie(host::CheckWritable(out.path));
    for (const NamedPath& in : inputs)
      if (host::SameFile(out.path, in.path) && std::make_pair(out.what, in.what) != allowed)
        flags.Usage(out.what + " " + out.path + " is " + in.what + "'s file " + in.path + ": writing it would destroy it");
    for (size_t j = 0; j < i; ++j)
      if (host::SameFile(out.path, outputs[j].path))
        flags.Usage(out.what + " and " + outputs[j].what + " name the same file " + out.path);
  }
}

void AddHyperparameterFlags(std::vector<std::string>* valued, std::vector<std::string>* switches) {
  for (const std::string& n : AllHyperparameterNames()) (IsBooleanHyperparameter(n) ? switches : valued)->push_back(Dashed(n));
}

void ApplyHyperparameters(const Flags& flags, OptimizerConfig* config) {
  const std::vector<std::string>& all = AllHyperparameterNames();
  for (const std::string& flag : flags.order()) {
    const auto it = std::find_if(all.begin(), all.end(), [&](const std::string& n) { return Dashed(n) == flag; });
    if (it == all.end()) continue;
    const std::string value = IsBooleanHyperparameter(*it) ? (flags.Switch(flag) ? "true" : "false") : flags.Value(flag);
    bool bad = false;
    if (!SetHyperparameter(config, *it, value, &bad))
      flags.Usage("--" + flag + " does not apply to " + config->name + " (it takes --" +
                  Join(HyperparameterFlags(*config), ", --") + ")");
    if (bad) flags.Usage("--" + flag + " expects a number, got '" + value + "'");
  }
  if (const char* why = InvalidReason(*config)) flags.Usage(config->name + ": " + why);
}

OptimizerConfig PresetOrDie(const Flags& flags, const std::string& name) {
  OptimizerConfig config;
  if (!Preset(name, &config)) flags.Usage("unknown optimizer '" + name + "' (one of " + Join(PresetNames(), ", ") + ")");
  return config;
}

std::vector<std::string> ControlFlags() {
  std::vector<std::string> names = {"schedule", "schedule-unit", "clip-norm", "clip-value", "eval-every",
                                    "early-stop", "min-delta", "validation-split"};
  for (const std::string& n : ScheduleFlagNames()) names.push_back(n);
  return names;
}

namespace {

void ApplySchedule(const Flags& flags, int64_t length, TrainConfig* config, const Checkpoint* resume) {
  bool schedule_flags = flags.Has("schedule") || flags.Has("schedule-unit");
  for (const std::string& n : ScheduleFlagNames()) schedule_flags |= flags.Has(n);
  const std::string error = MakeSchedule(
      flags.Text("schedule", "constant"),
      [&](const std::string& flag) { return flags.Has(flag) ? &flags.Value(flag) : nullptr; }, length,
      LearningRate(config->optimizer), &config->schedule);
  if (!error.empty()) flags.Usage(error);
  if (resume && !schedule_flags && !ParseSchedule(resume->schedule, &config->schedule))  // continue the checkpoint's
    Die(kExitBadFile, flags.Text("resume", "") + ": names a schedule this program cannot read: " + resume->schedule);
  if (const OneCycleLR* one = std::get_if<OneCycleLR>(&config->schedule.rule); one && one->total_steps < length)
    flags.Usage("--schedule onecycle's total_steps " + std::to_string(one->total_steps) + " is shorter than the run (" +
                std::to_string(length) + "); torch stops there with an error");
  const bool has_momentum =
      std::visit([](const auto& hp) { return kHasCycledMomentum<std::decay_t<decltype(hp)>>; }, config->optimizer.rule);
  if (CyclesMomentum(config->schedule) && !has_momentum)
    flags.Usage("--schedule onecycle cycles momentum, which " + config->optimizer.name +
                " does not have (torch raises the same); add --cycle-momentum false");
}

void ApplyEvaluation(const Flags& flags, TrainConfig* config) {
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
    uint64_t every = 0;
    if (!ParseUnsigned(text, &every) || every == 0 || every > 1000000000)
      flags.Usage("--eval-every expects N, Nsteps or Nepochs with N in [1, 1000000000], got '" +
                  flags.Text("eval-every", "") + "'");
    config->eval_every = every;
  }
  config->early_stop = flags.Count("early-stop", 0, 1, 1000000);
  config->min_delta = flags.Number("min-delta", 0.0);
  if (config->early_stop && !config->eval_every) flags.Usage("--early-stop needs --eval-every (it watches the test loss)");
  if (flags.Has("min-delta") && !config->early_stop) flags.Usage("--min-delta needs --early-stop");
  if (config->min_delta < 0) flags.Usage("--min-delta must not be negative");
}

}  // namespace

void ApplyControls(const Flags& flags, size_t epochs, size_t batches, TrainConfig* config, const Checkpoint* resume) {
  const std::string unit = flags.Text("schedule-unit", "step");
  if (unit != "step" && unit != "epoch") flags.Usage("--schedule-unit expects step or epoch, got '" + unit + "'");
  config->schedule.per_epoch = unit == "epoch";
  ApplySchedule(flags, static_cast<int64_t>(config->schedule.per_epoch ? epochs : epochs * batches), config, resume);
  config->clip.max_norm = flags.Number("clip-norm", 0.0);
  config->clip.clip_value = flags.Number("clip-value", 0.0);
  // torch clips to 0 as asked (every gradient zeroed): no training at all. Leaving the flag out is no clipping.
  for (const char* flag : {"clip-norm", "clip-value"})
    if (flags.Has(flag) && !(flags.Number(flag, 0.0) > 0.0 && flags.Number(flag, 0.0) < 1e30))
      flags.Usage(std::string("--") + flag + " must be positive and finite (0 would zero every gradient, as torch does; "
                  "leave the flag out for no clipping)");
  if (resume && !flags.Has("clip-norm") && !flags.Has("clip-value") && !ParseClip(resume->clip, &config->clip))
    Die(kExitBadFile, flags.Text("resume", "") + ": has unreadable clipping settings: " + resume->clip);
  ApplyEvaluation(flags, config);
}

FindSettings ReadFindSettings(const Flags& flags) {
  FindSettings f{flags.Number("start-lr", 1e-7), flags.Number("end-lr", 10.0), flags.Count("steps", 100, 2, 100000)};
  if (!(f.start_lr > 0 && f.end_lr > f.start_lr)) flags.Usage("the range test needs 0 < --start-lr < --end-lr");
  if (!(f.start_lr >= 2.2250738585072014e-308)) flags.Usage("--start-lr must be a normal number (at least 2.2e-308)");
  if (!(f.end_lr < 1.7976931348623157e308)) flags.Usage("--end-lr must be finite");
  return f;
}

}  // namespace cli
}  // namespace descent
