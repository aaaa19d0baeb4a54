// The product engine: one register-tiled matrix product (Gemm) that the layers'
// forward and backward products are written on, zero terms skipped where the
// caller asks. Part of the generic layer (generic/kernels-inl.h).
//
// Bit-identity with the scalar reference: products are vectorized across
// output columns, never across the reduction index, so each output element is
// the same chain acc = fma(a_k, b_k, acc), k = 0, 1, ..., at every vector width.

// C tile = sum_k A(m, k) * B[k, n] for kRows rows m of A and kVecs vectors of
// columns n; A(m, k) = a[m*a_m + k*a_k], B row k at b + k*ldb. store(m, vec, sum).
// With a `live` list, only those k are summed (the others have A == 0 in all
// kRows rows, see live_terms-inl.h); without one, every k in [0, K). Each sum starts
// at init(m, vec): zero, or a sum to continue (a chain split over calls is one chain).
template <class O, size_t kRows, size_t kVecs, class Store, class Init>
inline void Tile(const float* a, size_t a_m, size_t a_k, const float* b, size_t ldb, size_t K,
                 const uint16_t* live, size_t m0, size_t vec0, const Store& store, const Init& init) {
  using V = typename O::V;
  const size_t N = O::Lanes();
  V acc[kRows][kVecs];
  for (size_t r = 0; r < kRows; ++r)
    for (size_t v = 0; v < kVecs; ++v) acc[r][v] = init(m0 + r, vec0 + v);
  const float* a0 = a + m0 * a_m;
  const float* b0 = b + vec0 * N;
  auto term = [&](size_t k) DESCENT_ATTR {
    V bv[kVecs];
    for (size_t v = 0; v < kVecs; ++v) bv[v] = O::Load(b0 + k * ldb + v * N);
    for (size_t r = 0; r < kRows; ++r) {
      const V av = O::Set(a0[r * a_m + k * a_k]);
      for (size_t v = 0; v < kVecs; ++v) acc[r][v] = O::Fma(av, bv[v], acc[r][v]);
    }
  };
  if (live) {
    for (size_t j = 0; j < K; ++j) term(live[j]);
  } else {
    for (size_t k = 0; k < K; ++k) term(k);
  }
  for (size_t r = 0; r < kRows; ++r)
    for (size_t v = 0; v < kVecs; ++v) store(m0 + r, vec0 + v, acc[r][v]);
}

// Tiles of kRows rows for every vector of columns; the remainder takes narrower tiles.
template <class O, size_t kRows, class Store, class Init>
inline void TileRow(const float* a, size_t a_m, size_t a_k, const float* b, size_t ldb, size_t vecs, size_t K,
                    const uint16_t* live, size_t m0, const Store& store, const Init& init) {
  static_assert(O::kTileVecs <= 4, "the remainder switch below covers up to 3 vectors");
  size_t vec = 0;
  for (; vec + O::kTileVecs <= vecs; vec += O::kTileVecs)
    Tile<O, kRows, O::kTileVecs>(a, a_m, a_k, b, ldb, K, live, m0, vec, store, init);
  switch (vecs - vec) {
    case 3: Tile<O, kRows, 3>(a, a_m, a_k, b, ldb, K, live, m0, vec, store, init); break;
    case 2: Tile<O, kRows, 2>(a, a_m, a_k, b, ldb, K, live, m0, vec, store, init); break;
    case 1: Tile<O, kRows, 1>(a, a_m, a_k, b, ldb, K, live, m0, vec, store, init); break;
    default: break;
  }
}

// Sums start at zero.
template <class O>
struct ZeroInit {
  typename O::V operator()(size_t, size_t) const { return O::Zero(); }
};

// Rows with their own live terms (see Gemm). kBlockTerms consecutive terms of B
// (32 rows of 112 floats: 14 KB) stay in L1 while every row of a group uses them;
// a row's partial sums wait in acc between blocks, stored and reloaded exactly.
inline constexpr size_t kBlockTerms = 32, kGroupRows = 16, kGroupFloats = 4096;

