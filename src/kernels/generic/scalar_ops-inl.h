// The adapter whose vector is one float: the loops' tails, on every backend.
// Part of the generic layer (generic/kernels-inl.h).

struct ScalarOps {
  using V = float;
  static constexpr size_t kMaxLanes = 1;
  static size_t Lanes() { return 1; }
  static V Zero() { return 0.0f; }
  static V Set(float x) { return x; }
  static V Load(const float* p) { return *p; }
  static void Store(V v, float* p) { *p = v; }
  static V LoadStrided(const float* p, size_t) { return *p; }
  static void StoreStrided(V v, float* p, size_t) { *p = v; }
  static V FromBytes(const uint8_t* p) { return static_cast<float>(*p); }
  static V Fma(V a, V b, V c) { return std::fma(a, b, c); }
  static uint64_t NonzeroBits(const float* p) { return (math::FloatToBits(*p) & 0x7FFFFFFFu) != 0; }
  static V Sqrt(V x) { return std::sqrt(x); }
  static V Abs(V x) { return std::fabs(x); }
  static V Neg(V x) { return -x; }
  static V Select(bool mask, V yes, V no) { return mask ? yes : no; }
  static bool Or(bool a, bool b) { return a || b; }
  static V Pow2(V n) { return math::BitsToFloat(static_cast<uint32_t>(static_cast<int32_t>(n) + 127) << 23); }
  static V Exponent(V x) { return static_cast<float>(static_cast<int32_t>(math::FloatToBits(x) >> 23) - 126); }
  static V Mantissa(V x) { return math::BitsToFloat((math::FloatToBits(x) & 0x007FFFFFu) | 0x3F000000u); }
};
