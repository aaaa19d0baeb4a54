// The descent program handed hostile files, paths and numbers: each a clear
// error naming the file or flag, the right exit status, bounded time and
// memory, and nothing the user saved lost.
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "tests/cli_util.h"
#include "tests/doctest_config.h"

namespace {

// Sanitizers reserve terabytes of address space: no `ulimit -v` under them.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif


void Write(const std::string& path, const std::string& bytes) { std::ofstream(path, std::ios::binary) << bytes; }

mode_t ModeOf(const std::string& path) {
  struct stat st;
  REQUIRE(lstat(path.c_str(), &st) == 0);
  return st.st_mode;
}

// Runs a shell command in dir; its exit status.
int Shell(const std::string& dir, const std::string& command) {
  const int status = system(("cd " + dir + " && " + command).c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// The same metadata field with another value of the same length: the file stays well-formed.
std::string Replace(std::string bytes, const std::string& from, const std::string& to) {
  const size_t at = bytes.find(from);
  REQUIRE(at != std::string::npos);
  REQUIRE(from.size() == to.size());
  return bytes.replace(at, from.size(), to);
}

TEST_CASE("hardening: a checkpoint's metadata is checksummed too") {
  const std::string dir = TempDir();
  REQUIRE(Descent("train --epochs 2 --checkpoint " + dir + "/c").code == 0);
  const std::string bytes = Read(dir + "/c");
  const struct {
    const char *from, *to;
  } edits[] = {{"\"seed\":\"0\"", "\"seed\":\"1\""},
               {"\"shuffle\":\"true\"", "\"shuffle\":\"tru_\""},
               {"\"step\":\"64\"", "\"step\":\"00\""},
               {"\"epoch\":\"1\"", "\"epoch\":\"9\""},
               {"lr=0.001", "lr=0.009"}};
  for (const auto& edit : edits) {
    CAPTURE(std::string(edit.from));
    Write(dir + "/edited", Replace(bytes, edit.from, edit.to));
    const Run r = Descent("train --resume " + dir + "/edited --epochs 3");
    CHECK(r.code == 3);
    CHECK(Contains(r.err, dir + "/edited: is corrupted: the header's checksum does not match"));
  }
  // eval and --init verify it as well: a flipped exponent bit in the last weight.
  std::string flipped = bytes;
  flipped[flipped.size() - 1] ^= 0x40;
  Write(dir + "/flipped", flipped);
  for (const std::string& args : {"eval --model " + dir + "/flipped", "train --epochs 1 --init " + dir + "/flipped"}) {
    CAPTURE(args);
    const Run r = Descent(args);
    CHECK(r.code == 3);
    CHECK(Contains(r.err, "flipped: is corrupted: the tensors' checksum does not match"));
  }
  // --epochs below what the checkpoint has done: a usage error, not "steps=0".
  const Run fewer = Descent("train --resume " + dir + "/c --epochs 1");
  CHECK(fewer.code == 2);
  CHECK(Contains(fewer.err, "--epochs 1 is fewer than the 2 epochs"));
  system(("rm -rf " + dir).c_str());
}

TEST_CASE("hardening: readers stop at what can be valid, in bounded time and memory") {
  const std::string dir = TempDir();
  // 1 GB of address space is far below what the hostile inputs claim, and enough for real ones.
  const std::string limit = (kSanitized ? "" : "ulimit -v 1000000; ") + kExe;
  Shell(dir, "printf 'label,pixel0\\n1,2\\n' | gzip > small.csv.gz && head -c -4 small.csv.gz > fake.csv.gz && "
             "printf '\\377\\377\\377\\377' >> fake.csv.gz");  // gzip's length field says 4 GiB
  Shell(dir, "(printf '\\0\\0\\10\\3\\0\\0\\0\\3\\0\\0\\0\\34\\0\\0\\0\\34'; head -c 200000000 /dev/zero) | gzip > "
             "train-images-idx3-ubyte.gz && printf '\\0\\0\\10\\1\\0\\0\\0\\3\\1\\2\\3' | gzip > train-labels-idx1-ubyte.gz");
  const struct {
    std::string args, expect;
  } cases[] = {
      {"train --data " + dir + "/fake.csv.gz", "fake.csv.gz: truncated or corrupt gzip data"},
      {"train --data " + dir, "train-images-idx3-ubyte.gz: has bytes after the data the header describes (2368 bytes)"},
      {"eval --model /dev/zero", "/dev/zero: bad safetensors header length 0"},
      {"train --resume /dev/zero", "/dev/zero: bad safetensors header length 0"},
      {"eval --model " + dir, "is a directory"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.args);
    const int code = Shell(dir, limit + " " + c.args + " >out 2>err");
    CHECK(code == 3);
    CHECK(Contains(Read(dir + "/err"), c.expect));
  }
  // An allocation that fails is exit 3 with a message, not an abort (SIGABRT, 134).
  if (!kSanitized) {
    CHECK(Shell(dir, "ulimit -v 400000; " + kExe + " train --data /dev/zero >out 2>err") == 3);
    CHECK(Contains(Read(dir + "/err"), "descent: out of memory"));
  }
  // A safetensors header of 100,000 distinct keys: refused at once by its entry count.
  std::string header = "{";
  for (int i = 0; i < 100000; ++i) header += (i ? ",\"k" : "\"k") + std::to_string(i) + "\":{}";
  header += "}";
  std::string file(8, '\0');
  const uint64_t n = header.size();
  memcpy(&file[0], &n, 8);
  Write(dir + "/keys.safetensors", file + header);
  const time_t start = time(nullptr);
  const Run keys = Descent("eval --model " + dir + "/keys.safetensors");
  CHECK(keys.code == 3);
  CHECK(Contains(keys.err, "keys.safetensors: bad safetensors header"));
  CHECK(time(nullptr) - start < 10);
  system(("rm -rf " + dir).c_str());
}

TEST_CASE("hardening: outputs behave as a Unix tool's") {
  const std::string dir = TempDir();
  // A symbolic link is followed: the target is replaced, the link stays.
  Write(dir + "/target.csv", "old");
  REQUIRE(symlink("target.csv", (dir + "/link.csv").c_str()) == 0);
  REQUIRE(Descent("train --epochs 1 --loss-csv " + dir + "/link.csv").code == 0);
  CHECK(S_ISLNK(ModeOf(dir + "/link.csv")));
  CHECK(Read(dir + "/target.csv").rfind("step,epoch,batch,loss\n", 0) == 0);
  // An existing file keeps its mode; a new one gets 0666 & ~umask.
  Write(dir + "/private.safetensors", "x");
  REQUIRE(chmod((dir + "/private.safetensors").c_str(), 0600) == 0);
  REQUIRE(Descent("train --epochs 1 --save " + dir + "/private.safetensors").code == 0);
  CHECK((ModeOf(dir + "/private.safetensors") & 0777) == 0600);
  REQUIRE(Shell(dir, "umask 027 && " + kExe + " train --epochs 1 --save new.safetensors >/dev/null") == 0);
  CHECK((ModeOf(dir + "/new.safetensors") & 0777) == 0640);
  // Devices and pipes are written to, not replaced.
  REQUIRE(Descent("train --epochs 1 --plot /dev/null --loss-csv /dev/null").code == 0);
  CHECK(S_ISCHR(ModeOf("/dev/null")));
  REQUIRE(Shell(dir, kExe + " train --epochs 1 --loss-csv /dev/stdout > piped.txt") == 0);
  CHECK(Contains(Read(dir + "/piped.txt"), "step,epoch,batch,loss\n1,1,1,"));
  // A temporary a killed run left behind is removed by the next write of that file.
  const pid_t dead = fork();
  if (dead == 0) _exit(0);
  waitpid(dead, nullptr, 0);
  const std::string stale = dir + "/new.safetensors.tmp." + std::to_string(dead) + ".AbC123";
  Write(stale, "half");
  REQUIRE(Descent("train --epochs 1 --save " + dir + "/new.safetensors").code == 0);
  CHECK(access(stale.c_str(), F_OK) != 0);
  system(("rm -rf " + dir).c_str());
}

TEST_CASE("hardening: outputs that are inputs, and outputs that cannot be written, stop before any work") {
  const std::string dir = TempDir();
  Shell(dir, "cp " + kData + "/train-sample.csv data.csv");
  REQUIRE(Descent("train --epochs 1 --checkpoint " + dir + "/c").code == 0);
  const std::string csv = Read(dir + "/data.csv"), checkpoint = Read(dir + "/c");
  const struct {
    std::string args;
    int code;
    std::string expect;
  } cases[] = {
      {"train --data " + dir + "/data.csv --loss-csv " + dir + "/data.csv", 2, "writing it would destroy it"},
      {"train --resume " + dir + "/c --epochs 2 --save " + dir + "/c", 2, "writing it would destroy it"},
      {"train --epochs 2 --save " + dir + "/s --checkpoint " + dir + "/s", 2, "name the same file"},
      {"train --epochs 30 --loss-csv " + dir + "/missing/losses.csv", 3, "the directory " + dir + "/missing does not exist"},
      {"train --epochs 30 --plot " + dir, 3, "is a directory"},
      {"train --save=", 2, "--save needs a file name"},
      {"train --checkpoint ''", 2, "--checkpoint needs a file name"},
      {"train --seed 18446744073709551616", 2, "--seed expects a whole number"},
      {"train --seed ' -1'", 2, "--seed expects a whole number"},
      {"train --seed 0x10", 2, "--seed expects a whole number"},
      {"train --eval-every 18446744073709551617steps", 2, "--eval-every expects"},
      {"train --lr ' 0.1'", 2, "--lr expects a number"},
      {"train --lr 0x1p-4", 2, "--lr expects a number"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.args);
    const time_t start = time(nullptr);
    const Run r = Descent(c.args);
    CHECK(r.code == c.code);
    CHECK(Contains(r.err, c.expect));
    CHECK(time(nullptr) - start < 5);  // refused up front, not after 30 epochs
  }
  CHECK(Read(dir + "/data.csv") == csv);
  CHECK(Read(dir + "/c") == checkpoint);
  // The checkpoint may update the one it resumes.
  CHECK(Descent("train --resume " + dir + "/c --epochs 2 --checkpoint " + dir + "/c").code == 0);
  system(("rm -rf " + dir).c_str());
}

TEST_CASE("hardening: inputs that are not plain files say what they are") {
  const std::string dir = TempDir();
  REQUIRE(symlink("loop-b", (dir + "/loop-a").c_str()) == 0);
  REQUIRE(symlink("loop-a", (dir + "/loop-b").c_str()) == 0);
  const Run loop = Descent("train --data " + dir + "/loop-a");
  CHECK(loop.code == 3);
  CHECK(Contains(loop.err, "loop-a: cannot open: Too many levels of symbolic links"));
  // A pipe is read like a file.
  REQUIRE(Shell(dir, "mkfifo pipe && (cat " + kData + "/train-sample.csv > pipe &) && " + kExe +
                         " train --epochs 1 --data pipe > out") == 0);
  CHECK(Contains(Read(dir + "/out"), "result optimizer=adam"));
  // The range test over 600 orders of magnitude: the factor per step does not overflow.
  const Run wide = Descent("lr-find --start-lr 1e-300 --end-lr 1e300 --out " + dir + "/lr");
  CHECK(wide.code == 0);
  CHECK(std::stoi(Field(" " + wide.out, "steps")) > 1);
  system(("rm -rf " + dir).c_str());
}

}  // namespace

namespace {

TEST_CASE("hardening: impossible values are usage errors naming the flag, in train and compare alike") {
  for (const char* command : {"train", "compare"}) {
    CAPTURE(command);
    const Failure cases[] = {
        {std::string(command) + " --schedule cosine --eta-min -1", 2, "--eta-min must be >= 0"},
        {std::string(command) + " --schedule exponential --gamma -1", 2, "--gamma must be positive"},
        {std::string(command) + " --schedule step --step-size 3 --gamma 0", 2, "--gamma must be positive"},
        {std::string(command) + " --schedule onecycle --base-momentum 2 --cycle-momentum false", 2,
         "--base-momentum must be in [0, 1]"},
        {std::string(command) + " --schedule plateau --min-lr -1", 2, "--min-lr must be >= 0"},
        {std::string(command) + " --schedule warmup-cosine --warmup-steps 96 --epochs 3", 2,
         "--warmup-steps 96 is as long as the run"},
        {std::string(command) + " --clip-norm 0", 2, "--clip-norm must be positive"},
        {std::string(command) + " --clip-value 0", 2, "--clip-value must be positive"},
        {std::string(command) + " --input-scale 1e-50", 2, "--input-scale must be positive and finite as a float"},
    };
    ExpectFailures(cases);
  }
  const Failure more[] = {
      {"lr-find --start-lr 1e-320", 2, "--start-lr must be a normal number"},
      {"train --target label", 2, "--target names a CSV column"},
  };
  ExpectFailures(more);
}

TEST_CASE("hardening: files read back and non-finite values") {
  const std::string dir = TempDir();
  // An overflowing optimizer state (features near 1e25 under an L1 loss: the gradient's square is
  // infinite while the loss and the weights stay finite) stops the run before a checkpoint of it.
  std::string csv = "x0,x1,y\n";
  for (int i = 0; i < 64; ++i)
    csv += std::to_string((i % 7 - 3) * 1e24) + "," + std::to_string(i % 5 * 0.1) + "," + std::to_string(i % 3) + "\n";
  Write(dir + "/huge.csv", csv);
  const Run state = Descent("train --data " + dir + "/huge.csv --target y --layers 2,1 --loss l1 --batch 16 "
                            "--checkpoint " + dir + "/ck --checkpoint-every 1");
  CHECK(state.code == 4);
  CHECK(Contains(state.err, "exp_avg_sq became non-finite"));
  CHECK(access((dir + "/ck").c_str(), F_OK) != 0);  // no checkpoint of a state that cannot be resumed
  // A deviation whose inverse is no float is a constant feature, not an infinite scale.
  Write(dir + "/tiny.csv", "x,y\n1e-30,0\n1.000001e-30,1\n1e-30,0\n1.000001e-30,1\n");
  const Run tiny = Descent("train --data " + dir + "/tiny.csv --target y --layers 1,1 --loss mse --standardize "
                           "--epochs 1 --save " + dir + "/tiny.st");
  CHECK(tiny.code == 0);
  CHECK(Descent("predict --model " + dir + "/tiny.st --data " + dir + "/tiny.csv").code == 0);
  // A 40,000-feature standardized model saved by train loads in eval.
  std::string wide = "y";
  for (int f = 0; f < 40000; ++f) wide += ",f" + std::to_string(f);
  wide += "\n";
  for (int r = 0; r < 4; ++r) {
    wide += std::to_string(r % 2);
    for (int f = 0; f < 40000; ++f) wide += "," + std::to_string((r * 7 + f) % 11);
    wide += "\n";
  }
  Write(dir + "/wide.csv", wide);
  REQUIRE(Descent("train --data " + dir + "/wide.csv --target y --layers 40000,2 --loss cross-entropy --standardize "
                  "--epochs 1 --save " + dir + "/wide.st").code == 0);
  CHECK(Descent("eval --model " + dir + "/wide.st --test " + dir + "/wide.csv").code == 0);
  // A model too large for a file that can be read back is refused before training.
  const Run big = Descent("train --layers 784,65536,300");
  CHECK(big.code == 2);
  CHECK(Contains(big.err, "model files hold at most"));
  // A small file whose metadata describes a huge model: refused by its tensors, in little memory.
  const std::string header = "{\"__metadata__\":{\"format\":\"pt\",\"architecture\":\"4-16384-16384-1\",\"loss\":\"mse\"},"
                             "\"linears.0.weight\":{\"dtype\":\"F32\",\"shape\":[16384,4],\"data_offsets\":[0,16]}}";
  std::string file(8, '\0');
  const uint64_t n = header.size();
  memcpy(&file[0], &n, 8);
  Write(dir + "/claims.st", file + header + std::string(16, '\0'));
  const int code = Shell(dir, (kSanitized ? "" : "ulimit -v 300000; ") + kExe + " eval --model claims.st >out 2>err");
  CHECK(code == 3);
  CHECK(Contains(Read(dir + "/err"), "claims.st: tensor \"linears.0.weight\""));
  // Results that cannot be written are not a success.
  CHECK(Shell(dir, kExe + " train --epochs 1 > /dev/full 2>err") == 3);
  CHECK(Contains(Read(dir + "/err"), "cannot write to standard output"));
  system(("rm -rf " + dir).c_str());
}

TEST_CASE("hardening: CSV numbers as numpy reads them; line ends; ambiguous columns") {
  const std::string dir = TempDir();
  Write(dir + "/plus.csv", "x,y\n+2,1e-50\n-1,+0.5\n3,1\n");
  CHECK(Descent("train --data " + dir + "/plus.csv --target y --layers 1,1 --loss mse --epochs 1").code == 0);
  Write(dir + "/cr.csv", "x,y\r1,0\r2,1\r");
  const Run cr = Descent("train --data " + dir + "/cr.csv --target y --layers 1,1 --loss mse --epochs 1");
  CHECK(cr.code == 3);
  CHECK(Contains(cr.err, "CR-only line ends"));
  // A header of 3 M empty columns: refused before they are stored.
  Write(dir + "/commas.csv", std::string(3000000, ',') + "\n1\n");
  const int commas = Shell(dir, (kSanitized ? "" : "ulimit -v 400000; ") + kExe + " train --data commas.csv >out 2>err");
  CHECK(commas == 3);
  CHECK(Contains(Read(dir + "/err"), "3000001 columns, more than the 1048576"));
  Write(dir + "/twice.csv", "y,x,y\n1,2,3\n0,1,2\n");
  const Run twice = Descent("train --data " + dir + "/twice.csv --target y --layers 2,1 --loss mse --epochs 1");
  CHECK(twice.code == 3);
  CHECK(Contains(twice.err, "the target `y` names 2 columns"));
  system(("rm -rf " + dir).c_str());
}

}  // namespace