// acc[0, kVecs vectors) += A(k) * B[k] for the set bits k0 + j of `live`, in order.
template <class O, size_t kVecs>
inline void BlockTerms(const float* arow, size_t a_k, uint32_t live, size_t k0, const float* b, size_t ldb, float* acc) {
  using V = typename O::V;
  const size_t N = O::Lanes();
  V sum[kVecs];
#pragma GCC unroll 8
  for (size_t v = 0; v < kVecs; ++v) sum[v] = O::Load(acc + v * N);
  for (; live != 0; live &= live - 1) {
    const size_t k = k0 + static_cast<size_t>(__builtin_ctz(live));
    const V av = O::Set(arow[k * a_k]);
#pragma GCC unroll 8
    for (size_t v = 0; v < kVecs; ++v) sum[v] = O::Fma(av, O::Load(b + k * ldb + v * N), sum[v]);
  }
#pragma GCC unroll 8
  for (size_t v = 0; v < kVecs; ++v) O::Store(sum[v], acc + v * N);
}

template <class O>
inline void BlockRow(const float* arow, size_t a_k, uint32_t live, size_t k0, const float* b, size_t ldb, size_t vecs,
                     float* acc) {
  constexpr size_t kChunk = 8;
  const size_t N = O::Lanes();
  size_t vec = 0;
  for (; vec + kChunk <= vecs; vec += kChunk) BlockTerms<O, kChunk>(arow, a_k, live, k0, b + vec * N, ldb, acc + vec * N);
  const float* bv = b + vec * N;
  float* av = acc + vec * N;
  switch (vecs - vec) {
    case 7: BlockTerms<O, 7>(arow, a_k, live, k0, bv, ldb, av); break;
    case 6: BlockTerms<O, 6>(arow, a_k, live, k0, bv, ldb, av); break;
    case 5: BlockTerms<O, 5>(arow, a_k, live, k0, bv, ldb, av); break;
    case 4: BlockTerms<O, 4>(arow, a_k, live, k0, bv, ldb, av); break;
    case 3: BlockTerms<O, 3>(arow, a_k, live, k0, bv, ldb, av); break;
    case 2: BlockTerms<O, 2>(arow, a_k, live, k0, bv, ldb, av); break;
    case 1: BlockTerms<O, 1>(arow, a_k, live, k0, bv, ldb, av); break;
    default: break;
  }
}

// Rows [m, m + g) of C (whole tiles) from their non-zeros as
// bits (row r's bit k at bits[r * words + k / 64]): each tile over the union of its
// rows' terms, or, when their own terms are much fewer, each row over its own,
// term block by term block. Returns whether the rows went alone.
template <class O, class Store>
bool SparseGroup(const float* a, size_t a_m, size_t a_k, const float* b, size_t ldb, size_t m, size_t g,
                 size_t vecs, size_t K, const uint64_t* bits, size_t words, uint16_t* live_buf, const Store& store) {
  constexpr size_t R = O::kTileRows;
  static_assert(R >= 2, "a group holds kGroupRows / R tiles");
  const size_t N = O::Lanes();
  uint64_t any[kGroupRows / 2][kBitWords];  // per tile: the union of its rows
  size_t own = 0, shared = 0;
  for (size_t r = 0; r < g; ++r)
    for (size_t w = 0; w < words; ++w) own += static_cast<size_t>(__builtin_popcountll(bits[r * words + w]));
  for (size_t t = 0; t < g / R; ++t)
    for (size_t w = 0; w < words; ++w) {
      any[t][w] = 0;
      for (size_t r = 0; r < R; ++r) any[t][w] |= bits[(t * R + r) * words + w];
      shared += static_cast<size_t>(__builtin_popcountll(any[t][w]));
    }
  // A tile loads each vector of B once for R rows, a lone row once for itself (from
  // L1, the block of B being small): rows go alone when that saves a quarter of the FMAs.
  if (4 * own > 3 * R * shared) {
    for (size_t t = 0; t < g / R; ++t)
      TileRow<O, R>(a, a_m, a_k, b, ldb, vecs, BitsToTerms(any[t], words, live_buf), live_buf, m + t * R, store,
                    ZeroInit<O>{});
    return false;
  }
  alignas(64) float acc[kGroupFloats];
  for (size_t i = 0; i < g * vecs * N; ++i) acc[i] = 0.0f;
  for (size_t k0 = 0; k0 < K; k0 += kBlockTerms)
    for (size_t r = 0; r < g; ++r) {
      const uint32_t in_block = static_cast<uint32_t>(bits[r * words + k0 / 64] >> (k0 % 64));
      if (in_block) BlockRow<O>(a + (m + r) * a_m, a_k, in_block, k0, b, ldb, vecs, acc + r * vecs * N);
    }
  for (size_t r = 0; r < g; ++r)
    for (size_t vec = 0; vec < vecs; ++vec) store(m + r, vec, O::Load(acc + (r * vecs + vec) * N));
  return true;
}

