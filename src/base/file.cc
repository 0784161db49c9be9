#include "base/file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <system_error>

namespace berth {

Result<UniqueFd> OpenFile(const std::string& path, int flags, int mode) {
  int fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);
  if (fd < 0) return ErrnoError("open " + path);
  return UniqueFd(fd);
}

Result<std::string> ReadFile(const std::string& path) {
  BERTH_ASSIGN_OR_RETURN(UniqueFd fd, OpenFile(path, O_RDONLY));
  std::string out;
  char buf[65536];
  while (true) {
    ssize_t n = ::read(fd.get(), buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError("read " + path);
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

Status WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError("write");
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Ok();
}

Status FsyncDir(const std::string& dir) {
  BERTH_ASSIGN_OR_RETURN(UniqueFd fd, OpenFile(dir, O_RDONLY | O_DIRECTORY));
  if (::fsync(fd.get()) != 0) return ErrnoError("fsync " + dir);
  return Ok();
}

namespace {

Status Replace(const std::string& path, std::string_view data, int mode, bool durable) {
  std::filesystem::path p(path);
  std::string dir = p.parent_path().empty() ? "." : p.parent_path().string();
  std::string tmp = dir + "/." + p.filename().string() + ".tmp" + std::to_string(::getpid());
  {
    BERTH_ASSIGN_OR_RETURN(UniqueFd fd, OpenFile(tmp, O_WRONLY | O_CREAT | O_TRUNC, mode));
    Status st = WriteAll(fd.get(), data);
    if (st && durable && ::fsync(fd.get()) != 0) st = ErrnoError("fsync " + tmp);
    if (!st) {
      ::unlink(tmp.c_str());
      return std::move(st).error().WithContext("write " + path);
    }
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    Error e = ErrnoError("rename " + tmp + " to " + path);
    ::unlink(tmp.c_str());
    return e;
  }
  return durable ? FsyncDir(dir) : Ok();
}

}  // namespace

Status WriteFileAtomic(const std::string& path, std::string_view data, int mode) {
  return Replace(path, data, mode, /*durable=*/true);
}

Status ReplaceFile(const std::string& path, std::string_view data, int mode) {
  return Replace(path, data, mode, /*durable=*/false);
}

Status MakeDirs(const std::string& path, int mode) {
  if (path.empty()) return MakeError(Code::kInvalidArgument, "mkdir: empty path");
  size_t pos = 0;
  while (pos != std::string::npos) {
    pos = path.find('/', pos + 1);
    std::string part = path.substr(0, pos);
    if (::mkdir(part.c_str(), static_cast<mode_t>(mode)) != 0 && errno != EEXIST) {
      return ErrnoError("mkdir " + part);
    }
  }
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return ErrnoError("stat " + path);
  if (!S_ISDIR(st.st_mode)) return ErrnoError("mkdir " + path, ENOTDIR);
  return Ok();
}

Status RemoveAll(const std::string& path) {
  std::error_code ec;
  std::filesystem::remove_all(path, ec);
  if (ec) return ErrnoError("remove " + path, ec.value());
  return Ok();
}

bool PathExists(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

}  // namespace berth
