// Convolutions and pooling against torch (tests/golden/make_cnn_golden.py), end to end through
// the program: one SGD step (lr 1) per layer configuration gives torch's loss and gradients, and
// CNN curves follow torch's for as long as torch's two convolution algorithms agree.
#include <math.h>
#include <string.h>

#include <algorithm>
#include <string>
#include <vector>

#include "src/host/safetensors.h"
#include "tests/cli_util.h"

namespace {

const std::string kCnn = kGolden + "/cnn";

std::vector<float> Tensor(const descent::host::Safetensors& f, const std::string& name) {
  const descent::host::Safetensors::Entry* e = f.Find(name);
  REQUIRE(e != nullptr);
  std::vector<float> v((e->end - e->begin) / 4);
  REQUIRE(!f.ReadF32(name, e->shape, v.data()));
  return v;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  size_t at = 0;
  while (at < text.size()) {
    const size_t end = std::min(text.find('\n', at), text.size());
    lines.push_back(text.substr(at, end - at));
    at = end + 1;
  }
  return lines;
}

}  // namespace

TEST_CASE("cnn: one step of every layer configuration gives torch's loss and gradients") {
  const char* const cases[] = {"conv_basic", "conv_stride_pad_nobias", "conv_dilation_same", "conv_even_same",
                               "conv_groups", "depthwise", "maxpool", "maxpool_stride_pad", "maxpool_dilation",
                               "avgpool", "avgpool_pad", "avgpool_pad_exclude", "global_avg", "conv1d",
                               "conv1d_avg", "batchnorm2d", "batchnorm2d_options", "batchnorm1d_features",
                               "batchnorm1d_sequence", "batchnorm_first"};
  const std::string dir = TempDir();
  for (const char* name : cases) {
    CAPTURE(std::string(name));
    // shape, spec, loss, and the evaluation-mode loss after the step
    const std::vector<std::string> about = Lines(Read(kCnn + "/" + name + ".txt"));
    REQUIRE(about.size() == 4);
    const std::string base = kCnn + "/" + name;
    const Run r = Descent("train --data " + base + ".csv --input-shape " + about[0] + " --net \"" + about[1] +
                          "\" --loss cross-entropy --init " + base + "_init.safetensors --optimizer sgd --lr 1 " +
                          "--epochs 1 --batch 6 --no-shuffle --threads 2 --save " + dir + "/out.safetensors " +
                          "--loss-csv " + dir + "/loss.csv");
    REQUIRE(r.code == 0);
    const std::vector<std::string> loss = Lines(Read(dir + "/loss.csv"));
    REQUIRE(loss.size() == 2);
    const double ours = atof(loss[1].substr(loss[1].rfind(',') + 1).c_str()), torch = atof(about[2].c_str());
    CHECK(fabs(ours - torch) <= 1e-6 * torch);
    descent::host::Safetensors init, out, grad;
    REQUIRE(!descent::host::ReadSafetensors(base + "_init.safetensors", &init));
    REQUIRE(!descent::host::ReadSafetensors(dir + "/out.safetensors", &out));
    REQUIRE(!descent::host::ReadSafetensors(base + "_grad.safetensors", &grad));
    REQUIRE(!grad.entries.empty());
    float largest = 0;  // of every gradient: a bias before batch norm has one of ~0 (rounding noise)
    for (const auto& e : grad.entries)
      for (float v : Tensor(grad, e.name)) largest = std::max(largest, fabsf(v));
    for (const auto& e : grad.entries) {
      CAPTURE(e.name);
      REQUIRE(out.Find(e.name) != nullptr);
      CHECK(out.Find(e.name)->shape == e.shape);  // torch's names and shapes
      const std::vector<float> w0 = Tensor(init, e.name), w1 = Tensor(out, e.name), g = Tensor(grad, e.name);
      float scale = 1e-2f * largest;
      for (float v : g) scale = std::max(scale, fabsf(v));
      // w1 = w0 - g rounded to w0's precision (a bias before batch norm has a gradient of ~0).
      double worst = 0;
      for (size_t k = 0; k < g.size(); ++k)
        worst = std::max(worst, (fabs((w0[k] - w1[k]) - g[k]) - 2.4e-7 * fabs(w0[k])) / scale);
      CHECK(worst < 1e-4);
    }
    // Batch norm: the running statistics after the step, one batch counted, and the evaluation
    // (running statistics) on the same rows with the new weights.
    descent::host::Safetensors running;
    if (!descent::host::ReadSafetensors(base + "_running.safetensors", &running)) {
      for (const auto& e : running.entries) {
        CAPTURE(e.name);
        const std::vector<float> want = Tensor(running, e.name), got = Tensor(out, e.name);
        for (size_t k = 0; k < want.size(); ++k) CHECK(fabs(got[k] - want[k]) <= 1e-6 * (1 + fabs(want[k])));
        const std::string tracked = e.name.substr(0, e.name.find('.')) + ".num_batches_tracked";
        REQUIRE(out.Find(tracked) != nullptr);
        CHECK(out.Find(tracked)->dtype == "I64");
        CHECK(out.Find(tracked)->shape.empty());
        CHECK(memcmp(out.bytes.data() + out.data_start + out.Find(tracked)->begin, "\1\0\0\0\0\0\0\0", 8) == 0);
      }
    }
    const Run e = Descent("eval --model " + dir + "/out.safetensors --test " + base + ".csv");
    REQUIRE(e.code == 0);
    const double eval_loss = atof(Field(e.out, "test_loss").c_str()), want = atof(about[3].c_str());
    CHECK(fabs(eval_loss - want) <= 2e-6 * want + 1e-6);  // test_loss is printed to 7 digits
  }
  system(("rm -rf " + dir).c_str());
}

