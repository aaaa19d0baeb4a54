// libFuzzer: the IDX reader. The input's first byte splits it into an images
// file and a labels file.
#include <stddef.h>
#include <stdint.h>

#include "src/cli/model.h"
#include "src/host/dataset.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const size_t split = 1 + (size - 1) * data[0] / 255;
  std::vector<uint8_t> images(data + 1, data + split), labels(data + split, data + size);
  descent::host::Dataset d;
  if (!descent::host::ParseIdx("images", std::move(images), "labels", std::move(labels), &d)) {
    // Accepted: it must be self-consistent.
    if (d.pixels.size() != d.count * d.features || d.labels.size() != d.count) __builtin_trap();
    (void)descent::cli::PrepareData(descent::cli::Architecture{}, &d);
  }
  return 0;
}
