// descent train: one optimizer, one run (or the rest of a checkpointed one).
#include <stdio.h>

#include <cmath>

#include "src/cli/commands/commands.h"
#include "src/cli/commands/common.h"
#include "src/cli/progress.h"
#include "src/cli/report.h"

namespace descent {
namespace cli {
namespace {

void PrintHelp() {
  printf("usage: descent train [--data PATH] [--test PATH] [--optimizer NAME] [--lr X] [hyperparameter flags]\n"
         "                     [--epochs N] [--batch N] [--seed N] [--no-shuffle] [--init FILE] [--save FILE]\n"
         "                     [--loss-csv FILE] [--plot FILE] [--schedule NAME ...] [--clip-norm X] [--clip-value X]\n"
         "                     [--eval-every N[steps|epochs]] [--early-stop P [--min-delta D]] [--validation-split F]\n"
         "                     [model flags: --net SPEC | --layers N,N,... ...] [--plan fast|lean]\n\n"
         "Trains a model (the notebook's MLP 784-100-100-10 unless --net or --layers says otherwise) and prints a\n"
         "result line.\n\n%s"
         "  --optimizer NAME %s (default adam)\n"
         "  --no-shuffle     keep the data order (default: reshuffle every epoch from the seed)\n"
         "  --init FILE      start from these weights (safetensors) instead of a seeded init\n"
         "  --save FILE      write the trained weights (safetensors, torch state_dict names)\n"
         "  --loss-csv FILE  write step,epoch,batch,loss for every step (see --schedule, --eval-every)\n"
         "  --plot FILE      draw the training loss (and the test loss of each evaluation) as SVG\n"
         "  --checkpoint FILE         write a checkpoint (weights, optimizer state, position) at the end\n"
         "  --checkpoint-every N      ...and every N steps; each write is atomic\n"
         "  --resume FILE             continue a checkpointed run exactly; --epochs counts from the start\n\n"
         "Hyperparameters (torch.optim names; defaults are torch's for the optimizer):\n%s"
         "momentum and nesterov are sgd with --momentum 0.9 (and --nesterov).\n\n%s\nThe model:\n%s",
         kDataHelp, Join(PresetNames(), ", ").c_str(), HyperparameterHelp().c_str(), ControlHelp().c_str(), kModelHelp);
}

// The optimizer, batch order and position of a run, from the flags and the checkpoint it resumes.
void ReadRun(const Flags& flags, const Checkpoint* resume, TrainConfig* config) {
  const std::string optimizer = flags.Text("optimizer", resume ? resume->optimizer.name : "adam");
  config->optimizer = PresetOrDie(flags, optimizer);
  if (resume) {
    if (optimizer != resume->optimizer.name)
      flags.Usage("--optimizer " + optimizer + ", but the checkpoint was trained with " + resume->optimizer.name);
    config->optimizer = resume->optimizer;
  }
  ApplyHyperparameters(flags, &config->optimizer);
  if (resume && Describe(config->optimizer) != Describe(resume->optimizer))
    flags.Usage("hyperparameters differ from the checkpoint's (" + Describe(resume->optimizer) + ")");
  config->epochs = flags.Count("epochs", 3, 1, kMaxEpochs);
  config->batch = flags.Count("batch", resume ? resume->batch : 256, 1, kMaxBatch);
  config->seed = flags.Count("seed", resume ? resume->seed : 0, 0, UINT64_MAX);
  config->shuffle = flags.Has("no-shuffle") ? !flags.Switch("no-shuffle") : (resume ? resume->shuffle : true);
  config->threads = flags.Count("threads", 1, 1, 64);
  if (resume && (config->batch != resume->batch || config->seed != resume->seed || config->shuffle != resume->shuffle))
    flags.Usage("--batch, --seed and --no-shuffle must match the checkpoint's (batch " + std::to_string(resume->batch) +
                ", seed " + std::to_string(resume->seed) + (resume->shuffle ? ", shuffled)" : ", no shuffle)"));
  config->checkpoint = flags.Path("checkpoint", "");
  config->checkpoint_every = flags.Count("checkpoint-every", 0, 1, UINT64_MAX);
  if (config->checkpoint_every && config->checkpoint.empty()) flags.Usage("--checkpoint-every needs --checkpoint FILE");
}

// What a resumed run must share with its checkpoint besides the optimizer.
void CheckResume(const Flags& flags, const TrainConfig& config, const Checkpoint& resume, const host::Dataset& train) {
  if (Describe(config.schedule) != resume.schedule)
    flags.Usage("the schedule differs from the checkpoint's (" + resume.schedule + ")");
  if (DescribeClip(config.clip) != resume.clip) flags.Usage("clipping differs from the checkpoint's (" + resume.clip + ")");
  if (IsPlateau(config.schedule) || config.early_stop)
    flags.Usage("--resume cannot continue --schedule plateau or --early-stop: a checkpoint does not hold their state");
  if (DataFingerprint(train) != resume.data)
    Die(kExitBadFile, flags.Text("resume", "") + ": was made on other training data (" + resume.data + "), not " +
                          train.source + " (" + DataFingerprint(train) + ")");
  OrDie(CheckPosition(resume, train.count, flags.Text("resume", "")));
  if (EpochsDone(resume, train.count) > config.epochs)
    flags.Usage("--epochs " + std::to_string(config.epochs) + " is fewer than the " +
                std::to_string(EpochsDone(resume, train.count)) + " epochs the checkpoint has trained (--epochs counts "
                "from the start of the run)");
}

void WriteOutputs(const Flags& flags, const TrainConfig& config, const TrainResult& result, const Architecture& a) {
  if (flags.Has("loss-csv")) WriteOrDie(flags.Path("loss-csv", ""), LossCsvHeader(config) + "\n" + LossCsv(result, config));
  if (!flags.Has("plot")) return;
  host::Chart chart;
  chart.title = config.optimizer.name + " on " + a.Title();
  chart.subtitle = Describe(config.optimizer) + (config.schedule.name == "constant" ? "" : "; " + Describe(config.schedule));
  chart.x_label = "step (one batch each)";
  chart.y_label = "loss (" + LossLabel(a) + ", log scale)";
  chart.series.push_back(LossSeries(result, "training loss"));
  if (!result.evals.empty()) chart.series.push_back(EvalSeries(result, config.eval_name + " loss", 1));
  WriteOrDie(flags.Path("plot", ""), host::RenderSvg(chart));
}

// How the run ended, when not well: the message and status.
void DieIfFailed(const TrainConfig& config, const TrainResult& result) {
  if (result.status == Status::kNonFinite) {
    const StepRecord& r = result.steps.back();
    Die(kExitNonFinite, "train: " + result.nonfinite + " became non-finite (loss " + LossText(r.loss) + ") at step " +
                            std::to_string(r.step) + " (epoch " + std::to_string(r.epoch) + ", batch " +
                            std::to_string(r.batch) + ") with " + config.optimizer.name + " " +
                            Describe(config.optimizer) + "; stopped there" +
                            (config.checkpoint.empty() ? std::string()
                             : result.checkpoints || config.resume ? ", " + config.checkpoint + " holds the last good step"
                                                                   : ", before any checkpoint was written") +
                            " (try a smaller --lr)");
  }
  if (!result.error.empty()) Die(kExitBadFile, result.error);
  if (result.status != Status::kOk) Die(kExitBadFile, std::string("train: ") + StatusMessage(result.status));
}

}  // namespace

int TrainCommand(Session& session, int argc, char** argv) {
  std::vector<std::string> valued = {"data", "test", "optimizer", "epochs", "batch", "seed", "threads", "init", "save",
                                     "loss-csv", "plot", "checkpoint", "checkpoint-every", "resume"};
  for (const std::string& n : ControlFlags()) valued.push_back(n);
  std::vector<std::string> switches = {"no-shuffle"};
  AddHyperparameterFlags(&valued, &switches);
  AddModelFlags(&valued, &switches);
  const Flags flags("train", argc, argv, valued, switches);
  if (flags.help()) return PrintHelp(), 0;
  TrainConfig config;
  Checkpoint resume;  // the run to continue, when --resume is given
  const bool resuming = flags.Has("resume");
  if (resuming) {
    if (flags.Has("init")) flags.Usage("--init and --resume exclude each other (a checkpoint holds its weights)");
    OrDie(ReadCheckpoint(flags.Path("resume", ""), &resume));
    config.resume = &resume;
  }
  ReadRun(flags, config.resume, &config);
  ModelSpec spec = ReadModelSpec(flags);
  if (resuming) {  // the checkpoint's model: the model flags given must agree with it
    CheckGivenFlags(flags, spec, resume.architecture, flags.Path("resume", ""));
    if (flags.Has("standardize") || flags.Has("input-scale"))
      flags.Usage("--standardize and --input-scale are the checkpoint's: a resumed run keeps its input transform");
    spec.architecture = resume.architecture;
  }
  host::Dataset train = LoadTrainData(flags, flags.Path("data", kDefaultDataDir), &spec);
  // --validation-split: evaluations, early stopping and plateau watch a held-out part of the
  // training data; the test data is only for the result line.
  const double split = ValidationFraction(flags, train.count);
  const host::Dataset validation = split > 0.0 ? SplitValidation(split, config.seed, &train) : host::Dataset{};
  // CSV training data without --test has no test set (not the bundled digits).
  const std::string test_path = DefaultTest(flags);
  const host::Dataset test = test_path.empty() ? host::Dataset{} : LoadTestData(test_path, spec, train);
  if (test_path.empty() && split == 0.0)
    for (const char* f : {"eval-every", "early-stop"})
      if (flags.Has(f)) flags.Usage(std::string("--") + f + " evaluates on held-out data: give --test or --validation-split");
  SetUpModel(flags, spec, train, config.batch, &session);
  if (resuming) session.net().transform() = resume.transform;
  ApplyControls(flags, config.epochs, (train.count + config.batch - 1) / config.batch, &config, config.resume);
  config.test = split > 0.0 ? &validation : test_path.empty() ? nullptr : &test;
  config.eval_name = split > 0.0 ? "validation" : "test";
  config.eval_accuracy = HasAccuracy(spec.architecture);
  if (resuming) CheckResume(flags, config, resume, train);
  std::vector<NamedPath> inputs = DataFiles("--data", train), outputs;
  if (!test_path.empty())
    for (const NamedPath& t : DataFiles("--test", test)) inputs.push_back(t);
  for (const char* flag : {"init", "resume"})
    if (flags.Has(flag)) inputs.push_back({std::string("--") + flag, flags.Path(flag, "")});
  for (const char* flag : {"save", "loss-csv", "plot", "checkpoint"})
    if (flags.Has(flag)) outputs.push_back({std::string("--") + flag, flags.Path(flag, "")});
  CheckOutputs(flags, outputs, inputs, {"--checkpoint", "--resume"});
  if (flags.Has("init")) OrDie(session.LoadModel(flags.Path("init", ""), /*adopt=*/false));
  else if (!resuming) session.Init(config.seed);

  TrainResult result;
  {
    Progress progress(config.optimizer.name);
    result = session.Train(config, train, [&](const StepRecord& r, size_t batches, double sps) {
      progress.Update(r.epoch, config.epochs, r.batch, batches, r.loss, sps);
      return true;
    });
  }
  const Architecture& a = session.net().architecture();
  WriteOutputs(flags, config, result, a);
  if (result.kept_best) {  // the weights the run ends with (and --save writes) are the best evaluation's
    const EvalRecord& best = result.evals[result.best_eval];
    fprintf(stderr, "descent: train: %s; the weights are step %zu's (%s loss %.6f)\n",
            result.stopped_early ? ("early stop after " + std::to_string(config.early_stop) +
                                    " evaluations without improvement").c_str()
                                 : "early stopping watched the run to its end",
            best.step, config.eval_name.c_str(), best.test_loss);
  }
  DieIfFailed(config, result);
  if (flags.Has("save")) OrDie(session.SaveModel(flags.Path("save", "")));
  std::string tested;  // no test set: no test figures
  if (!test_path.empty()) {
    const EvalResult eval = session.Evaluate(test, config.threads);
    if (!std::isfinite(eval.loss))
      Die(kExitNonFinite, "train: the test loss on " + test.source + " is not finite (" + Format("%g", eval.loss) +
                              "): the model's outputs overflow there" +
                              (flags.Has("save") ? "; " + flags.Path("save", "") + " holds the weights" : ""));
    tested = " test_loss=" + Format("%.6f", eval.loss) +
             (HasAccuracy(a) ? " test_accuracy=" + Format("%.4f", eval.accuracy) : "");
  }
  printf("result optimizer=%s epochs=%zu steps=%zu train_loss=%.6f%s params_hash=%016llx seconds=%.3f "
         "samples_per_second=%.0f\n",
         config.optimizer.name.c_str(), result.steps.empty() ? config.epochs : result.steps.back().epoch,
         result.steps.size(), result.train_loss, tested.c_str(),
         static_cast<unsigned long long>(session.ParamsHash()), result.seconds,
         static_cast<double>(result.samples) / result.seconds);
  return 0;
}

}  // namespace cli
}  // namespace descent
