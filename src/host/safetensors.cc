// safetensors writer and validating reader.
#include "src/host/safetensors.h"

#include <stdio.h>
#include <string.h>

#include <algorithm>

#include "descent/state.h"
#include "src/host/json.h"

namespace descent {
namespace host {
namespace {

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "safetensors data is little-endian");


size_t DtypeSize(const std::string& dtype) {
  if (dtype == "F64" || dtype == "I64" || dtype == "U64") return 8;
  if (dtype == "F32" || dtype == "I32" || dtype == "U32") return 4;
  if (dtype == "F16" || dtype == "BF16" || dtype == "I16" || dtype == "U16") return 2;
  if (dtype == "I8" || dtype == "U8" || dtype == "BOOL" || dtype == "F8_E4M3" || dtype == "F8_E5M2") return 1;
  return 0;
}

constexpr char kZeroCrc[] = "00000000";

std::string Hex32(uint32_t v) {
  char buf[16];
  snprintf(buf, sizeof(buf), "%08x", v);
  return buf;
}

// Where header_crc32's value stands in the JSON header; npos unless exactly once.
size_t HeaderCrcAt(const std::string& header, const std::string& value) {
  const std::string field = "\"header_crc32\":\"" + value + "\"";
  const size_t at = header.find(field);
  if (at == std::string::npos || header.find(field, at + 1) != std::string::npos) return std::string::npos;
  return at + field.size() - 9;
}

}  // namespace

std::string ShapeString(const std::vector<size_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? "," : "") + std::to_string(shape[i]);
  return s + "]";
}

std::string EncodeSafetensors(const std::vector<TensorRef>& tensors, const Metadata& metadata) {
  std::string header = "{";
  if (!metadata.empty()) {
    header += "\"__metadata__\":{";
    for (size_t i = 0; i < metadata.size(); ++i)
      header += (i ? "," : "") + JsonQuote(metadata[i].first) + ":" + JsonQuote(metadata[i].second);
    header += "},";
  }
  size_t offset = 0;
  for (size_t t = 0; t < tensors.size(); ++t) {
    size_t count = 1;
    for (size_t d : tensors[t].shape) count *= d;
    const size_t bytes = (tensors[t].is_i64 ? 8 : 4) * count;
    header += (t ? "," : "") + JsonQuote(tensors[t].name) + ":{\"dtype\":\"" + (tensors[t].is_i64 ? "I64" : "F32") +
              "\",\"shape\":" + ShapeString(tensors[t].shape) + ",\"data_offsets\":[" + std::to_string(offset) + "," +
              std::to_string(offset + bytes) + "]}";
    offset += bytes;
  }
  header += "}";
  while (header.size() % 8 != 0) header += ' ';  // the data starts 8-byte aligned
  std::string out(8, '\0');
  const uint64_t n = header.size();
  memcpy(&out[0], &n, 8);
  out += header;
  for (const TensorRef& t : tensors) {
    size_t count = 1;
    for (size_t d : t.shape) count *= d;
    if (t.is_i64) out.append(reinterpret_cast<const char*>(t.ints), 8 * count);
    else out.append(reinterpret_cast<const char*>(t.data), 4 * count);
  }
  return out;
}

const Safetensors::Entry* Safetensors::Find(const std::string& name) const {
  for (const Entry& e : entries)
    if (e.name == name) return &e;
  return nullptr;
}

const std::string* Safetensors::Meta(const std::string& key) const {
  for (const auto& m : metadata)
    if (m.first == key) return &m.second;
  return nullptr;
}

Error Safetensors::CheckF32(const std::string& name, const std::vector<size_t>& shape) const {
  return Check(name, shape, "F32");
}

Error Safetensors::Read(const TensorRef& t) const {
  if (Error e = Check(t)) return e;
  const Entry* e = Find(t.name);
  memcpy(t.is_i64 ? static_cast<void*>(const_cast<int64_t*>(t.ints)) : static_cast<void*>(const_cast<float*>(t.data)),
         bytes.data() + data_start + e->begin, e->end - e->begin);
  return Error{};
}

