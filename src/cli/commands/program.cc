// The program: which command runs, DESCENT_ISA, and the top-level help.
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <algorithm>
#include <new>
#include <string>

#include "descent/backend.h"
#include "src/cli/commands/commands.h"
#include "src/cli/flags.h"
#include "src/host/files.h"

namespace descent {
namespace cli {
namespace {

// DESCENT_ISA pins the instruction set; a value this build or CPU cannot honour is a usage error.
void ApplyIsaFromEnvironment() {
  const char* pinned = getenv("DESCENT_ISA");
  if (!pinned || SelectIsa(pinned) == Status::kOk) return;
  const char* names[32];
  const size_t n = std::min<size_t>(SupportedIsas(names, 32), 32);
  Die(kExitUsage, std::string("DESCENT_ISA=") + pinned + " is not available here (this build and CPU run: " +
                      Join(std::vector<std::string>(names, names + n), ", ") + ")");
}

int MainHelp(FILE* to) {
  fprintf(to, "usage: descent <command> [flags]\n\n");
  for (const Command& c : kCommands) fprintf(to, "  %-8s %s\n", c.name, c.summary);
  fprintf(to, "\n'descent <command> --help' describes each command's flags.\n");
  return to == stdout ? 0 : kExitUsage;
}

}  // namespace

// An allocation that fails ends the program with status 3 and a message, not an abort.
void OutOfMemory() {
  static const char kMessage[] = "descent: out of memory: the input needs more than this machine can give";
  (void)!write(STDERR_FILENO, kMessage, sizeof(kMessage) - 1);
  const char* reading = host::Reading();
  if (reading[0]) {
    static const char kWhile[] = " (reading ";
    (void)!write(STDERR_FILENO, kWhile, sizeof(kWhile) - 1);
    (void)!write(STDERR_FILENO, reading, strlen(reading));
    (void)!write(STDERR_FILENO, ")", 1);
  }
  (void)!write(STDERR_FILENO, "\n", 1);
  _exit(kExitBadFile);
}

int RunProgram(Session& session, int argc, char** argv) {
  std::set_new_handler(OutOfMemory);
  if (argc < 2) return MainHelp(stderr);
  const std::string command = argv[1];
  if (command == "--help" || command == "-h" || command == "help") return MainHelp(stdout);
  ApplyIsaFromEnvironment();
  for (const Command& c : kCommands)
    if (command == c.name) {
      const int status = c.run(session, argc - 2, argv + 2);
      // A result that could not be written is not a success (a full disk, a closed pipe).
      if (fflush(stdout) != 0 || ferror(stdout)) Die(kExitBadFile, command + ": cannot write to standard output");
      return status;
    }
  fprintf(stderr, "descent: unknown command '%s'\n", command.c_str());
  return MainHelp(stderr);
}

}  // namespace cli
}  // namespace descent
