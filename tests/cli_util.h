// Running the descent program from a test: its exit status, stdout and stderr.
#ifndef DESCENT_TESTS_CLI_UTIL_H_
#define DESCENT_TESTS_CLI_UTIL_H_

#include <stdlib.h>
#include <sys/wait.h>

#include <fstream>
#include <sstream>
#include <string>

#include "tests/doctest_config.h"

namespace {

const std::string kExe = DESCENT_EXE;
const std::string kGolden = DESCENT_GOLDEN_DIR;
const std::string kData = DESCENT_DATA_DIR;

std::string Read(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

std::string TempDir() {
  char dir[] = "/tmp/descent_cli_test_XXXXXX";
  REQUIRE(mkdtemp(dir) != nullptr);
  return dir;
}

struct Run {
  int code;
  std::string out, err;
};

Run Descent(const std::string& args) {
  static const std::string dir = TempDir();
  const std::string cmd = kExe + " " + args + " >" + dir + "/stdout 2>" + dir + "/stderr </dev/null";
  const int status = system(cmd.c_str());
  Run r{WIFEXITED(status) ? WEXITSTATUS(status) : -1, Read(dir + "/stdout"), Read(dir + "/stderr")};
  INFO("descent ", args, "\nstdout: ", r.out, "\nstderr: ", r.err);
  return r;
}

inline bool Contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// A run that must fail: its arguments, exit status and a part of its message.
struct Failure {
  std::string args;
  int code;
  std::string expect;
};
template <size_t kN>
void ExpectFailures(const Failure (&cases)[kN]) {
  for (const Failure& c : cases) {
    CAPTURE(c.args);
    const Run r = Descent(c.args);
    CHECK(r.code == c.code);
    CHECK(Contains(r.err, c.expect));
  }
}

// The value of `key=` in a result line.
std::string Field(const std::string& out, const std::string& key) {
  const size_t at = out.find(" " + key + "=");
  if (at == std::string::npos) return "";
  const size_t start = at + key.size() + 2;
  return out.substr(start, out.find_first_of(" \n", start) - start);
}

}  // namespace

#endif  // DESCENT_TESTS_CLI_UTIL_H_
