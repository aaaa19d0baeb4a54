// torch.nn.Linear's kernels on the product engine (gemm-inl.h): the forward pass (rows
// or transposed activations), the input gradient, the weight and bias gradients.
// Part of the generic layer (generic/kernels-inl.h).

template <class O>
void LinearForward(const float* x, size_t x_stride, const float* wt, size_t wt_stride, float* y, size_t y_stride,
                   size_t rows, size_t in, size_t out, bool relu, bool sparse_x) {
  using V = typename O::V;
  const size_t N = O::Lanes();
  const float* bias = wt + in * wt_stride;
  auto store = [&](size_t r, size_t vec, V sum) DESCENT_ATTR {
    V v = sum + O::Load(bias + vec * N);
    if (relu) v = O::Select(v < O::Zero(), O::Zero(), v);  // keeps NaN, like the scalar code
    O::Store(v, y + r * y_stride + vec * N);
  };
  if (sparse_x) Gemm<O, true>(x, x_stride, 1, wt, wt_stride, rows, VectorsFor<O>(out), in, store);
  else Gemm<O, false>(x, x_stride, 1, wt, wt_stride, rows, VectorsFor<O>(out), in, store);
}

// Activations transposed: C[o, r] = sum_i w[o, i] * xt[i, r], A = the weight read in place.
template <class O>
void LinearForwardT(const float* w, const float* b, const float* xt, size_t xt_stride, float* yt, size_t yt_stride,
                    size_t rows, size_t in, size_t out, bool relu) {
  using V = typename O::V;
  const size_t N = O::Lanes();
  Gemm<O, false>(w, in, 1, xt, xt_stride, out, VectorsFor<O>(rows), in, [&](size_t o, size_t vec, V sum) DESCENT_ATTR {
    V v = sum + O::Set(b ? b[o] : 0.0f);  // no bias: + 0, as the forward pass's zero bias row
    if (relu) v = O::Select(v < O::Zero(), O::Zero(), v);
    O::Store(v, yt + o * yt_stride + vec * N);
  });
}

template <class O>
void LinearBackwardInput(const float* dy, size_t dy_stride, const float* wp, size_t wp_stride, const float* act,
                         size_t act_stride, float* dx, size_t dx_stride, size_t rows, size_t in, size_t out) {
  using V = typename O::V;
  const size_t N = O::Lanes();
  Gemm<O, false>(dy, dy_stride, 1, wp, wp_stride, rows, VectorsFor<O>(in), out,
                 [&](size_t r, size_t vec, V sum) DESCENT_ATTR {
                   if (act) {
                     const V a = O::Load(act + r * act_stride + vec * N);
                     sum = O::Select(a > O::Zero(), sum, O::Zero());
                   }
                   O::Store(sum, dx + r * dx_stride + vec * N);
                 });
}

template <class O>
void BiasGradient(const float* dy, size_t dy_stride, float* db, size_t rows, size_t out) {
  ForEachLane<O>(out, [&](auto ops, size_t o) DESCENT_ATTR {
    using X = decltype(ops);
    auto acc = X::Zero();
    for (size_t r = 0; r < rows; ++r) acc = acc + X::Load(dy + r * dy_stride + o);
    X::Store(acc, db + o);
  });
}

template <class O>
void LinearBackwardParams(const float* dy, size_t dy_stride, const float* x, size_t x_stride, float* dw, float* db,
                          size_t rows, size_t in, size_t out) {
  using V = typename O::V;
  const size_t N = O::Lanes();
  // dW = dY^T X: A(o, r) = dy[r*dy_stride + o]. Rows of dW are not padded, so the
  // last vector of a row is stored lane by lane.
  Gemm<O, false>(dy, 1, dy_stride, x, x_stride, out, VectorsFor<O>(in), rows,
                 [&](size_t o, size_t vec, V sum) DESCENT_ATTR {
                   float* row = dw + o * in + vec * N;
                   if ((vec + 1) * N <= in) {
                     O::Store(sum, row);
                   } else {
                     float lanes[O::kMaxLanes];
                     O::Store(sum, lanes);
                     for (size_t i = 0; i < in - vec * N; ++i) row[i] = lanes[i];
                   }
                 });
  BiasGradient<O>(dy, dy_stride, db, rows, out);
}

// dW^T = X^T dY: A(i, r) = x[r*x_stride + i], skipping samples whose inputs
// i..i+kTileRows are all zero; dwt rows are padded, so whole vectors are stored.
template <class O>
void LinearBackwardParamsT(const float* x, size_t x_stride, const float* dy, size_t dy_stride, float* dwt,
                           size_t dwt_stride, size_t rows, size_t in, size_t out) {
  using V = typename O::V;
  const size_t N = O::Lanes();
  Gemm<O, true>(x, 1, x_stride, dy, dy_stride, in, VectorsFor<O>(out), rows,
                [&](size_t i, size_t vec, V sum) DESCENT_ATTR { O::Store(sum, dwt + i * dwt_stride + vec * N); });
}