// Rows [m, M) of C by row tiles (see Gemm); with live_buf, each tile skips the terms that
// are zero in all of its rows.
template <class O, class Store, class Init>
void DenseRows(const float* a, size_t a_m, size_t a_k, const float* b, size_t ldb, size_t m, size_t M, size_t vecs,
               size_t K, uint16_t* live_buf, const Store& store, const Init& init) {
  constexpr size_t R = O::kTileRows;
  const bool sparse = live_buf != nullptr;
  const uint16_t* live = live_buf;
  for (; m + R <= M; m += R) {
    const size_t k = sparse ? LiveTerms(a + m * a_m, a_m, a_k, R, K, live_buf) : K;
    TileRow<O, R>(a, a_m, a_k, b, ldb, vecs, k, live, m, store, init);
  }
  // The last M % R rows as one shorter tile: several independent chains, not one per row
  // (single rows wait on the FMA latency). Each sum is still its own chain: the same bits.
  if (m < M) {
    const size_t rest = M - m;
    const size_t k = sparse ? LiveTerms(a + m * a_m, a_m, a_k, rest, K, live_buf) : K;
    static_assert(R <= 8, "the switch below covers tiles of up to 8 rows");
    switch (rest) {
      case 7: TileRow<O, (R > 7 ? 7 : 1)>(a, a_m, a_k, b, ldb, vecs, k, live, m, store, init); break;
      case 6: TileRow<O, (R > 6 ? 6 : 1)>(a, a_m, a_k, b, ldb, vecs, k, live, m, store, init); break;
      case 5: TileRow<O, (R > 5 ? 5 : 1)>(a, a_m, a_k, b, ldb, vecs, k, live, m, store, init); break;
      case 4: TileRow<O, (R > 4 ? 4 : 1)>(a, a_m, a_k, b, ldb, vecs, k, live, m, store, init); break;
      case 3: TileRow<O, (R > 3 ? 3 : 1)>(a, a_m, a_k, b, ldb, vecs, k, live, m, store, init); break;
      case 2: TileRow<O, (R > 2 ? 2 : 1)>(a, a_m, a_k, b, ldb, vecs, k, live, m, store, init); break;
      default: TileRow<O, 1>(a, a_m, a_k, b, ldb, vecs, k, live, m, store, init); break;
    }
  }
}

