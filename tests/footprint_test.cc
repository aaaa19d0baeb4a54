// The footprint table of the README, checked at compile time: if a layout
// changes, this file (and the table) must change with it.
#include "descent/descent.h"
#include "tests/doctest_config.h"

namespace descent {
namespace {

static_assert(Footprint<Mlp<784, 100, 100, 10>, Workspace<Mlp<784, 100, 100, 10>, 1>, Optimizer<Sgd, Mlp<784, 100, 100, 10>::kNumParams>>() == 1533184);
static_assert(Footprint<Mlp<784, 100, 100, 10>, Workspace<Mlp<784, 100, 100, 10>, 32>, Optimizer<Sgd, Mlp<784, 100, 100, 10>::kNumParams>>() == 1688064);
static_assert(Footprint<Mlp<784, 100, 100, 10>, Workspace<Mlp<784, 100, 100, 10>, 256>, Optimizer<Sgd, Mlp<784, 100, 100, 10>::kNumParams>>() == 2807360);
static_assert(Footprint<Mlp<784, 100, 100, 10>, Workspace<Mlp<784, 100, 100, 10>, 1>, Optimizer<Adam, Mlp<784, 100, 100, 10>::kNumParams>>() == 2250048);
static_assert(Footprint<Mlp<784, 100, 100, 10>, Workspace<Mlp<784, 100, 100, 10>, 32>, Optimizer<Adam, Mlp<784, 100, 100, 10>::kNumParams>>() == 2404928);
static_assert(Footprint<Mlp<784, 100, 100, 10>, Workspace<Mlp<784, 100, 100, 10>, 256>, Optimizer<Adam, Mlp<784, 100, 100, 10>::kNumParams>>() == 3524224);
static_assert(Footprint<Mlp<784, 32, 10>, Workspace<Mlp<784, 32, 10>, 1>, Optimizer<Sgd, Mlp<784, 32, 10>::kNumParams>>() == 413056);
static_assert(Footprint<Mlp<784, 32, 10>, Workspace<Mlp<784, 32, 10>, 32>, Optimizer<Sgd, Mlp<784, 32, 10>::kNumParams>>() == 524288);
static_assert(Footprint<Mlp<784, 32, 10>, Workspace<Mlp<784, 32, 10>, 256>, Optimizer<Sgd, Mlp<784, 32, 10>::kNumParams>>() == 1328192);
static_assert(Footprint<Mlp<784, 32, 10>, Workspace<Mlp<784, 32, 10>, 1>, Optimizer<Adam, Mlp<784, 32, 10>::kNumParams>>() == 616640);
static_assert(Footprint<Mlp<784, 32, 10>, Workspace<Mlp<784, 32, 10>, 32>, Optimizer<Adam, Mlp<784, 32, 10>::kNumParams>>() == 727872);
static_assert(Footprint<Mlp<784, 32, 10>, Workspace<Mlp<784, 32, 10>, 256>, Optimizer<Adam, Mlp<784, 32, 10>::kNumParams>>() == 1531776);

// Frozen layers: the model holds the trained layer (and a pointer to the frozen block), the optimizer
// its state only, the workspace no gradient for them; an inference workspace no gradients or weight copies.
using Tuned = Model<Sizes<784, 100, 100, 10>, Relu, Nll, Frozen<2>>;
static_assert(Footprint<Tuned, Workspace<Tuned, 32>, Optimizer<Adam, Tuned::kNumTrainable>>() == 583808);
static_assert(sizeof(Tuned) == 4160 && sizeof(Optimizer<Adam, Tuned::kNumTrainable>) == 12224);
static_assert(sizeof(InferenceWorkspace<Mlp<784, 100, 100, 10>, 1>) == 62976);
static_assert(sizeof(InferenceWorkspace<Mlp<784, 100, 100, 10>, 32>) == 125952);
static_assert(sizeof(InferenceWorkspace<Mlp<784, 32, 10>, 1>) == 54272);

TEST_CASE("footprint: the parts add up and a static model needs no more") {
  using Net = Mlp<784, 32, 10>;
  using Opt = Optimizer<Sgd, Net::kNumParams>;
  constexpr size_t bytes = Footprint<Net, Workspace<Net, 32>, Opt>();
  static_assert(bytes <= 512 * 1024, "fits a 512 KiB RAM budget");
  CHECK(bytes == sizeof(Net) + sizeof(Workspace<Net, 32>) + sizeof(Opt));
  CHECK(StateBytes<Net, Opt>() == 48 + 4 * 2 * Net::kNumParams + 4);
}

}  // namespace
}  // namespace descent
