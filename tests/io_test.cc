// The host readers' error paths: every malformed input gets a message naming
// the file and the problem, never a crash or a silently wrong data set.
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include <string>
#include <vector>

#include <time.h>

#include <cmath>

#include "descent/io.h"
#include "src/cli/session.h"
#include "src/host/dataset.h"
#include "src/host/json.h"
#include "src/host/safetensors.h"
#include "tests/doctest_config.h"

namespace descent {
namespace host {
namespace {

using Bytes = std::vector<uint8_t>;

Bytes Idx(uint8_t type, std::vector<uint32_t> dims, size_t payload) {
  Bytes b = {0, 0, type, static_cast<uint8_t>(dims.size())};
  for (uint32_t d : dims)
    for (int s = 24; s >= 0; s -= 8) b.push_back(static_cast<uint8_t>(d >> s));
  for (size_t i = 0; i < payload; ++i) b.push_back(static_cast<uint8_t>(i % 7));
  return b;
}
Bytes Images(uint32_t n) { return Idx(8, {n, 2, 3}, n * 6); }
Bytes Labels(uint32_t n) { return Idx(8, {n}, n); }

// The error message for a bad pair, or "" if it parsed.
std::string IdxError(const Bytes& images, const Bytes& labels) {
  Dataset d;
  Error e = ParseIdx("img.idx", images, "lab.idx", labels, &d);
  return e.message;
}

std::string TempDir() {
  char dir[] = "/tmp/descent_io_test_XXXXXX";
  REQUIRE(mkdtemp(dir) != nullptr);
  return dir;
}

void WriteGz(const std::string& path, const Bytes& b) {
  gzFile f = gzopen(path.c_str(), "wb");
  REQUIRE(f);
  REQUIRE(gzwrite(f, b.data(), static_cast<unsigned>(b.size())) == static_cast<int>(b.size()));
  gzclose(f);
}

Bytes Slurp(const std::string& path) {
  Bytes b;
  FILE* f = fopen(path.c_str(), "rb");
  REQUIRE(f);
  int c;
  while ((c = fgetc(f)) != EOF) b.push_back(static_cast<uint8_t>(c));
  fclose(f);
  return b;
}

void Spit(const std::string& path, const Bytes& b) {
  FILE* f = fopen(path.c_str(), "wb");
  REQUIRE(f);
  fwrite(b.data(), 1, b.size(), f);
  fclose(f);
}

bool Contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

TEST_CASE("io/idx: a valid pair parses") {
  Dataset d;
  REQUIRE(!ParseIdx("i", Images(4), "l", Labels(4), &d));
  CHECK(d.count == 4);
  CHECK(d.features == 6);
  CHECK(d.pixels.size() == 24);
  CHECK(d.labels.size() == 4);
}

TEST_CASE("io/idx: malformed files are refused with the file named") {
  Bytes wrong_magic = Images(2);
  wrong_magic[0] = 0x1f;
  Bytes truncated = Images(3);
  truncated.resize(truncated.size() - 1);
  Bytes trailing = Images(3);
  trailing.push_back(0);
  Bytes short_header = Images(2);
  short_header.resize(10);
  const struct {
    const char* what;
    Bytes images, labels;
    const char* file;
    const char* expect;
  } cases[] = {
      {"empty", {}, Labels(2), "img.idx", "too short"},
      {"bad magic", wrong_magic, Labels(2), "img.idx", "magic"},
      {"float element type", Idx(0x0D, {2, 2, 3}, 12), Labels(2), "img.idx", "element type"},
      {"labels given as images", Labels(2), Labels(2), "img.idx", "dimensions"},
      {"truncated header", short_header, Labels(2), "img.idx", "truncated IDX header"},
      {"truncated data", truncated, Labels(3), "img.idx", "truncated"},
      {"trailing bytes", trailing, Labels(3), "img.idx", "after the data"},
      {"count mismatch", Images(3), Labels(2), "lab.idx", "2 labels but"},
      {"no images", Images(0), Labels(0), "img.idx", "no images"},
      {"huge dimensions", Idx(8, {0xFFFFFFFF, 0xFFFF, 0xFFFF}, 0), Labels(2), "img.idx", "implausibly large"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.what);
    const std::string error = IdxError(c.images, c.labels);
    CHECK(Contains(error, c.file));
    CHECK(Contains(error, c.expect));
  }
}

TEST_CASE("io/idx: gzip'd and raw directories load; corrupt gzip does not") {
  const std::string dir = TempDir();
  const Bytes images = Images(5);
  WriteGz(dir + "/train-images-idx3-ubyte.gz", images);
  Spit(dir + "/train-labels-idx1-ubyte", Labels(5));
  Dataset d;
  REQUIRE(!LoadDataset(dir, "train", "", &d));
  CHECK(d.count == 5);
  CHECK(d.pixels == Bytes(images.begin() + 16, images.end()));

  // Missing files name the directory and the file looked for.
  Error missing = LoadDataset(dir, "t10k", "", &d);
  CHECK(Contains(missing.message, "t10k-images-idx3-ubyte"));
  CHECK(Contains(LoadDataset(dir + "/nope", "train", "", &d).message, "no such file"));

  // A gzip stream cut in half, and one with a damaged body.
  Bytes gz = Slurp(dir + "/train-images-idx3-ubyte.gz");
  Bytes cut(gz.begin(), gz.begin() + static_cast<long>(gz.size() / 2));
  Spit(dir + "/train-images-idx3-ubyte.gz", cut);
  Error truncated = LoadDataset(dir, "train", "", &d);
  CHECK(Contains(truncated.message, "train-images-idx3-ubyte.gz"));
  CHECK(!truncated.message.empty());
  Bytes damaged = gz;
  for (size_t i = 12; i < damaged.size() - 8; ++i) damaged[i] ^= 0x5A;
  Spit(dir + "/train-images-idx3-ubyte.gz", damaged);
  Error corrupt = LoadDataset(dir, "train", "", &d);
  CHECK(Contains(corrupt.message, "gzip"));
  system(("rm -rf " + dir).c_str());
}

std::string CsvHeader(int pixels) {
  std::string h = "label";
  for (int i = 0; i < pixels; ++i) h += ",pixel" + std::to_string(i);
  return h;
}

TEST_CASE("io/csv: the Kaggle format, with a BOM and CRLF line ends, is kept as bytes") {
  Dataset d;
  const std::string text = "\xEF\xBB\xBF" + CsvHeader(3) + "\r\n7,0,128,255\r\n1,1,2,3\r\n";
  REQUIRE(!ParseCsv("k.csv", text, "", &d));
  CHECK(d.count == 2);
  CHECK(d.features == 3);
  CHECK(d.labels == Bytes{7, 1});
  CHECK(d.pixels == Bytes{0, 128, 255, 1, 2, 3});
  CHECK(d.values.empty());
  CHECK(d.targets.empty());
}

TEST_CASE("io/csv: any numeric CSV, the target chosen by name or index") {
  const std::string text = "age,\"bmi\",y\n0.5,-1e-3,151\n2,3.25,75.5\n";
  Dataset d;
  REQUIRE(!ParseCsv("r.csv", text, "y", &d));
  CHECK(d.features == 2);
  CHECK(d.target_name == "y");
  CHECK(d.values == std::vector<float>{0.5f, -1e-3f, 2.0f, 3.25f});
  CHECK(d.targets == std::vector<float>{151.0f, 75.5f});
  CHECK(d.Where(1, 0) == "line 3, column 1");
  CHECK(d.Where(0, 2) == "line 2, column 3 (y)");
  REQUIRE(!ParseCsv("r.csv", text, "1", &d));  // a 0-based index
  CHECK(d.target_name == "bmi");
  CHECK(d.targets == std::vector<float>{-1e-3f, 3.25f});
  REQUIRE(!ParseCsv("r.csv", text, "", &d));  // the first column
  CHECK(d.target_name == "age");
  CHECK(d.feature_columns == std::vector<size_t>{1, 2});
  Error missing = ParseCsv("r.csv", text, "label", &d);
  CHECK(Contains(missing.message, "r.csv: line 1: no target column `label` (columns: age, bmi, y"));
  CHECK(ParseCsv("r.csv", text, "3", &d));
}

TEST_CASE("io/csv: malformed files are refused with file, line and column") {
  const std::string h = CsvHeader(3) + "\n";
  const struct {
    const char* what;
    std::string text;
    const char* expect;
  } cases[] = {
      {"empty", "", "empty file"},
      {"header only", h, "no data rows"},
      {"one column", "label\n3\n", "line 1: a header with a target and at least one feature"},
      {"short row", h + "1,2,3\n", "line 2: 3 columns"},
      {"long row", h + "1,2,3,4,5\n", "line 2: more than"},
      {"non-numeric", h + "1,2,x,4\n", "line 2, column 3 (pixel1): expected a number, found `x`"},
      {"empty value", h + "1,,3,4\n", "line 2, column 2 (pixel0): empty value"},
      {"nan", h + "1,2,nan,4\n", "line 2, column 3 (pixel1): not a finite number"},
      {"infinite", h + "1,2,3,inf\n", "not a finite number"},
      {"too large", h + "1,2,3,1e39\n", "out of float range"},
      {"trailing junk", h + "1,2,3,4x\n", "column 4 (pixel2): expected a number"},
      {"blank line inside", h + "1,2,3,4\n\n1,2,3,4\n", "line 3: empty line"},
      {"header without a newline", "label,pixel0", "no data rows"},  // once read past the text (fuzz_csv)
  };
  for (const auto& c : cases) {
    CAPTURE(c.what);
    Dataset d;
    Error e = ParseCsv("k.csv", c.text, "", &d);
    CHECK(Contains(e.message, "k.csv"));
    CHECK(Contains(e.message, c.expect));
  }
}

TEST_CASE("io/safetensors: round trip") {
  const float w[6] = {1, -2, 3.5f, 4, 5, 6}, b[2] = {0.25f, -0.5f};
  const std::string encoded = EncodeSafetensors({{"w", {2, 3}, w}, {"b", {2}, b}}, {{"format", "pt"}});
  Safetensors st;
  REQUIRE(!ParseSafetensors("m.safetensors", Bytes(encoded.begin(), encoded.end()), &st));
  CHECK((8 + st.data_start - 8) % 8 == 0);
  float w2[6], b2[2];
  REQUIRE(!st.ReadF32("w", {2, 3}, w2));
  REQUIRE(!st.ReadF32("b", {2}, b2));
  CHECK(memcmp(w, w2, sizeof(w)) == 0);
  CHECK(memcmp(b, b2, sizeof(b)) == 0);
  REQUIRE(st.Meta("format"));
  CHECK(*st.Meta("format") == "pt");
  CHECK(Contains(st.ReadF32("w", {3, 2}, w2).message, "shape [2,3], expected [3,2]"));
  CHECK(Contains(st.ReadF32("missing", {2}, b2).message, "no tensor"));
}

Bytes WithHeader(const std::string& header, size_t data_bytes) {
  std::string s(8, '\0');
  const uint64_t n = header.size();
  memcpy(&s[0], &n, 8);
  s += header;
  s.append(data_bytes, '\0');
  return Bytes(s.begin(), s.end());
}

TEST_CASE("io/safetensors: malformed files are refused") {
  Bytes huge_length = WithHeader("{}", 0);
  const uint64_t big = 1ull << 40;
  memcpy(huge_length.data(), &big, 8);
  const struct {
    const char* what;
    Bytes bytes;
    const char* expect;
  } cases[] = {
      {"too short", Bytes{1, 2, 3}, "too short"},
      {"header length past the end", huge_length, "bad safetensors header length"},
      {"bad JSON", WithHeader("{\"w\": {", 0), "bad safetensors header JSON"},
      {"not an object", WithHeader("[1,2]", 0), "not a JSON object"},
      {"unknown dtype", WithHeader(R"({"w":{"dtype":"Q7","shape":[1],"data_offsets":[0,4]}})", 4), "unknown dtype"},
      {"offsets out of bounds", WithHeader(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", 4), "outside"},
      {"size disagrees with shape", WithHeader(R"({"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", 8), "need 12"},
      {"overlap", WithHeader(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})", 12), "overlap"},
      {"negative shape", WithHeader(R"({"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})", 4), "non-negative"},
      {"missing offsets", WithHeader(R"({"w":{"dtype":"F32","shape":[1]}})", 4), "data_offsets"},
      {"duplicate key", WithHeader(R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"w":{}})", 4), "duplicate"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.what);
    Safetensors st;
    Error e = ParseSafetensors("m.safetensors", c.bytes, &st);
    CHECK(Contains(e.message, "m.safetensors"));
    CHECK(Contains(e.message, c.expect));
  }
  // A valid F16 tensor read as F32 is a dtype error, not garbage.
  Safetensors st;
  REQUIRE(!ParseSafetensors("h.safetensors", WithHeader(R"({"w":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}})", 4), &st));
  float out[2];
  CHECK(Contains(st.ReadF32("w", {2}, out).message, "dtype F16, expected F32"));
}

TEST_CASE("io/json: nesting is bounded and strings unescape") {
  Json j;
  std::string error;
  CHECK(!ParseJson(std::string(100, '[') + std::string(100, ']'), &j, &error));
  CHECK(Contains(error, "nested too deeply"));
  REQUIRE(ParseJson(R"({"a":"x\"y\u00e9","n":[1,2.5,-3e2],"t":true})", &j, &error));
  CHECK(j.Find("a")->string == "x\"y\xC3\xA9");
  CHECK(j.Find("n")->items[1].number == 2.5);
  CHECK(j.Find("n")->items[0].is_uint);
  CHECK(!j.Find("n")->items[2].is_uint);
  CHECK(!ParseJson("{\"a\":1} x", &j, &error));
}

TEST_CASE("io/files: writes are atomic and failures leave the old file") {
  const std::string dir = TempDir();
  const std::string path = dir + "/out.txt";
  REQUIRE(!WriteFileAtomic(path, std::string("first")));
  REQUIRE(!WriteFileAtomic(path, std::string("second")));
  CHECK(Slurp(path) == Bytes{'s', 'e', 'c', 'o', 'n', 'd'});
  CHECK(WriteFileAtomic(dir + "/missing/out.txt", std::string("x")));
  // Writing over a directory fails and leaves no temporary behind.
  REQUIRE(MakeDirectories(dir + "/sub/dir").message.empty());
  CHECK(WriteFileAtomic(dir + "/sub", std::string("x")));
  CHECK(system(("test $(ls " + dir + " | wc -l) -eq 2").c_str()) == 0);
  CHECK(Fnv1a64("a", 1) == 0xaf63dc4c8601ec8cull);  // published FNV-1a test vector
  system(("rm -rf " + dir).c_str());
}

}  // namespace
}  // namespace host
}  // namespace descent

namespace descent {
namespace {

TEST_CASE("io/json: 60,000 distinct keys parse in linear time, and the value count is bounded") {
  std::string text = "{";
  for (int i = 0; i < 60000; ++i) text += (i ? ",\"k" : "\"k") + std::to_string(i) + "\":1";
  host::Json json;
  std::string why;
  const clock_t start = clock();
  REQUIRE(host::ParseJson(text + "}", &json, &why, 1 << 20));
  CHECK(static_cast<double>(clock() - start) / CLOCKS_PER_SEC < 1.0);  // quadratic took ~10 s
  CHECK(json.members.size() == 60000);
  CHECK(!host::ParseJson(text + "}", &json, &why, 1000));
  CHECK(why.find("more than 1000 JSON values") != std::string::npos);
  CHECK(!host::ParseJson(text + ",\"k7\":2}", &json, &why, 1 << 20));
  CHECK(why.find("duplicate key \"k7\"") != std::string::npos);
}

TEST_CASE("io/files: a read stops as soon as it exceeds its budget") {
  char path[] = "/tmp/descent_budget_XXXXXX";
  const int fd = mkstemp(path);
  REQUIRE(fd >= 0);
  const std::string block(1 << 20, 'x');
  for (int i = 0; i < 4; ++i) REQUIRE(write(fd, block.data(), block.size()) == static_cast<ssize_t>(block.size()));
  close(fd);
  std::vector<uint8_t> bytes;
  const host::Error e = host::ReadFile(path, 1 << 20, &bytes);
  CHECK(e.message.find(std::string(path) + ": larger than 1048576 bytes") == 0);
  CHECK(bytes.size() <= (1u << 20));
  CHECK(!host::ReadFile(path, 4 << 20, &bytes));
  CHECK(bytes.size() == (4u << 20));
  unlink(path);
}

TEST_CASE("io/checkpoint: a non-finite weight with valid checksums is refused, naming the file") {
  static cli::Session session;
  static cli::Net nan_net;
  internal::Init(nan_net.Ref(), 1);
  nan_net.params()[123] = std::nanf("");
  char dir[] = "/tmp/descent_nan_XXXXXX";
  REQUIRE(mkdtemp(dir));
  const std::string path = std::string(dir) + "/c";
  cli::Checkpoint at;
  REQUIRE(cli::Preset("sgd", &at.optimizer));
  at.batch = 256, at.schedule = "constant", at.clip = cli::DescribeClip(GradClip());
  std::vector<float> buffer(nan_net.num_params());
  float* slots[] = {buffer.data()};
  REQUIRE(!cli::WriteCheckpoint(path, at, nan_net, {1, Sgd::kSlotNames, slots}));
  static cli::Checkpoint read;
  REQUIRE(!cli::ReadCheckpoint(path, &read));  // well-formed, checksums valid
  host::Dataset data;
  REQUIRE(!host::LoadDataset(DESCENT_DATA_DIR "/train-sample.csv", "train", "", &data));
  read.data = cli::DataFingerprint(data);
  cli::TrainConfig config;
  config.optimizer = read.optimizer;
  config.epochs = 1;
  config.resume = &read;
  const cli::TrainResult result = session.Train(config, data, nullptr);
  CHECK(result.error == path + ": holds a non-finite weight (parameter 123)");
  CHECK(result.steps.empty());
  CHECK(session.LoadModel(path, false).message == path + ": holds a non-finite weight (parameter 123)");
  system(("rm -rf " + std::string(dir)).c_str());
}

TEST_CASE("io/checkpoint: a position no run reaches is refused before a schedule is replayed to it") {
  cli::Checkpoint c;
  c.batch = 256;  // 8,000 samples: 32 batches an epoch
  c.epoch = 2, c.next_batch = 5, c.clock.step = 2 * 32 + 5;
  CHECK(!cli::CheckPosition(c, 8000, "c"));
  CHECK(cli::EpochsDone(c, 8000) == 2);
  c.next_batch = 32, c.clock.step = 3 * 32;
  CHECK(cli::EpochsDone(c, 8000) == 3);
  c.clock.step = UINT64_MAX;  // would replay a schedule for centuries
  CHECK(cli::CheckPosition(c, 8000, "c").message == "c: is inconsistent: step 18446744073709551615 is not epoch 2 of 32 batches plus 32");
  c.clock.step = 2 * 32 + 33, c.next_batch = 33;
  CHECK(cli::CheckPosition(c, 8000, "c"));
}

}  // namespace
}  // namespace descent

namespace descent {
namespace {

bool Contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

TEST_CASE("io.h: models round trip as SimpleNet safetensors; torch's files load; corruption is refused") {
  char dir[] = "/tmp/descent_ioh_XXXXXX";
  REQUIRE(mkdtemp(dir));
  const std::string path = std::string(dir) + "/m.safetensors";
  using Reg = Model<Sizes<10, 16, 1>, Tanh, Mse>;
  static Reg a, b;
  Init(a, 5);
  REQUIRE(!io::Save(path, a));
  REQUIRE(!io::Load(path, &b));
  CHECK(memcmp(a.params(), b.params(), sizeof(float) * Reg::kNumParams) == 0);
  // Another shape is refused by name and shape, and leaves the model alone.
  static Model<Sizes<10, 8, 1>, Tanh, Mse> other;
  const io::Error wrong = io::Load(path, &other);
  CHECK(Contains(wrong.message, path));
  CHECK(Contains(wrong.message, "linears.0.weight"));
  // A flipped bit in the data: the tensors' checksum.
  std::vector<uint8_t> bytes;
  REQUIRE(!host::ReadFile(path, 1 << 20, &bytes));
  bytes[bytes.size() - 3] ^= 1;
  REQUIRE(!host::WriteFileAtomic(path, std::string(bytes.begin(), bytes.end())));
  CHECK(Contains(io::Load(path, &b).message, "checksum does not match"));
  // torch's own file (no checksums): the notebook's model, written by tests/golden/make_golden.py.
  static Mlp<784, 100, 100, 10> notebook;
  REQUIRE(!io::Load(DESCENT_GOLDEN_DIR "/mlp_torch_init.safetensors", &notebook));
  CHECK(notebook.params()[0] != 0.0f);
  // A frozen model writes its whole model and loads its trained layers.
  using Tuned = Model<Sizes<784, 100, 100, 10>, Relu, Nll, Frozen<2>>;
  static Tuned tuned;
  tuned.set_frozen_params(notebook.params());
  REQUIRE(!io::Load(DESCENT_GOLDEN_DIR "/mlp_torch_init.safetensors", &tuned));
  CHECK(memcmp(tuned.params(), notebook.params() + Tuned::kNumFrozen, sizeof(float) * Tuned::kNumTrainable) == 0);
  REQUIRE(!io::Save(path, tuned));
  static Mlp<784, 100, 100, 10> whole;
  REQUIRE(!io::Load(path, &whole));
  CHECK(memcmp(whole.params(), notebook.params(), sizeof(float) * Tuned::kNumParams) == 0);
  system(("rm -rf " + std::string(dir)).c_str());
}

}  // namespace
}  // namespace descent