TEST_CASE("cnn: curves follow torch's from its initial weights while torch agrees with itself") {
  const std::string dir = TempDir();
  struct Curve {
    const char* name;
    std::string data;  // the bundled digits, or a CSV of [3, 32] windows
  };
  for (const Curve& c : {Curve{"lenet", "--batch 64 --epochs 1"}, Curve{"separable", "--batch 64 --epochs 1"},
                         Curve{"windows", "--data " + kCnn + "/windows.csv --input-shape 3,32 --batch 32 --epochs 2"}}) {
    const std::string name = c.name;
    CAPTURE(name);
    const std::vector<std::string> golden = Lines(Read(kCnn + "/curve_" + name + ".csv"));
    REQUIRE(golden.size() > 20);
    const std::string spec = golden[0].substr(2);
    std::string first;
    for (const char* threads : {"1", "2"}) {
      const Run r = Descent("train --net \"" + spec + "\" --init " + kCnn + "/curve_" + name + "_init.safetensors " +
                            "--loss cross-entropy --no-shuffle " + c.data + " --threads " + threads +
                            " --loss-csv " + dir + "/c.csv");
      REQUIRE(r.code == 0);
      const std::vector<std::string> ours = Lines(Read(dir + "/c.csv"));
      size_t compared = 0;
      for (size_t s = 2; s < golden.size(); ++s) {
        const std::string& g = golden[s];
        const double torch = atof(g.substr(g.find(',') + 1).c_str()), ref = atof(g.substr(g.rfind(',') + 1).c_str());
        if (fabs(torch - ref) > 1e-5 * torch) break;  // torch's algorithms part: the curves are no reference
        const std::string& o = ours.at(s - 1);
        CHECK(fabs(atof(o.substr(o.rfind(',') + 1).c_str()) - torch) <= 1e-4 * torch);
        ++compared;
      }
      CHECK(compared >= 20);
      CHECK(ours.size() >= compared);
      if (first.empty()) first = Read(dir + "/c.csv");
      else CHECK(Read(dir + "/c.csv") == first);  // every thread count: the same bits
    }
  }
  system(("rm -rf " + dir).c_str());
}

