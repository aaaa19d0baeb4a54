// The program on data that is not images: CSVs of float features with a target
// column, the layers and losses of --activation / --loss, standardization saved with
// the model, and the errors a user's files and flags get.
#include <math.h>
#include <string.h>

#include <fstream>
#include <sstream>
#include <vector>

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

namespace {

std::string Format4(double v) {
  char buf[32];
  snprintf(buf, sizeof(buf), "%.4f", v);
  return buf;
}

std::vector<std::vector<std::string>> Rows(const std::string& csv) {
  std::vector<std::vector<std::string>> rows;
  std::istringstream in(csv);
  std::string line;
  while (std::getline(in, line)) {
    rows.emplace_back();
    std::istringstream fields(line);
    std::string field;
    while (std::getline(fields, field, ',')) rows.back().push_back(field);
  }
  return rows;
}

// The same CSV without one column.
std::string DropColumn(const std::string& csv, size_t column) {
  std::string out;
  for (const auto& row : Rows(csv)) {
    for (size_t c = 0, n = 0; c < row.size(); ++c)
      if (c != column) out += (n++ ? "," : "") + row[c];
    out += "\n";
  }
  return out;
}

TEST_CASE("cli/predict: classes and probabilities, with or without the target column, as eval counts them") {
  const std::string dir = TempDir();
  const std::string sample = kData + "/train-sample.csv";  // Kaggle's label,pixel0,...
  REQUIRE(Descent("train --epochs 1 --save " + dir + "/m").code == 0);
  const Run eval = Descent("eval --model " + dir + "/m --test " + sample);
  REQUIRE(eval.code == 0);
  const Run with = Descent("predict --model " + dir + "/m --data " + sample);
  REQUIRE(with.code == 0);
  const auto rows = Rows(with.out), data = Rows(Read(sample));
  REQUIRE(rows.size() == data.size());  // a header and one row per sample, in order
  CHECK(rows[0][0] == "class");
  CHECK(rows[0].size() == 11);
  size_t right = 0;
  for (size_t i = 1; i < rows.size(); ++i) {
    right += rows[i][0] == data[i][0];
    double sum = 0;
    for (size_t o = 1; o < 11; ++o) sum += std::stod(rows[i][o]);
    CHECK(fabs(sum - 1.0) < 1e-5);
  }
  CHECK(Format4(static_cast<double>(right) / static_cast<double>(rows.size() - 1)) == Field(eval.out, "test_accuracy"));
  // Without the label column (Kaggle's test.csv layout): the same rows.
  std::ofstream(dir + "/pixels.csv") << DropColumn(Read(sample), 0);
  CHECK(Descent("predict --model " + dir + "/m --data " + dir + "/pixels.csv").out == with.out);
  // --logits: the raw outputs, whose argmax is the class; --out writes the same as stdout.
  const Run logits = Descent("predict --model " + dir + "/m --data " + sample + " --logits --out " + dir + "/z.csv");
  REQUIRE(logits.code == 0);
  const auto z = Rows(Read(dir + "/z.csv"));
  CHECK(z[0][0] == "logit0");
  for (size_t i = 1; i < z.size(); ++i) {
    size_t best = 0;
    for (size_t o = 1; o < 10; ++o) best = std::stod(z[i][o]) > std::stod(z[i][best]) ? o : best;
    CHECK(std::to_string(best) == rows[i][0]);
  }
  // IDX data: a row per image.
  CHECK(Rows(Descent("predict --model " + dir + "/m --data " + kData).out).size() == 2001);
  system(("rm -rf " + dir).c_str());
}

TEST_CASE("cli/predict: a regression model's outputs, its saved target column left out") {
  const std::string dir = TempDir();
  std::ofstream(dir + "/train.csv") << DropColumn(Synthetic(300, 1), 5);  // x0..x3, y
  std::ofstream(dir + "/wide.csv") << Synthetic(50, 2);                    // x0..x3, y, above
  std::ofstream(dir + "/new.csv") << DropColumn(DropColumn(Synthetic(50, 2), 5), 4);  // x0..x3: no y, no above
  std::ofstream(dir + "/new_y.csv") << DropColumn(Synthetic(50, 2), 5);               // x0..x3, y
  REQUIRE(Descent("train --data " + dir + "/train.csv --target y --layers 4,8,1 --loss mse --standardize --epochs 5 "
                  "--batch 32 --save " + dir + "/m")
              .code == 0);
  const Run a = Descent("predict --model " + dir + "/m --data " + dir + "/new.csv");
  REQUIRE(a.code == 0);
  CHECK(Rows(a.out)[0] == std::vector<std::string>{"output0"});
  CHECK(Rows(a.out).size() == 51);
  CHECK(Descent("predict --model " + dir + "/m --data " + dir + "/new_y.csv").out == a.out);
  const Failure cases[] = {
      {"predict --model " + dir + "/m --data " + dir + "/wide.csv", 3, "has 5 feature columns, the model takes 4"},
      {"predict --model " + dir + "/m", 2, "--data CSV|DIR is required"},
      {"predict --model " + dir + "/m --data " + dir + "/new.csv --out /nonexistent/p.csv", 3, "/nonexistent"},
      {"predict --model " + dir + "/m --data " + dir + "/new.csv --loss l1", 2, "--loss l1 contradicts"},
  };
  ExpectFailures(cases);
  CHECK(system((kExe + " predict --model " + dir + "/m --data " + dir + "/new.csv > /dev/full 2>/dev/null").c_str()) ==
        3 << 8);
  system(("rm -rf " + dir).c_str());
}

}  // namespace

