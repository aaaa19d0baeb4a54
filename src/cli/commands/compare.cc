// descent compare: the notebook's "Evolution of Optimizers" — several optimizers from the
// same initial weights over the same batch order, their tables, CSVs and loss curves.
#include <stdio.h>

#include <algorithm>

#include "src/cli/commands/commands.h"
#include "src/cli/commands/common.h"
#include "src/cli/progress.h"
#include "src/cli/report.h"
#include "src/host/files.h"

namespace descent {
namespace cli {
namespace {

void PrintHelp() {
  printf("usage: descent compare [--data PATH] [--test PATH] [--optimizers a,b,...] [--epochs N] [--batch N]\n"
         "                       [--seed N] [--out DIR] [--tuned [--start-lr X] [--end-lr X] [--steps N]]\n"
         "                       [--schedule NAME ...] [--clip-norm X] [--clip-value X] [--eval-every N]\n\n"
         "Trains the model with each optimizer from the same initial weights over the same batch order,\n"
         "then writes DIR/losses.csv, DIR/summary.csv and DIR/loss-curves.svg.\n\n%s"
         "  --optimizers L   comma-separated names (default: the notebook's %s)\n"
         "                   at the notebook's rates: sgd lr 1e-2; rmsprop alpha 0.9; the rest lr 1e-3\n"
         "  --out DIR        output directory (default out)\n"
         "  --tuned          also run each optimizer at the rate 'descent lr-find' suggests for it (from the\n"
         "                   same initial weights): losses.csv and summary.csv gain a 'rates' column\n"
         "                   (notebook or tuned), DIR/loss-curves-tuned.svg shows the tuned runs and\n"
         "                   DIR/lr-find-<optimizer>.csv/.svg each range test\n%s"
         "Schedules, clipping and evaluation apply to every run, as in 'descent train':\n%s"
         "The model, as in 'descent train':\n%s",
         kDataHelp, Join(NotebookNames(), ",").c_str(), kFindHelp, ControlHelp().c_str(), kModelHelp);
}

std::vector<OptimizerConfig> ReadOptimizers(const Flags& flags) {
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
  return configs;
}

// The runs of one comparison and what they write.
class Comparison {
 public:
  Comparison(Session& session, const Flags& flags, const TrainConfig& base, const host::Dataset& train,
             const host::Dataset& watched, const host::Dataset& test, bool tuned)
      : session_(session), flags_(flags), base_(base), train_(train), watched_(watched), test_(test), tuned_(tuned),
        batches_((train.count + base.batch - 1) / base.batch) {
    notebook_chart_ = MakeChart("");
    tuned_chart_ = MakeChart(" (rates from lr-find)");
    tuned_chart_.subtitle += "; notebook rate in the legend";
    const std::string rates_column = tuned ? "rates," : "";
    losses_ = "optimizer," + rates_column + LossCsvHeader(base) + "\n";
    summary_ = "optimizer," + rates_column + (tuned ? "lr," : "") + "train_loss,test_loss,test_accuracy,seconds\n";
    printf("%-10s %-8s %-8s %10s %10s %9s %8s\n", "optimizer", "rates", "lr", "train_loss", "test_loss", "accuracy",
           "seconds");
  }

  // The notebook's run of `config` and, with --tuned, its range test and a run at the suggestion.
  void Add(const OptimizerConfig& config, const FindSettings& find, const std::string& out) {
    RunOne(config, "notebook", &notebook_chart_, "");
    if (!tuned_) return;
    TrainConfig find_config = base_;
    find_config.optimizer = config;
    session_.Init(base_.seed);
    const LrFindResult found = session_.FindLr(find_config, train_, find.start_lr, find.end_lr, find.steps);
    OrDie(WriteLrFind(out, "lr-find-" + config.name, config, found));
    OptimizerConfig at_suggestion = config;
    SetLearningRate(&at_suggestion, found.suggestion);
    RunOne(at_suggestion, "tuned", &tuned_chart_, "; notebook " + LrText(config));
  }

