// OverlayChanges: `docker diff` of a container from its overlay upper dir alone, as moby's
// archive.OverlayChanges computes it.
//
// Walk the upper dir in lexical order (a directory before its contents). Each entry is
//   deleted (kind 2)  a whiteout: a 0/0 character device;
//   modified (kind 0) the path exists in a lower layer; a directory whose size, mode and mtime
//                     equal the lower one's is skipped (it is only a parent of a change);
//   added (kind 1)    otherwise.
// The parent of an added or deleted entry is reported modified once, if not already.
// Lower paths are looked up with openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS) and never
// followed at the last component: a symlink in a layer cannot point the walk at the host.
// Thread-compatible; the trees should not change during the walk.
#pragma once

#include <string>
#include <vector>

#include "base/result.h"

namespace berth::sys {
class Syscalls;
}  // namespace berth::sys

namespace berth::archive {

enum class ChangeKind { kModify = 0, kAdd = 1, kDelete = 2 };

struct Change {
  std::string path;  // absolute, "/etc/passwd"
  ChangeKind kind = ChangeKind::kModify;

  friend bool operator==(const Change&, const Change&) = default;
};

// `upper_dirfd` and `lower_dirfds` (the highest lower first) are directory fds, O_PATH allowed.
// `exclude` lists cleaned absolute paths left out with everything under them.
Result<std::vector<Change>> OverlayChanges(int upper_dirfd, const std::vector<int>& lower_dirfds,
                                           const std::vector<std::string>& exclude,
                                           sys::Syscalls& sys);

}  // namespace berth::archive
