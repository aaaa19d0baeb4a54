// Convolutions and pooling against torch (tests/golden/make_cnn_golden.py), end to end through
// the program: one SGD step (lr 1) per layer configuration gives torch's loss and gradients, and
// CNN curves follow torch's for as long as torch's two convolution algorithms agree.
#include <math.h>

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
                               "conv1d_avg"};
  const std::string dir = TempDir();
  for (const char* name : cases) {
    CAPTURE(std::string(name));
    const std::vector<std::string> about = Lines(Read(kCnn + "/" + name + ".txt"));  // shape, spec, loss
    REQUIRE(about.size() == 3);
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
    for (const auto& e : grad.entries) {
      CAPTURE(e.name);
      REQUIRE(out.Find(e.name) != nullptr);
      CHECK(out.Find(e.name)->shape == e.shape);  // torch's names and shapes
      const std::vector<float> w0 = Tensor(init, e.name), w1 = Tensor(out, e.name), g = Tensor(grad, e.name);
      float scale = 0;
      for (float v : g) scale = std::max(scale, fabsf(v));
      double worst = 0;
      for (size_t k = 0; k < g.size(); ++k) worst = std::max(worst, fabs((w0[k] - w1[k]) - g[k]) / (scale + 1e-6));
      CHECK(worst < 1e-4);  // w1 = w0 - g, rounded: a few 1e-7 of the largest gradient
    }
  }
  system(("rm -rf " + dir).c_str());
}

TEST_CASE("cnn: curves follow torch's from its initial weights while torch agrees with itself") {
  const std::string dir = TempDir();
  for (const char* name : {"lenet", "separable"}) {
    CAPTURE(std::string(name));
    const std::vector<std::string> golden = Lines(Read(kCnn + "/curve_" + name + ".csv"));
    REQUIRE(golden.size() > 30);
    const std::string spec = golden[0].substr(2);
    std::string first;
    for (const char* threads : {"1", "2"}) {
      const Run r = Descent("train --net \"" + spec + "\" --init " + kCnn + "/curve_" + name + "_init.safetensors " +
                            "--loss cross-entropy --no-shuffle --batch 64 --epochs 1 --threads " + threads +
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
      if (first.empty()) first = Read(dir + "/c.csv");
      else CHECK(Read(dir + "/c.csv") == first);  // every thread count: the same bits
    }
  }
  system(("rm -rf " + dir).c_str());
}
