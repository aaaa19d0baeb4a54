// Host-side file helpers (these may allocate): whole-file reads through zlib
// (gzip'd or plain, transparently) and atomic writes.
#ifndef DESCENT_SRC_HOST_FILES_H_
#define DESCENT_SRC_HOST_FILES_H_

#include <stddef.h>
#include <stdint.h>

#include <string>
#include <vector>

namespace descent {
namespace host {

// A message naming the file and the problem; empty means success.
struct [[nodiscard]] Error {
  std::string message;
  explicit operator bool() const { return !message.empty(); }
};
Error Fail(const std::string& path, const std::string& problem);

// Reads all of `path`, decompressing gzip if it is gzip'd. Refuses more than
// max_bytes of content and reports corrupt or truncated gzip streams.
Error ReadFile(const std::string& path, size_t max_bytes, std::vector<uint8_t>* out);

// Writes `bytes` to `path` atomically: a temporary file in the same
// directory, flushed and fsync'd, renamed over the target. On failure the
// previous file is untouched and the temporary removed.
Error WriteFileAtomic(const std::string& path, const void* bytes, size_t size);
inline Error WriteFileAtomic(const std::string& path, const std::string& text) {
  return WriteFileAtomic(path, text.data(), text.size());
}

bool IsDirectory(const std::string& path);
bool IsFile(const std::string& path);
Error MakeDirectories(const std::string& path);

// 64-bit FNV-1a over bytes.
uint64_t Fnv1a64(const void* bytes, size_t size);

}  // namespace host
}  // namespace descent

#endif  // DESCENT_SRC_HOST_FILES_H_
