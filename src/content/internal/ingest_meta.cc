#include "content/internal/ingest_meta.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>

#include "base/file.h"
#include "base/strings.h"

namespace berth::content::internal {
namespace {

bool ParseInt(std::string_view s, int64_t* out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size();
}

}  // namespace

std::string FormatExpectation(const Expectation& e) {
  return (e.digest ? e.digest->ToString() : std::string("-")) + " " + std::to_string(e.size);
}

Result<Expectation> ParseExpectation(const std::string& text) {
  auto parts = Split(TrimSpace(text), ' ');
  if (parts.size() != 2)
    return MakeError(Code::kDataLoss, "malformed expectation \"" + text + "\"");
  Expectation e;
  if (parts[0] != "-") {
    BERTH_ASSIGN_OR_RETURN(e.digest, oci::Digest::Parse(parts[0]));
  }
  if (!ParseInt(parts[1], &e.size) || e.size < -1) {
    return MakeError(Code::kDataLoss, "malformed expected size \"" + parts[1] + "\"");
  }
  return e;
}

Result<int64_t> ReadNanosFile(const std::string& path) {
  BERTH_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  int64_t v = 0;
  if (!ParseInt(TrimSpace(text), &v))
    return MakeError(Code::kDataLoss, "malformed time in " + path);
  return v;
}

Result<UniqueFd> OpenAndLockData(const std::string& ingest_dir, const std::string& ref,
                                 bool create) {
  const std::string data = ingest_dir + "/data";
  BERTH_ASSIGN_OR_RETURN(UniqueFd fd, OpenFile(data, O_RDWR | (create ? O_CREAT : 0), 0644));
  while (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
    if (errno == EINTR) continue;
    if (errno == EWOULDBLOCK) {
      return MakeError(Code::kUnavailable, "ingest \"" + ref + "\": ref locked");
    }
    return ErrnoError("flock " + data);
  }
  // Between open and flock a concurrent Abort/GC may have renamed the directory away: the lock
  // is only meaningful if the file is still the one at the path.
  struct stat by_fd {
  }, by_path{};
  if (::fstat(fd.get(), &by_fd) != 0) return ErrnoError("fstat " + data);
  if (::stat(data.c_str(), &by_path) != 0 || by_fd.st_ino != by_path.st_ino ||
      by_fd.st_dev != by_path.st_dev) {
    return ErrnoError("ingest \"" + ref + "\" removed while opening", ENOENT);
  }
  return fd;
}

Status RemoveIngestDir(const std::string& ingest_root, const std::string& ingest_dir) {
  const std::string trash = ingest_root + "/.trash-" + RandomHex(8);
  if (::rename(ingest_dir.c_str(), trash.c_str()) != 0) {
    return ErrnoError("rename " + ingest_dir + " to " + trash);
  }
  return RemoveAll(trash);
}

}  // namespace berth::content::internal
