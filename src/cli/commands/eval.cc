// descent eval: saved weights on a test set.
#include <stdio.h>

#include <cmath>

#include "src/cli/commands/commands.h"
#include "src/cli/commands/common.h"
#include "src/host/dataset.h"

namespace descent {
namespace cli {

int EvalCommand(Session& session, int argc, char** argv) {
  std::vector<std::string> valued = {"model", "test", "threads"}, switches;
  AddModelFlags(&valued, &switches);
  const Flags flags("eval", argc, argv, valued, switches);
  if (flags.help()) {
    printf("usage: descent eval --model FILE [--test PATH] [--target NAME|INDEX]\n\n"
           "Evaluates saved weights (safetensors) on the test set and prints a result line. The model, its\n"
           "input transform and its target column are read from the file (descent train --save writes them);\n"
           "model flags given must agree with it. For a file without them (torch's state_dict) give them as\n"
           "for train (a SimpleNet file's layer sizes are read from its tensors):\n"
           "  --model FILE  weights written by 'descent train --save' (or torch's state_dict)\n"
           "  --test PATH   a directory with t10k-*-ubyte[.gz], or a CSV (default: the bundled data)\n"
           "  --threads N   worker threads (results are the same for every N)\n%s",
           kModelHelp);
    return 0;
  }
  if (!flags.Has("model")) flags.Usage("--model FILE is required");
  ModelSpec spec = ReadModelSpec(flags);
  host::Dataset test;
  PrepareSavedModel(flags, flags.Path("model", ""), flags.Path("test", kDefaultDataDir), &spec, &session, &test, true);
  const Architecture& a = session.net().architecture();
  OrDie(PrepareData(a, &test));
  const EvalResult eval = session.Evaluate(test, flags.Count("threads", 1, 1, 64));
  if (!std::isfinite(eval.loss))
    Die(kExitNonFinite, "eval: the loss on " + test.source + " is not finite: the model's outputs overflow there");
  if (HasAccuracy(a)) printf("result test_loss=%.6f test_accuracy=%.4f\n", eval.loss, eval.accuracy);
  else printf("result test_loss=%.6f\n", eval.loss);
  return 0;
}

}  // namespace cli
}  // namespace descent
