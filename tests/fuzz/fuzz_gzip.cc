// libFuzzer: the gzip layer every reader goes through, on a file with the
// input's bytes, under a budget. Run with -rss_limit_mb: a length field or a
// deflate stream that claims or inflates to more than the budget must be
// refused, never held.
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "src/host/dataset.h"
#include "src/host/files.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string path = "/tmp/descent_fuzz_gzip." + std::to_string(getpid());
  FILE* f = fopen(path.c_str(), "wb");
  if (!f) return 0;
  fwrite(data, 1, size, f);
  fclose(f);
  constexpr size_t kBudget = 16 << 20;
  std::vector<uint8_t> bytes;
  if (!descent::host::ReadFile(path, kBudget, &bytes) && bytes.size() > kBudget) __builtin_trap();
  if (bytes.capacity() > kBudget + (1 << 16)) __builtin_trap();  // nothing reserved from a claim
  std::vector<uint8_t> idx;
  if (!descent::host::ReadIdxFile(path, 1, &idx) && idx.size() > (size_t{1} << 31) + 9) __builtin_trap();
  return 0;
}
