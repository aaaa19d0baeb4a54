// How a LeanPlan layer reads its input rows: layer 0 the caller's rows where they are
// (floats or bytes, under the caller's transform), the others the kept activations.
#ifndef DESCENT_SRC_CORE_LEAN_ROWS_H_
#define DESCENT_SRC_CORE_LEAN_ROWS_H_

#include <stddef.h>
#include <stdint.h>

#include "descent/train.h"

namespace descent {
namespace internal {

// Row r of a layer's input, resolved once per row: the activations, or the caller's rows:
// floats or bytes, shifted and scaled, or bytes without a transform (scaled by 1/256).
struct InputRow {
  const float* floats = nullptr;
  const uint8_t* bytes = nullptr;
  const float* shift = nullptr;
  const float* scale = nullptr;
};

// Layer i's input: the caller's rows for layer 0, else the kept (or passing) activation.
struct LayerInput {
  const float* act = nullptr;  // layers above 0
  size_t stride = 0;
  InputRows rows;
  size_t inputs = 0;

  InputRow Row(size_t r) const {
    if (act) return {act + r * stride};
    const size_t at = (rows.order ? rows.order[r] : r) * inputs;
    if (rows.bytes) return {nullptr, rows.bytes + at, rows.shift, rows.scale};
    return {rows.floats + at, nullptr, rows.shift, rows.scale};
  }
};

// f(c, x) for every input c of a row, x as LoadFeatures computes it: the branch on the kind
// of row is taken once per row, not once per input.
template <class F>
inline void ForEachInput(const InputRow& row, size_t in, const F& f) {
  if (row.bytes && !row.shift && !row.scale) {
    for (size_t c = 0; c < in; ++c) f(c, static_cast<float>(row.bytes[c]) * (1.0f / 256.0f));
  } else if (!row.shift && !row.scale) {
    for (size_t c = 0; c < in; ++c) f(c, row.floats[c]);
  } else {
    for (size_t c = 0; c < in; ++c) {
      float v = row.bytes ? static_cast<float>(row.bytes[c]) : row.floats[c];
      if (row.shift) v = v - row.shift[c];
      if (row.scale) v = v * row.scale[c];
      f(c, v);
    }
  }
}

inline LayerInput InputOf(const Layout& l, const WorkRef& work, size_t i) {
  LayerInput x;
  if (i == 0) {
    x.rows = work.input;
    x.inputs = l.sizes[0];
  } else {
    x.act = work.F(l.act[i]);
    x.stride = Padded(l.sizes[i]);
  }
  return x;
}

}  // namespace internal
}  // namespace descent

#endif  // DESCENT_SRC_CORE_LEAN_ROWS_H_
