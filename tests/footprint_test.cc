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

// LeanPlan (the same models and optimizers): no gradient, weight copies or input copy.
template <class Net, class Rule, size_t kBatch>
constexpr size_t Lean() { return Footprint<Net, Workspace<Net, kBatch, LeanPlan>, Optimizer<Rule, Net::kNumTrainable>>(); }
using Notebook = Mlp<784, 100, 100, 10>;
using Small = Mlp<784, 32, 10>;
static_assert(Lean<Notebook, Sgd, 1>() == 722432 && Lean<Notebook, Sgd, 32>() == 778112 && Lean<Notebook, Sgd, 256>() == 1180672);
static_assert(Lean<Notebook, Adam, 1>() == 1439296 && Lean<Notebook, Adam, 32>() == 1494976 && Lean<Notebook, Adam, 256>() == 1897536);
static_assert(Lean<Small, Sgd, 1>() == 207424 && Lean<Small, Sgd, 32>() == 217472 && Lean<Small, Sgd, 256>() == 290240);
static_assert(Lean<Small, Adam, 1>() == 411008 && Lean<Small, Adam, 32>() == 421056 && Lean<Small, Adam, 256>() == 493824);
static_assert(Lean<Tuned, Adam, 32>() == 47808);
// The floor is the parameters and the optimizer state: the lean workspace adds 7 % to it for
// 784-32-10 with SGD-momentum at batch 32, and 2.8 % for the notebook's model with Adam.
static_assert(Lean<Small, Sgd, 32>() - sizeof(Small) - sizeof(Optimizer<Sgd, Small::kNumParams>) == 13760);

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
