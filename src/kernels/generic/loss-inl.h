// The loops around the layers: pixels to floats, and the fused log-softmax + NLL of
// byte labels. Part of the generic layer (generic/kernels-inl.h).

template <class O>
void ScalePixels(const uint8_t* src, float* dst, size_t n) {
  ForEachLane<O>(n, [&](auto ops, size_t i) DESCENT_ATTR {
    using X = decltype(ops);
    X::Store(X::FromBytes(src + i) * X::Set(1.0f / 256.0f), dst + i);
  });
}

// One lane per row: classes are read with a strided gather, so each lane runs
// the scalar code's loop over classes in the same order.
template <class O>
void LogSoftmaxNll(const float* z, size_t stride, const uint8_t* labels, size_t rows, size_t classes, size_t batch,
                   float* loss, float* dz) {
  const float s = -(1.0f / static_cast<float>(batch));
  ForEachLane<O>(rows, [&](auto ops, size_t r0) DESCENT_ATTR {
    using X = decltype(ops);
    using V = typename X::V;
    const V label = X::FromBytes(labels + r0);  // labels are < 256: exact as floats
    const float* zr = z + r0 * stride;
    V max = X::LoadStrided(zr, stride);
    for (size_t j = 1; j < classes; ++j) {
      const V zj = X::LoadStrided(zr + j, stride);
      max = X::Select(zj > max, zj, max);
    }
    V sum = X::Zero();
    for (size_t j = 0; j < classes; ++j) sum = sum + Exp<X>(X::LoadStrided(zr + j, stride) - max);
    const V lse = Log<X>(sum);
    const V scale = X::Set(s);
    V row_loss = X::Zero();
    for (size_t j = 0; j < classes; ++j) {
      const V logp = (X::LoadStrided(zr + j, stride) - max) - lse;
      const auto is_label = label == X::Set(static_cast<float>(j));
      const V g = X::Select(is_label, scale, X::Zero());
      X::StoreStrided(g - Exp<X>(logp) * scale, dz + r0 * stride + j, stride);
      row_loss = X::Select(is_label, X::Neg(logp), row_loss);
    }
    X::Store(row_loss, loss + r0);
  });
}
