// The descent program end to end on the bundled data: results against torch,
// files it writes, determinism across processes, and its exit statuses.
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "tests/doctest_config.h"

namespace {

const std::string kExe = DESCENT_EXE;
const std::string kGolden = DESCENT_GOLDEN_DIR;
const std::string kData = DESCENT_DATA_DIR;

std::string Read(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

std::string TempDir() {
  char dir[] = "/tmp/descent_cli_test_XXXXXX";
  REQUIRE(mkdtemp(dir) != nullptr);
  return dir;
}

struct Run {
  int code;
  std::string out, err;
};

Run Descent(const std::string& args) {
  static const std::string dir = TempDir();
  const std::string cmd = kExe + " " + args + " >" + dir + "/stdout 2>" + dir + "/stderr </dev/null";
  const int status = system(cmd.c_str());
  Run r{WIFEXITED(status) ? WEXITSTATUS(status) : -1, Read(dir + "/stdout"), Read(dir + "/stderr")};
  INFO("descent ", args, "\nstdout: ", r.out, "\nstderr: ", r.err);
  return r;
}

// The value of `key=` in a result line.
std::string Field(const std::string& out, const std::string& key) {
  const size_t at = out.find(" " + key + "=");
  if (at == std::string::npos) return "";
  const size_t start = at + key.size() + 2;
  return out.substr(start, out.find_first_of(" \n", start) - start);
}

std::vector<double> LossColumn(const std::string& csv_text) {
  std::vector<double> losses;
  std::istringstream in(csv_text);
  std::string line;
  std::getline(in, line);
  while (std::getline(in, line)) losses.push_back(std::stod(line.substr(line.rfind(',') + 1)));
  return losses;
}

bool Contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

TEST_CASE("cli/train: from torch's initial weights, the loss curve is torch's") {
  const std::string dir = TempDir();
  const struct {
    const char* name;
    const char* flags;
  } runs[] = {{"adam", "--optimizer adam --lr 1e-3"},
              {"nesterov", "--optimizer nesterov --lr 0.01"},
              {"rmsprop", "--optimizer rmsprop --lr 1e-3 --alpha 0.9"}};
  for (const auto& run : runs) {
    CAPTURE(std::string(run.name));
    const std::string csv = dir + "/" + run.name + ".csv";
    const Run r = Descent(std::string("train ") + run.flags + " --no-shuffle --init " + kGolden +
                          "/mlp_torch_init.safetensors --loss-csv " + csv);
    REQUIRE(r.code == 0);
    const std::vector<double> ours = LossColumn(Read(csv));
    const std::vector<double> torch = LossColumn(Read(kGolden + "/mlp_torch_" + run.name + "_losses.csv"));
    REQUIRE(ours.size() == 96);  // 3 epochs x (31 batches of 256 + one of 64)
    REQUIRE(torch.size() == ours.size());
    double worst = 0;
    for (size_t i = 0; i < ours.size(); ++i) worst = std::max(worst, std::fabs(ours[i] - torch[i]) / torch[i]);
    CHECK(worst < 1e-4);
    CHECK(Read(csv).rfind("step,epoch,batch,loss\n1,1,1,", 0) == 0);
    CHECK(Contains(Read(csv), "\n96,3,32,"));
  }
  system(("rm -rf " + dir).c_str());
}

TEST_CASE("cli/train: result line, save, eval and determinism across processes") {
  const std::string dir = TempDir();
  const Run a = Descent("train --optimizer adam --seed 3 --save " + dir + "/a.safetensors");
  const Run b = Descent("train --optimizer adam --seed 3 --save " + dir + "/b.safetensors");
  const Run c = Descent("train --optimizer adam --seed 4");
  REQUIRE(a.code == 0);
  REQUIRE(b.code == 0);
  REQUIRE(c.code == 0);
  CHECK(a.out.rfind("result optimizer=adam epochs=3 steps=96 train_loss=", 0) == 0);
  for (const char* key : {"train_loss", "test_loss", "test_accuracy", "params_hash", "seconds", "samples_per_second"})
    CHECK(!Field(a.out, key).empty());
  CHECK(Field(a.out, "params_hash").size() == 16);
  CHECK(Field(a.out, "params_hash") == Field(b.out, "params_hash"));
  CHECK(Field(a.out, "params_hash") != Field(c.out, "params_hash"));
  CHECK(Read(dir + "/a.safetensors") == Read(dir + "/b.safetensors"));
  // Accuracy where torch gets (90.5 % median over 15 seeds), within about a point.
  const double accuracy = std::stod(Field(a.out, "test_accuracy"));
  CHECK(accuracy > 0.89);
  CHECK(accuracy < 0.92);

  const Run e = Descent("eval --model " + dir + "/a.safetensors");
  REQUIRE(e.code == 0);
  CHECK(e.out.rfind("result test_loss=", 0) == 0);
  CHECK(Field(e.out, "test_loss") == Field(a.out, "test_loss"));
  CHECK(Field(e.out, "test_accuracy") == Field(a.out, "test_accuracy"));
  // A torch state_dict saved as safetensors loads too.
  CHECK(Descent("eval --model " + kGolden + "/mlp_torch_init.safetensors").code == 0);
  system(("rm -rf " + dir).c_str());
}

TEST_CASE("cli/train: the Kaggle CSV and the bundled data read the same way") {
  const Run r = Descent("train --data " + kData + "/train-sample.csv --epochs 1 --optimizer sgd --lr 0.1");
  REQUIRE(r.code == 0);
  CHECK(Field(r.out, "steps") == "4");  // 1,000 rows at batch 256
}

TEST_CASE("cli/compare: writes the losses, the summary and the plot of every optimizer") {
  const std::string dir = TempDir();
  const Run r = Descent("compare --epochs 1 --out " + dir + "/cmp");
  REQUIRE(r.code == 0);
  const std::string losses = Read(dir + "/cmp/losses.csv");
  const std::string summary = Read(dir + "/cmp/summary.csv");
  const std::string svg = Read(dir + "/cmp/loss-curves.svg");
  CHECK(losses.rfind("optimizer,step,epoch,batch,loss\n", 0) == 0);
  CHECK(std::count(losses.begin(), losses.end(), '\n') == 1 + 8 * 32);
  CHECK(summary.rfind("optimizer,train_loss,test_loss,test_accuracy,seconds\n", 0) == 0);
  CHECK(std::count(summary.begin(), summary.end(), '\n') == 9);
  for (const char* name : {"sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamax", "nadam"}) {
    CAPTURE(name);
    CHECK(Contains(summary, std::string("\n") + name + ","));
    CHECK(Contains(svg, std::string(">") + name + " ("));
  }
  CHECK(Contains(svg, "Evolution of Optimizers"));
  size_t curves = 0;
  for (size_t at = 0; (at = svg.find("<polyline", at)) != std::string::npos; ++at) ++curves;
  CHECK(curves == 8);
  CHECK(Contains(r.out, "adam"));
  system(("rm -rf " + dir).c_str());
}

TEST_CASE("cli: usage errors exit 2 and name the flag") {
  const struct {
    const char* args;
    const char* expect;
  } cases[] = {
      {"", "usage"},
      {"fly", "unknown command"},
      {"train --frobnicate 3", "--frobnicate"},
      {"train --lr", "--lr needs a value"},
      {"train --lr fast", "--lr expects a number"},
      {"train --lr -1", "invalid learning rate"},
      {"train --lr nan", "--lr expects a number"},
      {"train --optimizer lbfgs", "unknown optimizer 'lbfgs'"},
      {"train --optimizer adam --rho 0.5", "--rho does not apply to adam"},
      {"train --optimizer sgd --nesterov", "Nesterov momentum requires"},
      {"train --batch 0", "--batch expects a whole number"},
      {"train --batch 5000", "--batch"},
      {"train --epochs 2.5", "--epochs"},
      {"train --amsgrad=maybe", "--amsgrad expects true or false"},
      {"train --amsgrad maybe", "unexpected argument 'maybe'"},
      {"train --seed 1 --seed 2", "given twice"},
      {"eval", "--model FILE is required"},
      {"compare --optimizers adam,foo", "unknown optimizer 'foo'"},
  };
  for (const auto& c : cases) {
    CAPTURE(std::string(c.args));
    const Run r = Descent(c.args);
    CHECK(r.code == 2);
    CHECK(Contains(r.err, c.expect));
  }
  for (const char* command : {"train", "compare", "eval"}) {
    const Run r = Descent(std::string(command) + " --help");
    CHECK(r.code == 0);
    CHECK(Contains(r.out, std::string("usage: descent ") + command));
  }
}

TEST_CASE("cli: bad input files exit 3, name the file, and clobber nothing") {
  const std::string dir = TempDir();
  std::ofstream(dir + "/bad.safetensors") << "not a safetensors file at all";
  std::ofstream(dir + "/keep.safetensors") << "precious";
  std::ofstream(dir + "/bad.csv") << "label,pixel0\n3,999\n";
  const struct {
    std::string args, expect;
  } cases[] = {
      {"train --data " + dir + "/nothing-here", "nothing-here: no such file"},
      {"train --data " + dir, "has no train-images-idx3-ubyte"},
      {"train --data " + dir + "/bad.csv", "bad.csv: line 2, column 2: value out of range"},
      {"train --epochs 1 --init " + dir + "/bad.safetensors --save " + dir + "/keep.safetensors", "bad.safetensors"},
      {"eval --model " + dir + "/bad.safetensors", "bad.safetensors"},
      {"eval --model " + dir + "/missing.safetensors", "missing.safetensors: cannot open"},
  };
  for (const auto& c : cases) {
    CAPTURE(std::string(c.args));
    const Run r = Descent(c.args);
    CHECK(r.code == 3);
    CHECK(Contains(r.err, c.expect));
  }
  CHECK(Read(dir + "/keep.safetensors") == "precious");
  system(("rm -rf " + dir).c_str());
}

TEST_CASE("cli: a diverging run exits 4 naming the step") {
  const Run r = Descent("train --optimizer sgd --lr 1e30 --epochs 1");
  CHECK(r.code == 4);
  CHECK(Contains(r.err, "non-finite"));
  CHECK(Contains(r.err, "at step "));
}

}  // namespace

namespace {

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

TEST_CASE("cli/checkpoint: killed with SIGKILL mid-run, resumed, the run is the straight run") {
  const std::string dir = TempDir();
  const struct {
    const char* name;
    const char* flags;
  } runs[] = {{"adam", "--optimizer adam"},
              {"rmsprop", "--optimizer rmsprop --centered --momentum 0.5 --weight-decay 1e-4"},
              {"nadam", "--optimizer nadam"}};
  srand(static_cast<unsigned>(time(nullptr)));
  for (const auto& run : runs) {
    CAPTURE(std::string(run.name));
    const std::string base = std::string("train ") + run.flags + " --seed 7";
    const Run straight = Descent(base + " --loss-csv " + dir + "/straight.csv");
    REQUIRE(straight.code == 0);
    // The scalar ISA makes the run slow enough to kill (~4 s an epoch); results are the same on every ISA.
    const std::string ck = dir + "/" + run.name + ".ck";
    const int delay_ms = 150 + rand() % 700;
    const std::string script = "DESCENT_ISA=scalar " + kExe + " " + base + " --checkpoint " + ck +
                               " --checkpoint-every 3 >/dev/null 2>&1 & pid=$!; "
                               "while [ ! -f " + ck + " ]; do sleep 0.02; done; sleep " +
                               std::to_string(delay_ms / 1000.0) + "; kill -9 $pid; wait $pid 2>/dev/null; exit 0";
    REQUIRE(system(("bash -c '" + script + "'").c_str()) == 0);
    const Run resumed = Descent("train --resume " + ck + " --loss-csv " + dir + "/resumed.csv");
    REQUIRE(resumed.code == 0);
    CHECK(Field(resumed.out, "params_hash") == Field(straight.out, "params_hash"));
    CHECK(Field(resumed.out, "train_loss") == Field(straight.out, "train_loss"));
    CHECK(Field(resumed.out, "test_accuracy") == Field(straight.out, "test_accuracy"));
    const std::vector<std::string> all = Lines(Read(dir + "/straight.csv")), tail = Lines(Read(dir + "/resumed.csv"));
    REQUIRE(tail.size() > 1);  // it was killed before the end
    REQUIRE(tail.size() < all.size());
    CHECK(std::equal(tail.begin() + 1, tail.end(), all.end() - static_cast<long>(tail.size() - 1)));
  }
  system(("rm -rf " + dir).c_str());
}

TEST_CASE("cli/checkpoint: 1 epoch, then resume for the rest, equals 3 epochs straight") {
  const std::string dir = TempDir();
  const Run straight = Descent("train --optimizer adamw --amsgrad --batch 100");
  const Run first = Descent("train --optimizer adamw --amsgrad --batch 100 --epochs 1 --checkpoint " + dir + "/c");
  const Run rest = Descent("train --resume " + dir + "/c --epochs 3");
  REQUIRE(straight.code == 0);
  REQUIRE(first.code == 0);
  REQUIRE(rest.code == 0);
  CHECK(Field(rest.out, "params_hash") == Field(straight.out, "params_hash"));
  CHECK(Field(rest.out, "steps") == "160");  // 2 more epochs of 80
  // The checkpoint's weights load as a model too.
  CHECK(Descent("eval --model " + dir + "/c").code == 0);
  system(("rm -rf " + dir).c_str());
}

TEST_CASE("cli/checkpoint: refused when it does not fit, or is damaged") {
  const std::string dir = TempDir();
  REQUIRE(Descent("train --optimizer adam --epochs 1 --checkpoint " + dir + "/c").code == 0);
  std::string bytes = Read(dir + "/c");
  std::ofstream(dir + "/flipped", std::ios::binary) << bytes.substr(0, bytes.size() - 100) << char(bytes[bytes.size() - 100] ^ 1)
                                                    << bytes.substr(bytes.size() - 99);
  std::ofstream(dir + "/truncated", std::ios::binary) << bytes.substr(0, bytes.size() / 2);
  const struct {
    std::string args;
    int code;
    std::string expect;
  } cases[] = {
      {"train --resume " + dir + "/flipped", 3, "checksum does not match"},
      {"train --resume " + dir + "/truncated", 3, "truncated"},
      {"train --resume " + kGolden + "/mlp_torch_init.safetensors", 3, "not a descent checkpoint"},
      {"train --resume " + dir + "/c --optimizer sgd", 2, "trained with adam"},
      {"train --resume " + dir + "/c --lr 0.5", 2, "hyperparameters differ"},
      {"train --resume " + dir + "/c --batch 128", 2, "must match the checkpoint"},
      {"train --resume " + dir + "/c --data " + kData + "/train-sample.csv", 3, "other training data"},
      {"train --resume " + dir + "/c --init " + dir + "/c", 2, "exclude each other"},
      {"train --checkpoint-every 5", 2, "needs --checkpoint"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.args);
    const Run r = Descent(c.args);
    CHECK(r.code == c.code);
    CHECK(Contains(r.err, c.expect));
  }
  system(("rm -rf " + dir).c_str());
}

TEST_CASE("cli/checkpoint: a diverging run keeps the last good checkpoint") {
  const std::string dir = TempDir();
  const Run r = Descent("train --optimizer sgd --lr 1e30 --epochs 1 --checkpoint " + dir + "/c --checkpoint-every 1");
  CHECK(r.code == 4);
  CHECK(Contains(r.err, "holds the last good step"));
  const Run e = Descent("eval --model " + dir + "/c");  // loadable, finite weights
  CHECK(e.code == 0);
  system(("rm -rf " + dir).c_str());
}

}  // namespace