namespace {

TEST_CASE("cli/validation: early stopping watches a held-out part of the training data; the test data is untouched") {
  const std::string dir = TempDir();
  const std::string run = "train --validation-split 0.2 --eval-every 1epochs --seed 5";
  const Run a = Descent(run + " --early-stop 2 --epochs 40 --loss-csv " + dir + "/l.csv --save " + dir + "/m");
  REQUIRE(a.code == 0);
  CHECK(Read(dir + "/l.csv").rfind("step,epoch,batch,loss,validation_loss,validation_accuracy\n", 0) == 0);
  // The epochs that ran, and the step whose weights were kept: the same weights as a run of
  // exactly that many epochs (6,400 training samples at batch 256: 25 steps an epoch).
  const size_t epochs = std::stoul(Field(a.out, "epochs"));
  CHECK(epochs < 40);
  CHECK(std::stoul(Field(a.out, "steps")) == 25 * epochs);
  const size_t at = a.err.find("the weights are step ");
  REQUIRE(at != std::string::npos);
  const size_t step = std::stoul(a.err.substr(at + 21));
  CHECK(step % 25 == 0);
  const Run b = Descent(run + " --epochs " + std::to_string(step / 25));
  CHECK(Field(b.out, "params_hash") == Field(a.out, "params_hash"));
  // The result line's test figures are the test data's, as eval computes them.
  const Run e = Descent("eval --model " + dir + "/m");
  CHECK(Field(e.out, "test_loss") == Field(a.out, "test_loss"));
  const Failure cases[] = {
      {"train --validation-split 0", 2, "--validation-split must be in (0, 1)"},
      {"train --validation-split 1", 2, "--validation-split must be in (0, 1)"},
      {"train --validation-split 0.00001", 2, "leaves no validation sample"},
      {"train --data " + kData + "/train-sample.csv --eval-every 1epochs", 2, "give --test or --validation-split"},
  };
  ExpectFailures(cases);
  system(("rm -rf " + dir).c_str());
}

TEST_CASE("cli/data: a CSV without --test trains without test figures; a regression's loss CSV has no accuracy") {
  const std::string dir = TempDir();
  std::ofstream(dir + "/train.csv") << Synthetic(300, 1);
  const Run r = Descent("train --data " + dir + "/train.csv --target y --layers 5,8,1 --loss mse --epochs 2 "
                        "--validation-split 0.25 --eval-every 1epochs --batch 64 --loss-csv " + dir + "/l.csv");
  REQUIRE(r.code == 0);
  CHECK(!Contains(r.out, "test_loss"));
  CHECK(Read(dir + "/l.csv").rfind("step,epoch,batch,loss,validation_loss\n", 0) == 0);
  CHECK(Contains(Read(dir + "/l.csv"), "\n8,2,4,"));  // 225 training rows at batch 64: 4 steps an epoch
  system(("rm -rf " + dir).c_str());
}

}  // namespace

