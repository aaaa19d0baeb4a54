// descent predict: a saved model's outputs for every sample of a data set, as CSV.
#include <stdio.h>

#include "src/cli/commands/commands.h"
#include "src/cli/commands/common.h"
#include "src/core/loss.h"
#include "src/core/passes.h"
#include "src/host/dataset.h"
#include "src/host/thread_pool.h"

namespace descent {
namespace cli {

namespace {

std::string PredictionsCsv(const Architecture& a, const std::vector<float>& z, size_t count, bool logits) {
  const size_t n = a.outputs();
  const bool classes = HasClassTargets(a.loss.kind);
  const char* column = logits ? "logit" : classes || a.loss.kind == LossKind::kBceWithLogits ? "prob" : "output";
  std::string csv = classes && !logits ? "class," : "";
  for (size_t o = 0; o < n; ++o) csv += std::string(o ? "," : "") + column + std::to_string(o);
  csv += "\n";
  std::vector<float> p(n);
  char buf[32];
  for (size_t i = 0; i < count; ++i) {
    const float* row = z.data() + i * n;
    if (logits) std::copy(row, row + n, p.begin());
    else internal::OutputsToProbabilities(a.loss, row, 1, n, p.data());
    if (classes && !logits) csv += std::to_string(internal::Argmax(row, 1, n)) + ",";  // as torch.argmax
    for (size_t o = 0; o < n; ++o) {
      snprintf(buf, sizeof(buf), "%s%.9g", o ? "," : "", static_cast<double>(p[o]));
      csv += buf;
    }
    csv += "\n";
  }
  return csv;
}

}  // namespace

int PredictCommand(Session& session, int argc, char** argv) {
  std::vector<std::string> valued = {"model", "data", "out", "threads"}, switches = {"logits"};
  AddModelFlags(&valued, &switches);
  const Flags flags("predict", argc, argv, valued, switches);
  if (flags.help()) {
    printf("usage: descent predict --model FILE --data CSV|DIR [--out FILE] [--logits] [--threads N]\n\n"
           "Writes the model's outputs for every sample of the data, in input order, one CSV row each:\n"
           "class,prob0,... for the class losses (the argmax and the softmax), prob0,... for bce (the\n"
           "sigmoid), output0,... for the regression losses; with --logits the raw outputs, logit0,....\n"
           "The data may hold the model's target column (it is left out) or not; the other columns are the\n"
           "model's inputs. DIR: a directory with t10k-images-idx3-ubyte[.gz] (and its labels).\n"
           "  --out FILE    write there, atomically (default: standard output)\n"
           "  --threads N   worker threads (results are the same for every N)\n"
           "A file without descent's description (torch's state_dict) takes the model flags, as for eval:\n%s",
           kModelHelp);
    return 0;
  }
  if (!flags.Has("model")) flags.Usage("--model FILE is required");
  if (!flags.Has("data")) flags.Usage("--data CSV|DIR is required");
  const bool logits = flags.Has("logits") && flags.Switch("logits");
  const size_t threads = flags.Count("threads", 1, 1, 64);
  if (flags.Has("out")) CheckOutputs(flags, {{"--out", flags.Path("out", "")}}, {{"--model", flags.Path("model", "")},
                                                                                {"--data", flags.Path("data", "")}});
  ModelSpec spec = ReadModelSpec(flags);
  host::Dataset data;
  PrepareSavedModel(flags, flags.Path("model", ""), flags.Path("data", ""), &spec, &session, &data, false);
  const Architecture& a = session.net().architecture();
  if (data.features != a.inputs())
    OrDie(host::Fail(data.source, "has " + std::to_string(data.features) + " feature columns, the model takes " +
                                      std::to_string(a.inputs()) + " inputs" +
                                      (data.has_targets ? "" : " (and no target column `" + data.target_name + "`)")));
  host::ThreadPool pool(session.Workers(threads, kEvalRows));
  const std::string csv = PredictionsCsv(a, session.Outputs(data, pool.parallel_for()), data.count, logits);
  if (flags.Has("out")) {
    WriteOrDie(flags.Path("out", ""), csv);
  } else if (fwrite(csv.data(), 1, csv.size(), stdout) != csv.size() || fflush(stdout) != 0) {
    Die(kExitBadFile, "predict: cannot write the predictions to standard output");
  }
  return 0;
}

}  // namespace cli
}  // namespace descent
