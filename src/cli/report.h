// What the commands write: loss CSVs, charts and range-test files.
#ifndef DESCENT_SRC_CLI_REPORT_H_
#define DESCENT_SRC_CLI_REPORT_H_

#include <string>

#include "src/cli/session.h"
#include "src/host/svg_plot.h"

namespace descent {
namespace cli {

std::string Format(const char* fmt, double v);
std::string LossText(float loss);        // exact: %.9g
std::string LrText(const OptimizerConfig& config);  // %g

// step,epoch,batch,loss per step, then lr (with a schedule) and the evaluations (with --eval-every);
// each row starts with `prefix`.
std::string LossCsvHeader(const TrainConfig& config);
std::string LossCsv(const TrainResult& result, const TrainConfig& config, const std::string& prefix = "");
// The training loss of each step as a series.
host::Series LossSeries(const TrainResult& result, const std::string& name);
// The test loss of each evaluation, as a dotted series in the colour of its run.
host::Series EvalSeries(const TrainResult& result, const std::string& name, int color);
// DIR/<stem>.csv (step,lr,loss,smoothed_loss) and DIR/<stem>.svg of a range test.
host::Error WriteLrFind(const std::string& dir, const std::string& stem, const OptimizerConfig& config,
                        const LrFindResult& r);

}  // namespace cli
}  // namespace descent

#endif  // DESCENT_SRC_CLI_REPORT_H_
