// The CLI's learning-rate schedules: descent::Schedules by kName, their flags
// (torch's parameter names, dashed; derived from each schedule's Reflect), and
// one object that drives whichever is chosen through a training run.
#ifndef DESCENT_SRC_CLI_SCHEDULES_H_
#define DESCENT_SRC_CLI_SCHEDULES_H_

#include <stdint.h>

#include <functional>
#include <string>
#include <variant>
#include <vector>

#include "descent/schedule.h"

namespace descent {
namespace cli {

template <class List>
struct ScheduleVariant;
template <class... S>
struct ScheduleVariant<TypeList<S...>> {
  using type = std::variant<std::monostate, S...>;  // monostate: "constant"
};
using AnySchedule = ScheduleVariant<Schedules>::type;

struct ScheduleConfig {
  std::string name = "constant";  // "constant" or a schedule's kName
  AnySchedule rule;
  bool per_epoch = false;  // step the schedule after each epoch instead of each batch
};

const std::vector<std::string>& ScheduleNames();
// The flags every schedule may take (without "--"), for the flag parser.
const std::vector<std::string>& ScheduleFlagNames();
// "constant (default); step --step-size N [--gamma 0.1]; ..." for help texts.
std::string ScheduleHelp();

// Builds the schedule `name` from flag values (get(flag) returns nullptr when the flag is absent).
// total_steps is what T_max and OneCycleLR's total_steps default to (the run's length in the
// schedule's unit) and lr the optimizer's rate (OneCycleLR's default max_lr). Returns an empty
// string or what is wrong, naming the flag.
std::string MakeSchedule(const std::string& name, const std::function<const std::string*(const std::string&)>& get,
                         int64_t total_steps, double lr, ScheduleConfig* out);
// "cosine T_max=93 eta_min=0" (torch names) for messages and file metadata.
std::string Describe(const ScheduleConfig& config);
// Reads Describe's text back (as a checkpoint records it); false if it does not parse.
bool ParseSchedule(const std::string& text, ScheduleConfig* out);
// Whether OneCycleLR moves momentum (the optimizer must have momentum or beta1).
bool CyclesMomentum(const ScheduleConfig& config);
bool IsPlateau(const ScheduleConfig& config);

// Drives a schedule through a run: Start once, then the hooks as training goes.
class ScheduleRunner {
 public:
  // plateau_on_eval: ReduceLROnPlateau follows the test loss of each evaluation, else the
  // training loss of each epoch.
  ScheduleRunner(const ScheduleConfig& config, bool plateau_on_eval, double base_lr);
  void AfterStep();                     // a batch was trained
  void AfterEpoch(double train_loss);   // an epoch ended (plateau without evaluations steps here)
  void AfterEval(double test_loss);     // an evaluation ran (plateau steps here when evaluating)
  double lr() const;
  double momentum() const;  // OneCycleLR's, when CyclesMomentum(config)

 private:
  ScheduleConfig config_;
  bool plateau_on_eval_;
  double base_lr_;
};

}  // namespace cli
}  // namespace descent

#endif  // DESCENT_SRC_CLI_SCHEDULES_H_
