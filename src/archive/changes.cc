#include "archive/changes.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <algorithm>
#include <optional>
#include <set>

#include "base/unique_fd.h"
#include "sys/syscalls.h"

namespace berth::archive {
namespace {

bool IsWhiteout(const struct stat& st) {
  return S_ISCHR(st.st_mode) && major(st.st_rdev) == 0 && minor(st.st_rdev) == 0;
}

std::string ParentOf(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == 0 ? std::string("/") : path.substr(0, slash);
}

class Walker {
 public:
  Walker(const std::vector<int>& lowers, const std::vector<std::string>& exclude,
         sys::Syscalls& sys)
      : lowers_(lowers), exclude_(exclude), sys_(sys) {}

  // lstat of `path` (absolute) in the first lower layer that has it.
  Result<std::optional<struct stat>> LowerStat(const std::string& path) {
    for (int lower : lowers_) {
      sys::OpenHow how;
      how.flags = O_PATH | O_NOFOLLOW | O_CLOEXEC;
      how.resolve = sys::kResolveInRoot | sys::kResolveNoMagiclinks;
      Result<UniqueFd> fd = sys_.Openat2(lower, path.substr(1), how);
      if (!fd) {
        int e = fd.error().sys_errno;
        if (e == ENOENT || e == ENOTDIR) continue;
        return std::move(fd).error().WithContext("changes: lower " + path);
      }
      Result<struct stat> st = sys_.Fstatat(fd->get(), "", AT_EMPTY_PATH);
      if (!st) return std::move(st).error().WithContext("changes: lower " + path);
      // A whiteout in a lower layer means the path is absent below it.
      if (IsWhiteout(*st)) return std::optional<struct stat>();
      return std::optional<struct stat>(*st);
    }
    return std::optional<struct stat>();
  }

  Status Walk(int dirfd, const std::string& dir) {
    BERTH_ASSIGN_OR_RETURN(std::vector<std::string> names, sys_.ReadDirNames(dirfd));
    std::sort(names.begin(), names.end());
    for (const std::string& name : names) {
      if (name == "." || name == "..") continue;
      std::string path = (dir == "/" ? "" : dir) + "/" + name;
      if (std::find(exclude_.begin(), exclude_.end(), path) != exclude_.end()) continue;
      Result<struct stat> st = sys_.Fstatat(dirfd, name, AT_SYMLINK_NOFOLLOW);
      if (!st) return std::move(st).error().WithContext("changes: " + path);
      bool is_dir = S_ISDIR(st->st_mode);
      Change change{path, ChangeKind::kAdd};
      bool skip = false;
      if (IsWhiteout(*st)) {
        change.kind = ChangeKind::kDelete;
      } else {
        BERTH_ASSIGN_OR_RETURN(std::optional<struct stat> lower, LowerStat(path));
        if (lower) {
          if (is_dir && S_ISDIR(lower->st_mode) && st->st_size == lower->st_size &&
              st->st_mode == lower->st_mode && st->st_mtim.tv_sec == lower->st_mtim.tv_sec &&
              st->st_mtim.tv_nsec == lower->st_mtim.tv_nsec) {
            skip = true;
          }
          change.kind = ChangeKind::kModify;
        }
      }
      if (is_dir) changed_dirs_.insert(path);
      if (!skip) {
        if (change.kind != ChangeKind::kModify) {
          std::string parent = ParentOf(path);
          if (parent != "/" && changed_dirs_.insert(parent).second) {
            changes_.push_back({parent, ChangeKind::kModify});
          }
        }
        changes_.push_back(change);
      }
      if (is_dir) {
        sys::OpenHow how;
        how.flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
        how.resolve = sys::kResolveBeneath | sys::kResolveNoSymlinks;
        BERTH_ASSIGN_OR_RETURN(UniqueFd sub, sys_.Openat2(dirfd, name, how));
        BERTH_RETURN_IF_ERROR(Walk(sub.get(), path));
      }
    }
    return Ok();
  }

  std::vector<Change> Take() { return std::move(changes_); }

 private:
  const std::vector<int>& lowers_;
  const std::vector<std::string>& exclude_;
  sys::Syscalls& sys_;
  std::set<std::string> changed_dirs_;
  std::vector<Change> changes_;
};

}  // namespace

Result<std::vector<Change>> OverlayChanges(int upper_dirfd, const std::vector<int>& lower_dirfds,
                                           const std::vector<std::string>& exclude,
                                           sys::Syscalls& sys) {
  sys::OpenHow how;
  how.flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC;
  BERTH_ASSIGN_OR_RETURN(UniqueFd root, sys.Openat2(upper_dirfd, ".", how));
  Walker walker(lower_dirfds, exclude, sys);
  BERTH_RETURN_IF_ERROR(walker.Walk(root.get(), "/"));
  return walker.Take();
}

}  // namespace berth::archive
