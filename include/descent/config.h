// Build-wide constants and the contract-check macro of the core library.
#ifndef DESCENT_CONFIG_H_
#define DESCENT_CONFIG_H_

#include <stddef.h>

#if defined(__GNUC__) || defined(__clang__)
#define DESCENT_RESTRICT __restrict__
#else
#define DESCENT_RESTRICT
#endif

namespace descent {

// Every activation row is padded to a multiple of this many floats (the widest
// vector, AVX-512), so kernels load whole vectors without a tail.
inline constexpr size_t kLanePad = 16;
// Alignment of every block the core owns; the same on every target.
inline constexpr size_t kAlign = 64;

constexpr size_t RoundUp(size_t n, size_t m) { return (n + m - 1) / m * m; }
constexpr size_t Padded(size_t n) { return RoundUp(n, kLanePad); }

// Called when a contract is violated (a caller bug, not bad data). The default
// handler prints and aborts; firmware can install its own.
using AbortHandler = void (*)(const char* file, int line, const char* condition);
void SetAbortHandler(AbortHandler handler);
[[noreturn]] void Abort(const char* file, int line, const char* condition);

}  // namespace descent

#if defined(DESCENT_NO_CHECKS)
#define DESCENT_DASSERT(condition) ((void)0)
#else
#define DESCENT_DASSERT(condition) \
  ((condition) ? (void)0 : ::descent::Abort(__FILE__, __LINE__, #condition))
#endif

#endif  // DESCENT_CONFIG_H_
