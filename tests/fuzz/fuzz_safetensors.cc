// libFuzzer: safetensors, descent checkpoints, model loading and the core's
// state images, all from the same bytes.
#include <stddef.h>
#include <stdint.h>

#include <vector>

#include "descent/state.h"
#include "src/cli/session.h"
#include "src/host/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace descent;
  std::vector<uint8_t> bytes(data, data + size);
  host::Safetensors st;
  if (!host::ParseSafetensors("input", bytes, &st)) {
    static float out[1 << 16];
    for (const auto& e : st.entries) {
      size_t n = 1;
      for (size_t dim : e.shape) n *= dim;
      if (e.dtype == "F32" && n <= sizeof(out) / 4) (void)st.ReadF32(e.name, e.shape, out);
    }
  }
  static cli::Checkpoint checkpoint;
  (void)cli::ParseCheckpoint("input", bytes, &checkpoint);
  using Net = Mlp<8, 4, 3>;
  static Net net;
  static Optimizer<Adam, Net::kNumParams> opt;
  (void)LoadState(net, opt, data, size);
  return 0;
}
