// Access to a container's merged root filesystem from berthd, for docker cp / export, without a
// mount the host can see.
//
//   running container  /proc/<init pid>/root, opened as a directory fd: the tree its processes
//                      see, bind mounts and volumes included.
//   stopped container  a forked child unshares its mount namespace (CLONE_NEWNS), makes every
//                      mount in it private, mounts the snapshot's overlay on `scratch_dir`,
//                      opens the mount as a directory fd, passes it back over a socketpair
//                      (SCM_RIGHTS) and exits. The mount lives only in that namespace; when the
//                      child exits it is detached, and it is gone for good when the caller closes
//                      the fd. A crash anywhere leaves nothing mounted. berthd's own threads
//                      never call mount(2) or unshare(2).
//
// Paths inside the root are then resolved by the caller with openat2(RESOLVE_IN_ROOT), so a
// symlink in the container ("/escape -> /") resolves inside it, never on the host.
// Thread-safety: all functions may be called concurrently.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "base/result.h"
#include "base/unique_fd.h"
#include "snapshot/mount_spec.h"

namespace berth::sys {
class Syscalls;
}  // namespace berth::sys

namespace berth::runtime {

// O_RDONLY | O_DIRECTORY fd of /proc/<pid>/root. NotFound if the process is gone.
Result<UniqueFd> OpenProcessRoot(pid_t pid);

// Mounts `mounts` (a snapshot's, e.g. one overlay) on `scratch_dir` in a child's private mount
// namespace and returns an O_RDONLY | O_DIRECTORY fd of the result. `scratch_dir` must be an
// existing directory; nothing changes in it as the host sees it. Writes through the fd land in
// the snapshot's upper dir.
Result<UniqueFd> MountPrivately(const std::vector<snapshot::MountSpec>& mounts,
                                const std::string& scratch_dir, sys::Syscalls& sys);

// The mount points of process `pid` other than its root, as paths inside its root ("/proc",
// "/etc/hosts"), from /proc/<pid>/mountinfo (octal escapes decoded).
Result<std::vector<std::string>> ProcessMountPoints(pid_t pid);

}  // namespace berth::runtime