Error Safetensors::Check(const std::string& name, const std::vector<size_t>& shape, const std::string& dtype) const {
  const Entry* e = Find(name);
  if (!e) return Fail(path, "has no tensor \"" + name + "\"");
  if (e->dtype != dtype) return Fail(path, "tensor \"" + name + "\" has dtype " + e->dtype + ", expected " + dtype);
  if (e->shape != shape)
    return Fail(path, "tensor \"" + name + "\" has shape " + ShapeString(e->shape) + ", expected " + ShapeString(shape));
  return Error{};
}

Error Safetensors::ReadF32(const std::string& name, const std::vector<size_t>& shape, float* dst) const {
  if (Error e = CheckF32(name, shape)) return e;
  const Entry* e = Find(name);
  memcpy(dst, bytes.data() + data_start + e->begin, e->end - e->begin);
  return Error{};
}

Error ParseSafetensors(const std::string& path, std::vector<uint8_t> bytes, Safetensors* out,
                       const SafetensorsLimits& limits) {
  *out = Safetensors();
  out->path = path;
  if (bytes.size() < 8) return Fail(path, "too short for a safetensors file (" + std::to_string(bytes.size()) + " bytes)");
  uint64_t header_len;
  memcpy(&header_len, bytes.data(), 8);
  if (header_len > limits.max_header_bytes || header_len > bytes.size() - 8)
    return Fail(path, "bad safetensors header length " + std::to_string(header_len) + " (file has " +
                          std::to_string(bytes.size()) + " bytes)");
  const std::string header(reinterpret_cast<const char*>(bytes.data()) + 8, header_len);
  Json json;
  std::string why;
  // A tensor takes at most 4 values besides its shape's; a shape at most 8 dimensions here.
  if (!ParseJson(header, &json, &why, 16 * limits.max_entries))
    return Fail(path, "bad safetensors header JSON: " + why);
  if (json.type != Json::Type::kObject) return Fail(path, "safetensors header is not a JSON object");
  if (json.members.size() > limits.max_entries)
    return Fail(path, "has " + std::to_string(json.members.size()) + " header entries, more than the " +
                          std::to_string(limits.max_entries) + " this reader takes");
  out->data_start = 8 + header_len;
  const size_t data_size = bytes.size() - out->data_start;
  for (const auto& [name, value] : json.members) {
    if (name == "__metadata__") {
      if (value.type != Json::Type::kObject) return Fail(path, "__metadata__ is not an object");
      if (value.members.size() > limits.max_entries) return Fail(path, "has too many __metadata__ entries");
      for (const auto& [key, v] : value.members) {
        if (v.type != Json::Type::kString) return Fail(path, "__metadata__ value of \"" + key + "\" is not a string");
        out->metadata.emplace_back(key, v.string);
      }
      continue;
    }
    const std::string what = "tensor \"" + name + "\"";
    if (value.type != Json::Type::kObject) return Fail(path, what + " is not described by an object");
    const Json* dtype = value.Find("dtype");
    const Json* shape = value.Find("shape");
    const Json* offsets = value.Find("data_offsets");
    if (!dtype || dtype->type != Json::Type::kString) return Fail(path, what + " has no dtype string");
    if (!shape || shape->type != Json::Type::kArray) return Fail(path, what + " has no shape array");
    if (!offsets || offsets->type != Json::Type::kArray || offsets->items.size() != 2 ||
        !offsets->items[0].is_uint || !offsets->items[1].is_uint)
      return Fail(path, what + " has no valid data_offsets [begin, end]");
    Safetensors::Entry e;
    e.name = name;
    e.dtype = dtype->string;
    const size_t element = DtypeSize(e.dtype);
    if (element == 0) return Fail(path, what + " has unknown dtype " + e.dtype);
    uint64_t count = 1;
    for (const Json& d : shape->items) {
      if (!d.is_uint) return Fail(path, what + " has a shape entry that is not a non-negative integer");
      e.shape.push_back(static_cast<size_t>(d.uint));
      if (d.uint != 0 && count > limits.max_file_bytes / d.uint) return Fail(path, what + " has an implausibly large shape");
      count *= d.uint;
    }
    e.begin = offsets->items[0].uint;
    e.end = offsets->items[1].uint;
    if (e.begin > e.end || e.end > data_size)
      return Fail(path, what + " data_offsets [" + std::to_string(e.begin) + ", " + std::to_string(e.end) +
                            "] lie outside the " + std::to_string(data_size) + " data bytes");
    if (e.end - e.begin != count * element)
      return Fail(path, what + " has " + std::to_string(e.end - e.begin) + " data bytes but its shape " +
                            ShapeString(e.shape) + " and dtype need " + std::to_string(count * element));
    out->entries.push_back(std::move(e));
  }
  // Tensors may not overlap.
  std::vector<const Safetensors::Entry*> sorted;
  for (const auto& e : out->entries) sorted.push_back(&e);
  std::sort(sorted.begin(), sorted.end(), [](auto* a, auto* b) { return a->begin < b->begin; });
  for (size_t i = 1; i < sorted.size(); ++i)
    if (sorted[i]->begin < sorted[i - 1]->end)
      return Fail(path, "tensors \"" + sorted[i - 1]->name + "\" and \"" + sorted[i]->name + "\" overlap");
  out->bytes = std::move(bytes);
  return Error{};
}

