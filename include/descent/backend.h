// Which kernels run: the build's backend (meson -Dsimd=highway|xsimd|scalar)
// and the instruction set chosen at run time. Every choice gives bit-identical
// results; the choice only changes speed.
#ifndef DESCENT_BACKEND_H_
#define DESCENT_BACKEND_H_

#include <stddef.h>

#include "descent/status.h"

namespace descent {

// "highway", "xsimd" or "scalar".
const char* BackendName();

// Instruction sets by name: "scalar" (the reference loops, always there),
// "sse4", "avx2", "avx512", "neon", ... Fills names[0..capacity) best first,
// returns how many there are.
size_t CompiledIsas(const char** names, size_t capacity);   // kernels this build has
size_t SupportedIsas(const char** names, size_t capacity);  // ...that this CPU can run

// The instruction set in use. The choice is made once, on the first call of
// any kernel or of these functions, from whichever thread (std::call_once): the
// best supported one, or the one the environment variable DESCENT_ISA names.
// It is descent's own: Highway's process-wide dispatch state is never changed.
const char* ActiveIsa();

// Pins the kernels to one instruction set: kUnsupported if this build has no
// kernels for it or the CPU cannot run them (the current choice then stays).
// Safe to call from any thread; kernels called after it use the new choice
// (one step running meanwhile may mix them: the bits are the same either way).
Status SelectIsa(const char* name);

}  // namespace descent

#endif  // DESCENT_BACKEND_H_
