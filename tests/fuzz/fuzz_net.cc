// libFuzzer: the --net spec and the model it describes. The input's first bytes pick an input
// shape, the rest is a spec. Nothing may crash; a spec that parses reads back as itself from
// its canonical text; a model that is valid builds a layout whose tensors cover its parameters.
#include <stddef.h>
#include <stdint.h>

#include <string>
#include <vector>

#include "src/cli/architecture.h"

using namespace descent;
using namespace descent::cli;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 3) return 0;
  Architecture a;
  const size_t dims = 1 + data[0] % 3;
  a.input_shape.clear();
  for (size_t d = 0; d < dims; ++d) a.input_shape.push_back(1 + data[1 + d % 2] % 40);
  const std::string spec(reinterpret_cast<const char*>(data) + 3, size - 3);
  std::string why;
  if (!ParseNet(spec, &a.modules, &why)) {
    if (why.rfind("--net: ", 0) != 0) __builtin_trap();  // every refusal names the flag
    return 0;
  }
  std::vector<Module> again;
  if (!ParseNet(a.Spec(), &again, &why) || again.size() != a.modules.size()) __builtin_trap();
  Architecture b = a;
  b.modules = again;
  if (b.Spec() != a.Spec()) __builtin_trap();  // the canonical text is a fixed point
  a.sequential = true;
  if (!InvalidReason(a).empty()) return 0;
  const Layout l = a.MakeLayout();
  size_t covered = 0;
  for (size_t t = 0; t < l.num_tensors; ++t) covered += l.tensors[t].size();
  if (covered != l.num_params || l.sizes[0] != a.inputs()) __builtin_trap();
  return 0;
}
