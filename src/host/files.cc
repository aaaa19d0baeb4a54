// Bounded reads through zlib; writes with the semantics of files.h.
#include "src/host/files.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>

namespace descent {
namespace host {

namespace {
char g_reading[256];
}  // namespace

void NoteReading(const std::string& path) {
  const size_t n = path.size() < sizeof(g_reading) - 1 ? path.size() : sizeof(g_reading) - 1;
  memcpy(g_reading, path.data(), n);
  g_reading[n] = '\0';
}
const char* Reading() { return g_reading; }
namespace {

std::string Why() { return strerror(errno); }

// "a/b" -> "a", "b" -> ".".
std::string DirName(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}
std::string BaseName(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// Follows symbolic links to the file they finally name (which may not exist yet).
Error ResolveLinks(const std::string& path, std::string* target) {
  *target = path;
  for (int hops = 0; hops < 40; ++hops) {
    struct stat st;
    if (lstat(target->c_str(), &st) != 0 || !S_ISLNK(st.st_mode)) return Error{};
    char buf[PATH_MAX];
    const ssize_t n = readlink(target->c_str(), buf, sizeof(buf) - 1);
    if (n < 0) return Fail(path, "cannot read the symbolic link: " + Why());
    const std::string link(buf, static_cast<size_t>(n));
    *target = link[0] == '/' ? link : DirName(*target) + "/" + link;
  }
  return Fail(path, "too many levels of symbolic links");
}

// A kind of file, for messages.
const char* KindOf(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISFIFO(mode)) return "a pipe";
  return "a file";
}

// Our temporaries: "<file>.tmp.<pid>.XXXXXX".
std::string TempPattern(const std::string& target) {
  return target + ".tmp." + std::to_string(getpid()) + ".XXXXXX";
}

// Removes temporaries of `target` whose writer is gone (killed mid-write).
void RemoveStaleTemporaries(const std::string& target) {
  const std::string dir = DirName(target), prefix = BaseName(target) + ".tmp.";
  DIR* d = opendir(dir.c_str());
  if (!d) return;
  while (const dirent* entry = readdir(d)) {
    const std::string name = entry->d_name;
    if (name.compare(0, prefix.size(), prefix) != 0) continue;
    const std::string rest = name.substr(prefix.size());  // "<pid>.XXXXXX"
    const size_t dot = rest.find('.');
    if (dot == std::string::npos || dot == 0 || rest.size() != dot + 7) continue;
    if (rest.find_first_not_of("0123456789") != dot) continue;
    const long pid = strtol(rest.c_str(), nullptr, 10);
    if (pid > 0 && kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) unlink((dir + "/" + name).c_str());
  }
  closedir(d);
}

Error WriteAll(int fd, const std::string& path, const void* bytes, size_t size) {
  const uint8_t* p = static_cast<const uint8_t*>(bytes);
  while (size > 0) {
    const ssize_t n = write(fd, p, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Fail(path, "write failed: " + (n == 0 ? std::string("no progress") : Why()));
    p += n;
    size -= static_cast<size_t>(n);
  }
  return Error{};
}

mode_t NewFileMode() {
  const mode_t mask = umask(0);
  umask(mask);
  return 0666 & ~mask;
}

}  // namespace

Error Fail(const std::string& path, const std::string& problem) { return Error{path + ": " + problem}; }

Error CheckReadable(const std::string& path) {
  if (path.empty()) return Error{"an empty file name"};
  struct stat st;
  if (stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return Fail(path, "cannot open: no such file or directory");
    return Fail(path, "cannot open: " + Why());  // ELOOP, EACCES, ENOTDIR, ...
  }
  if (S_ISREG(st.st_mode) || S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode)) {
    if (access(path.c_str(), R_OK) != 0) return Fail(path, "cannot read: " + Why());
    return Error{};
  }
  return Fail(path, std::string("is ") + KindOf(st.st_mode) + ", expected a file");
}

GzipReader::~GzipReader() {
  if (file_) gzclose(static_cast<gzFile>(file_));
}

Error GzipReader::Open(const std::string& path) {
  if (Error e = CheckReadable(path)) return e;
  path_ = path;
  struct stat st;
  const bool regular = stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
  if (regular) {  // the size hint: the file's, or gzip's length field (mod 2^32) bounded by deflate's ratio
    hint_ = static_cast<size_t>(st.st_size);
    if (FILE* raw = fopen(path.c_str(), "rb")) {
      uint8_t magic[2] = {0, 0}, tail[4];
      if (fread(magic, 1, 2, raw) == 2 && magic[0] == 0x1f && magic[1] == 0x8b && st.st_size >= 18 &&
          fseek(raw, -4, SEEK_END) == 0 && fread(tail, 1, 4, raw) == 4) {
        const size_t stated = tail[0] | (size_t{tail[1]} << 8) | (size_t{tail[2]} << 16) | (size_t{tail[3]} << 24);
        hint_ = std::min(stated, static_cast<size_t>(st.st_size) * 1032);
      }
      fclose(raw);
    }
  }
  file_ = gzopen(path.c_str(), "rb");
  if (!file_) return Fail(path, "cannot open: " + Why());
  return Error{};
}

size_t GzipReader::ExpectedSize(size_t cap) const { return std::min(hint_, cap); }

Error GzipReader::Read(void* dst, size_t n, size_t* got) {
  *got = 0;
  gzFile f = static_cast<gzFile>(file_);
  while (*got < n) {
    const unsigned want = static_cast<unsigned>(std::min<size_t>(n - *got, 1u << 30));
    const int r = gzread(f, static_cast<uint8_t*>(dst) + *got, want);
    int code = 0;
    const char* what = gzerror(f, &code);
    if (r < 0 || (r == 0 && code != Z_OK)) return Fail(path_, std::string("truncated or corrupt gzip data (") + what + ")");
    if (r == 0) break;
    *got += static_cast<size_t>(r);
  }
  return Error{};
}

Error ReadFile(const std::string& path, size_t max_bytes, std::vector<uint8_t>* out) {
  GzipReader reader;
  if (Error e = reader.Open(path)) return e;
  out->clear();
  // Reserving the final size avoids growth by doubling (1.5x the data held briefly).
  out->reserve(reader.ExpectedSize(max_bytes));
  uint8_t chunk[1 << 16];
  for (;;) {
    size_t n = 0;
    if (Error e = reader.Read(chunk, sizeof(chunk), &n)) return e;
    if (n == 0) return Error{};
    if (out->size() + n > max_bytes)
      return Fail(path, "larger than " + std::to_string(max_bytes) + " bytes, the most this reader takes");
    out->insert(out->end(), chunk, chunk + n);
  }
}

Error CheckWritable(const std::string& path) {
  if (path.empty()) return Error{"an empty output file name"};
  std::string target;
  if (Error e = ResolveLinks(path, &target)) return e;
  struct stat st;
  if (stat(target.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) return Fail(path, "is a directory, expected a file name");
    if (!S_ISREG(st.st_mode)) return access(target.c_str(), W_OK) == 0 ? Error{} : Fail(path, "cannot write: " + Why());
  }
  const std::string dir = DirName(target);
  if (stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    return Fail(path, "cannot be written: the directory " + dir + " does not exist");
  if (access(dir.c_str(), W_OK | X_OK) != 0) return Fail(path, "cannot be written in " + dir + ": " + Why());
  return Error{};
}

bool SameFile(const std::string& a, const std::string& b) {
  std::string ta, tb;
  if (ResolveLinks(a, &ta) || ResolveLinks(b, &tb)) return false;
  struct stat sa, sb;
  const bool ea = stat(ta.c_str(), &sa) == 0, eb = stat(tb.c_str(), &sb) == 0;
  if ((ea && !S_ISREG(sa.st_mode)) || (eb && !S_ISREG(sb.st_mode))) return false;  // /dev/null twice is fine
  if (ea && eb) return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
  if (ea || eb) return false;
  // Neither exists yet: the same name in the same directory.
  char da[PATH_MAX], db[PATH_MAX];
  return realpath(DirName(ta).c_str(), da) && realpath(DirName(tb).c_str(), db) && strcmp(da, db) == 0 &&
         BaseName(ta) == BaseName(tb);
}

Error WriteFileAtomic(const std::string& path, const void* bytes, size_t size) {
  if (Error e = CheckWritable(path)) return e;
  std::string target;
  if (Error e = ResolveLinks(path, &target)) return e;
  struct stat st;
  const bool exists = stat(target.c_str(), &st) == 0;
  if (exists && !S_ISREG(st.st_mode)) {  // /dev/null, /dev/stdout, a pipe: write to it
    const int fd = open(target.c_str(), O_WRONLY | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) return Fail(path, "cannot open: " + Why());
    Error e = WriteAll(fd, path, bytes, size);
    if (close(fd) != 0 && !e) e = Fail(path, "close failed: " + Why());
    return e;
  }
  RemoveStaleTemporaries(target);
  std::string tmp = TempPattern(target);
  const int fd = mkostemp(&tmp[0], O_CLOEXEC);
  if (fd < 0) return Fail(path, "cannot create a temporary file: " + Why());
  auto abandon = [&](const std::string& what) {
    close(fd);
    unlink(tmp.c_str());
    return Fail(path, what);
  };
  if (Error e = WriteAll(fd, path, bytes, size)) return abandon(e.message.substr(path.size() + 2));
  if (fchmod(fd, exists ? (st.st_mode & 07777) : NewFileMode()) != 0) return abandon("cannot set the mode: " + Why());
  if (exists && geteuid() == 0) (void)!fchown(fd, st.st_uid, st.st_gid);  // root keeps the owner too
  if (fsync(fd) != 0) return abandon("flush failed: " + Why());
  if (close(fd) != 0) {
    const std::string why = Why();
    unlink(tmp.c_str());
    return Fail(path, "flush failed: " + why);
  }
  if (rename(tmp.c_str(), target.c_str()) != 0) {
    const std::string why = Why();
    unlink(tmp.c_str());
    return Fail(path, "cannot replace: " + why);
  }
  const int dir = open(DirName(target).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) (void)fsync(dir), close(dir);  // the rename itself survives a crash
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
  if (path.empty()) return Error{"an empty directory name"};
  for (size_t at = 1; at <= path.size(); ++at) {
    if (at != path.size() && path[at] != '/') continue;
    const std::string prefix = path.substr(0, at);
    if (mkdir(prefix.c_str(), 0777) != 0 && errno != EEXIST)
      return Fail(prefix, "cannot create directory: " + Why());
  }
  if (!IsDirectory(path)) return Fail(path, "exists and is not a directory");
  if (access(path.c_str(), W_OK | X_OK) != 0) return Fail(path, "cannot write in this directory: " + Why());
  return Error{};
}

uint64_t Fnv1a64(const void* bytes, size_t size) {
  const uint8_t* p = static_cast<const uint8_t*>(bytes);
  uint64_t h = 0xcbf29ce484222325ull;
  for (size_t i = 0; i < size; ++i) h = (h ^ p[i]) * 0x100000001b3ull;
  return h;
}

}  // namespace host
}  // namespace descent
