#include "src/cli/flags.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include <algorithm>
#include <cmath>

namespace descent {
namespace cli {

void Die(int code, const std::string& message) {
  fprintf(stderr, "descent: %s\n", message.c_str());
  exit(code);
}

namespace {
// strto* skip leading white space and accept signs; we take only what they would
// print back: the text must start with a digit (or a sign and a digit, where allowed).
bool StartsWithNumber(const std::string& text, bool sign) {
  size_t at = sign && (text[0] == '-' || text[0] == '+') ? 1 : 0;
  return at < text.size() && (isdigit(static_cast<unsigned char>(text[at])) || text[at] == '.');
}
}  // namespace

bool ParseDouble(const std::string& text, double* value) {
  // Decimal only: strtod would also take hexadecimal ("0x10") and "inf".
  if (text.empty() || !StartsWithNumber(text, true) || text.find_first_of("xX") != std::string::npos) return false;
  char* end = nullptr;
  errno = 0;
  const double v = strtod(text.c_str(), &end);
  if (*end != '\0' || !std::isfinite(v)) return false;
  *value = v;
  return true;
}

bool ParseUnsigned(const std::string& text, uint64_t* value, int base) {
  const unsigned char first = text.empty() ? 0 : static_cast<unsigned char>(text[0]);
  if (!(base == 16 ? isxdigit(first) : isdigit(first))) return false;
  char* end = nullptr;
  errno = 0;
  const unsigned long long v = strtoull(text.c_str(), &end, base);
  if (*end != '\0' || errno == ERANGE) return false;
  *value = v;
  return true;
}

bool ParseSigned(const std::string& text, int64_t* value) {
  if (text.empty() || !StartsWithNumber(text, true) || text.find('.') != std::string::npos) return false;
  char* end = nullptr;
  errno = 0;
  const long long v = strtoll(text.c_str(), &end, 10);
  if (*end != '\0' || errno == ERANGE) return false;
  *value = v;
  return true;
}

std::string Dashed(std::string name) {
  std::replace(name.begin(), name.end(), '_', '-');
  return name;
}

std::string Join(const std::vector<std::string>& items, const char* sep) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) out += (i ? sep : "") + items[i];
  return out;
}

std::string Flags::Parse(int argc, char** argv, const std::vector<std::string>& valued,
                         const std::vector<std::string>& switches, std::map<std::string, std::string>* values,
                         std::vector<std::string>* order, bool* help) {
  for (int i = 0; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      *help = true;
      continue;
    }
    if (arg.compare(0, 2, "--") != 0) return "unexpected argument '" + arg + "'";
    arg = arg.substr(2);
    std::string value;
    const size_t eq = arg.find('=');
    const bool inline_value = eq != std::string::npos;
    if (inline_value) value = arg.substr(eq + 1), arg = arg.substr(0, eq);
    const bool is_switch = std::find(switches.begin(), switches.end(), arg) != switches.end();
    if (!is_switch && std::find(valued.begin(), valued.end(), arg) == valued.end()) return "unknown flag --" + arg;
    if (values->count(arg)) return "--" + arg + " given twice";
    if (is_switch) {
      if (!inline_value) value = "true";
    } else if (!inline_value) {
      if (i + 1 >= argc) return "--" + arg + " needs a value";
      value = argv[++i];
    }
    (*values)[arg] = value;
    order->push_back(arg);
  }
  return "";
}

Flags::Flags(const char* command, int argc, char** argv, const std::vector<std::string>& valued,
             const std::vector<std::string>& switches)
    : command_(command) {
  const std::string problem = Parse(argc, argv, valued, switches, &values_, &order_, &help_);
  if (!problem.empty()) Usage(problem);
}

std::string Flags::Text(const std::string& name, const std::string& fallback) const {
  auto it = values_.find(name);
  return it == values_.end() ? fallback : it->second;
}

std::string Flags::Path(const std::string& name, const std::string& fallback) const {
  if (Has(name) && Value(name).empty()) Usage("--" + name + " needs a file name, got ''");
  return Text(name, fallback);
}

double Flags::Number(const std::string& name, double fallback) const {
  if (!Has(name)) return fallback;
  double v = 0;
  if (!ParseDouble(values_.at(name), &v)) Usage("--" + name + " expects a number, got '" + values_.at(name) + "'");
  return v;
}

uint64_t Flags::Count(const std::string& name, uint64_t fallback, uint64_t lo, uint64_t hi) const {
  if (!Has(name)) return fallback;
  uint64_t v = 0;
  if (!ParseUnsigned(values_.at(name), &v) || v < lo || v > hi)
    Usage("--" + name + " expects a whole number in [" + std::to_string(lo) + ", " + std::to_string(hi) + "], got '" +
          values_.at(name) + "'");
  return v;
}

bool Flags::Switch(const std::string& name) const {
  const std::string text = Text(name, "false");
  if (text == "true" || text == "1") return true;
  if (text == "false" || text == "0") return false;
  Usage("--" + name + " expects true or false, got '" + text + "'");
}

void Flags::Usage(const std::string& problem) const {
  Die(kExitUsage, std::string(command_) + ": " + problem + " (see 'descent " + command_ + " --help')");
}

}  // namespace cli
}  // namespace descent
