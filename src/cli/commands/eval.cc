// descent eval: saved weights on a test set.
#include <stdio.h>

#include <cmath>

#include "src/cli/commands/commands.h"
#include "src/cli/commands/common.h"
#include "src/host/dataset.h"

namespace descent {
namespace cli {

// The model, transform and test data a saved file is evaluated with: a file descent wrote
// describes its model, transform and target column (model flags given must agree with it); a
// torch state_dict takes them from the flags, its Linear widths from its tensors where --layers
// and --net are not given.
void PrepareSavedModel(const Flags& flags, const std::string& path, const std::string& data_path, ModelSpec* spec,
                       Session* session, host::Dataset* data, bool targets_required) {
  if (spec->standardize) flags.Usage("--standardize is saved with the model, and it is applied from there");
  ModelFileInfo info;
  OrDie(ReadModelFileInfo(path, &info));
  InputTransform transform;
  if (info.described) {
    CheckGivenFlags(flags, *spec, info.architecture, path);
    if (spec->input_scale_given && !(info.transform.shift.empty() &&
                                     info.transform.scale == UniformScale(info.architecture.inputs(), spec->input_scale).scale))
      flags.Usage("--input-scale " + flags.Text("input-scale", "") + " contradicts " + path + "'s saved transform (" +
                  info.transform.Describe() + ")");
    spec->architecture = info.architecture;
    transform = info.transform;
  } else if (!flags.Has("net") && !flags.Has("layers")) {
    if (info.sequential_names)
      flags.Usage(path + " holds nn.Sequential tensors without descent's description: give its modules with --net");
    if (!info.widths.empty())  // SimpleNet's names: the widths are the tensors'
      spec->architecture = Architecture::Mlp(info.widths, spec->architecture.activation, spec->architecture.loss);
  }
  std::string target = flags.Has("target") ? spec->target : transform.target;
  // Data to predict on may lack the target; an image model's is Kaggle's `label`.
  if (!targets_required && target.empty()) target = "label";
  if (flags.Has("target") && host::IsDirectory(data_path))
    flags.Usage("--target names a CSV column; IDX data (" + data_path + ") has its labels in their own file");
  OrDie(host::LoadDataset(data_path, "t10k", target, data, !targets_required));
  if (!info.described) {
    ResolveInput(flags, *data, spec);  // a --net model without its shape takes the data's
    transform = UniformScale(spec->architecture.inputs(), InputScale(*spec, *data));
  }
  session->Configure(spec->architecture, kEvalRows, spec->lean);
  session->net().transform() = transform;
  OrDie(session->LoadModel(path, /*adopt=*/false));
}

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
