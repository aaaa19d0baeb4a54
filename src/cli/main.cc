// The descent program: train, compare optimizers, find a learning rate, evaluate.
// Exit status: 0 success, 2 usage error, 3 bad input or output file, 4 non-finite loss.
#include "src/cli/commands/commands.h"

int main(int argc, char** argv) {
  static descent::cli::Session session;  // constant-initialised: pages are touched only when used
  return descent::cli::RunProgram(session, argc, argv);
}
