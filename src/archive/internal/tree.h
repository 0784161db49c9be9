// Private to archive/: path cleaning and fd-relative tree operations shared by ApplyLayer and
// WriteTree. Every operation goes through sys::Syscalls.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "base/unique_fd.h"
#include "sys/syscalls.h"

namespace berth::archive::internal {

// Lexically cleans `path` as if it were rooted at "/" (Go's filepath.Clean("/" + path)) and
// returns it relative to that root, without leading or trailing slashes: "../../etc/x" ->
// "etc/x", "/a//b/./c/" -> "a/b/c", "a/../.." -> "". "" means the root itself.
std::string CleanRootedPath(std::string_view path);

// Splits a cleaned path into its parent ("" for the root) and final component.
std::pair<std::string_view, std::string_view> SplitParent(std::string_view clean);

// Resolves directories inside a root with openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS),
// remembering the last one resolved, since tar entries come grouped by directory. Invalidate()
// must be called after anything is removed or replaced in the tree.
class RootResolver {
 public:
  RootResolver(sys::Syscalls& sys, int root_dirfd) : sys_(sys), root_(root_dirfd) {}

  // An O_PATH fd (usable as the dirfd of *at() calls) for directory `clean` (a cleaned path).
  // With `create`, missing directories are made 0755 along the way (moby's MkdirAll).
  // The fd belongs to the resolver and is valid until the next call.
  Result<int> Dir(const std::string& clean, bool create);
  // Opens directory `clean` for reading (O_RDONLY), resolved inside the root; not cached.
  Result<UniqueFd> OpenDirForRead(const std::string& clean);
  // An O_PATH fd for directory `clean`, resolved inside the root; not cached, never creates.
  Result<UniqueFd> OpenPathDir(const std::string& clean);
  // Tells the resolver that `clean` (and everything under it) was removed or replaced.
  void Removed(std::string_view clean) {
    if (clean.empty() || cached_path_ == clean ||
        (cached_path_.size() > clean.size() && cached_path_.starts_with(clean) &&
         cached_path_[clean.size()] == '/')) {
      Invalidate();
    }
  }
  void Invalidate() {
    cached_path_.clear();
    cached_fd_.Reset();
  }
  int root() const { return root_; }

 private:
  Result<UniqueFd> Open(const std::string& clean, uint64_t flags);

  sys::Syscalls& sys_;
  int root_;
  std::string cached_path_;
  UniqueFd cached_fd_;
};

// Removes `name` in `dirfd`, recursively if it is a directory, never following symlinks (each
// level is opened with RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS). A missing `name` is not an error.
Status RemoveTree(sys::Syscalls& sys, int dirfd, const std::string& name);

}  // namespace berth::archive::internal
