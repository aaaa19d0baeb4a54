// The heap-free state image for firmware: round trip, exact continuation, and
// every corruption detected before anything is overwritten.
#include <string.h>

#include <vector>

#include "descent/descent.h"
#include "tests/doctest_config.h"

namespace descent {
namespace {

using Net = Mlp<30, 12, 5>;
using Opt = Optimizer<NAdam, Net::kNumParams>;
constexpr size_t kBytes = StateBytes<Net, Opt>();
static_assert(kBytes == 48 + 4 * Net::kNumParams * 3 + 4, "documented layout");

struct Trainer {
  Net net;
  Workspace<Net, 8> ws;
  Opt opt;
  void Steps(int count, uint64_t seed) {
    Rng rng(seed);
    uint8_t pixels[8 * 30], labels[8];
    for (int s = 0; s < count; ++s) {
      for (uint8_t& p : pixels) p = static_cast<uint8_t>(rng.Next() >> 56);
      for (uint8_t& l : labels) l = static_cast<uint8_t>(rng.Below(5));
      float loss;
      REQUIRE(ws.LoadImages(pixels, labels, nullptr, 8) == Status::kOk);
      REQUIRE(TrainStep(net, ws, opt, 8, &loss) == Status::kOk);
    }
  }
};

TEST_CASE("state: save, load into fresh objects, and continue exactly") {
  static Trainer a, b;
  Init(a.net, 1);
  a.Steps(5, 10);
  static uint8_t image[kBytes];
  size_t written = 0;
  REQUIRE(SaveState(a.net, a.opt, image, sizeof(image), &written) == Status::kOk);
  CHECK(written == kBytes);
  REQUIRE(LoadState(b.net, b.opt, image, written) == Status::kOk);
  CHECK(memcmp(a.net.params(), b.net.params(), sizeof(float) * Net::kNumParams) == 0);
  CHECK(b.opt.clock().step == 5);
  CHECK(b.opt.clock().mu_product == a.opt.clock().mu_product);
  a.Steps(4, 11);
  b.Steps(4, 11);
  CHECK(memcmp(a.net.params(), b.net.params(), sizeof(float) * Net::kNumParams) == 0);
  CHECK(memcmp(a.opt.slot(1), b.opt.slot(1), sizeof(float) * Net::kNumParams) == 0);
}

TEST_CASE("state: corrupted, truncated or foreign images are refused and change nothing") {
  static Trainer a, b;
  Init(a.net, 2);
  a.Steps(2, 3);
  static uint8_t image[kBytes];
  size_t written = 0;
  REQUIRE(SaveState(a.net, a.opt, image, sizeof(image), &written) == Status::kOk);
  Init(b.net, 9);
  static Net before;
  before = b.net;
  for (size_t at : {size_t{0}, size_t{20}, size_t{60}, kBytes / 2, kBytes - 1}) {  // magic, header, data, CRC
    CAPTURE(at);
    image[at] ^= 0x10;
    CHECK(LoadState(b.net, b.opt, image, written) != Status::kOk);
    image[at] ^= 0x10;
  }
  CHECK(LoadState(b.net, b.opt, image, written - 1) == Status::kInvalidArgument);
  CHECK(memcmp(&before, &b.net, sizeof(Net)) == 0);
  CHECK(b.opt.clock().step == 0);
  // Another architecture or another rule: a shape mismatch.
  static Mlp<30, 13, 5> other_net;
  static Optimizer<NAdam, Mlp<30, 13, 5>::kNumParams> other_opt;
  CHECK(LoadState(other_net, other_opt, image, written) == Status::kShapeMismatch);
  static Optimizer<RAdam, Net::kNumParams> other_rule;  // same slot count, another rule
  CHECK(LoadState(b.net, other_rule, image, written) == Status::kShapeMismatch);
  CHECK(SaveState(a.net, a.opt, image, kBytes - 1, &written) == Status::kCapacityExceeded);
  // The CRC is zlib's CRC-32.
  CHECK(Crc32("123456789", 9) == 0xCBF43926u);
}

}  // namespace
}  // namespace descent