Error ReadSafetensors(const std::string& path, Safetensors* out, const SafetensorsLimits& limits) {
  NoteReading(path);
  // The header first: what it declares bounds what is read (a device or a hostile length
  // field is refused before any large buffer exists).
  GzipReader reader;
  if (Error e = reader.Open(path)) return e;
  std::vector<uint8_t> bytes(8);
  size_t got = 0;
  if (Error e = reader.Read(bytes.data(), 8, &got)) return e;
  bytes.resize(got);
  if (got < 8) return ParseSafetensors(path, std::move(bytes), out, limits);
  uint64_t header_len = 0;
  memcpy(&header_len, bytes.data(), 8);
  if (header_len == 0 || header_len > limits.max_header_bytes)
    return Fail(path, "bad safetensors header length " + std::to_string(header_len) + " (at most " +
                          std::to_string(limits.max_header_bytes) + " bytes are read)");
  // Then the data the header's offsets reach, and one byte more (an excess is an error).
  auto read_up_to = [&](size_t size) -> Error {
    uint8_t chunk[1 << 16];
    while (bytes.size() < size) {
      size_t n = 0;
      if (Error e = reader.Read(chunk, std::min(sizeof(chunk), size - bytes.size()), &n)) return e;
      if (n == 0) break;
      bytes.insert(bytes.end(), chunk, chunk + n);
    }
    return Error{};
  };
  if (Error e = read_up_to(8 + static_cast<size_t>(header_len))) return e;
  size_t data_end = 0;
  Json json;
  std::string why;
  const std::string header(reinterpret_cast<const char*>(bytes.data()) + 8, bytes.size() - 8);
  if (bytes.size() == 8 + header_len && ParseJson(header, &json, &why, 16 * limits.max_entries) &&
      json.type == Json::Type::kObject)
    for (const auto& [name, value] : json.members)
      if (const Json* offsets = value.Find("data_offsets"))
        if (offsets->type == Json::Type::kArray && offsets->items.size() == 2 && offsets->items[1].is_uint)
          data_end = std::max<size_t>(data_end, offsets->items[1].uint);
  if (data_end > limits.max_file_bytes)
    return Fail(path, "declares " + std::to_string(data_end) + " bytes of tensors, larger than the " +
                          std::to_string(limits.max_file_bytes) + " this reader takes");
  if (Error e = read_up_to(8 + static_cast<size_t>(header_len) + data_end + 1)) return e;
  return ParseSafetensors(path, std::move(bytes), out, limits);
}

