// Recursive-descent JSON parser (RFC 8259), sized for file headers.
#include "src/host/json.h"

#include <stdio.h>
#include <stdlib.h>

#include <unordered_set>

namespace descent {
namespace host {
namespace {

constexpr int kMaxDepth = 32;

class Parser {
 public:
  Parser(const std::string& text, size_t max_values) : s_(text), max_values_(max_values) {}

  bool Document(Json* out, std::string* error) {
    bool ok = Value(out, 0);
    if (ok) {
      Space();
      if (at_ != s_.size()) ok = Fail("unexpected text after the JSON value");
    }
    if (!ok) *error = error_;
    return ok;
  }

 private:
  bool Fail(const std::string& what) {
    if (error_.empty()) error_ = what + " at byte " + std::to_string(at_);
    return false;
  }
  void Space() {
    while (at_ < s_.size() && (s_[at_] == ' ' || s_[at_] == '\t' || s_[at_] == '\n' || s_[at_] == '\r')) ++at_;
  }
  bool Literal(const char* word) {
    size_t n = 0;
    while (word[n]) ++n;
    if (s_.compare(at_, n, word) != 0) return Fail("invalid literal");
    at_ += n;
    return true;
  }
  bool Value(Json* out, int depth) {
    if (depth > kMaxDepth) return Fail("JSON nested too deeply");
    if (++values_ > max_values_) return Fail("more than " + std::to_string(max_values_) + " JSON values");
    Space();
    if (at_ >= s_.size()) return Fail("unexpected end of JSON");
    const char c = s_[at_];
    if (c == '{') return Object(out, depth);
    if (c == '[') return Array(out, depth);
    if (c == '"') return out->type = Json::Type::kString, String(&out->string);
    if (c == 't') return out->type = Json::Type::kBool, out->boolean = true, Literal("true");
    if (c == 'f') return out->type = Json::Type::kBool, out->boolean = false, Literal("false");
    if (c == 'n') return out->type = Json::Type::kNull, Literal("null");
    if (c == '-' || (c >= '0' && c <= '9')) return Number(out);
    return Fail(std::string("unexpected character '") + c + "'");
  }
  bool Object(Json* out, int depth) {
    out->type = Json::Type::kObject;
    ++at_;
    Space();
    if (at_ < s_.size() && s_[at_] == '}') return ++at_, true;
    std::unordered_set<std::string> keys;  // duplicates found in linear time
    for (;;) {
      Space();
      if (at_ >= s_.size() || s_[at_] != '"') return Fail("expected a string key");
      std::string key;
      if (!String(&key)) return false;
      Space();
      if (at_ >= s_.size() || s_[at_] != ':') return Fail("expected ':'");
      ++at_;
      Json value;
      if (!Value(&value, depth + 1)) return false;
      if (!keys.insert(key).second) return Fail("duplicate key \"" + key + "\"");
      out->members.emplace_back(std::move(key), std::move(value));
      Space();
      if (at_ < s_.size() && s_[at_] == ',') { ++at_; continue; }
      if (at_ < s_.size() && s_[at_] == '}') return ++at_, true;
      return Fail("expected ',' or '}'");
    }
  }
  bool Array(Json* out, int depth) {
    out->type = Json::Type::kArray;
    ++at_;
    Space();
    if (at_ < s_.size() && s_[at_] == ']') return ++at_, true;
    for (;;) {
      Json value;
      if (!Value(&value, depth + 1)) return false;
      out->items.push_back(std::move(value));
      Space();
      if (at_ < s_.size() && s_[at_] == ',') { ++at_; continue; }
      if (at_ < s_.size() && s_[at_] == ']') return ++at_, true;
      return Fail("expected ',' or ']'");
    }
  }
  bool String(std::string* out) {
    ++at_;  // opening quote
    while (at_ < s_.size()) {
      const unsigned char c = static_cast<unsigned char>(s_[at_++]);
      if (c == '"') return true;
      if (c < 0x20) return Fail("control character in a string");
      if (c != '\\') { out->push_back(static_cast<char>(c)); continue; }
      if (at_ >= s_.size()) break;
      const char e = s_[at_++];
      switch (e) {
        case '"': case '\\': case '/': out->push_back(e); break;
        case 'b': out->push_back('\b'); break;
        case 'f': out->push_back('\f'); break;
        case 'n': out->push_back('\n'); break;
        case 'r': out->push_back('\r'); break;
        case 't': out->push_back('\t'); break;
        case 'u': {
          if (at_ + 4 > s_.size()) return Fail("truncated \\u escape");
          unsigned code = 0;
          for (int k = 0; k < 4; ++k) {
            const char h = s_[at_++];
            code <<= 4;
            if (h >= '0' && h <= '9') code |= static_cast<unsigned>(h - '0');
            else if (h >= 'a' && h <= 'f') code |= static_cast<unsigned>(h - 'a' + 10);
            else if (h >= 'A' && h <= 'F') code |= static_cast<unsigned>(h - 'A' + 10);
            else return Fail("bad \\u escape");
          }
          // UTF-8 encode (surrogate pairs are kept as two code units; names never need them).
          if (code < 0x80) out->push_back(static_cast<char>(code));
          else if (code < 0x800) out->push_back(static_cast<char>(0xC0 | (code >> 6))), out->push_back(static_cast<char>(0x80 | (code & 0x3F)));
          else out->push_back(static_cast<char>(0xE0 | (code >> 12))), out->push_back(static_cast<char>(0x80 | ((code >> 6) & 0x3F))), out->push_back(static_cast<char>(0x80 | (code & 0x3F)));
          break;
        }
        default: return Fail("bad escape in a string");
      }
    }
    return Fail("unterminated string");
  }
  bool Number(Json* out) {
    out->type = Json::Type::kNumber;
    const size_t start = at_;
    if (s_[at_] == '-') ++at_;
    const size_t digits_start = at_;
    while (at_ < s_.size() && s_[at_] >= '0' && s_[at_] <= '9') ++at_;
    if (at_ == digits_start) return Fail("bad number");
    bool integer = true;
    if (at_ < s_.size() && s_[at_] == '.') {
      integer = false;
      ++at_;
      const size_t frac = at_;
      while (at_ < s_.size() && s_[at_] >= '0' && s_[at_] <= '9') ++at_;
      if (at_ == frac) return Fail("bad number");
    }
    if (at_ < s_.size() && (s_[at_] == 'e' || s_[at_] == 'E')) {
      integer = false;
      ++at_;
      if (at_ < s_.size() && (s_[at_] == '+' || s_[at_] == '-')) ++at_;
      const size_t exp = at_;
      while (at_ < s_.size() && s_[at_] >= '0' && s_[at_] <= '9') ++at_;
      if (at_ == exp) return Fail("bad number");
    }
    const std::string text = s_.substr(start, at_ - start);
    out->number = strtod(text.c_str(), nullptr);
    if (integer && s_[start] != '-' && at_ - digits_start <= 19) {
      out->is_uint = true;
      for (size_t k = digits_start; k < at_; ++k) out->uint = out->uint * 10 + static_cast<uint64_t>(s_[k] - '0');
    }
    return true;
  }

  const std::string& s_;
  const size_t max_values_;
  size_t values_ = 0;
  size_t at_ = 0;
  std::string error_;
};

}  // namespace

const Json* Json::Find(const std::string& key) const {
  for (const auto& m : members)
    if (m.first == key) return &m.second;
  return nullptr;
}

bool ParseJson(const std::string& text, Json* out, std::string* error, size_t max_values) {
  *out = Json();
  return Parser(text, max_values).Document(out, error);
}

std::string JsonQuote(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') out += '\\', out += static_cast<char>(c);
    else if (c < 0x20) {
      char buf[8];
      snprintf(buf, sizeof(buf), "\\u%04x", c);
      out += buf;
    } else out += static_cast<char>(c);
  }
  return out + "\"";
}

}  // namespace host
}  // namespace descent
