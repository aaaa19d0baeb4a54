// descent eval: saved weights on a test set.
#include <stdio.h>

#include "src/cli/commands/commands.h"
#include "src/cli/commands/common.h"

namespace descent {
namespace cli {

int EvalCommand(Session& session, int argc, char** argv) {
  const Flags flags("eval", argc, argv, {"model", "test"}, {});
  if (flags.help()) {
    printf("usage: descent eval --model FILE [--test PATH]\n\n"
           "Evaluates saved weights (safetensors) on the test set and prints a result line.\n"
           "  --model FILE  weights written by 'descent train --save' (or torch's state_dict)\n"
           "  --test PATH   a directory with t10k-*-ubyte[.gz], or a CSV (default: the bundled data)\n");
    return 0;
  }
  if (!flags.Has("model")) flags.Usage("--model FILE is required");
  const host::Dataset test = LoadData(flags.Path("test", kDefaultDataDir), "t10k");
  OrDie(session.LoadModel(flags.Path("model", "")));
  const EvalResult eval = session.Evaluate(test);
  printf("result test_loss=%.6f test_accuracy=%.4f\n", eval.loss, eval.accuracy);
  return 0;
}

}  // namespace cli
}  // namespace descent
