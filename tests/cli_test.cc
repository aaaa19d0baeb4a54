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

#include "tests/cli_util.h"
#include "tests/doctest_config.h"

namespace {

std::vector<double> LossColumn(const std::string& csv_text) {
  std::vector<double> losses;
  std::istringstream in(csv_text);
  std::string line;
  std::getline(in, line);
  while (std::getline(in, line)) losses.push_back(std::stod(line.substr(line.rfind(',') + 1)));
  return losses;
}


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
      // Training controls: schedules, clipping, evaluation, early stopping, the range test.
      {"train --early-stop 3", "--early-stop needs --eval-every"},
      {"train --eval-every 0", "--eval-every expects"},
      {"train --eval-every 3weeks", "--eval-every expects"},
      {"train --schedule bogus", "unknown schedule 'bogus'"},
      {"train --schedule cosine --step-size 3", "--step-size does not apply to --schedule cosine"},
      {"train --schedule step", "needs --step-size"},
      {"train --schedule multistep --milestones 5,x", "--milestones"},
      {"train --schedule multistep --milestones 9,5", "increasing"},
      {"train --optimizer adagrad --schedule onecycle", "--cycle-momentum false"},
      {"train --schedule onecycle --total-steps 10", "shorter than the run"},
      {"train --schedule plateau --factor 2", "factor must be below 1"},
      {"train --clip-norm -1", "--clip-norm"},
      {"train --min-delta 0.1", "--min-delta needs --early-stop"},
      {"compare --steps 50", "--tuned"},
      {"lr-find --start-lr 1 --end-lr 0.1", "--start-lr"},
  };
  for (const auto& c : cases) {
    CAPTURE(std::string(c.args));
    const Run r = Descent(c.args);
    CHECK(r.code == 2);
    CHECK(Contains(r.err, c.expect));
  }
  for (const char* command : {"train", "compare", "lr-find", "eval"}) {
    const Run r = Descent(std::string(command) + " --help");
    CHECK(r.code == 0);
    CHECK(Contains(r.out, std::string("usage: descent ") + command));
  }
}

