#include "archive/internal/tree.h"

#include <fcntl.h>

#include <cerrno>

namespace berth::archive::internal {

std::string CleanRootedPath(std::string_view path) {
  std::vector<std::string_view> parts;
  size_t pos = 0;
  while (pos <= path.size()) {
    size_t slash = path.find('/', pos);
    if (slash == std::string_view::npos) slash = path.size();
    std::string_view part = path.substr(pos, slash - pos);
    if (part == "..") {
      if (!parts.empty()) parts.pop_back();  // ".." at the root stays at the root
    } else if (!part.empty() && part != ".") {
      parts.push_back(part);
    }
    pos = slash + 1;
  }
  std::string out;
  for (std::string_view p : parts) {
    if (!out.empty()) out += '/';
    out += p;
  }
  return out;
}

std::pair<std::string_view, std::string_view> SplitParent(std::string_view clean) {
  size_t slash = clean.rfind('/');
  if (slash == std::string_view::npos) return {std::string_view(), clean};
  return {clean.substr(0, slash), clean.substr(slash + 1)};
}

Result<UniqueFd> RootResolver::Open(const std::string& clean, uint64_t flags) {
  return sys_.Openat2(root_, clean,
                      sys::OpenHow{flags, 0, sys::kResolveInRoot | sys::kResolveNoMagiclinks});
}

Result<UniqueFd> RootResolver::OpenDirForRead(const std::string& clean) {
  return Open(clean.empty() ? std::string(".") : clean, O_RDONLY | O_DIRECTORY);
}

Result<UniqueFd> RootResolver::OpenPathDir(const std::string& clean) {
  return Open(clean.empty() ? std::string(".") : clean, O_PATH | O_DIRECTORY);
}

Result<int> RootResolver::Dir(const std::string& clean, bool create) {
  if (clean.empty()) return root_;
  if (cached_fd_.valid() && cached_path_ == clean) return cached_fd_.get();
  Invalidate();
  Result<UniqueFd> fd = Open(clean, O_PATH | O_DIRECTORY);
  if (!fd && create && fd.error().sys_errno == ENOENT) {
    // Walk down, creating what is missing. Each prefix is resolved inside the root again, so a
    // symlink met on the way is followed inside the root, as in the fast path.
    UniqueFd parent;
    int parent_fd = root_;
    size_t pos = 0;
    while (true) {
      size_t slash = clean.find('/', pos);
      std::string prefix = clean.substr(0, slash);
      std::string component =
          clean.substr(pos, slash == std::string::npos ? std::string::npos : slash - pos);
      Result<UniqueFd> cur = Open(prefix, O_PATH | O_DIRECTORY);
      if (!cur && cur.error().sys_errno == ENOENT) {
        Status st = sys_.Mkdirat(parent_fd, component, 0755);
        if (!st && st.error().sys_errno != EEXIST) return std::move(st).error();
        cur = Open(prefix, O_PATH | O_DIRECTORY);
      }
      if (!cur) return std::move(cur).error();
      parent = std::move(*cur);
      parent_fd = parent.get();
      if (slash == std::string::npos) break;
      pos = slash + 1;
    }
    fd = std::move(parent);
  }
  if (!fd) return std::move(fd).error();
  cached_path_ = clean;
  cached_fd_ = std::move(*fd);
  return cached_fd_.get();
}

Status RemoveTree(sys::Syscalls& sys, int dirfd, const std::string& name) {
  Status st = sys.Unlinkat(dirfd, name, 0);
  if (st || st.error().sys_errno == ENOENT) return Ok();
  if (st.error().sys_errno != EISDIR) return st;
  // A directory: empty it depth first without recursion (a hostile tree can be deep). Paths
  // are relative to dirfd and opened with RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS, so nothing
  // outside the directory is ever reached, even if the tree changes under us.
  std::vector<std::string> stack = {name};
  while (!stack.empty()) {
    std::string path = stack.back();
    BERTH_ASSIGN_OR_RETURN(
        UniqueFd fd, sys.Openat2(dirfd, path,
                                 sys::OpenHow{O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0,
                                              sys::kResolveBeneath | sys::kResolveNoSymlinks}));
    BERTH_ASSIGN_OR_RETURN(std::vector<std::string> names, sys.ReadDirNames(fd.get()));
    bool has_subdirs = false;
    for (const std::string& child : names) {
      Status cs = sys.Unlinkat(fd.get(), child, 0);
      if (cs || cs.error().sys_errno == ENOENT) continue;
      if (cs.error().sys_errno != EISDIR) return cs;
      stack.push_back(path + "/" + child);
      has_subdirs = true;
    }
    if (has_subdirs) continue;  // come back once the subdirectories are gone
    Status rs = sys.Unlinkat(dirfd, path, AT_REMOVEDIR);
    if (!rs && rs.error().sys_errno != ENOENT) return rs;
    stack.pop_back();
  }
  return Ok();
}

}  // namespace berth::archive::internal
