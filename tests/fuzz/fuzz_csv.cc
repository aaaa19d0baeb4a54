// libFuzzer: the CSV reader (the target chosen by the input's first byte), then the
// checks against a model of each kind of loss.
#include <stddef.h>
#include <stdint.h>

#include <string>

#include "src/cli/model.h"
#include "src/host/dataset.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const std::string target = data[0] < 128 ? "" : std::to_string(data[0] % 8);
  descent::host::Dataset d;
  if (!descent::host::ParseCsv("input.csv", std::string(reinterpret_cast<const char*>(data + 1), size - 1), target, &d)) {
    // Accepted: it must be self-consistent.
    const size_t features = d.pixels.empty() ? d.values.size() : d.pixels.size();
    const size_t targets = d.labels.empty() ? d.targets.size() : d.labels.size();
    if (features != d.count * d.features || targets != d.count || d.feature_columns.size() != d.features)
      __builtin_trap();
    for (descent::LossKind loss : {descent::LossKind::kNll, descent::LossKind::kMse, descent::LossKind::kBceWithLogits}) {
      descent::LossSpec spec;
      spec.kind = loss;
      const descent::cli::Architecture a = descent::cli::Architecture::Mlp(
          {d.features, 4, loss == descent::LossKind::kNll ? size_t{3} : size_t{1}}, {}, spec);
      (void)descent::cli::PrepareData(a, &d);
    }
  }
  return 0;
}
