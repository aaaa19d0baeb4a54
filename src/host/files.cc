// Whole-file reads through zlib and atomic writes.
#include "src/host/files.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

namespace descent {
namespace host {

Error Fail(const std::string& path, const std::string& problem) {
  return Error{path + ": " + problem};
}

Error ReadFile(const std::string& path, size_t max_bytes, std::vector<uint8_t>* out) {
  if (IsDirectory(path)) return Fail(path, "is a directory, expected a file");
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f) return Fail(path, std::string("cannot open: ") + strerror(errno));
  out->clear();
  // Reserve the final size up front (gzip stores it, mod 2^32, in its last 4 bytes):
  // growing by doubling would briefly hold 1.5x the data.
  struct stat st;
  if (stat(path.c_str(), &st) == 0 && st.st_size > 0) {
    size_t expected = static_cast<size_t>(st.st_size);
    if (FILE* raw = fopen(path.c_str(), "rb")) {
      uint8_t magic[2] = {0, 0}, tail[4];
      if (fread(magic, 1, 2, raw) == 2 && magic[0] == 0x1f && magic[1] == 0x8b && st.st_size >= 18 &&
          fseek(raw, -4, SEEK_END) == 0 && fread(tail, 1, 4, raw) == 4)
        expected = tail[0] | (size_t{tail[1]} << 8) | (size_t{tail[2]} << 16) | (size_t{tail[3]} << 24);
      fclose(raw);
    }
    out->reserve(std::min(expected, max_bytes));
  }
  uint8_t chunk[1 << 16];
  Error error;
  for (;;) {
    const int n = gzread(f, chunk, sizeof(chunk));
    if (n < 0) {
      int code = 0;
      const char* what = gzerror(f, &code);
      error = Fail(path, std::string("corrupt gzip data (") + what + ")");
      break;
    }
    if (n == 0) {
      int code = 0;
      const char* what = gzerror(f, &code);
      if (code != Z_OK) error = Fail(path, std::string("truncated or corrupt gzip data (") + what + ")");
      break;
    }
    if (out->size() + static_cast<size_t>(n) > max_bytes) {
      error = Fail(path, "larger than " + std::to_string(max_bytes) + " bytes, refusing to read it");
      break;
    }
    out->insert(out->end(), chunk, chunk + n);
  }
  gzclose(f);
  return error;
}

Error WriteFileAtomic(const std::string& path, const void* bytes, size_t size) {
  std::string tmp = path + ".tmp.XXXXXX";
  const int fd = mkstemp(&tmp[0]);
  if (fd < 0) return Fail(path, std::string("cannot create a temporary file: ") + strerror(errno));
  const uint8_t* p = static_cast<const uint8_t*>(bytes);
  size_t left = size;
  while (left > 0) {
    const ssize_t n = write(fd, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const std::string why = strerror(errno);
      close(fd);
      unlink(tmp.c_str());
      return Fail(path, "write failed: " + why);
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
  fchmod(fd, 0644);
  if (fsync(fd) != 0 || close(fd) != 0) {
    const std::string why = strerror(errno);
    unlink(tmp.c_str());
    return Fail(path, "flush failed: " + why);
  }
  if (rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string why = strerror(errno);
    unlink(tmp.c_str());
    return Fail(path, "cannot replace: " + why);
  }
  return Error{};
}

bool IsDirectory(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

bool IsFile(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

Error MakeDirectories(const std::string& path) {
  for (size_t at = 1; at <= path.size(); ++at) {
    if (at != path.size() && path[at] != '/') continue;
    const std::string prefix = path.substr(0, at);
    if (mkdir(prefix.c_str(), 0755) != 0 && errno != EEXIST)
      return Fail(prefix, std::string("cannot create directory: ") + strerror(errno));
  }
  return IsDirectory(path) ? Error{} : Fail(path, "exists and is not a directory");
}

uint64_t Fnv1a64(const void* bytes, size_t size) {
  const uint8_t* p = static_cast<const uint8_t*>(bytes);
  uint64_t h = 0xcbf29ce484222325ull;
  for (size_t i = 0; i < size; ++i) h = (h ^ p[i]) * 0x100000001b3ull;
  return h;
}

}  // namespace host
}  // namespace descent