namespace descent {
namespace {

TEST_CASE("state: weights-only images round trip, are checked, and name their model") {
  using Reg = Model<Sizes<6, 9, 1>, Tanh, Mse>;
  static Reg a, b;
  Init(a, 3);
  static uint8_t image[WeightsBytes<Reg>()];
  static_assert(WeightsBytes<Reg>() == 48 + 4 * Reg::kNumParams + 4, "header, weights, CRC");
  size_t written = 0;
  CHECK(SaveWeights(a, image, sizeof(image) - 1, &written) == Status::kCapacityExceeded);
  REQUIRE(SaveWeights(a, image, sizeof(image), &written) == Status::kOk);
  CHECK(written == sizeof(image));
  REQUIRE(LoadWeights(b, image, written) == Status::kOk);
  CHECK(memcmp(a.params(), b.params(), sizeof(float) * Reg::kNumParams) == 0);
  // Every flipped bit is caught, and b is left as it was.
  for (size_t byte = 0; byte < written; byte += 7) {
    image[byte] ^= 0x10;
    Init(b, 9);
    const std::vector<float> before(b.params(), b.params() + Reg::kNumParams);
    CHECK(LoadWeights(b, image, written) != Status::kOk);
    CHECK(memcmp(before.data(), b.params(), sizeof(float) * Reg::kNumParams) == 0);
    image[byte] ^= 0x10;
  }
  // The same sizes with another activation or loss are another model; so is a state image.
  static Model<Sizes<6, 9, 1>, Sigmoid, Mse> other_activation;
  static Model<Sizes<6, 9, 1>, Tanh, L1> other_loss;
  CHECK(LoadWeights(other_activation, image, written) == Status::kShapeMismatch);
  CHECK(LoadWeights(other_loss, image, written) == Status::kShapeMismatch);
  static Optimizer<Sgd, Reg::kNumParams> opt;
  CHECK(LoadState(b, opt, image, written) == Status::kShapeMismatch);
  // A frozen model's image holds its trained layers only.
  using Tuned = Model<Sizes<6, 9, 4>, Relu, Nll, Frozen<1>>;
  static_assert(WeightsBytes<Tuned>() == 48 + 4 * (9 * 4 + 4) + 4, "trained layers only");
}

}  // namespace
}  // namespace descent

namespace descent {
namespace {

// A flash of 256-byte pages: writes must go in increasing offsets; each call is counted.
struct Flash {
  uint8_t bytes[8192];
  size_t written = 0, calls = 0, fail_at = SIZE_MAX;
  static bool Write(void* context, size_t offset, const void* data, size_t size) {
    Flash& f = *static_cast<Flash*>(context);
    if (offset != f.written || offset + size > sizeof(f.bytes) || f.calls++ == f.fail_at) return false;
    memcpy(f.bytes + offset, data, size);
    f.written += size;
    return true;
  }
  static bool Read(void* context, size_t offset, void* data, size_t size) {
    const Flash& f = *static_cast<const Flash*>(context);
    if (offset + size > f.written) return false;
    memcpy(data, f.bytes + offset, size);
    return true;
  }
};

TEST_CASE("state: images stream through a writer and a reader with no copy in RAM") {
  static Trainer a, b;
  Init(a.net, 2);
  a.Steps(3, 4);
  static Flash flash;
  size_t written = 0;
  REQUIRE(SaveState(a.net, a.opt, StateWriter{&flash, &Flash::Write}, &written) == Status::kOk);
  CHECK(written == kBytes);
  CHECK(flash.calls == 2 + Opt::kSlots + 1);  // header, parameters, each slot, CRC: no staging buffer
  // The same bytes as the buffer version.
  static uint8_t image[kBytes];
  REQUIRE(SaveState(a.net, a.opt, image, sizeof(image), &written) == Status::kOk);
  CHECK(memcmp(image, flash.bytes, kBytes) == 0);
  REQUIRE(LoadState(b.net, b.opt, StateReader{&flash, &Flash::Read}, written) == Status::kOk);
  CHECK(memcmp(a.net.params(), b.net.params(), sizeof(float) * Net::kNumParams) == 0);
  CHECK(b.opt.clock().step == a.opt.clock().step);
  // A corrupted page is found before anything is overwritten.
  flash.bytes[300] ^= 4;
  Init(b.net, 7);
  const std::vector<float> before(b.net.params(), b.net.params() + Net::kNumParams);
  CHECK(LoadState(b.net, b.opt, StateReader{&flash, &Flash::Read}, written) == Status::kInvalidArgument);
  CHECK(memcmp(before.data(), b.net.params(), sizeof(float) * Net::kNumParams) == 0);
  // A writer that fails stops the save.
  static Flash failing;
  failing.fail_at = 1;
  CHECK(SaveState(a.net, a.opt, StateWriter{&failing, &Flash::Write}, &written) == Status::kIoError);
}

}  // namespace
}  // namespace descent
