// descent info: the kernel backend and instruction sets.
#include <stdio.h>

#include <algorithm>

#include "descent/backend.h"
#include "src/cli/commands/commands.h"
#include "src/cli/commands/common.h"

namespace descent {
namespace cli {

int InfoCommand(Session&, int argc, char** argv) {
  const Flags flags("info", argc, argv, {}, {});
  if (flags.help()) {
    printf("usage: descent info\n\nPrints the kernel backend, the instruction sets it was compiled for, those this\n"
           "CPU runs, and the one in use (pin it with the environment variable DESCENT_ISA).\n");
    return 0;
  }
  const char* names[32];
  const size_t compiled = std::min<size_t>(CompiledIsas(names, 32), 32);
  printf("backend: %s\ncompiled: %s\n", BackendName(), Join(std::vector<std::string>(names, names + compiled), " ").c_str());
  const size_t supported = std::min<size_t>(SupportedIsas(names, 32), 32);
  printf("supported: %s\nactive: %s\n", Join(std::vector<std::string>(names, names + supported), " ").c_str(), ActiveIsa());
  return 0;
}

}  // namespace cli
}  // namespace descent
