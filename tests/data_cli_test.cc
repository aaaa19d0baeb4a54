// The program on data that is not images: CSVs of float features with a target
// column, the layers and losses of --activation / --loss, standardization saved with
// the model, and the errors a user's files and flags get.
#include <math.h>

#include <fstream>
#include <sstream>

#include "descent/rng.h"
#include "tests/cli_util.h"
#include "tests/doctest_config.h"

namespace {

// `rows` samples of x0..x3 (x3 on another scale), y = 3 x0 - 2 x1 + x3/100 + noise, and `above` = y > 0.
// Whichever column is the target, the others are the features.
std::string Synthetic(size_t rows, uint64_t seed) {
  descent::Rng rng(seed);
  std::ostringstream out;
  out.precision(9);
  out << "x0,x1,x2,x3,y,above\n";
  for (size_t i = 0; i < rows; ++i) {
    double x[4];
    for (double& v : x) v = 2.0 * rng.Uniform01() - 1.0;
    x[3] *= 100.0;
    const double y = 3 * x[0] - 2 * x[1] + x[3] / 100 + 0.05 * (rng.Uniform01() - 0.5);
    out << x[0] << "," << x[1] << "," << x[2] << "," << x[3] << "," << y << "," << (y > 0 ? 1 : 0) << "\n";
  }
  return out.str();
}

TEST_CASE("cli/data: regression with --standardize; eval applies the saved transform again") {
  const std::string dir = TempDir();
  std::ofstream(dir + "/train.csv") << Synthetic(600, 1);
  std::ofstream(dir + "/test.csv") << Synthetic(200, 2);
  const std::string base = "--data " + dir + "/train.csv --test " + dir + "/test.csv --target y ";
  const Run r = Descent("train " + base + "--layers 5,16,1 --activation tanh --loss mse --standardize --epochs 30 "
                        "--batch 32 --lr 0.01 --save " + dir + "/m");
  REQUIRE(r.code == 0);
  CHECK(Contains(r.out, "test_loss="));
  CHECK(!Contains(r.out, "test_accuracy"));  // regression: no accuracy
  CHECK(std::stod(Field(r.out, "test_loss")) < 0.05);  // the target's variance is about 4.5
  const Run e = Descent("eval --model " + dir + "/m --test " + dir + "/test.csv --target y");
  REQUIRE(e.code == 0);
  CHECK(Field(e.out, "test_loss") == Field(r.out, "test_loss"));
  // Model flags that agree with the file keep its saved transform; one that contradicts it is refused.
  const Run agreeing = Descent("eval --model " + dir + "/m --test " + dir + "/test.csv --layers 5,16,1 "
                               "--activation tanh --loss mse");
  REQUIRE(agreeing.code == 0);
  CHECK(Field(agreeing.out, "test_loss") == Field(r.out, "test_loss"));  // and the saved target column, y
  const Run plain = Descent("eval --model " + dir + "/m --test " + dir + "/test.csv --input-scale 1");
  CHECK(plain.code == 2);
  CHECK(Contains(plain.err, "--input-scale 1 contradicts"));
  CHECK(Descent("eval --model " + dir + "/m --test " + dir + "/test.csv --loss l1").code == 2);
  // Threads change nothing.
  const Run three = Descent("train " + base + "--layers 5,16,1 --activation tanh --loss mse --standardize --epochs 30 "
                            "--batch 32 --lr 0.01 --threads 3");
  CHECK(Field(three.out, "params_hash") == Field(r.out, "params_hash"));
  system(("rm -rf " + dir).c_str());
}

TEST_CASE("cli/data: binary classification with bce and a column by index; every loss and activation runs") {
  const std::string dir = TempDir();
  std::ofstream(dir + "/train.csv") << Synthetic(600, 3);
  std::ofstream(dir + "/test.csv") << Synthetic(200, 4);
  const std::string base = "--data " + dir + "/train.csv --test " + dir + "/test.csv ";
  // Column 5 is `above`, a function of the features: accuracy must be high.
  Run r = Descent("train " + base + "--target 5 --layers 5,8,1 --loss bce --standardize --epochs 20 --batch 32 --lr 0.01");
  REQUIRE(r.code == 0);
  CHECK(std::stod(Field(r.out, "test_accuracy")) >= 0.95);
  for (const char* activation : {"relu", "leaky-relu", "tanh", "sigmoid", "gelu", "gelu-tanh", "identity"})
    for (const char* loss : {"nll", "cross-entropy --label-smoothing 0.1", "bce --pos-weight 2", "mse", "l1",
                             "huber --delta 0.5"}) {
      CAPTURE(std::string(activation) + " " + loss);
      const bool classes = std::string(loss).rfind("nll", 0) == 0 || std::string(loss).rfind("cross", 0) == 0;
      r = Descent("train " + base + "--target above --standardize --epochs 2 --batch 64 --activation " + activation +
                  " --loss " + loss + (classes ? " --layers 5,8,2" : " --layers 5,8,1"));
      CHECK(r.code == 0);
      CHECK(std::isfinite(std::stod(Field(r.out, "test_loss"))));
    }
  system(("rm -rf " + dir).c_str());
}

TEST_CASE("cli/data: bad files name the file, line and column (exit 3); bad flags exit 2") {
  const std::string dir = TempDir();
  const std::string h = "a,b,label\n";
  std::ofstream(dir + "/ok.csv") << h << "0.5,1,0\n1.5,2,1\n";
  std::ofstream(dir + "/text.csv") << h << "0.5,1,0\n1.5,two,1\n";
  std::ofstream(dir + "/nan.csv") << h << "0.5,1,0\nnan,2,1\n";
  std::ofstream(dir + "/class.csv") << h << "0.5,1,0\n1.5,2,7\n";
  std::ofstream(dir + "/half.csv") << h << "0.5,1,0\n1.5,2,0.5\n";
  std::ofstream(dir + "/prob.csv") << h << "0.5,1,0\n1.5,2,1.5\n";
  const std::string test = " --test " + dir + "/ok.csv";
  const std::string cls = " --layers 2,4,3 --target label" + test;
  const std::string bce = " --layers 2,4,1 --loss bce --target label --test " + dir + "/ok.csv";
  const Failure cases[] = {
      {"train --data " + dir + "/text.csv" + cls, 3, "text.csv: line 3, column 2 (b): expected a number, found `two`"},
      {"train --data " + dir + "/nan.csv" + cls, 3, "nan.csv: line 3, column 1 (a): not a finite number"},
      {"train --data " + dir + "/class.csv" + cls, 3, "class.csv: line 3, column 3 (label): target 7 is not a class"},
      {"train --data " + dir + "/half.csv" + cls, 3, "half.csv: line 3, column 3 (label): target 0.5 is not a class"},
      {"train --data " + dir + "/prob.csv" + bce, 3, "prob.csv: line 3, column 3 (label): target 1.5 is outside [0, 1]"},
      {"train --data " + dir + "/ok.csv --layers 3,4,3 --target label", 3,
       "ok.csv: has 2 features per sample, the model takes 3 (--layers 3-4-3)"},
      {"train --data " + dir + "/ok.csv --layers 2,4,3 --target price" + test, 3,
       "ok.csv: line 1: no target column `price`"},
      {"train --data " + dir + "/ok.csv --layers 2,4,3 --loss mse --target label", 3,
       "has one target per sample, the model has 3 outputs"},
      {"train --layers 784,x,10", 2, "--layers expects sizes"},
      {"train --layers 784,16,1", 2, "nll needs at least two outputs"},
      {"train --activation swish", 2, "unknown activation 'swish'"},
      {"train --loss hinge", 2, "unknown loss 'hinge'"},
      {"train --loss mse --delta 2", 2, "--delta applies to --loss huber only"},
      {"train --loss huber --delta -1 --layers 784,8,1", 2, "delta must be positive"},
      {"train --standardize --input-scale 2", 2, "exclude each other"},
      {"eval --model x --standardize", 2, "saved with the model"},
  };
  ExpectFailures(cases);
  system(("rm -rf " + dir).c_str());
}

}  // namespace

namespace {

// examples/firmware/finetune-base.safetensors (whose frozen layers the fine-tuning firmware
// embeds) is what the README's command writes, byte for byte.
TEST_CASE("cli/data: the fine-tuning example's base model is reproduced by its command") {
  const std::string dir = TempDir();
  const Run r = Descent("train --optimizer adam --epochs 3 --seed 0 --save " + dir + "/base.safetensors");
  REQUIRE(r.code == 0);
  CHECK(Read(dir + "/base.safetensors") == Read(DESCENT_DATA_DIR "/../examples/firmware/finetune-base.safetensors"));
  system(("rm -rf " + dir).c_str());
}

}  // namespace
