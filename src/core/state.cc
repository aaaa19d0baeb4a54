// Model + optimizer state images with a CRC-32 (descent/state.h).
#include "descent/state.h"

#include <string.h>

namespace descent {
namespace {

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "state images are little-endian");

constexpr uint8_t kMagic[4] = {'D', 'S', 'C', '1'};

struct Header {  // kStateHeaderBytes, all fields little-endian
  uint8_t magic[4];
  uint32_t architecture, rule;
  uint32_t num_slots;
  uint64_t num_params;
  uint64_t step;
  float mu_product;
  uint32_t reserved[3];
};
static_assert(sizeof(Header) == internal::kStateHeaderBytes, "header layout");

// The CRC-32 table, computed at compile time.
struct CrcTable {
  uint32_t entry[256];
  constexpr CrcTable() : entry() {
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      entry[i] = c;
    }
  }
};
constexpr CrcTable kCrc;

uint32_t Fnv1a32(const uint8_t* p, size_t n) {
  uint32_t h = 2166136261u;
  for (size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 16777619u;
  return h;
}

}  // namespace

uint32_t Crc32(const void* bytes, size_t size, uint32_t crc) {
  const uint8_t* p = static_cast<const uint8_t*>(bytes);
  crc = ~crc;
  for (size_t i = 0; i < size; ++i) crc = kCrc.entry[(crc ^ p[i]) & 0xFF] ^ (crc >> 8);
  return ~crc;
}

namespace internal {

uint32_t Signature(const size_t* sizes, size_t count) {
  uint64_t wide[kMaxLayers + 1] = {};
  for (size_t i = 0; i < count && i <= kMaxLayers; ++i) wide[i] = sizes[i];
  return Fnv1a32(reinterpret_cast<const uint8_t*>(wide), sizeof(uint64_t) * count);
}

uint32_t Signature(const Layout& l) {
  uint32_t h = Signature(l.sizes, l.num_layers + 1);
  // An MLP with one hidden activation signs as it always has (images saved before layer
  // lists still load); any other list adds each layer's bias and activation.
  const ActivationSpec* uniform = l.uniform_activation();
  // (One Linear layer has no hidden activation: it signs as the default, ReLU, did.)
  const ActivationSpec hidden = uniform && l.num_layers > 1 ? *uniform : ActivationSpec{};
  const bool notebook = uniform && hidden.kind == ActivationKind::kRelu && l.loss.kind == LossKind::kNll && l.frozen == 0;
  if (notebook) return h;
  const float parameters[4] = {hidden.negative_slope, l.loss.label_smoothing, l.loss.delta, l.loss.pos_weight};
  const uint8_t kinds[4] = {static_cast<uint8_t>(hidden.kind), static_cast<uint8_t>(l.loss.kind),
                            static_cast<uint8_t>(l.frozen), 0};
  h ^= Fnv1a32(kinds, sizeof(kinds)) * 0x9E3779B1u;
  h ^= Fnv1a32(reinterpret_cast<const uint8_t*>(parameters), sizeof(parameters)) * 0x85EBCA77u;
  if (uniform) return h;
  for (size_t i = 0; i < l.num_layers; ++i) {
    const uint8_t layer[2] = {static_cast<uint8_t>(l.layers[i].act.kind), static_cast<uint8_t>(l.layers[i].has_bias)};
    h = (h ^ Fnv1a32(layer, sizeof(layer))) * 0x01000193u;
    h ^= Fnv1a32(reinterpret_cast<const uint8_t*>(&l.layers[i].act.negative_slope), sizeof(float));
  }
  return h;
}

uint32_t Signature(const char* name) { return Fnv1a32(reinterpret_cast<const uint8_t*>(name), strlen(name)); }

StateWriter BufferWriter(Span* span) {
  return {span, [](void* context, size_t offset, const void* bytes, size_t size) {
            Span& s = *static_cast<Span*>(context);
            if (offset > s.size || size > s.size - offset) return false;
            memcpy(s.bytes + offset, bytes, size);
            return true;
          }};
}

StateReader BufferReader(Span* span) {
  return {span, [](void* context, size_t offset, void* bytes, size_t size) {
            const Span& s = *static_cast<const Span*>(context);
            if (offset > s.size || size > s.size - offset) return false;
            memcpy(bytes, s.bytes + offset, size);
            return true;
          }};
}

namespace {

size_t TotalBytes(const StateRef& s) { return kStateHeaderBytes + 4 * s.num_params * (1 + s.num_slots) + 4; }

// Writes pieces in order and keeps the CRC of what it wrote.
struct Out {
  const StateWriter& writer;
  size_t at = 0;
  uint32_t crc = 0;
  bool Put(const void* bytes, size_t size) {
    if (!writer.write(writer.context, at, bytes, size)) return false;
    crc = Crc32(bytes, size, crc);
    at += size;
    return true;
  }
};

}  // namespace

Status SaveState(const StateRef& s, const StateWriter& writer, size_t* written) {
  Header h = {};
  memcpy(h.magic, kMagic, 4);
  h.architecture = s.architecture;
  h.rule = s.rule;
  h.num_slots = static_cast<uint32_t>(s.num_slots);
  h.num_params = s.num_params;
  h.step = s.clock->step;
  h.mu_product = s.clock->mu_product;
  Out out{writer};
  bool ok = out.Put(&h, sizeof(h)) && out.Put(s.params, 4 * s.num_params);
  for (size_t k = 0; k < s.num_slots && ok; ++k) ok = out.Put(s.slots[k], 4 * s.num_params);
  const uint32_t crc = out.crc;
  if (!ok || !out.Put(&crc, 4)) return Status::kIoError;
  *written = out.at;
  return Status::kOk;
}

Status LoadState(const StateRef& s, const StateReader& reader, size_t size) {
  const size_t total = TotalBytes(s);
  if (size < sizeof(Header)) return Status::kInvalidArgument;
  Header h;
  if (!reader.read(reader.context, 0, &h, sizeof(h))) return Status::kIoError;
  if (memcmp(h.magic, kMagic, 4) != 0) return Status::kInvalidArgument;
  if (h.architecture != s.architecture || h.rule != s.rule || h.num_params != s.num_params ||
      h.num_slots != s.num_slots)
    return Status::kShapeMismatch;
  if (size != total) return Status::kInvalidArgument;
  // First the CRC of everything before it, a small piece at a time; only then the contents.
  uint8_t chunk[256];
  uint32_t crc = 0, stored = 0;
  for (size_t at = 0; at < total - 4; at += sizeof(chunk)) {
    const size_t n = total - 4 - at < sizeof(chunk) ? total - 4 - at : sizeof(chunk);
    if (!reader.read(reader.context, at, chunk, n)) return Status::kIoError;
    crc = Crc32(chunk, n, crc);
  }
  if (!reader.read(reader.context, total - 4, &stored, 4)) return Status::kIoError;
  if (crc != stored) return Status::kInvalidArgument;
  size_t at = sizeof(h);
  if (!reader.read(reader.context, at, s.params, 4 * s.num_params)) return Status::kIoError;
  at += 4 * s.num_params;
  for (size_t k = 0; k < s.num_slots; ++k, at += 4 * s.num_params)
    if (!reader.read(reader.context, at, s.slots[k], 4 * s.num_params)) return Status::kIoError;
  s.clock->step = h.step;
  s.clock->mu_product = h.mu_product;
  return Status::kOk;
}

}  // namespace internal
}  // namespace descent
