// libFuzzer: the Kaggle CSV reader.
#include <stddef.h>
#include <stdint.h>

#include <string>

#include "src/host/dataset.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  descent::host::Dataset d;
  if (!descent::host::ParseCsv("input.csv", std::string(reinterpret_cast<const char*>(data), size), &d)) {
    if (d.pixels.size() != d.count * d.pixels_per_image || d.labels.size() != d.count) __builtin_trap();
    (void)descent::host::CheckFits(d, 784, 10);
  }
  return 0;
}
