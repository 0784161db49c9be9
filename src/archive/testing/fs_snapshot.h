// Test helpers: a scoped temp directory and a byte-for-byte, stat-for-stat snapshot of a tree,
// to prove that applying a hostile layer changed nothing outside its root. Test-only.
#pragma once

#include <map>
#include <string>

namespace berth::archive::testing {

// mkdtemp under /tmp; removed (recursively, without following symlinks) on destruction.
class ScopedTempDir {
 public:
  ScopedTempDir();
  ~ScopedTempDir();
  ScopedTempDir(const ScopedTempDir&) = delete;
  ScopedTempDir& operator=(const ScopedTempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// relative path -> "type mode uid:gid size mtime.nsec rdev link=... sha256=... xattrs=..."
// for every entry under `root` (symlinks not followed), including `root` itself as ".".
// Directory mtimes and ctimes are left out only if `ignore_dir_times`.
std::map<std::string, std::string> SnapshotTree(const std::string& root,
                                                bool ignore_dir_times = false);

// Human-readable difference of two snapshots ("" when equal).
std::string DiffSnapshots(const std::map<std::string, std::string>& before,
                          const std::map<std::string, std::string>& after);

}  // namespace berth::archive::testing
