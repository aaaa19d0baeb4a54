#include "src/cli/report.h"

#include <stdio.h>

#include "src/host/files.h"

namespace descent {
namespace cli {

std::string Format(const char* fmt, double v) {
  char buf[64];
  snprintf(buf, sizeof(buf), fmt, v);
  return buf;
}

std::string LossText(float loss) { return Format("%.9g", static_cast<double>(loss)); }
std::string LrText(const OptimizerConfig& config) { return Format("%g", LearningRate(config)); }

std::string LossCsvHeader(const TrainConfig& config) {
  return std::string("step,epoch,batch,loss") + (config.schedule.name != "constant" ? ",lr" : "") +
         (config.eval_every ? "," + config.eval_name + "_loss" + (config.eval_accuracy ? "," + config.eval_name + "_accuracy" : "")
                            : std::string());
}

std::string LossCsv(const TrainResult& result, const TrainConfig& config, const std::string& prefix) {
  const bool lr = config.schedule.name != "constant", evals = config.eval_every != 0;
  std::string csv;
  size_t next_eval = 0;
  for (const StepRecord& r : result.steps) {
    csv += prefix + std::to_string(r.step) + "," + std::to_string(r.epoch) + "," + std::to_string(r.batch) + "," +
           LossText(r.loss);
    if (lr) csv += "," + Format("%.9g", r.lr);
    if (evals) {
      if (next_eval < result.evals.size() && result.evals[next_eval].step == r.step) {
        csv += "," + Format("%.6f", result.evals[next_eval].test_loss);
        if (config.eval_accuracy) csv += "," + Format("%.4f", result.evals[next_eval].test_accuracy);
        ++next_eval;
      } else {
        csv += config.eval_accuracy ? ",," : ",";
      }
    }
    csv += "\n";
  }
  return csv;
}

host::Series LossSeries(const TrainResult& result, const std::string& name) {
  host::Series s;
  s.name = name;
  for (const StepRecord& r : result.steps) s.x.push_back(static_cast<double>(r.step)), s.y.push_back(r.loss);
  return s;
}

host::Series EvalSeries(const TrainResult& result, const std::string& name, int color) {
  host::Series s;
  s.name = name;
  s.color = color;
  s.dots = true;
  for (const EvalRecord& e : result.evals) {
    s.x.push_back(static_cast<double>(e.step));
    s.y.push_back(e.test_loss);
  }
  if (!result.evals.empty()) s.note = Format("%.1f %%", 100.0 * result.evals.back().test_accuracy);
  return s;
}

host::Error WriteLrFind(const std::string& dir, const std::string& stem, const OptimizerConfig& config,
                        const LrFindResult& r) {
  std::string hyperparameters = Describe(config);
  hyperparameters = hyperparameters.substr(hyperparameters.find(' ') + 1);  // all but lr, which the test sweeps
  std::string csv = "step,lr,loss,smoothed_loss\n";
  for (size_t i = 0; i < r.points.size(); ++i)
    csv += std::to_string(i + 1) + "," + Format("%.9g", r.points[i].lr) + "," + LossText(r.points[i].loss) + "," +
           Format("%.9g", r.points[i].smoothed) + "\n";
  if (host::Error e = host::WriteFileAtomic(dir + "/" + stem + ".csv", csv)) return e;
  host::Chart chart;
  chart.title = "Learning-rate range test: " + config.name;
  chart.subtitle = hyperparameters + "; suggested lr " + Format("%.3g", r.suggestion) +
                   " (steepest descent of the smoothed loss)" + (r.diverged ? "; stopped at divergence" : "");
  chart.x_label = "learning rate (log scale)";
  chart.y_label = "training loss (NLL, log scale)";
  chart.log_x = true;
  host::Series raw, smooth;
  raw.name = "loss per step", smooth.name = "smoothed (EMA 0.98)";
  raw.color = 9;
  for (const LrFindPoint& p : r.points) {
    raw.x.push_back(p.lr), raw.y.push_back(p.loss);
    smooth.x.push_back(p.lr), smooth.y.push_back(p.smoothed);
  }
  smooth.color = 0;
  chart.series = {raw, smooth};
  if (!r.points.empty()) {
    chart.x_markers.push_back(r.points[r.suggestion_index].lr);
    chart.x_marker_labels.push_back("suggestion " + Format("%.3g", r.suggestion));
  }
  return host::WriteFileAtomic(dir + "/" + stem + ".svg", host::RenderSvg(chart));
}

}  // namespace cli
}  // namespace descent
