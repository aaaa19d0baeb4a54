// descent eval: saved weights on a test set.
#include <stdio.h>

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
           "Evaluates saved weights (safetensors) on the test set and prints a result line. The model's\n"
           "architecture and input transform are read from the file (descent train --save writes them);\n"
           "for a file without them (torch's state_dict) give them as for train:\n"
           "  --model FILE  weights written by 'descent train --save' (or torch's state_dict)\n"
           "  --test PATH   a directory with t10k-*-ubyte[.gz], or a CSV (default: the bundled data)\n"
           "  --threads N   worker threads (results are the same for every N)\n%s",
           kModelHelp);
    return 0;
  }
  if (!flags.Has("model")) flags.Usage("--model FILE is required");
  ModelSpec spec = ReadModelSpec(flags);
  if (spec.standardize) flags.Usage("--standardize is saved with the model, and eval applies it from there");
  host::Dataset test;
  OrDie(host::LoadDataset(flags.Path("test", kDefaultDataDir), "t10k", spec.target, &test));
  if (spec.given) ResolveInput(flags, test, &spec);  // a --net model given here takes the data's shape
  session.Configure(spec.architecture, kEvalRows, spec.lean);
  session.net().transform() = UniformScale(spec.architecture.inputs(), spec.input_scale);
  OrDie(session.LoadModel(flags.Path("model", ""), /*adopt=*/!spec.given));
  const Architecture& a = session.net().architecture();
  OrDie(PrepareData(a, &test));
  const EvalResult eval = session.Evaluate(test, flags.Count("threads", 1, 1, 64));
  if (HasAccuracy(a)) printf("result test_loss=%.6f test_accuracy=%.4f\n", eval.loss, eval.accuracy);
  else printf("result test_loss=%.6f\n", eval.loss);
  return 0;
}

}  // namespace cli
}  // namespace descent