  // The files; the exit status (4 if a run diverged).
  int Write(const std::string& out) const {
    WriteOrDie(out + "/losses.csv", losses_);
    WriteOrDie(out + "/summary.csv", summary_);
    WriteOrDie(out + "/loss-curves.svg", host::RenderSvg(notebook_chart_));
    if (tuned_) WriteOrDie(out + "/loss-curves-tuned.svg", host::RenderSvg(tuned_chart_));
    printf("wrote %s/losses.csv, %s/summary.csv, %s/loss-curves.svg%s\n", out.c_str(), out.c_str(), out.c_str(),
           tuned_ ? (", " + out + "/loss-curves-tuned.svg and the range tests " + out + "/lr-find-*").c_str() : "");
    return any_failed_ ? kExitNonFinite : 0;
  }

 private:
  host::Chart MakeChart(const std::string& rates) const {
    host::Chart chart;
    chart.title = "Evolution of Optimizers" + rates;
    const Architecture& a = session_.net().architecture();
    chart.subtitle = (a.sequential ? "" : "MLP ") + a.Title() + ", batch " + std::to_string(base_.batch) + ", " +
                     std::to_string(base_.epochs) + " epochs on " + std::to_string(train_.count) + " samples, seed " +
                     std::to_string(base_.seed) + "; legend: optimizer (lr), test accuracy";
    chart.x_label = "step (one batch each)";
    const std::string loss = LossLabel(session_.net().architecture());
    chart.y_label = flags_.Has("eval-every") ? "loss (" + loss + ", log scale): training, test (dots)"
                                             : "training loss (" + loss + ", log scale)";
    for (size_t e = 1; e < base_.epochs; ++e) {
      chart.x_markers.push_back(static_cast<double>(e * batches_) + 0.5);
      chart.x_marker_labels.push_back("epoch " + std::to_string(e + 1));
    }
    return chart;
  }

  // One run from the seeded weights: its row, its curve (and its evaluations) on `chart`.
  // legend_note: added to the legend after the rate (the tuned runs name the notebook's rate).
  void RunOne(const OptimizerConfig& config, const char* rates, host::Chart* chart, const std::string& legend_note) {
    TrainConfig run = base_;
    run.optimizer = config;
    ApplyControls(flags_, base_.epochs, batches_, &run);
    run.test = &watched_;
    session_.Init(base_.seed);
    TrainResult result;
    {
      Progress progress(config.name + (tuned_ ? std::string(" (") + rates + ")" : ""));
      result = session_.Train(run, train_, [&](const StepRecord& r, size_t n, double sps) {
        progress.Update(r.epoch, run.epochs, r.batch, n, r.loss, sps);
        return true;
      });
    }
    const std::string prefix = config.name + "," + (tuned_ ? std::string(rates) + "," : "");
    losses_ += LossCsv(result, run, prefix);
    host::Series series = LossSeries(result, config.name + " (" + LrText(config) + legend_note + ")");
    const std::string row = prefix + (tuned_ ? LrText(config) + "," : "");
    if (result.status != Status::kOk) {
      any_failed_ = true;
      fprintf(stderr, "descent: compare: %s: the loss became non-finite at step %zu; its curve stops there\n",
              config.name.c_str(), result.steps.size());
      summary_ += row + "nan,nan,nan," + Format("%.3f", result.seconds) + "\n";
      series.note = "diverged";
      printf("%-10s %-8s %-8s %10s %10s %9s %8.2f\n", config.name.c_str(), rates, LrText(config).c_str(), "nan", "-",
             "-", result.seconds);
    } else {
      const EvalResult eval = session_.Evaluate(test_, base_.threads);
      const bool accuracy = HasAccuracy(session_.net().architecture());
      summary_ += row + Format("%.6f", result.train_loss) + "," + Format("%.6f", eval.loss) + "," +
                  (accuracy ? Format("%.4f", eval.accuracy) : "") + "," + Format("%.3f", result.seconds) + "\n";
      series.note = accuracy ? Format("%.1f %%", 100.0 * eval.accuracy) : "test " + Format("%.4g", eval.loss);
      printf("%-10s %-8s %-8s %10.4f %10.4f %8.1f%% %8.2f\n", config.name.c_str(), rates, LrText(config).c_str(),
             result.train_loss, eval.loss, 100.0 * eval.accuracy, result.seconds);
    }
    // One colour per run, shared by its evaluations.
    series.color = static_cast<int>(
        std::count_if(chart->series.begin(), chart->series.end(), [](const host::Series& s) { return !s.dots; }));
    const int color = series.color;
    chart->series.push_back(std::move(series));
    if (!result.evals.empty()) chart->series.push_back(EvalSeries(result, config.name + " " + base_.eval_name + " loss", color));
  }

