// The descent program's commands, each in its own file; main.cc dispatches.
// Every command parses its flags, checks them all before any work starts, and
// ends the program with the status of src/cli/flags.h on an error.
#ifndef DESCENT_SRC_CLI_COMMANDS_COMMANDS_H_
#define DESCENT_SRC_CLI_COMMANDS_COMMANDS_H_

#include <stdio.h>

#include "src/cli/session.h"

namespace descent {
namespace cli {

struct Command {
  const char* name;
  const char* summary;
  int (*run)(Session& session, int argc, char** argv);
};

int TrainCommand(Session& session, int argc, char** argv);
int CompareCommand(Session& session, int argc, char** argv);
int LrFindCommand(Session& session, int argc, char** argv);
int EvalCommand(Session& session, int argc, char** argv);
int PredictCommand(Session& session, int argc, char** argv);
int InfoCommand(Session& session, int argc, char** argv);

inline constexpr Command kCommands[] = {
    {"train", "train a model (the notebook's MLP 784-100-100-10 unless --net or --layers) with one optimizer", TrainCommand},
    {"compare", "train it with several optimizers and plot their loss curves", CompareCommand},
    {"lr-find", "learning-rate range test: suggests a rate for an optimizer", LrFindCommand},
    {"eval", "evaluate saved weights on a test set", EvalCommand},
    {"predict", "write a saved model's predictions for a data set as CSV", PredictCommand},
    {"info", "show the kernel backend and instruction sets", InfoCommand},
};

// argv[0] is the program; argv[1] the command. The program's whole main.
int RunProgram(Session& session, int argc, char** argv);

}  // namespace cli
}  // namespace descent

#endif  // DESCENT_SRC_CLI_COMMANDS_COMMANDS_H_
