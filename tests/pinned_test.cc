// The results users depend on, pinned: the same weights on every machine,
// backend, instruction set and thread count tried so far (Zen 5, Intel, Zen 1,
// aarch64; Highway, xsimd, scalar). A change that moves one changes every
// user's results. Cheap enough for every CI stage, emulated ones included.
#include "tests/cli_util.h"
#include "tests/doctest_config.h"

namespace {

TEST_CASE("pinned: one epoch of Adam on the bundled data, 1 and 2 threads") {
  for (const char* threads : {"1", "2"}) {
    const Run r = Descent(std::string("train --optimizer adam --epochs 1 --threads ") + threads);
    REQUIRE(r.code == 0);
    CHECK(Field(r.out, "params_hash") == "c7c4c24d7a455bff");
  }
}

TEST_CASE("pinned: one epoch of centered RMSprop with momentum and weight decay") {
  const Run r = Descent("train --optimizer rmsprop --centered --momentum 0.5 --weight-decay 1e-4 --epochs 1 --threads 2");
  REQUIRE(r.code == 0);
  CHECK(Field(r.out, "params_hash") == "5fc99be0501d5c9f");
}

}  // namespace

namespace {

// The layers and losses beyond the notebook's (exp, log, tanh and erf are ours: no libm).
TEST_CASE("pinned: GELU with label-smoothed cross-entropy, and tanh regression with MSE") {
  Run r = Descent("train --optimizer adam --epochs 1 --threads 2 --activation gelu --loss cross-entropy "
                  "--label-smoothing 0.1");
  REQUIRE(r.code == 0);
  CHECK(Field(r.out, "params_hash") == "70e688a9989051bb");
  r = Descent("train --optimizer sgd --momentum 0.9 --lr 0.01 --epochs 1 --threads 3 --activation tanh "
              "--layers 784,64,64,1 --loss mse --input-scale 0.01");
  REQUIRE(r.code == 0);
  CHECK(Field(r.out, "params_hash") == "bbafc4296314cd24");
}

}  // namespace

namespace {

// A layer list: an activation of each layer's own (GELU-tanh, LeakyReLU), a Linear without a
// bias and a sigmoid on the outputs, on both plans.
TEST_CASE("pinned: a --net layer list, fast and lean") {
  for (const char* plan : {"fast", "lean"}) {
    const Run r = Descent(std::string("train --epochs 1 --threads 2 --plan ") + plan +
                          " --net 'flatten,linear(64),gelu(approximate=tanh),linear(32,bias=false),leakyrelu(0.2),"
                          "linear(10),sigmoid'");
    REQUIRE(r.code == 0);
    CHECK(Field(r.out, "params_hash") == "9783801cb0b11988");
  }
}

}  // namespace

namespace {

// A small CNN: a strided convolution, max pooling, a grouped convolution with tanh, average
// pooling with padding (the unrolled products, their chains over samples, the pooling loops),
// on FastPlan with 1 and 2 threads and on LeanPlan (one sample at a time).
TEST_CASE("pinned: a convolutional --net, fast (1 and 2 threads) and lean") {
  for (const char* flags : {"--threads 1", "--threads 2", "--plan lean"}) {
    const Run r = Descent(std::string("train --epochs 1 ") + flags +
                          " --net 'conv2d(4,3,stride=2),relu,maxpool2d(2),conv2d(8,3,padding=1,groups=2),tanh,"
                          "avgpool2d(2,padding=1),flatten,linear(10)'");
    REQUIRE(r.code == 0);
    CHECK(Field(r.out, "params_hash") == "d87f99b66681e1e8");
  }
}

}  // namespace
