// Build-wide constants of the core library. (The core reports every error as a
// returned Status: it has no asserts, no abort paths and no I/O.)
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

}  // namespace descent

#endif  // DESCENT_CONFIG_H_