TEST_CASE("cnn: dropout(0) is no dropout; dropout and batch norm resume exactly; masks follow the seed") {
  const std::string dir = TempDir();
  const std::string base = "train --epochs 1 --threads 2 --net ";
  const std::string plain = Field(Descent(base + "'conv2d(4,3,stride=2),relu,flatten,linear(10)'").out, "params_hash");
  CHECK(Field(Descent(base + "'conv2d(4,3,stride=2),relu,dropout(0),flatten,linear(10)'").out, "params_hash") == plain);
  const std::string net = "'conv2d(4,3,stride=2,bias=false),batchnorm2d,relu,dropout(0.3),flatten,linear(10)'";
  const Run a = Descent("train --epochs 2 --net " + net + " --checkpoint " + dir + "/ck.safetensors --checkpoint-every 50");
  REQUIRE(a.code == 0);
  const Run resumed = Descent("train --epochs 2 --resume " + dir + "/ck.safetensors");
  REQUIRE(resumed.code == 0);
  CHECK(Field(resumed.out, "params_hash") == Field(a.out, "params_hash"));  // running statistics and masks included
  CHECK(Field(resumed.out, "test_loss") == Field(a.out, "test_loss"));
  const Run other_seed = Descent("train --epochs 2 --seed 1 --net " + net);
  CHECK(Field(other_seed.out, "params_hash") != Field(a.out, "params_hash"));
  system(("rm -rf " + dir).c_str());
}

TEST_CASE("cnn: a layer that cannot work is a usage error naming it and the shapes") {
  const Failure cases[] = {
      {"train --net 'conv2d(4,30),flatten,linear(10)'", 2, "item 1 `conv2d(4,30)` on a [1,28,28] input: the kernel does not fit"},
      {"train --net 'conv2d(6,3,groups=4),flatten,linear(10)'", 2, "divisible by groups"},
      {"train --net 'conv2d(8,3),conv2d(6,3,groups=4),flatten,linear(10)'", 2, "item 2 `conv2d(6,3,groups=4)` on a [8,26,26]"},
      {"train --net 'conv1d(4,3),flatten,linear(10)'", 2, "a 1-d one a [C, L] input"},
      {"train --net 'flatten,conv2d(4,3),linear(10)'", 2, "needs a [C, H, W] input"},
      {"train --net 'maxpool2d(2,padding=2),flatten,linear(10)'", 2, "padding at most half the kernel"},
      {"train --net 'conv2d(4,3,stride=2,padding=same),flatten,linear(10)'", 2, "padding='same' needs stride 1"},
      {"train --net 'conv2d(4,(3,5)),flatten,linear(10)'", 2, "nested parentheses"},
      {"train --net 'maxpool2d(2,ceil_mode=True),flatten,linear(10)'", 2, "ceil_mode=False only"},
      {"train --net 'adaptiveavgpool2d(2),flatten,linear(10)'", 2, "output_size 1 only"},
      {"train --net 'conv2d(4,3),batchnorm1d,flatten,linear(10)'", 2, "batchnorm1d a [C] or [C, L]"},
      {"train --net 'conv2d(4,3),batchnorm2d(momentum=None),flatten,linear(10)'", 2, "momentum must be a finite number"},
      {"train --net 'flatten,dropout(1),linear(10)'", 2, "p must be in [0, 1)"},
      {"train --net 'conv2d(4,3),relu,relu,flatten,linear(10)'", 2, "item 3 `relu`"},
      {"train --plan lean --net 'conv2d(4,3),batchnorm2d,flatten,linear(10)'", 2, "--plan lean trains Linear layers, conv"},
      {"train --net 'conv2d(8,1,padding=40000),flatten,linear(10)'", 2, "too large"},
      // 216 GB of unrolled inputs at batch 1024: refused before anything is allocated.
      {"train --batch 1024 --net 'conv2d(16,3,padding=1),conv2d(16,65,padding=32),flatten,linear(10)'", 2,
       "more than this machine's"},
  };
  ExpectFailures(cases);
}
