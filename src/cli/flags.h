// Command-line flags (--name value, --name=value, switches) and the strict
// number parsing every flag and file field uses: the whole text, no spaces, no
// sign on unsigned numbers, overflow refused.
#ifndef DESCENT_SRC_CLI_FLAGS_H_
#define DESCENT_SRC_CLI_FLAGS_H_

#include <stdint.h>

#include <map>
#include <string>
#include <vector>

namespace descent {
namespace cli {

// The program's exit status.
inline constexpr int kExitUsage = 2, kExitBadFile = 3, kExitNonFinite = 4;

// Prints "descent: <message>" to stderr and exits with `code`.
[[noreturn]] void Die(int code, const std::string& message);

bool ParseDouble(const std::string& text, double* value);    // a finite number
bool ParseUnsigned(const std::string& text, uint64_t* value, int base = 10);
bool ParseSigned(const std::string& text, int64_t* value);

std::string Dashed(std::string name);  // weight_decay -> weight-decay
std::string Join(const std::vector<std::string>& items, const char* sep);

class Flags {
 public:
  // Parses argv against the flags `valued` (take a value) and `switches`
  // (--name or --name=true|false); anything else is a usage error.
  Flags(const char* command, int argc, char** argv, const std::vector<std::string>& valued,
        const std::vector<std::string>& switches);
  // The parsing alone, without exiting: an empty string, or the problem.
  static std::string Parse(int argc, char** argv, const std::vector<std::string>& valued,
                           const std::vector<std::string>& switches, std::map<std::string, std::string>* values,
                           std::vector<std::string>* order, bool* help);

  bool help() const { return help_; }
  bool Has(const std::string& name) const { return values_.count(name) != 0; }
  const std::string& Value(const std::string& name) const { return values_.at(name); }
  const std::vector<std::string>& order() const { return order_; }
  std::string Text(const std::string& name, const std::string& fallback) const;
  // A path: given, it must not be empty.
  std::string Path(const std::string& name, const std::string& fallback) const;
  double Number(const std::string& name, double fallback) const;
  uint64_t Count(const std::string& name, uint64_t fallback, uint64_t lo, uint64_t hi) const;
  bool Switch(const std::string& name) const;
  [[noreturn]] void Usage(const std::string& problem) const;

 private:
  const char* command_;
  bool help_ = false;
  std::map<std::string, std::string> values_;
  std::vector<std::string> order_;
};

}  // namespace cli
}  // namespace descent

#endif  // DESCENT_SRC_CLI_FLAGS_H_
