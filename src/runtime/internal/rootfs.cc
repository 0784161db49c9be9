// The rootfs executor: runs in the container's child, in its new mount namespace. Every
// destination inside the rootfs is resolved with openat2(RESOLVE_IN_ROOT) relative to the rootfs
// and mounted through its /proc/self/fd/N path, so no symlink leads a mount outside the root.
#include "runtime/internal/rootfs.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include <cerrno>
#include <string_view>

#include <fmt/format.h>

#include "sys/syscalls.h"

namespace berth::runtime::internal {
namespace {

std::string FdPath(int fd) { return fmt::format("/proc/self/fd/{}", fd); }

Result<UniqueFd> OpenInRoot(sys::Syscalls& sys, int root, const std::string& path, uint64_t flags) {
  return sys.Openat2(root, path, sys::OpenHow{flags, 0, sys::kResolveInRoot});
}

// mkdir -p of `path` inside the root; every component resolved in the root. Returns the
// directory's O_PATH fd.
Result<UniqueFd> MkdirAllInRoot(sys::Syscalls& sys, int root, const std::string& path) {
  BERTH_ASSIGN_OR_RETURN(UniqueFd cur, OpenInRoot(sys, root, "/", O_PATH | O_DIRECTORY));
  std::string prefix;
  size_t pos = 0;
  while (pos < path.size()) {
    size_t end = path.find('/', pos);
    if (end == std::string::npos) end = path.size();
    std::string name = path.substr(pos, end - pos);
    pos = end + 1;
    if (name.empty()) continue;
    prefix += "/" + name;
    Result<UniqueFd> next = OpenInRoot(sys, root, prefix, O_PATH | O_DIRECTORY);
    if (!next && next.error().sys_errno == ENOENT) {
      Status made = sys.Mkdirat(cur.get(), name, 0755);
      if (!made && made.error().sys_errno != EEXIST) return made.error();
      next = OpenInRoot(sys, root, prefix, O_PATH | O_DIRECTORY);
    }
    if (!next) return std::move(next).error();
    cur = std::move(*next);
  }
  return cur;
}

std::pair<std::string, std::string> SplitParent(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return {"/", path};
  return {slash == 0 ? "/" : path.substr(0, slash), path.substr(slash + 1)};
}

// Creates the mountpoint (a directory, or an empty file for a file bind) and opens it O_PATH.
Result<UniqueFd> Mountpoint(sys::Syscalls& sys, int root, const std::string& dest, bool file) {
  if (!file) return MkdirAllInRoot(sys, root, dest);
  auto [parent, name] = SplitParent(dest);
  BERTH_ASSIGN_OR_RETURN(UniqueFd dir, MkdirAllInRoot(sys, root, parent));
  // O_NOFOLLOW + RESOLVE_NO_SYMLINKS: an existing symlink is left alone and resolved (in the
  // root) by the open below; nothing is created through it.
  Result<UniqueFd> created =
      sys.Openat2(dir.get(), name,
                  sys::OpenHow{O_CREAT | O_RDONLY | O_NOFOLLOW, 0644,
                               sys::kResolveInRoot | sys::kResolveNoSymlinks});
  (void)created;
  return OpenInRoot(sys, root, dest, O_PATH);
}

Status Propagate(sys::Syscalls& sys, const std::string& target,
                 unsigned long propagation) {  // NOLINT(runtime/int)
  if (propagation == 0) return Ok();
  return sys.Mount("", target, "", propagation, "");
}

struct Reopened {
  UniqueFd fd;
  std::string path;
};

// Mounts one step onto `target` (a /proc/self/fd path or an absolute host path); `reopen`
// yields a fresh path for the now-mounted target (the old fd still names what lies below).
template <typename Reopen>
Status ApplyStep(sys::Syscalls& sys, const MountStep& step, const std::string& target,
                 Reopen reopen) {
  const MountFlags& f = step.flags;
  if (step.bind) {
    BERTH_RETURN_IF_ERROR(sys.Mount(step.source, target, "", f.flags & (MS_BIND | MS_REC), ""));
  } else {
    BERTH_RETURN_IF_ERROR(sys.Mount(step.source, target, step.fstype, f.flags, f.data));
  }
  if (!step.remount && f.propagation == 0) return Ok();
  BERTH_ASSIGN_OR_RETURN(auto mounted, reopen());
  if (step.remount) {
    BERTH_RETURN_IF_ERROR(sys.Mount("", mounted.path, "",
                                    MS_REMOUNT | MS_BIND | (f.flags & ~(MS_BIND | MS_REC)), ""));
  }
  return Propagate(sys, mounted.path, f.propagation);
}

Status MakeDev(const RootfsPlan& plan, sys::Syscalls& sys, int root) {
  BERTH_ASSIGN_OR_RETURN(UniqueFd dev, OpenInRoot(sys, root, "/dev", O_PATH | O_DIRECTORY));
  for (const DeviceNode& d : plan.devices) {
    auto [parent, name] = SplitParent("/dev/" + d.name);
    BERTH_ASSIGN_OR_RETURN(UniqueFd dir, MkdirAllInRoot(sys, root, parent));
    Status made = sys.Mknodat(dir.get(), name, d.mode, d.dev);
    // Already there (listed twice, or a /dev the spec bind-mounts): left as it is; fchmodat
    // would follow a symlink.
    if (!made && made.error().sys_errno == EEXIST) continue;
    if (!made) return made;
    // mknod applies the umask.
    BERTH_RETURN_IF_ERROR(sys.Fchmodat(dir.get(), name, d.mode & 07777, 0));
    if (d.uid != 0 || d.gid != 0) {
      BERTH_RETURN_IF_ERROR(sys.Fchownat(dir.get(), name, d.uid, d.gid, AT_SYMLINK_NOFOLLOW));
    }
  }
  for (const DevSymlink& l : plan.dev_symlinks) {
    Status made = sys.Symlinkat(l.target, dev.get(), l.name);
    if (!made && made.error().sys_errno != EEXIST) return made;
  }
  return Ok();
}

// MS_REMOUNT replaces the per-mount flags: keep nosuid/nodev/noexec/atime ones (runc's
// getMountFlags), or a read-only /proc/sys would lose proc's noexec.
Status RemountReadOnly(sys::Syscalls& sys, int fd, const std::string& target) {
  BERTH_ASSIGN_OR_RETURN(unsigned long flags, sys.FstatfsFlags(fd));  // NOLINT(runtime/int)
  constexpr unsigned long kKept =                                     // NOLINT(runtime/int)
      MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME | MS_NODIRATIME | MS_RELATIME;
  return sys.Mount("", target, "", MS_BIND | MS_REMOUNT | MS_RDONLY | (flags & kKept), "");
}

}  // namespace

Status BuildRootfs(const RootfsPlan& plan, sys::Syscalls& sys) {
  BERTH_RETURN_IF_ERROR(sys.Mount("", "/", "", plan.root_propagation, ""));
  for (const MountStep& step : plan.rootfs_mounts) {
    if (!step.chdir.empty()) {
      // Relative lowerdirs resolve against the cwd at mount time; fchdir to the root follows.
      Status st = sys.Chdir(step.chdir);
      if (!st) return std::move(st).error().WithContext("mount rootfs " + plan.rootfs);
    }
    Status st = ApplyStep(sys, step, plan.rootfs, [&]() -> Result<Reopened> {
      return Reopened{UniqueFd(), plan.rootfs};
    });
    if (!st) return std::move(st).error().WithContext("mount rootfs " + plan.rootfs);
  }
  BERTH_ASSIGN_OR_RETURN(UniqueFd root,
                         sys.Openat2(AT_FDCWD, plan.rootfs, {O_PATH | O_DIRECTORY, 0, 0}));
  for (const MountStep& step : plan.mounts) {
    auto reopen = [&]() -> Result<Reopened> {
      BERTH_ASSIGN_OR_RETURN(UniqueFd fd, OpenInRoot(sys, root.get(), step.destination, O_PATH));
      std::string path = FdPath(fd.get());
      return Reopened{std::move(fd), std::move(path)};
    };
    Result<UniqueFd> target = Mountpoint(sys, root.get(), step.destination, step.file_target);
    if (!target) return std::move(target).error().WithContext("mountpoint " + step.destination);
    Status st = ApplyStep(sys, step, FdPath(target->get()), reopen);
    if (!st) return std::move(st).error().WithContext("mount " + step.destination);
    if (step.destination == "/dev") {
      Status dev = MakeDev(plan, sys, root.get());
      if (!dev) return std::move(dev).error().WithContext("create /dev");
    }
  }
  // pivot_root(".", "."): the old root ends up mounted over the new one and is detached at once
  // (crun's do_pivot); no directory for it is needed in the image.
  BERTH_RETURN_IF_ERROR(sys.Fchdir(root.get()));
  BERTH_RETURN_IF_ERROR(sys.PivotRoot(".", "."));
  // Slave first, so that detaching the old root does not propagate to the host's mounts.
  BERTH_RETURN_IF_ERROR(sys.Mount("", ".", "", MS_SLAVE | MS_REC, ""));
  BERTH_RETURN_IF_ERROR(sys.Umount2(".", MNT_DETACH));
  return sys.Chdir("/");
}

Status FinishRootfs(const RootfsPlan& plan, sys::Syscalls& sys) {
  for (const std::string& path : plan.readonly_paths) {
    Result<UniqueFd> fd = OpenInRoot(sys, AT_FDCWD, path, O_PATH);
    if (!fd && fd.error().sys_errno == ENOENT) continue;
    if (!fd) return std::move(fd).error().WithContext("readonly path " + path);
    BERTH_RETURN_IF_ERROR(
        sys.Mount(FdPath(fd->get()), FdPath(fd->get()), "", MS_BIND | MS_REC, ""));
    BERTH_ASSIGN_OR_RETURN(UniqueFd mounted, OpenInRoot(sys, AT_FDCWD, path, O_PATH));
    BERTH_RETURN_IF_ERROR(RemountReadOnly(sys, mounted.get(), FdPath(mounted.get())));
  }
  for (const std::string& path : plan.masked_paths) {
    Result<UniqueFd> fd = OpenInRoot(sys, AT_FDCWD, path, O_PATH);
    if (!fd && fd.error().sys_errno == ENOENT) continue;
    if (!fd) return std::move(fd).error().WithContext("masked path " + path);
    BERTH_ASSIGN_OR_RETURN(struct stat st, sys.Fstatat(fd->get(), "", AT_EMPTY_PATH));
    if (S_ISDIR(st.st_mode)) {
      BERTH_RETURN_IF_ERROR(sys.Mount("tmpfs", FdPath(fd->get()), "tmpfs", MS_RDONLY, ""));
    } else {
      BERTH_RETURN_IF_ERROR(sys.Mount("/dev/null", FdPath(fd->get()), "", MS_BIND, ""));
    }
  }
  if (plan.readonly_root) {
    BERTH_ASSIGN_OR_RETURN(UniqueFd root, OpenInRoot(sys, AT_FDCWD, "/", O_PATH | O_DIRECTORY));
    BERTH_RETURN_IF_ERROR(RemountReadOnly(sys, root.get(), "/"));
  }
  if (plan.final_propagation != 0) {
    BERTH_RETURN_IF_ERROR(sys.Mount("", "/", "", plan.final_propagation, ""));
  }
  return Ok();
}

}  // namespace berth::runtime::internal