// C[m, vec] for m < M and `vecs` vectors of columns. kSparse: A has many
// zeros, and each sum skips its zero terms (live_terms-inl.h: the same bits).
// Row tiles skip the terms that are zero in all of their rows. Where A's rows
// (the forward pass's inputs) or columns (X^T in the weight gradient) are
// contiguous, A is first read as bits, and groups of rows whose own terms are much
// fewer than their tiles' (digits: a pixel lit in one image is rarely lit in all
// of a tile's, nor in all of four neighbouring pixels) go row by row.
template <class O, bool kSparse, class Store>
void Gemm(const float* a, size_t a_m, size_t a_k, const float* b, size_t ldb, size_t M, size_t vecs, size_t K,
          const Store& store) {
  constexpr size_t R = O::kTileRows;
  const size_t N = O::Lanes();
  uint16_t live_buf[kMaxLiveTerms];
  const bool sparse = kSparse && K <= kMaxLiveTerms;
  const size_t words = (K + 63) / 64;
  const size_t group = (kGroupFloats / (vecs * N) < kGroupRows ? kGroupFloats / (vecs * N) : kGroupRows) / R * R;
  size_t m = 0;
  if (sparse && (a_k == 1 || a_m == 1) && K <= kMaxBitTerms && group >= R) {
    // Read in the order A lies in memory: along its rows, or across them 64 at a time.
    // Once a whole span goes by tiles (dense data), the rest is left to the tiles' lists.
    const size_t span = a_k == 1 ? group : 64 / group * group;
    uint64_t bits[64 * kBitWords];
    for (bool alone = true; alone && m + R <= M;) {
      const size_t n = (M - m) / R * R < span ? (M - m) / R * R : span;  // whole tiles
      if (a_k == 1) {
        for (size_t r = 0; r < n; ++r) NonzeroRow<O>(a + (m + r) * a_m, K, bits + r * words);
      } else {
        NonzeroColumns<O>(a + m, a_k, n, K, bits, words);
      }
      alone = false;
      for (size_t r = 0; r < n; r += group)
        alone |= SparseGroup<O>(a, a_m, a_k, b, ldb, m + r, n - r < group ? n - r : group, vecs, K, bits + r * words,
                                words, live_buf, store);
      m += n;
    }
  }
  DenseRows<O>(a, a_m, a_k, b, ldb, m, M, vecs, K, sparse ? live_buf : nullptr, store, ZeroInit<O>{});
}

template <class O>
size_t VectorsFor(size_t n) {
  return (n + O::Lanes() - 1) / O::Lanes();
}


// The engine as a kernel of its own, for layers that lay out their operands themselves
// (convolutions: src/core/layers/conv.cc). c[m, j] for m < M, j < n, each sum in order
// k = 0..K-1 from c[m, j] (accumulate) or zero, then + bias[m] (bias: not nullptr), then
// ReLU (relu). c's rows are exactly n floats (the last vector is stored lane by lane), b's
// rows readable up to a whole vector past n.
template <class O>
void Matmul(const float* a, size_t a_m, size_t a_k, const float* b, size_t ldb, float* c, size_t ldc, size_t M,
            size_t n, size_t K, const float* bias, bool accumulate, bool relu) {
  using V = typename O::V;
  const size_t N = O::Lanes();
  auto lanes = [&](size_t vec) { return n - vec * N < N ? n - vec * N : N; };
  auto init = [&](size_t m, size_t vec) DESCENT_ATTR {
    if (!accumulate) return O::Zero();
    const float* p = c + m * ldc + vec * N;
    if (lanes(vec) == N) return O::Load(p);
    float part[O::kMaxLanes] = {};
    for (size_t j = 0; j < lanes(vec); ++j) part[j] = p[j];
    return O::Load(part);
  };
  auto store = [&](size_t m, size_t vec, V sum) DESCENT_ATTR {
    if (bias) sum = sum + O::Set(bias[m]);
    if (relu) sum = O::Select(sum < O::Zero(), O::Zero(), sum);  // keeps NaN
    float* p = c + m * ldc + vec * N;
    if (lanes(vec) == N) return O::Store(sum, p);
    float part[O::kMaxLanes];
    O::Store(sum, part);
    for (size_t j = 0; j < lanes(vec); ++j) p[j] = part[j];
  };
  DenseRows<O>(a, a_m, a_k, b, ldb, 0, M, VectorsFor<O>(n), K, nullptr, store, init);
}