TEST_CASE("cli: bad input files exit 3, name the file, and clobber nothing") {
  const std::string dir = TempDir();
  std::ofstream(dir + "/bad.safetensors") << "not a safetensors file at all";
  std::ofstream(dir + "/keep.safetensors") << "precious";
  std::ofstream(dir + "/bad.csv") << "label,pixel0\n3,9x9\n";
  std::ofstream(dir + "/narrow.csv") << "label,pixel0\n3,999\n";
  const struct {
    std::string args, expect;
  } cases[] = {
      {"train --data " + dir + "/nothing-here", "nothing-here: no such file"},
      {"train --data " + dir, "has no train-images-idx3-ubyte"},
      {"train --data " + dir + "/bad.csv", "bad.csv: line 2, column 2 (pixel0): expected a number, found `9x9`"},
      {"train --data " + dir + "/narrow.csv", "narrow.csv: has 1 features per sample, the model takes 784"},
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
  const Failure cases[] = {
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
  ExpectFailures(cases);
  system(("rm -rf " + dir).c_str());
}

TEST_CASE("cli/checkpoint: a diverging run keeps the last good checkpoint") {
  const std::string dir = TempDir();
  const Run r = Descent("train --optimizer sgd --lr 1e30 --epochs 1 --checkpoint " + dir + "/c --checkpoint-every 1");
  CHECK(r.code == 4);
  CHECK(Contains(r.err, "holds the last good step"));
  const Run e = Descent("eval --model " + dir + "/c");  // loadable, finite weights (whose outputs may overflow)
  CHECK((e.code == 0 || (e.code == 4 && Contains(e.err, "is not finite"))));
  system(("rm -rf " + dir).c_str());
}

}  // namespace

namespace {

// The CSV's rows as fields.
std::vector<std::vector<std::string>> Rows(const std::string& csv_text) {
  std::vector<std::vector<std::string>> rows;
  std::istringstream in(csv_text);
  for (std::string line; std::getline(in, line);) {
    rows.emplace_back();
    std::string field;
    std::istringstream fields(line);
    while (std::getline(fields, field, ',')) rows.back().push_back(field);
    if (!line.empty() && line.back() == ',') rows.back().push_back("");
  }
  return rows;
}

}  // namespace

TEST_CASE("cli/lr-find: a deterministic range test that suggests a rate it tried") {
  const std::string dir = TempDir();
  const Run a = Descent("lr-find --optimizer momentum --out " + dir + "/a");
  const Run b = Descent("lr-find --optimizer momentum --out " + dir + "/b");
  REQUIRE(a.code == 0);
  REQUIRE(b.code == 0);
  CHECK(a.out.substr(0, a.out.find('\n')) == b.out.substr(0, b.out.find('\n')));
  CHECK(Read(dir + "/a/lr-find.csv") == Read(dir + "/b/lr-find.csv"));
  const auto rows = Rows(Read(dir + "/a/lr-find.csv"));
  REQUIRE(rows.size() > 20);
  CHECK(rows[0] == std::vector<std::string>{"step", "lr", "loss", "smoothed_loss"});
  CHECK(std::stod(rows[1][1]) == 1e-7);
  // The rate grows by one factor per step, 1e-7 to 10 over 100 steps.
  const double growth = std::pow(1e8, 1.0 / 99);
  for (size_t i = 2; i < rows.size(); ++i) CHECK(std::stod(rows[i][1]) / std::stod(rows[i - 1][1]) == doctest::Approx(growth).epsilon(1e-6));
  const double suggestion = std::stod(Field(" " + a.out, "lr"));
  bool tried = false;
  for (size_t i = 1; i < rows.size(); ++i) tried |= std::fabs(std::stod(rows[i][1]) / suggestion - 1) < 1e-5;
  CHECK(tried);
  CHECK(suggestion > 1e-3);  // the curve falls well above the first rates: not the flat start
  CHECK(Contains(Read(dir + "/a/lr-find.svg"), "suggestion"));
  CHECK(Descent("lr-find --lr 0.1").code == 2);  // the test sweeps lr itself
  system(("rm -rf " + dir).c_str());
}

TEST_CASE("cli/compare --tuned: the finder's rates train momentum and nesterov to 90 %, sgd to 80 %") {
  const std::string dir = TempDir();
  const Run r = Descent("compare --tuned --optimizers sgd,momentum,nesterov,adam --out " + dir);
  REQUIRE(r.code == 0);
  const auto rows = Rows(Read(dir + "/summary.csv"));
  REQUIRE(rows.size() == 9);
  CHECK(rows[0] == std::vector<std::string>{"optimizer", "rates", "lr", "train_loss", "test_loss", "test_accuracy",
                                            "seconds"});
  for (const auto& row : rows) {
    if (row[1] != "tuned") continue;
    CAPTURE(row[0]);
    const double accuracy = std::stod(row[5]);
    CHECK(accuracy >= (row[0] == "sgd" ? 0.80 : 0.90));
    // The tuned rate is the one lr-find suggests for the same optimizer.
    const Run found = Descent("lr-find --optimizer " + row[0] + " --out " + dir + "/find");
    CHECK(std::stod(Field(" " + found.out, "lr")) == doctest::Approx(std::stod(row[2])).epsilon(1e-5));
  }
  for (const auto& row : rows)  // at the notebook's rates the SGD family barely trains
    if (row[1] == "notebook" && row[0] != "adam") CHECK(std::stod(row[5]) < 0.5);
  CHECK(Contains(Read(dir + "/loss-curves-tuned.svg"), "rates from lr-find"));
  CHECK(Contains(Read(dir + "/lr-find-nesterov.svg"), "suggestion"));
  system(("rm -rf " + dir).c_str());
}

TEST_CASE("cli/train: early stopping ends with, and saves, the best weights") {
  const std::string dir = TempDir();
  const Run r = Descent("train --optimizer adam --lr 0.01 --epochs 20 --eval-every 1epoch --early-stop 2 --loss-csv " +
                        dir + "/l.csv --save " + dir + "/best");
  REQUIRE(r.code == 0);
  CHECK(Contains(r.err, "early stop after 2 evaluations"));
  const auto rows = Rows(Read(dir + "/l.csv"));
  CHECK(rows[0] == std::vector<std::string>{"step", "epoch", "batch", "loss", "test_loss", "test_accuracy"});
  std::vector<double> test_losses;
  for (size_t i = 1; i < rows.size(); ++i)
    if (rows[i].size() == 6 && !rows[i][4].empty()) test_losses.push_back(std::stod(rows[i][4]));
  REQUIRE(test_losses.size() >= 3);
  CHECK(test_losses.size() < 20);  // it stopped
  const double best = *std::min_element(test_losses.begin(), test_losses.end());
  CHECK(test_losses.back() > best);   // the last weights were not the best...
  CHECK(test_losses[test_losses.size() - 3] == best);  // ...the ones two evaluations back were
  // The saved model and the result line are the best weights, not the last.
  CHECK(std::stod(Field(r.out, "test_loss")) == doctest::Approx(best).epsilon(1e-6));
  const Run eval = Descent("eval --model " + dir + "/best");
  CHECK(std::stod(Field(eval.out, "test_loss")) == doctest::Approx(best).epsilon(1e-6));
  system(("rm -rf " + dir).c_str());
}

TEST_CASE("cli/train: schedules set the rate of every step, and clipping is reproducible") {
  const std::string dir = TempDir();
  // Cosine over the run: from lr to ~0, each step's rate in the CSV.
  Run r = Descent("train --optimizer sgd --lr 0.5 --schedule cosine --epochs 2 --loss-csv " + dir + "/c.csv");
  REQUIRE(r.code == 0);
  auto rows = Rows(Read(dir + "/c.csv"));
  REQUIRE(rows.size() == 65);
  CHECK(rows[0][4] == "lr");
  CHECK(std::stod(rows[1][4]) == 0.5);
  CHECK(std::stod(rows[33][4]) == doctest::Approx(0.25 * (1 + std::cos(M_PI * 32 / 64))).epsilon(1e-6));
  CHECK(std::stod(rows[64][4]) < 0.001);
  // Step decay per epoch: constant within an epoch, times gamma between.
  r = Descent("train --optimizer adam --schedule step --step-size 1 --gamma 0.5 --schedule-unit epoch --loss-csv " +
              dir + "/s.csv");
  REQUIRE(r.code == 0);
  rows = Rows(Read(dir + "/s.csv"));
  CHECK(std::stod(rows[1][4]) == 0.001);
  CHECK(std::stod(rows[32][4]) == 0.001);
  CHECK(std::stod(rows[33][4]) == 0.0005);
  CHECK(std::stod(rows[96][4]) == 0.00025);
  // One-cycle peaks at max_lr after pct_start of the run.
  r = Descent("train --optimizer momentum --schedule onecycle --max-lr 0.2 --loss-csv " + dir + "/o.csv");
  REQUIRE(r.code == 0);
  rows = Rows(Read(dir + "/o.csv"));
  double peak = 0;
  for (size_t i = 1; i < rows.size(); ++i) peak = std::max(peak, std::stod(rows[i][4]));
  CHECK(peak == doctest::Approx(0.2).epsilon(1e-3));
  CHECK(std::stod(rows[1][4]) == doctest::Approx(0.2 / 25));
  // Plateau on the test loss: with patience 0 and factor 0.5, every evaluation that does not
  // improve halves the rate for the steps after it.
  r = Descent("train --optimizer sgd --lr 2 --schedule plateau --patience 0 --factor 0.5 --eval-every 4 --loss-csv " +
              dir + "/p.csv");
  REQUIRE(r.code == 0);
  rows = Rows(Read(dir + "/p.csv"));
  double best = 1e300, lr = 2.0;
  size_t halvings = 0;
  for (size_t i = 1; i < rows.size(); ++i) {
    CAPTURE(i);
    CHECK(std::stod(rows[i][4]) == doctest::Approx(lr).epsilon(1e-8));
    if (!rows[i][5].empty()) {
      const double test_loss = std::stod(rows[i][5]);
      if (test_loss < best * (1 - 1e-4)) best = test_loss;
      else lr *= 0.5, ++halvings;
    }
  }
  CHECK(halvings > 0);
  // Clipping: the same bits with 1 and 2 threads, and not the unclipped run.
  const std::string clipped = "train --optimizer sgd --lr 0.5 --epochs 1 --clip-norm 0.5 --clip-value 0.01";
  const Run one = Descent(clipped), two = Descent(clipped + " --threads 2");
  const Run plain = Descent("train --optimizer sgd --lr 0.5 --epochs 1");
  REQUIRE(one.code == 0);
  CHECK(Field(one.out, "params_hash") == Field(two.out, "params_hash"));
  CHECK(Field(one.out, "params_hash") != Field(plain.out, "params_hash"));
  system(("rm -rf " + dir).c_str());
}

TEST_CASE("cli/checkpoint: a scheduled, clipped run resumed from epoch 1 equals the straight run") {
  const std::string dir = TempDir();
  // The schedule's length is explicit: its default follows --epochs, which the first part sets to 1.
  const std::string run = "train --optimizer nadam --schedule warmup-cosine --warmup-steps 10 --t-max 86 --clip-norm 1";
  const Run straight = Descent(run);
  const Run first = Descent(run + " --epochs 1 --checkpoint " + dir + "/c");
  const Run rest = Descent("train --resume " + dir + "/c --epochs 3");  // schedule and clipping from the checkpoint
  REQUIRE(straight.code == 0);
  REQUIRE(first.code == 0);
  REQUIRE(rest.code == 0);
  CHECK(Field(rest.out, "params_hash") == Field(straight.out, "params_hash"));
  CHECK(Field(first.out, "params_hash") != Field(straight.out, "params_hash"));
  const Run other = Descent("train --resume " + dir + "/c --schedule cosine");
  CHECK(other.code == 2);
  CHECK(Contains(other.err, "schedule differs"));
  system(("rm -rf " + dir).c_str());
}
