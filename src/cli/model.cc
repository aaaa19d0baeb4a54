#include "src/cli/model.h"

#include <stdio.h>
#include <string.h>

#include <algorithm>
#include <cmath>

namespace descent {
namespace cli {
namespace {

std::string LayerName(size_t layer, const char* what) { return "linears." + std::to_string(layer) + "." + what; }

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

std::string EncodeWithChecksums(const std::vector<host::TensorRef>& tensors, host::Metadata metadata) {
  uint32_t crc = 0;
  for (const host::TensorRef& t : tensors) {
    size_t n = 1;
    for (size_t d : t.shape) n *= d;
    crc = Crc32(t.data, n * sizeof(float), crc);
  }
  metadata.push_back({"tensor_crc32", Hex32(crc)});
  metadata.push_back({"header_crc32", kZeroCrc});
  std::string bytes = host::EncodeSafetensors(tensors, metadata);
  uint64_t header_len = 0;
  memcpy(&header_len, bytes.data(), 8);
  const size_t at = 8 + HeaderCrcAt(bytes.substr(8, header_len), kZeroCrc);
  bytes.replace(at, 8, Hex32(Crc32(bytes.data() + 8, header_len, 0)));
  return bytes;
}

host::Error VerifyChecksums(const host::Safetensors& f, bool required) {
  const std::string* tensor_crc = f.Meta("tensor_crc32");
  const std::string* header_crc = f.Meta("header_crc32");
  if (!tensor_crc || !header_crc) {
    if (required || tensor_crc || header_crc) return host::Fail(f.path, "has no checksums (tensor_crc32, header_crc32)");
    return host::Error{};
  }
  // The header, its own checksum's value zeroed.
  std::string header(reinterpret_cast<const char*>(f.bytes.data()) + 8, f.data_start - 8);
  const size_t at = HeaderCrcAt(header, *header_crc);
  if (at == std::string::npos || header_crc->size() != 8) return host::Fail(f.path, "has a malformed header_crc32");
  header.replace(at, 8, kZeroCrc);
  const std::string header_expected = Hex32(Crc32(header.data(), header.size(), 0));
  if (header_expected != *header_crc)
    return host::Fail(f.path, "is corrupted: the header's checksum does not match (CRC-32 " + header_expected +
                                  ", recorded " + *header_crc + ")");
  // The tensors in file order, which is the order they were written in.
  std::vector<const host::Safetensors::Entry*> entries;
  for (const auto& entry : f.entries) entries.push_back(&entry);
  std::sort(entries.begin(), entries.end(), [](auto* a, auto* b) { return a->begin < b->begin; });
  uint32_t crc = 0;
  for (const auto* entry : entries) crc = Crc32(f.bytes.data() + f.data_start + entry->begin, entry->end - entry->begin, crc);
  if (Hex32(crc) != *tensor_crc)
    return host::Fail(f.path, "is corrupted: the tensors' checksum does not match (CRC-32 " + Hex32(crc) +
                                  ", recorded " + *tensor_crc + ")");
  return host::Error{};
}

std::string Architecture() {
  std::string s;
  for (size_t i = 0; i <= Net::kNumLayers; ++i) s += (i ? "-" : "") + std::to_string(Net::sizes()[i]);
  return s;
}

std::vector<host::TensorRef> WeightTensors(const Net& net) {
  std::vector<host::TensorRef> tensors;
  for (size_t l = 0; l < Net::kNumLayers; ++l) {
    const size_t in = Net::sizes()[l], out = Net::sizes()[l + 1];
    tensors.push_back({LayerName(l, "weight"), {out, in}, net.weight(l)});
    tensors.push_back({LayerName(l, "bias"), {out}, net.bias(l)});
  }
  return tensors;
}

host::Error ReadWeights(const host::Safetensors& file, Net* net) {
  for (const host::TensorRef& t : WeightTensors(*net))
    if (host::Error e = file.ReadF32(t.name, t.shape, const_cast<float*>(t.data))) return e;
  return host::Error{};
}

host::Error SaveModel(const std::string& path, const Net& net) {
  return host::WriteFileAtomic(path,
                               EncodeWithChecksums(WeightTensors(net), {{"format", "pt"}, {"architecture", Architecture()}}));
}

host::Error LoadModel(const std::string& path, Net* net, Net* staging) {
  host::Safetensors file;
  if (host::Error e = host::ReadSafetensors(path, &file, kModelFileLimits)) return e;
  if (host::Error e = VerifyChecksums(file, false)) return e;
  if (host::Error e = ReadWeights(file, staging)) return e;
  size_t weights = 0;  // a checkpoint also holds "optimizer.*" tensors
  for (const auto& entry : file.entries) weights += entry.name.rfind("optimizer.", 0) != 0;
  if (weights != 2 * Net::kNumLayers)
    return host::Fail(path, "has " + std::to_string(weights) + " weight tensors, a " + Architecture() + " model has " +
                                std::to_string(2 * Net::kNumLayers));
  for (size_t i = 0; i < Net::kNumParams; ++i)
    if (!std::isfinite(staging->params()[i]))
      return host::Fail(path, "holds a non-finite weight (parameter " + std::to_string(i) + ")");
  *net = *staging;
  return host::Error{};
}

uint64_t ParamsHash(const Net& net) { return host::Fnv1a64(net.params(), sizeof(float) * Net::kNumParams); }

}  // namespace cli
}  // namespace descent
