// Host-side file helpers (these may allocate): bounded reads through zlib
// (gzip'd or plain, transparently) and writes that behave as a careful Unix
// tool's: atomic for regular files, in place for devices and pipes.
#ifndef DESCENT_SRC_HOST_FILES_H_
#define DESCENT_SRC_HOST_FILES_H_

#include <stddef.h>
#include <stdint.h>

#include <string>
#include <vector>

namespace descent {
namespace host {

// The input being read, for the one message an allocation failure can give (the new-handler
// cannot allocate to build one): NoteReading(path) keeps its first 255 bytes.
void NoteReading(const std::string& path);
const char* Reading();  // "" when nothing is noted

// A message naming the file and the problem; empty means success.
struct [[nodiscard]] Error {
  std::string message;
  explicit operator bool() const { return !message.empty(); }
};
Error Fail(const std::string& path, const std::string& problem);

// Whether `path` can be read as a stream of bytes (a regular file, a pipe or a
// character device); otherwise what it is ("no such file or directory", "is a
// directory", "too many levels of symbolic links", ...).
Error CheckReadable(const std::string& path);

// Reads a file, gunzipping it if it is gzip'd.
class GzipReader {
 public:
  GzipReader() = default;
  GzipReader(const GzipReader&) = delete;
  GzipReader& operator=(const GzipReader&) = delete;
  ~GzipReader();
  Error Open(const std::string& path);
  // Up to n bytes into dst; *got < n only at the end. Corrupt or truncated gzip is an error.
  Error Read(void* dst, size_t n, size_t* got);
  // The size the data will have, as far as it can be known without reading it (0: unknown);
  // never more than `cap`. (gzip's length field is untrusted: bounded by deflate's ratio.)
  size_t ExpectedSize(size_t cap) const;

 private:
  std::string path_;
  void* file_ = nullptr;  // gzFile
  size_t hint_ = 0;
};

// Reads all of `path`. Refuses more than max_bytes of content as soon as
// it is exceeded: no more than max_bytes + 64 KiB is ever held.
Error ReadFile(const std::string& path, size_t max_bytes, std::vector<uint8_t>* out);

// Writes `bytes` to `path`. A symbolic link is followed and its target
// written; a device, pipe or terminal is written in place; a regular file is
// replaced atomically (a temporary in its directory, fsync'd, renamed over it,
// the directory fsync'd) and keeps its mode (a new one: 0666 & ~umask).
// Temporaries that a killed run of this program left for the same file are
// removed. On failure the previous file is untouched.
Error WriteFileAtomic(const std::string& path, const void* bytes, size_t size);
inline Error WriteFileAtomic(const std::string& path, const std::string& text) {
  return WriteFileAtomic(path, text.data(), text.size());
}
// What WriteFileAtomic would refuse, checked before any work: a missing or
// unwritable directory, a directory in the file's place, an empty name.
Error CheckWritable(const std::string& path);
// Whether two paths name the same regular file (after links), for outputs that
// would overwrite inputs; a path that does not exist yet compares by its location.
// Devices and pipes are never the same file (writing one destroys nothing).
bool SameFile(const std::string& a, const std::string& b);

bool IsDirectory(const std::string& path);
bool IsFile(const std::string& path);
Error MakeDirectories(const std::string& path);

// 64-bit FNV-1a over bytes.
uint64_t Fnv1a64(const void* bytes, size_t size);

}  // namespace host
}  // namespace descent

#endif  // DESCENT_SRC_HOST_FILES_H_
