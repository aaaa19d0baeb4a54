// A small JSON reader for safetensors headers: depth-limited, integers kept
// exact, every error reported with its byte offset.
#ifndef DESCENT_SRC_HOST_JSON_H_
#define DESCENT_SRC_HOST_JSON_H_

#include <stdint.h>

#include <string>
#include <utility>
#include <vector>

namespace descent {
namespace host {

struct Json {
  enum class Type { kNull, kBool, kNumber, kString, kArray, kObject };
  Type type = Type::kNull;
  bool boolean = false;
  double number = 0.0;
  bool is_uint = false;   // a non-negative integer that fits uint64_t...
  uint64_t uint = 0;      // ...and its exact value
  std::string string;
  std::vector<Json> items;
  std::vector<std::pair<std::string, Json>> members;

  const Json* Find(const std::string& key) const;
};

// Parses the whole of `text`; on failure *error says what and where. At most
// max_values values (each costs about 100 bytes), duplicate keys found in linear time.
bool ParseJson(const std::string& text, Json* out, std::string* error, size_t max_values = 1 << 16);

// `s` as a JSON string literal.
std::string JsonQuote(const std::string& s);

}  // namespace host
}  // namespace descent

#endif  // DESCENT_SRC_HOST_JSON_H_