  Session& session_;
  const Flags& flags_;
  const TrainConfig& base_;
  const host::Dataset& train_;
  const host::Dataset& watched_;  // what --eval-every evaluates: the test data or a validation split
  const host::Dataset& test_;
  const bool tuned_;
  const size_t batches_;
  host::Chart notebook_chart_, tuned_chart_;
  std::string losses_, summary_;
  bool any_failed_ = false;
};

}  // namespace

int CompareCommand(Session& session, int argc, char** argv) {
  std::vector<std::string> valued = {"data", "test", "optimizers", "epochs", "batch", "seed", "threads", "out",
                                     "start-lr", "end-lr", "steps"};
  for (const std::string& n : ControlFlags()) valued.push_back(n);
  std::vector<std::string> switches = {"tuned"};
  AddModelFlags(&valued, &switches);
  const Flags flags("compare", argc, argv, valued, switches);
  if (flags.help()) return PrintHelp(), 0;
  const std::vector<OptimizerConfig> configs = ReadOptimizers(flags);
  TrainConfig base;
  base.epochs = flags.Count("epochs", 3, 1, kMaxEpochs);
  base.batch = flags.Count("batch", 256, 1, kMaxBatch);
  base.seed = flags.Count("seed", 0, 0, UINT64_MAX);
  base.threads = flags.Count("threads", 1, 1, 64);
  const bool tuned = flags.Switch("tuned");
  if (!tuned && (flags.Has("start-lr") || flags.Has("end-lr") || flags.Has("steps")))
    flags.Usage("--start-lr, --end-lr and --steps set the range test of --tuned");
  const FindSettings find = ReadFindSettings(flags);
  const std::string out = flags.Path("out", "out");
  ModelSpec spec = ReadModelSpec(flags);
  host::Dataset train = LoadTrainData(flags, flags.Path("data", kDefaultDataDir), &spec);
  // --validation-split: the runs' evaluations watch a held-out part; the summary is on the test data.
  const double split = ValidationFraction(flags, train.count);
  const host::Dataset validation = split > 0.0 ? SplitValidation(split, base.seed, &train) : host::Dataset{};
  const std::string test_path = DefaultTest(flags);
  if (test_path.empty()) flags.Usage("compare ranks the optimizers on test data: give --test with CSV --data");
  const host::Dataset test = LoadTestData(test_path, spec, train);
  SetUpModel(flags, spec, train, base.batch, &session);
  const size_t batches = (train.count + base.batch - 1) / base.batch;
  for (const OptimizerConfig& config : configs) {  // all flags checked before anything runs
    TrainConfig check = base;
    check.optimizer = config;
    ApplyControls(flags, base.epochs, batches, &check);
  }
  OrDie(host::MakeDirectories(out));
  std::vector<NamedPath> inputs = DataFiles("--data", train), outputs;
  for (const NamedPath& t : DataFiles("--test", test)) inputs.push_back(t);
  for (const char* file : {"losses.csv", "summary.csv", "loss-curves.svg", "loss-curves-tuned.svg"})
    outputs.push_back({"--out", out + "/" + file});
  for (const OptimizerConfig& config : configs)
    for (const char* ext : {".csv", ".svg"})
      if (std::none_of(outputs.begin(), outputs.end(), [&](const NamedPath& o) { return o.path == out + "/lr-find-" + config.name + ext; }))
        outputs.push_back({"--out", out + "/lr-find-" + config.name + ext});
  CheckOutputs(flags, tuned ? outputs : std::vector<NamedPath>(outputs.begin(), outputs.begin() + 3), inputs);
  base.eval_accuracy = HasAccuracy(spec.architecture);
  base.eval_name = split > 0.0 ? "validation" : "test";
  Comparison comparison(session, flags, base, train, split > 0.0 ? validation : test, test, tuned);
  for (const OptimizerConfig& config : configs) comparison.Add(config, find, out);
  return comparison.Write(out);
}

}  // namespace cli
}  // namespace descent
