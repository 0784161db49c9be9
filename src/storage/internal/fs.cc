#include "storage/internal/fs.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace berth::storage::internal {

Result<UniqueFd> OpenAt(int dir, const std::string& rel, int flags, int mode) {
  int fd = ::openat(dir, rel.c_str(), flags | O_CLOEXEC | O_NOFOLLOW, static_cast<mode_t>(mode));
  if (fd < 0) return ErrnoError("open " + rel);
  return UniqueFd(fd);
}

Result<bool> MakeDirAt(int dir, const std::string& rel, int mode) {
  if (::mkdirat(dir, rel.c_str(), static_cast<mode_t>(mode)) == 0) return true;
  if (errno != EEXIST) return ErrnoError("mkdir " + rel);
  struct stat st {};
  if (::fstatat(dir, rel.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) return ErrnoError("stat " + rel);
  if (!S_ISDIR(st.st_mode)) return ErrnoError("mkdir " + rel, ENOTDIR);
  return false;
}

Status FsyncDirAt(int dir, const std::string& rel) {
  BERTH_ASSIGN_OR_RETURN(UniqueFd fd, OpenAt(dir, rel, O_RDONLY | O_DIRECTORY));
  if (::fsync(fd.get()) != 0) return ErrnoError("fsync " + rel);
  return Ok();
}

Result<std::vector<std::string>> ListDirAt(int dir, const std::string& rel) {
  BERTH_ASSIGN_OR_RETURN(UniqueFd fd, OpenAt(dir, rel, O_RDONLY | O_DIRECTORY));
  DIR* d = ::fdopendir(fd.get());
  if (d == nullptr) return ErrnoError("opendir " + rel);
  fd.release();  // owned by `d` now
  std::vector<std::string> names;
  while (true) {
    errno = 0;
    struct dirent* e = ::readdir(d);
    if (e == nullptr) {
      int err = errno;
      ::closedir(d);
      if (err != 0) return ErrnoError("readdir " + rel, err);
      break;
    }
    std::string_view name = e->d_name;
    if (name == "." || name == "..") continue;
    names.emplace_back(name);
  }
  std::sort(names.begin(), names.end());
  return names;
}

Status RemoveAt(int dir, const std::string& rel) {
  if (::unlinkat(dir, rel.c_str(), 0) == 0) return Ok();
  if (errno != EISDIR) return ErrnoError("remove " + rel);
  // A directory (unlinkat does not follow symlinks, so this is a real one): empty it first.
  BERTH_ASSIGN_OR_RETURN(UniqueFd sub, OpenAt(dir, rel, O_RDONLY | O_DIRECTORY));
  BERTH_ASSIGN_OR_RETURN(std::vector<std::string> names, ListDirAt(sub.get(), "."));
  for (const std::string& name : names) {
    Status st = RemoveAt(sub.get(), name);
    if (!st && st.error().code != Code::kNotFound) {
      return std::move(st).error().WithContext("remove " + rel);
    }
  }
  if (::unlinkat(dir, rel.c_str(), AT_REMOVEDIR) != 0) return ErrnoError("rmdir " + rel);
  return Ok();
}

Result<bool> RenameNoReplaceAt(int dir, const std::string& from, const std::string& to) {
  if (::renameat2(dir, from.c_str(), dir, to.c_str(), RENAME_NOREPLACE) == 0) return true;
  if (errno == EEXIST) return false;
  if (errno != EINVAL) return ErrnoError("rename " + from + " to " + to);
  // A file system without RENAME_NOREPLACE. Blobs are content-addressed, so replacing an
  // existing one with the same bytes is harmless; the check only saves the rename.
  struct stat st {};
  if (::fstatat(dir, to.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) return false;
  if (::renameat(dir, from.c_str(), dir, to.c_str()) != 0) {
    return ErrnoError("rename " + from + " to " + to);
  }
  return true;
}

Status PwriteAll(int fd, std::string_view data, int64_t offset) {
  while (!data.empty()) {
    ssize_t n = ::pwrite(fd, data.data(), data.size(), static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError("write");
    }
    data.remove_prefix(static_cast<size_t>(n));
    offset += n;
  }
  return Ok();
}

Status HashPrefix(int fd, int64_t size, oci::Digester& digester) {
  std::vector<char> buf(1 << 20);
  int64_t at = 0;
  while (at < size) {
    size_t want = static_cast<size_t>(std::min<int64_t>(size - at, std::ssize(buf)));
    ssize_t n = ::pread(fd, buf.data(), want, static_cast<off_t>(at));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError("read");
    }
    if (n == 0) {
      return MakeError(Code::kDataLoss, "file ends at " + std::to_string(at) + " bytes, expected " +
                                            std::to_string(size));
    }
    digester.Update(buf.data(), static_cast<size_t>(n));
    at += n;
  }
  return Ok();
}

}  // namespace berth::storage::internal
