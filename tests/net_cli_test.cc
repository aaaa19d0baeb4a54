// Models as layer lists in the program: --net against torch, its files and names, its errors,
// --plan lean, and info --net.
#include <math.h>

#include <algorithm>
#include <vector>

#include "tests/cli_util.h"

namespace {

std::vector<double> LossColumn(const std::string& csv) {
  std::vector<double> losses;
  size_t at = csv.find('\n') + 1;
  while (at < csv.size()) {
    const size_t end = csv.find('\n', at);
    const std::string row = csv.substr(at, end - at);
    losses.push_back(atof(row.substr(row.rfind(',') + 1).c_str()));
    at = end + 1;
  }
  return losses;
}

const char* const kTanhRelu = "'flatten,linear(100),tanh,linear(100),relu,linear(10)'";

TEST_CASE("cli/net: nn.Sequential models follow torch's per-step losses from torch's initial weights") {
  const std::string dir = TempDir();
  struct Case {
    const char* name;
    std::string flags;
  } cases[] = {
      {"tanh_relu", std::string("--net ") + kTanhRelu},
      {"nobias_leaky",
       "--net 'flatten,linear(64,bias=false),leakyrelu(0.2),linear(10)' --optimizer sgd --lr 0.05 --momentum 0.9"},
  };
  for (const Case& c : cases) {
    CAPTURE(std::string(c.name));
    const std::string init = kGolden + "/net_torch_" + c.name + "_init.safetensors";
    const std::vector<double> torch = LossColumn(Read(kGolden + "/net_torch_" + c.name + "_losses.csv"));
    std::string fast;
    for (const char* plan : {"fast", "lean"}) {
      CAPTURE(std::string(plan));
      const std::string csv = dir + "/" + c.name + "-" + plan + ".csv";
      const Run r = Descent("train " + c.flags + " --no-shuffle --init " + init + " --plan " + plan + " --loss-csv " + csv);
      REQUIRE(r.code == 0);
      const std::vector<double> ours = LossColumn(Read(csv));
      REQUIRE(ours.size() == 96);
      REQUIRE(torch.size() == ours.size());
      double worst = 0;
      for (size_t i = 0; i < ours.size(); ++i) worst = std::max(worst, fabs(ours[i] - torch[i]) / torch[i]);
      CHECK(worst < 1e-4);  // measured: 2.0e-7 and 3.7e-7
      if (fast.empty()) fast = Read(csv);
      else CHECK(Read(csv) == fast);  // the lean plan: the same bits
    }
  }
  system(("rm -rf " + dir).c_str());
}

TEST_CASE("cli/net: --layers is a shorthand for the same list; --plan lean gives the same weights") {
  const std::string notebook = Field(Descent("train --epochs 1").out, "params_hash");
  CHECK(notebook == "c7c4c24d7a455bff");
  CHECK(Field(Descent("train --epochs 1 --net 'flatten,linear(100),relu,linear(100),relu,linear(10)'").out,
              "params_hash") == notebook);
  CHECK(Field(Descent("train --epochs 1 --plan lean --threads 2").out, "params_hash") == notebook);
  const std::string gelu = "train --epochs 1 --activation gelu --loss cross-entropy --label-smoothing 0.1";
  CHECK(Field(Descent(gelu + " --plan lean").out, "params_hash") == "70e688a9989051bb");
}

TEST_CASE("cli/net: saved with nn.Sequential's names and its spec; eval, --init and --resume rebuild it") {
  const std::string dir = TempDir();
  const Run a = Descent("train --epochs 2 --net " + std::string(kTanhRelu) + " --save " + dir +
                        "/n.safetensors --checkpoint " + dir + "/ck.safetensors --checkpoint-every 40");
  REQUIRE(a.code == 0);
  const std::string file = Read(dir + "/n.safetensors");
  for (const char* part : {"\"1.weight\"", "\"3.bias\"", "\"5.weight\"", "\"net\":\"flatten,linear(100),tanh,",
                           "\"input_shape\":\"1,28,28\""})
    CHECK(Contains(file, part));
  CHECK(!Contains(file, "linears."));
  const Run e = Descent("eval --model " + dir + "/n.safetensors");
  REQUIRE(e.code == 0);
  CHECK(Field(e.out, "test_loss") == Field(a.out, "test_loss"));
  CHECK(Field(e.out, "test_accuracy") == Field(a.out, "test_accuracy"));
  // A torch state_dict (no descent metadata) with the spec given.
  CHECK(Descent("eval --model " + kGolden + "/net_torch_tanh_relu_init.safetensors --net " + kTanhRelu).code == 0);
  // Weights under another model's names or shapes are refused, naming the tensor.
  const Run other = Descent("eval --model " + kGolden + "/net_torch_tanh_relu_init.safetensors --net "
                            "'flatten,linear(50),tanh,linear(100),relu,linear(10)'");
  CHECK(other.code == 3);
  CHECK(Contains(other.err, "\"1.weight\""));
  // The checkpoint of step 40 continued to the end: the same weights as the run never stopped.
  const Run resumed = Descent("train --epochs 2 --resume " + dir + "/ck.safetensors");
  REQUIRE(resumed.code == 0);
  CHECK(Field(resumed.out, "params_hash") == Field(a.out, "params_hash"));
  // Model flags given with --resume: those that agree are fine, one that does not is refused.
  CHECK(Descent("train --epochs 2 --resume " + dir + "/ck.safetensors --loss nll --net " + kTanhRelu).code == 0);
  const Run other_loss = Descent("train --epochs 2 --resume " + dir + "/ck.safetensors --loss mse");
  CHECK(other_loss.code == 2);
  CHECK(Contains(other_loss.err, "--loss mse contradicts"));
  // --init with another loss: the weights do not depend on it.
  CHECK(Descent("train --epochs 1 --net " + std::string(kTanhRelu) + " --loss cross-entropy --init " + dir +
                "/n.safetensors").code == 0);
  system(("rm -rf " + dir).c_str());
}

TEST_CASE("cli/net: a spec that cannot work is a usage error naming the item") {
  const Failure cases[] = {
      {"train --net 'linear(100),relu,linear(10)'", 2, "item 1 `linear(100)` on a [1,28,28] input"},
      {"train --net 'linear(100),relu,linear(10)'", 2, "put flatten before it"},
      {"train --net 'flatten,linaer(100),linear(10)'", 2, "item 2 `linaer(100)` unknown module"},
      {"train --net 'flatten,linear(0)'", 2, "out_features must be an integer in [1, 65536]"},
      {"train --net 'flatten,linear(10,bias=maybe)'", 2, "bias must be true or false"},
      {"train --net 'flatten,linear(10'", 2, "unclosed"},
      {"train --net 'flatten,relu,linear(10)'", 2, "item 2 `relu`"},
      {"train --net 'flatten,linear(10),tanh,sigmoid'", 2, "item 4 `sigmoid`"},
      {"train --net 'flatten,gelu(approximate=fast)'", 2, "approximate must be none or tanh"},
      {"train --net 'flatten,linear(10),leakyrelu(1e300)'", 2, "negative_slope must be a finite number"},  // fuzz_net
      {"train --net 'flatten,linear(10)' --layers 784,10", 2, "--net and --layers exclude each other"},
      {"train --layers 784,10 --input-shape 1,28,28", 2, "--input-shape applies to --net only"},
      {"train --net 'flatten,linear(1)'", 2, "at least two outputs"},
      {"train --net 'flatten,linear(10)' --plan quick", 2, "--plan must be fast or lean"},
      {"train --data " + kData + "/train-sample.csv --net 'linear(10)' --input-shape 1,20,20", 3,
       "has 784 features per sample, --input-shape 1,20,20 has 400"},
  };
  ExpectFailures(cases);
}

TEST_CASE("cli/net: any depth up to 32 Linear layers, an activation of each layer's own, both plans") {
  std::string spec = "flatten";
  const char* const acts[] = {"tanh", "relu", "gelu", "leakyrelu(0.1)", "sigmoid", "identity"};
  for (int i = 0; i < 31; ++i) spec += ",linear(" + std::to_string(8 + i % 5) + (i % 4 == 3 ? ",bias=false" : "") + ")," + acts[i % 6];
  spec += ",linear(10)";
  const std::string run = "train --epochs 1 --batch 64 --optimizer adam --lr 0.003 --net '" + spec + "'";
  const Run fast = Descent(run);
  REQUIRE(fast.code == 0);
  CHECK(Field(Descent(run + " --plan lean").out, "params_hash") == Field(fast.out, "params_hash"));
  const Run deeper = Descent("train --net '" + spec + ",relu,linear(10)'");
  CHECK(deeper.code == 2);
  CHECK(Contains(deeper.err, "too many layers"));
  std::string sizes = "784";
  for (int i = 0; i < 33; ++i) sizes += ",10";
  const Run layers = Descent("train --layers " + sizes);
  CHECK(layers.code == 2);
  CHECK(Contains(layers.err, "at most 32 layers"));
}

TEST_CASE("cli/net: CSV rows take --input-shape; info --net prints shapes, names and bytes") {
  const Run csv = Descent("train --data " + kData + "/train-sample.csv --net 'flatten,linear(10)' --input-shape 1,28,28"
                          " --epochs 1 --optimizer sgd --lr 0.1");
  CHECK(csv.code == 0);
  const Run info = Descent("info --net 'flatten,linear(100),tanh,linear(100,bias=false),relu,linear(10)' --batch 32");
  REQUIRE(info.code == 0);
  for (const char* part : {"input                      [1,28,28]", "flatten                    [784]",
                           "1.weight [100,784] 1.bias [100]", "3.weight [100,100]\n", "parameters: 89,510",
                           "workspace at batch 32: fast "})
    CHECK(Contains(info.out, part));
  CHECK(Contains(Descent("info --layers 784,32,10").out, "linears.1.weight [10,32]"));
  CHECK(Descent("info --net 'linear(10)'").code == 2);  // an image without flatten
}

}  // namespace
