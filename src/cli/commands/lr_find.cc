// descent lr-find: Smith's learning-rate range test for one optimizer.
#include <stdio.h>

#include "src/cli/commands/commands.h"
#include "src/cli/commands/common.h"
#include "src/cli/report.h"
#include "src/host/files.h"

namespace descent {
namespace cli {

int LrFindCommand(Session& session, int argc, char** argv) {
  std::vector<std::string> valued = {"data", "optimizer", "batch", "seed", "threads", "out", "start-lr", "end-lr", "steps"};
  std::vector<std::string> switches = {"no-shuffle"};
  AddHyperparameterFlags(&valued, &switches);
  AddModelFlags(&valued, &switches);
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
           "  --data, --batch, --seed, --threads, --no-shuffle, the model and the hyperparameters as for train:\n%s",
           kFindHelp, Join(PresetNames(), ", ").c_str(), kModelHelp);
    return 0;
  }
  TrainConfig config;
  config.optimizer = PresetOrDie(flags, flags.Text("optimizer", "adam"));
  ApplyHyperparameters(flags, &config.optimizer);
  if (flags.Has("lr")) flags.Usage("--lr has no meaning here: the test sweeps it (see --start-lr, --end-lr)");
  config.batch = flags.Count("batch", 256, 1, kMaxBatch);
  config.seed = flags.Count("seed", 0, 0, UINT64_MAX);
  config.shuffle = !flags.Switch("no-shuffle");
  config.threads = flags.Count("threads", 1, 1, 64);
  const FindSettings find = ReadFindSettings(flags);
  const std::string out = flags.Path("out", "out");
  ModelSpec spec = ReadModelSpec(flags);
  const host::Dataset train = LoadTrainData(flags, flags.Path("data", kDefaultDataDir), &spec);
  OrDie(host::MakeDirectories(out));
  CheckOutputs(flags, {{"--out", out + "/lr-find.csv"}, {"--out", out + "/lr-find.svg"}}, DataFiles("--data", train));
  SetUpModel(flags, spec, train, config.batch, &session);
  session.Init(config.seed);
  const LrFindResult r = session.FindLr(config, train, find.start_lr, find.end_lr, find.steps);
  OrDie(WriteLrFind(out, "lr-find", config.optimizer, r));
  printf("suggestion optimizer=%s lr=%.6g steps=%zu diverged=%s\nwrote %s/lr-find.csv, %s/lr-find.svg\n",
         config.optimizer.name.c_str(), r.suggestion, r.points.size(), r.diverged ? "yes" : "no", out.c_str(),
         out.c_str());
  return 0;
}

}  // namespace cli
}  // namespace descent