std::string EncodeWithChecksums(const std::vector<TensorRef>& tensors, Metadata metadata) {
  uint32_t crc = 0;
  for (const TensorRef& t : tensors) {
    size_t n = 1;
    for (size_t d : t.shape) n *= d;
    crc = t.is_i64 ? Crc32(t.ints, n * sizeof(int64_t), crc) : Crc32(t.data, n * sizeof(float), crc);
  }
  metadata.push_back({"tensor_crc32", Hex32(crc)});
  metadata.push_back({"header_crc32", kZeroCrc});
  std::string bytes = EncodeSafetensors(tensors, metadata);
  uint64_t header_len = 0;
  memcpy(&header_len, bytes.data(), 8);
  const size_t at = 8 + HeaderCrcAt(bytes.substr(8, header_len), kZeroCrc);
  bytes.replace(at, 8, Hex32(Crc32(bytes.data() + 8, header_len, 0)));
  return bytes;
}

Error VerifyChecksums(const Safetensors& f, bool required) {
  const std::string* tensor_crc = f.Meta("tensor_crc32");
  const std::string* header_crc = f.Meta("header_crc32");
  if (!tensor_crc || !header_crc) {
    if (required || tensor_crc || header_crc) return Fail(f.path, "has no checksums (tensor_crc32, header_crc32)");
    return Error{};
  }
  // The header, its own checksum's value zeroed.
  std::string header(reinterpret_cast<const char*>(f.bytes.data()) + 8, f.data_start - 8);
  const size_t at = HeaderCrcAt(header, *header_crc);
  if (at == std::string::npos || header_crc->size() != 8) return Fail(f.path, "has a malformed header_crc32");
  header.replace(at, 8, kZeroCrc);
  const std::string header_expected = Hex32(Crc32(header.data(), header.size(), 0));
  if (header_expected != *header_crc)
    return Fail(f.path, "is corrupted: the header's checksum does not match (CRC-32 " + header_expected +
                                  ", recorded " + *header_crc + ")");
  // The tensors in file order, which is the order they were written in.
  std::vector<const Safetensors::Entry*> entries;
  for (const auto& entry : f.entries) entries.push_back(&entry);
  std::sort(entries.begin(), entries.end(), [](auto* a, auto* b) { return a->begin < b->begin; });
  uint32_t crc = 0;
  for (const auto* entry : entries) crc = Crc32(f.bytes.data() + f.data_start + entry->begin, entry->end - entry->begin, crc);
  if (Hex32(crc) != *tensor_crc)
    return Fail(f.path, "is corrupted: the tensors' checksum does not match (CRC-32 " + Hex32(crc) +
                                  ", recorded " + *tensor_crc + ")");
  return Error{};
}

std::string TensorName(const Layout& l, const ParamTensor& t) {
  const std::string module = l.sequential_names ? std::to_string(l.layers[t.layer].module)
                                                : "linears." + std::to_string(t.layer);
  return module + (t.is_bias ? ".bias" : ".weight");
}

std::vector<TensorRef> WeightTensors(const Layout& l, const float* params, const float* running,
                                     const int64_t* tracked) {
  std::vector<TensorRef> tensors;
  size_t k = 0;
  for (size_t i = 0; i < l.num_layers; ++i) {
    for (; k < l.num_tensors && l.tensors[k].layer == i; ++k) {
      const ParamTensor& t = l.tensors[k];
      const std::vector<size_t> shape(t.shape, t.shape + t.dims);
      tensors.push_back({TensorName(l, t), shape, params ? params + t.offset : nullptr});
    }
    const Layer& d = l.layers[i];
    if (d.kind != LayerKind::kBatchNorm) continue;
    const std::string module = std::to_string(d.module) + ".";
    const size_t C = d.in_shape.c;
    tensors.push_back({module + "running_mean", {C}, running ? running + d.running : nullptr});
    tensors.push_back({module + "running_var", {C}, running ? running + d.running + C : nullptr});
    tensors.push_back({module + "num_batches_tracked", {}, nullptr, tracked ? tracked + d.tracked : nullptr, true});
  }
  return tensors;
}

}  // namespace host
}  // namespace descent
