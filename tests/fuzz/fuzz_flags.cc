// libFuzzer: the CLI's flag parsing. The input, split at NUL bytes, is a command
// line for `descent train`; whatever parses is then read the way the commands
// read it: numbers, hyperparameters, a schedule, clipping (and their text forms
// as checkpoints record them). Nothing may crash; what parses must round-trip.
#include <stddef.h>
#include <stdint.h>

#include <map>
#include <string>
#include <vector>

#include "src/cli/checkpoint.h"
#include "src/cli/commands/common.h"
#include "src/cli/flags.h"
#include "src/cli/optimizers.h"
#include "src/cli/schedules.h"

using namespace descent::cli;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<std::string> args(1);
  for (size_t i = 0; i < size && args.size() < 64; ++i) {
    if (data[i] == 0) args.emplace_back();
    else args.back() += static_cast<char>(data[i]);
  }
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(&a[0]);
  static const std::vector<std::string> valued = [] {
    std::vector<std::string> v = {"optimizer", "epochs", "batch", "seed", "threads", "save"};
    for (const std::string& n : ControlFlags()) v.push_back(n);
    return v;
  }();
  static std::vector<std::string> all_valued = valued, switches = {"no-shuffle"};
  static const bool once = (AddHyperparameterFlags(&all_valued, &switches), true);
  (void)once;
  std::map<std::string, std::string> values;
  std::vector<std::string> order;
  bool help = false;
  if (!Flags::Parse(static_cast<int>(argv.size()), argv.data(), all_valued, switches, &values, &order, &help).empty())
    return 0;
  for (const auto& [flag, text] : values) {
    double d;
    uint64_t u;
    int64_t i;
    (void)ParseDouble(text, &d), (void)ParseUnsigned(text, &u), (void)ParseUnsigned(text, &u, 16),
        (void)ParseSigned(text, &i);
  }
  OptimizerConfig config;
  const auto optimizer = values.find("optimizer");
  if (!Preset(optimizer == values.end() ? "adam" : optimizer->second, &config)) return 0;
  for (const std::string& name : AllHyperparameterNames()) {
    const auto it = values.find(Dashed(name));
    bool bad = false;
    if (it != values.end()) (void)SetHyperparameter(&config, name, it->second, &bad);
  }
  OptimizerConfig again;
  if (Preset(config.name, &again) && InvalidReason(config) == nullptr &&
      (!ParseHyperparameters(Describe(config), &again) || Describe(again) != Describe(config)))
    __builtin_trap();  // a valid configuration reads back as itself
  ScheduleConfig schedule;
  const auto name = values.find("schedule");
  const std::string error = MakeSchedule(
      name == values.end() ? "constant" : name->second,
      [&](const std::string& flag) {
        const auto it = values.find(flag);
        return it == values.end() ? nullptr : &it->second;
      },
      1000, LearningRate(config), &schedule);
  ScheduleConfig read;
  if (error.empty() && (!ParseSchedule(Describe(schedule), &read) || Describe(read) != Describe(schedule)))
    __builtin_trap();  // a schedule reads back as itself, as a checkpoint records it
  descent::GradClip clip;
  const auto norm = values.find("clip-norm");
  if (norm != values.end()) (void)ParseClip("max_norm=" + norm->second + " clip_value=0", &clip);
  return 0;
}
