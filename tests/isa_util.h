// Running test code on every instruction set this machine supports, and
// comparing results bit for bit.
#ifndef DESCENT_TESTS_ISA_UTIL_H_
#define DESCENT_TESTS_ISA_UTIL_H_

#include <string.h>

#include <algorithm>
#include <string>
#include <vector>

#include "descent/backend.h"
#include "src/kernels/kernels.h"
#include "tests/doctest_config.h"

namespace descent {

inline std::vector<const char*> Isas() {
  const char* names[32];
  const size_t n = SupportedIsas(names, 32);
  return std::vector<const char*>(names, names + std::min<size_t>(n, 32));
}

// Runs f(kernels) with every supported ISA pinned, restoring the default after.
template <class F>
void ForEachIsa(const F& f) {
  const std::string initial = ActiveIsa();
  for (const char* isa : Isas()) {
    CAPTURE(std::string(isa));
    REQUIRE(SelectIsa(isa) == Status::kOk);
    CHECK(std::string(ActiveIsa()) == isa);
    f(kernels::ActiveKernels());
  }
  REQUIRE(SelectIsa(initial.c_str()) == Status::kOk);
}

// f() with the scalar reference loops pinned: the result every ISA must give.
template <class F>
auto OnScalarIsa(const F& f) {
  const std::string initial = ActiveIsa();
  REQUIRE(SelectIsa("scalar") == Status::kOk);
  auto result = f();
  REQUIRE(SelectIsa(initial.c_str()) == Status::kOk);
  return result;
}

inline bool SameBits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

}  // namespace descent

#endif  // DESCENT_TESTS_ISA_UTIL_H_
