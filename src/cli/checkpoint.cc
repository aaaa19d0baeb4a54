#include "src/cli/checkpoint.h"

#include <stdio.h>
#include <string.h>

#include <algorithm>
#include <cmath>

#include "src/cli/flags.h"

namespace descent {
namespace cli {
namespace {

constexpr const char* kFormat = "descent-checkpoint";
// 2: header_crc32 covers the metadata too. 1 (tensors only) is still read.
constexpr const char* kVersion = "2";

std::string Hex(uint64_t v, int digits) {
  char buf[24];
  snprintf(buf, sizeof(buf), "%0*llx", digits, static_cast<unsigned long long>(v));
  return buf;
}

template <class T>
uint64_t Bits(T v) {
  uint64_t b = 0;
  memcpy(&b, &v, sizeof(v));
  return b;
}

std::string SlotName(const SlotsRef& slots, size_t k) { return std::string("optimizer.") + slots.names[k]; }

}  // namespace

std::string DataFingerprint(const host::Dataset& data) {
  uint64_t h = host::Fnv1a64(data.pixels.data(), data.pixels.size()) ^
               (host::Fnv1a64(data.labels.data(), data.labels.size()) * 0x9E3779B97F4A7C15ull);
  // Float features and targets (CSV files that are not all bytes) are hashed too; byte data as before.
  if (!data.values.empty()) h ^= host::Fnv1a64(data.values.data(), 4 * data.values.size()) * 0xC2B2AE3D27D4EB4Full;
  if (!data.targets.empty()) h ^= host::Fnv1a64(data.targets.data(), 4 * data.targets.size()) * 0x165667B19E3779F9ull;
  return std::to_string(data.count) + ":" + Hex(h, 16);
}

std::string DescribeClip(const GradClip& clip) {
  char buf[96];
  snprintf(buf, sizeof(buf), "max_norm=%.17g clip_value=%.17g", clip.max_norm, clip.clip_value);
  return buf;
}

bool ParseClip(const std::string& text, GradClip* clip) {
  return sscanf(text.c_str(), "max_norm=%lf clip_value=%lf", &clip->max_norm, &clip->clip_value) == 2;
}

host::Error WriteCheckpoint(const std::string& path, const Checkpoint& at, const Net& net, const SlotsRef& slots) {
  std::vector<host::TensorRef> tensors = WeightTensors(net);
  for (size_t k = 0; k < slots.count; ++k) tensors.push_back({SlotName(slots, k), {net.num_params()}, slots.data[k]});
  host::Metadata meta = {
      {"format", kFormat},
      {"format_version", kVersion},
      {"optimizer", at.optimizer.name},
      {"hyperparameters", Describe(at.optimizer)},
      {"batch", std::to_string(at.batch)},
      {"seed", std::to_string(at.seed)},
      {"shuffle", at.shuffle ? "true" : "false"},
      {"step", std::to_string(at.clock.step)},
      {"epoch", std::to_string(at.epoch)},
      {"next_batch", std::to_string(at.next_batch)},
      {"epoch_loss_sum", Hex(Bits(at.epoch_loss_sum), 16)},
      {"mu_product", Hex(Bits(at.clock.mu_product), 8)},
      {"schedule", at.schedule},
      {"clip", at.clip},
      {"data", at.data},
  };
  for (const auto& entry : ModelMetadata(net))  // the architecture and input transform
    if (entry.first != "format") meta.push_back(entry);
  return host::WriteFileAtomic(path, host::EncodeWithChecksums(tensors, meta));
}

namespace {
host::Error ReadParsed(const std::string& path, Checkpoint* out);
}  // namespace

host::Error ReadCheckpoint(const std::string& path, Checkpoint* out) {
  // The header first: a device or a hostile length is refused before the data is read.
  if (host::Error e = host::ReadSafetensors(path, &out->file, ModelFileLimits(kMaxFileParams))) return e;
  return ReadParsed(path, out);
}

host::Error ParseCheckpoint(const std::string& path, std::vector<uint8_t> bytes, Checkpoint* out) {
  if (host::Error e = host::ParseSafetensors(path, std::move(bytes), &out->file, ModelFileLimits(kMaxFileParams)))
    return e;
  return ReadParsed(path, out);
}

namespace {
// The checkpoint's fields from its parsed file (out->file).
host::Error ReadParsed(const std::string& path, Checkpoint* out) {
  const host::Safetensors& f = out->file;
  auto meta = [&](const char* key, std::string* value) -> host::Error {
    const std::string* v = f.Meta(key);
    if (!v) return host::Fail(path, std::string("is not a descent checkpoint (no \"") + key + "\" in its metadata)");
    *value = *v;
    return host::Error{};
  };
  auto number = [&](const char* key, int base, uint64_t* value) -> host::Error {
    std::string text;
    if (host::Error e = meta(key, &text)) return e;
    if (!ParseUnsigned(text, value, base))
      return host::Fail(path, std::string("checkpoint field \"") + key + "\" is not a number: " + text);
    return host::Error{};
  };
  std::string text;
  if (host::Error e = meta("format", &text)) return e;
  if (text != kFormat) return host::Fail(path, "is not a descent checkpoint (format \"" + text + "\")");
  if (host::Error e = meta("format_version", &text)) return e;
  if (text != kVersion && text != "1")
    return host::Fail(path, "has checkpoint format version " + text + ", this program reads 1 and " + kVersion);
  const bool legacy = text == "1";
  // Before anything in it is believed: version 2 protects every byte of the header.
  if (!legacy)
    if (host::Error e = host::VerifyChecksums(f, true)) return e;
  if (host::Error e = meta("architecture", &text)) return e;
  if (host::Error e = ReadModelMetadata(f, &out->architecture, &out->transform)) return e;
  std::string name, hyper;
  if (host::Error e = meta("optimizer", &name)) return e;
  if (host::Error e = meta("hyperparameters", &hyper)) return e;
  if (!Preset(name, &out->optimizer) || !ParseHyperparameters(hyper, &out->optimizer))
    return host::Fail(path, "names an unknown optimizer or hyperparameters: " + name + " " + hyper);
  uint64_t v = 0;
  if (host::Error e = number("batch", 10, &v)) return e;
  out->batch = v;
  if (host::Error e = number("seed", 10, &out->seed)) return e;
  if (host::Error e = meta("shuffle", &text)) return e;
  if (text != "true" && text != "false") return host::Fail(path, "has an invalid shuffle flag " + text);
  out->shuffle = text == "true";
  if (host::Error e = number("step", 10, &out->clock.step)) return e;
  if (host::Error e = number("epoch", 10, &v)) return e;
  out->epoch = v;
  if (host::Error e = number("next_batch", 10, &v)) return e;
  out->next_batch = v;
  if (host::Error e = number("epoch_loss_sum", 16, &v)) return e;
  memcpy(&out->epoch_loss_sum, &v, 8);
  if (host::Error e = number("mu_product", 16, &v)) return e;
  const uint32_t mu_bits = static_cast<uint32_t>(v);
  memcpy(&out->clock.mu_product, &mu_bits, 4);
  // Optional: files from before schedules and clipping had neither.
  out->schedule = f.Meta("schedule") ? *f.Meta("schedule") : "constant";
  out->clip = f.Meta("clip") ? *f.Meta("clip") : DescribeClip(GradClip());
  if (host::Error e = meta("data", &out->data)) return e;
  if (legacy) {  // version 1: the tensors' checksum only
    if (host::Error e = number("tensor_crc32", 16, &v)) return e;
    std::vector<const host::Safetensors::Entry*> entries;
    for (const auto& entry : f.entries) entries.push_back(&entry);
    std::sort(entries.begin(), entries.end(), [](auto* a, auto* b) { return a->begin < b->begin; });
    uint32_t crc = 0;
    for (const auto* entry : entries) crc = Crc32(f.bytes.data() + f.data_start + entry->begin, entry->end - entry->begin, crc);
    if (crc != v)
      return host::Fail(path, "is corrupted: the tensors' checksum does not match (CRC-32 " + Hex(crc, 8) + ", expected " +
                                  Hex(v, 8) + ")");
  }
  // Every number within what a run can reach (the position is checked against the data on resume).
  if (out->batch == 0 || out->batch > kMaxBatch) return host::Fail(path, "has an invalid batch size " + std::to_string(out->batch));
  if (out->epoch > kMaxEpochs) return host::Fail(path, "has an invalid epoch " + std::to_string(out->epoch));
  if (!(out->epoch_loss_sum >= 0.0 && out->epoch_loss_sum < 1e300))
    return host::Fail(path, "has an invalid epoch_loss_sum " + std::to_string(out->epoch_loss_sum));
  if (!(out->clock.mu_product > 0.0f && out->clock.mu_product <= 1.0f))
    return host::Fail(path, "has an invalid mu_product " + std::to_string(out->clock.mu_product));
  return host::Error{};
}
}  // namespace

size_t Batches(const Checkpoint& c, size_t samples) { return (samples + c.batch - 1) / c.batch; }

size_t EpochsDone(const Checkpoint& c, size_t samples) { return c.epoch + (c.next_batch == Batches(c, samples) ? 1 : 0); }

host::Error CheckPosition(const Checkpoint& c, size_t samples, const std::string& path) {
  const size_t batches = Batches(c, samples);
  if (c.next_batch > batches || c.clock.step != uint64_t{c.epoch} * batches + c.next_batch)
    return host::Fail(path, "is inconsistent: step " + std::to_string(c.clock.step) + " is not epoch " +
                                std::to_string(c.epoch) + " of " + std::to_string(batches) + " batches plus " +
                                std::to_string(c.next_batch));
  return host::Error{};
}

host::Error RestoreCheckpoint(const Checkpoint& from, Net* net, const SlotsRef& slots) {
  Net staging = *net;
  if (host::Error e = ReadWeights(from.file, &staging)) return e;
  const size_t n = staging.num_params();
  for (size_t i = 0; i < n; ++i)
    if (!std::isfinite(staging.params()[i]))
      return host::Fail(from.file.path, "holds a non-finite weight (parameter " + std::to_string(i) + ")");
  for (size_t k = 0; k < slots.count; ++k) {
    if (host::Error e = from.file.ReadF32(SlotName(slots, k), {n}, slots.data[k])) return e;
    for (size_t i = 0; i < n; ++i)
      if (!std::isfinite(slots.data[k][i]))
        return host::Fail(from.file.path, std::string("holds a non-finite ") + slots.names[k] + " value");
  }
  *net = std::move(staging);
  return host::Error{};
}

}  // namespace cli
}  // namespace descent
