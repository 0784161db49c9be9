// Private to runtime/: the container's root file system as a plan (data, computed in the parent
// and unit-tested unprivileged) and the executor that applies it in the child's new mount
// namespace (STYLE.md §5). The executor makes its calls through sys::Syscalls and resolves every
// destination inside the rootfs with openat2(RESOLVE_IN_ROOT), so a symlink in the image can
// never send a mount outside it.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "base/result.h"
#include "oci/runtime_spec.h"
#include "snapshot/mount_spec.h"

namespace berth::sys {
class Syscalls;
}

namespace berth::runtime::internal {

// mount(8)-style options split into mount(2)'s flags, the propagation change made by a second
// call, and the file system data.
struct MountFlags {
  unsigned long flags = 0;        // NOLINT(runtime/int) MS_* (without propagation)
  unsigned long propagation = 0;  // NOLINT(runtime/int) MS_PRIVATE/MS_SLAVE/... | MS_REC, or 0
  std::string data;               // the rest, comma-joined ("mode=755,size=65536k")
};
MountFlags ParseMountOptions(const std::vector<std::string>& options);

struct MountStep {
  // Inside the container for spec mounts ("/proc"); the absolute rootfs path for rootfs mounts.
  std::string destination;
  std::string source;  // host path for binds (relative ones made absolute against the bundle)
  std::string fstype;  // "" for binds
  MountFlags flags;
  bool bind = false;
  // For a bind whose flags carry MS_RDONLY/NOSUID/...: a second MS_REMOUNT|MS_BIND call applies
  // them (mount(2) ignores them on the first bind).
  bool remount = false;
  // The bind source is not a directory: the mountpoint is created as an empty file.
  bool file_target = false;
  // An overlay whose options do not fit in a page: mounted from this directory, its lowerdirs
  // relative to it (snapshot::CompactLowerdirs). The child chdirs here before the mount.
  std::string chdir;
};

struct DeviceNode {
  std::string name;  // relative to /dev: "null", "net/tun"
  mode_t mode = 0;   // S_IFCHR | 0666, ...
  dev_t dev = 0;
  uid_t uid = 0;
  gid_t gid = 0;
};

struct DevSymlink {
  std::string name;    // relative to /dev
  std::string target;  // stored verbatim
};

struct RootfsPlan {
  std::string rootfs;                  // absolute host path of spec.root.path
  unsigned long root_propagation = 0;  // NOLINT(runtime/int) applied to "/" first (MS_REC|...)
  // linux.rootfsPropagation for the container's "/" after pivot_root; 0 when not given.
  unsigned long final_propagation = 0;   // NOLINT(runtime/int)
  std::vector<MountStep> rootfs_mounts;  // onto `rootfs`; a self bind when none was given
  std::vector<MountStep> mounts;         // spec.mounts in order (plus /dev if the spec has none)
  std::vector<DeviceNode> devices;       // created in /dev after its mount
  std::vector<DevSymlink> dev_symlinks;
  std::vector<std::string> masked_paths;
  std::vector<std::string> readonly_paths;
  bool readonly_root = false;
};

// Computes the plan. InvalidArgument for a relative or ".."-escaping destination, an unknown
// device type, or an unknown rootfsPropagation. `is_dir(path)` tells whether a bind source is a
// directory (stat in production, a table in tests).
Result<RootfsPlan> PlanRootfs(const oci::RuntimeSpec& spec, const std::string& bundle,
                              const std::vector<snapshot::MountSpec>& rootfs_mounts,
                              bool (*is_dir)(const std::string& path));
bool IsDirectory(const std::string& path);

// In the child, before pivot_root: "/" propagation, rootfs mounts, spec mounts with their
// mountpoints created inside the rootfs, /dev devices and links. Then pivot_root(".", ".") and
// the detach of the old root. The cwd is the new "/" afterwards.
Status BuildRootfs(const RootfsPlan& plan, sys::Syscalls& sys);
// In the child, after pivot_root: masked paths, read-only paths, read-only root.
Status FinishRootfs(const RootfsPlan& plan, sys::Syscalls& sys);

}  // namespace berth::runtime::internal