namespace {

// A torch state_dict as safetensors.torch.save_file writes it: names and shapes, no descent metadata.
std::string TorchFile(const std::vector<std::pair<std::string, std::vector<size_t>>>& tensors) {
  std::string header = "{";
  size_t offset = 0;
  std::string data;
  for (const auto& [name, shape] : tensors) {
    size_t n = 1;
    std::string dims;
    for (size_t d : shape) n *= d, dims += (dims.empty() ? "" : ",") + std::to_string(d);
    header += (header.size() > 1 ? "," : "") + std::string("\"") + name + "\":{\"dtype\":\"F32\",\"shape\":[" + dims +
              "],\"data_offsets\":[" + std::to_string(offset) + "," + std::to_string(offset + 4 * n) + "]}";
    for (size_t i = 0; i < n; ++i) {
      const float v = 0.01f * static_cast<float>((i * 7) % 13) - 0.06f;
      data.append(reinterpret_cast<const char*>(&v), 4);
    }
    offset += 4 * n;
  }
  header += "}";
  std::string file(8, '\0');
  const uint64_t len = header.size();
  memcpy(&file[0], &len, 8);
  return file + header + data;
}

TEST_CASE("cli/torch files: any shape; the tensors define it, the flags what they cannot") {
  const std::string dir = TempDir();
  std::ofstream(dir + "/t.st", std::ios::binary)
      << TorchFile({{"linears.0.weight", {16, 5}}, {"linears.0.bias", {16}}, {"linears.1.weight", {2, 16}},
                    {"linears.1.bias", {2}}});
  std::ofstream(dir + "/five.csv") << Synthetic(100, 4);  // x0..x3, y, above: the target `above`, 5 features
  const std::string test = " --test " + dir + "/five.csv --target above";
  const Run sized = Descent("eval --model " + dir + "/t.st --loss cross-entropy" + test);  // 5-16-2 from the tensors
  CHECK(sized.code == 0);
  CHECK(Descent("eval --model " + dir + "/t.st --layers 5,16,2 --loss cross-entropy" + test).out == sized.out);
  CHECK(Descent("train --data " + dir + "/five.csv --target above --layers 5,16,2 --loss cross-entropy --epochs 1 "
                "--init " + dir + "/t.st").code == 0);
  const Run wrong = Descent("eval --model " + dir + "/t.st --layers 5,8,2 --loss cross-entropy" + test);
  CHECK(wrong.code == 3);
  CHECK(Contains(wrong.err, "tensor \"linears.0.weight\" has shape [16,5], expected [8,5]"));
  // nn.Sequential names without descent's description need --net.
  std::ofstream(dir + "/seq.st", std::ios::binary)
      << TorchFile({{"0.weight", {16, 5}}, {"0.bias", {16}}, {"2.weight", {2, 16}}, {"2.bias", {2}}});
  const Run seq = Descent("eval --model " + dir + "/seq.st --loss cross-entropy" + test);
  CHECK(seq.code == 2);
  CHECK(Contains(seq.err, "give its modules with --net"));
  CHECK(Descent("eval --model " + dir + "/seq.st --net 'linear(16),tanh,linear(2)' --loss cross-entropy" + test).code == 0);
  system(("rm -rf " + dir).c_str());
}

}  // namespace
