#include "sys/linux_syscalls.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/close_range.h>
#include <linux/filter.h>
#include <linux/openat2.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace berth::sys {

static_assert(kResolveNoXdev == RESOLVE_NO_XDEV);
static_assert(kResolveNoMagiclinks == RESOLVE_NO_MAGICLINKS);
static_assert(kResolveNoSymlinks == RESOLVE_NO_SYMLINKS);
static_assert(kResolveBeneath == RESOLVE_BENEATH);
static_assert(kResolveInRoot == RESOLVE_IN_ROOT);
static_assert(kRenameNoReplace == RENAME_NOREPLACE);
static_assert(kRenameExchange == RENAME_EXCHANGE);
static_assert(kRlimInfinity == RLIM64_INFINITY);
static_assert(kCloseRangeCloexec == CLOSE_RANGE_CLOEXEC);

namespace {

Status ErrIf(int rc, std::string_view call, std::string_view arg) {
  if (rc == 0) return Ok();
  return ErrnoError(fmt::format("{} {}", call, arg));
}

std::string ProcFdPath(int fd) { return fmt::format("/proc/self/fd/{}", fd); }

}  // namespace

// openat2(2)
Result<UniqueFd> LinuxSyscalls::Openat2(int dirfd, const std::string& path, const OpenHow& how) {
  struct open_how khow {};
  khow.flags = how.flags | O_CLOEXEC;
  khow.mode = how.mode;
  khow.resolve = how.resolve;
  while (true) {
    long fd = ::syscall(SYS_openat2, dirfd, path.c_str(), &khow, sizeof(khow));
    if (fd >= 0) return UniqueFd(static_cast<int>(fd));
    // EAGAIN: RESOLVE_IN_ROOT/BENEATH saw a concurrent rename; the man page says retry.
    if (errno != EINTR && errno != EAGAIN) return ErrnoError("openat2 " + path);
  }
}

// mkdirat(2)
Status LinuxSyscalls::Mkdirat(int dirfd, const std::string& name, mode_t mode) {
  return ErrIf(::mkdirat(dirfd, name.c_str(), mode), "mkdirat", name);
}

// mknodat(2)
Status LinuxSyscalls::Mknodat(int dirfd, const std::string& name, mode_t mode, dev_t dev) {
  return ErrIf(::mknodat(dirfd, name.c_str(), mode, dev), "mknodat", name);
}

// symlinkat(2)
Status LinuxSyscalls::Symlinkat(const std::string& target, int dirfd, const std::string& name) {
  return ErrIf(::symlinkat(target.c_str(), dirfd, name.c_str()), "symlinkat", name);
}

// linkat(2)
Status LinuxSyscalls::Linkat(int olddirfd, const std::string& oldname, int newdirfd,
                             const std::string& newname, int flags) {
  return ErrIf(::linkat(olddirfd, oldname.c_str(), newdirfd, newname.c_str(), flags), "linkat",
               fmt::format("{} to {}", oldname, newname));
}

// unlinkat(2)
Status LinuxSyscalls::Unlinkat(int dirfd, const std::string& name, int flags) {
  return ErrIf(::unlinkat(dirfd, name.c_str(), flags), "unlinkat", name);
}

// renameat2(2)
Status LinuxSyscalls::Renameat2(int olddirfd, const std::string& oldname, int newdirfd,
                                const std::string& newname, unsigned flags) {
  return ErrIf(::renameat2(olddirfd, oldname.c_str(), newdirfd, newname.c_str(), flags),
               "renameat2", fmt::format("{} to {}", oldname, newname));
}

// fchownat(2)
Status LinuxSyscalls::Fchownat(int dirfd, const std::string& name, uid_t uid, gid_t gid,
                               int flags) {
  return ErrIf(::fchownat(dirfd, name.c_str(), uid, gid, flags), "fchownat", name);
}

// fchown(2)
Status LinuxSyscalls::Fchown(int fd, uid_t uid, gid_t gid) {
  return ErrIf(::fchown(fd, uid, gid), "fchown", fmt::format("fd {}", fd));
}

// fchmodat(2)
Status LinuxSyscalls::Fchmodat(int dirfd, const std::string& name, mode_t mode, int flags) {
  return ErrIf(::fchmodat(dirfd, name.c_str(), mode, flags), "fchmodat", name);
}

// fchmod(2)
Status LinuxSyscalls::Fchmod(int fd, mode_t mode) {
  return ErrIf(::fchmod(fd, mode), "fchmod", fmt::format("fd {}", fd));
}

// utimensat(2)
Status LinuxSyscalls::Utimensat(int dirfd, const std::string& name, const struct timespec times[2],
                                int flags) {
  return ErrIf(::utimensat(dirfd, name.c_str(), times, flags), "utimensat", name);
}

// futimens(3)
Status LinuxSyscalls::Futimens(int fd, const struct timespec times[2]) {
  return ErrIf(::futimens(fd, times), "futimens", fmt::format("fd {}", fd));
}

// fsetxattr(2)
Status LinuxSyscalls::Fsetxattr(int fd, const std::string& name, std::string_view value,
                                int flags) {
  return ErrIf(::fsetxattr(fd, name.c_str(), value.data(), value.size(), flags), "fsetxattr", name);
}

// setxattr(2) through proc(5) /proc/self/fd/N
Status LinuxSyscalls::SetxattrPathFd(int path_fd, const std::string& name, std::string_view value,
                                     int flags) {
  std::string proc = ProcFdPath(path_fd);
  return ErrIf(::setxattr(proc.c_str(), name.c_str(), value.data(), value.size(), flags),
               "setxattr", name);
}

// flistxattr(2)
Result<std::vector<std::string>> LinuxSyscalls::Flistxattr(int fd) {
  std::string buf;
  while (true) {
    ssize_t n = ::flistxattr(fd, nullptr, 0);
    if (n < 0) return ErrnoError(fmt::format("flistxattr fd {}", fd));
    if (n == 0) return std::vector<std::string>{};
    buf.resize(static_cast<size_t>(n));
    n = ::flistxattr(fd, buf.data(), buf.size());
    if (n < 0 && errno == ERANGE) continue;  // grew in between
    if (n < 0) return ErrnoError(fmt::format("flistxattr fd {}", fd));
    buf.resize(static_cast<size_t>(n));
    break;
  }
  std::vector<std::string> names;
  size_t pos = 0;
  while (pos < buf.size()) {
    size_t end = buf.find('\0', pos);
    if (end == std::string::npos) end = buf.size();
    if (end > pos) names.emplace_back(buf, pos, end - pos);
    pos = end + 1;
  }
  return names;
}

// fgetxattr(2)
Result<std::string> LinuxSyscalls::Fgetxattr(int fd, const std::string& name) {
  while (true) {
    ssize_t n = ::fgetxattr(fd, name.c_str(), nullptr, 0);
    if (n < 0) return ErrnoError("fgetxattr " + name);
    std::string value(static_cast<size_t>(n), '\0');
    n = ::fgetxattr(fd, name.c_str(), value.data(), value.size());
    if (n < 0 && errno == ERANGE) continue;
    if (n < 0) return ErrnoError("fgetxattr " + name);
    value.resize(static_cast<size_t>(n));
    return value;
  }
}

// fstatat(2)
Result<struct stat> LinuxSyscalls::Fstatat(int dirfd, const std::string& name, int flags) {
  struct stat st {};
  if (::fstatat(dirfd, name.c_str(), &st, flags) != 0) return ErrnoError("fstatat " + name);
  return st;
}

// readlinkat(2)
Result<std::string> LinuxSyscalls::Readlinkat(int dirfd, const std::string& name) {
  std::string buf(256, '\0');
  while (true) {
    ssize_t n = ::readlinkat(dirfd, name.c_str(), buf.data(), buf.size());
    if (n < 0) return ErrnoError("readlinkat " + name);
    if (static_cast<size_t>(n) < buf.size()) {
      buf.resize(static_cast<size_t>(n));
      return buf;
    }
    buf.resize(buf.size() * 2);  // possibly truncated: retry larger
  }
}

// getdents64(2) via fdopendir(3) / readdir(3)
Result<std::vector<std::string>> LinuxSyscalls::ReadDirNames(int dirfd) {
  int dup = ::fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
  if (dup < 0) return ErrnoError(fmt::format("fcntl F_DUPFD_CLOEXEC fd {}", dirfd));
  DIR* dir = ::fdopendir(dup);
  if (dir == nullptr) {
    Error e = ErrnoError(fmt::format("fdopendir fd {}", dirfd));
    ::close(dup);
    return e;
  }
  ::rewinddir(dir);  // the dup shares the offset with dirfd
  std::vector<std::string> names;
  while (true) {
    errno = 0;
    struct dirent* ent = ::readdir(dir);
    if (ent == nullptr) {
      if (errno != 0) {
        Error e = ErrnoError(fmt::format("readdir fd {}", dirfd));
        ::closedir(dir);
        return e;
      }
      break;
    }
    if (std::strcmp(ent->d_name, ".") == 0 || std::strcmp(ent->d_name, "..") == 0) continue;
    names.emplace_back(ent->d_name);
  }
  ::closedir(dir);
  return names;
}

// pwrite(2)
Status LinuxSyscalls::Pwrite(int fd, std::string_view data, off_t offset) {
  while (!data.empty()) {
    ssize_t n = ::pwrite(fd, data.data(), data.size(), offset);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError(fmt::format("pwrite fd {} at {}", fd, offset));
    }
    data.remove_prefix(static_cast<size_t>(n));
    offset += n;
  }
  return Ok();
}

// ftruncate(2)
Status LinuxSyscalls::Ftruncate(int fd, off_t length) {
  return ErrIf(::ftruncate(fd, length), "ftruncate", fmt::format("fd {} to {}", fd, length));
}

// syncfs(2)
Status LinuxSyscalls::Syncfs(int fd) {
  return ErrIf(::syncfs(fd), "syncfs", fmt::format("fd {}", fd));
}

// mount(2)
Status LinuxSyscalls::Mount(const std::string& source, const std::string& target,
                            const std::string& fstype, unsigned long flags,  // NOLINT
                            const std::string& data) {
  return ErrIf(::mount(source.c_str(), target.c_str(), fstype.empty() ? nullptr : fstype.c_str(),
                       flags, data.empty() ? nullptr : data.c_str()),
               "mount", fmt::format("{} on {}", source, target));
}

// umount2(2)
Status LinuxSyscalls::Umount2(const std::string& target, int flags) {
  return ErrIf(::umount2(target.c_str(), flags), "umount2", target);
}

// fstatfs(2), f_flags translated from ST_* to MS_* (ST_RELATIME is not MS_RELATIME)
Result<unsigned long> LinuxSyscalls::FstatfsFlags(int fd) {  // NOLINT(runtime/int)
  struct statfs st {};
  if (::fstatfs(fd, &st) != 0) return ErrnoError(fmt::format("fstatfs fd {}", fd));
  constexpr struct {
    unsigned long st;  // NOLINT(runtime/int)
    unsigned long ms;  // NOLINT(runtime/int)
  } kMap[] = {
      {ST_RDONLY, MS_RDONLY},   {ST_NOSUID, MS_NOSUID},           {ST_NODEV, MS_NODEV},
      {ST_NOEXEC, MS_NOEXEC},   {ST_SYNCHRONOUS, MS_SYNCHRONOUS}, {ST_MANDLOCK, MS_MANDLOCK},
      {ST_NOATIME, MS_NOATIME}, {ST_NODIRATIME, MS_NODIRATIME},   {ST_RELATIME, MS_RELATIME}};
  unsigned long flags = 0;  // NOLINT(runtime/int)
  for (const auto& m : kMap) {
    if ((static_cast<unsigned long>(st.f_flags) & m.st) != 0) flags |= m.ms;  // NOLINT
  }
  return flags;
}

// pivot_root(2)
Status LinuxSyscalls::PivotRoot(const std::string& new_root, const std::string& put_old) {
  return ErrIf(static_cast<int>(::syscall(SYS_pivot_root, new_root.c_str(), put_old.c_str())),
               "pivot_root", new_root);
}

// setns(2)
Status LinuxSyscalls::Setns(int fd, int nstype) {
  return ErrIf(::setns(fd, nstype), "setns", fmt::format("fd {}", fd));
}

// unshare(2)
Status LinuxSyscalls::Unshare(int flags) {
  return ErrIf(::unshare(flags), "unshare", fmt::format("{:#x}", flags));
}

// sethostname(2)
Status LinuxSyscalls::Sethostname(const std::string& name) {
  return ErrIf(::sethostname(name.data(), name.size()), "sethostname", name);
}

// setdomainname(2)
Status LinuxSyscalls::Setdomainname(const std::string& name) {
  return ErrIf(::setdomainname(name.data(), name.size()), "setdomainname", name);
}

// prctl(2)
Result<int> LinuxSyscalls::Prctl(int option, unsigned long arg2, unsigned long arg3,  // NOLINT
                                 unsigned long arg4, unsigned long arg5) {            // NOLINT
  int rc = ::prctl(option, arg2, arg3, arg4, arg5);
  if (rc < 0) return ErrnoError(fmt::format("prctl {} {}", option, arg2));
  return rc;
}

// capget(2)
Result<CapSets> LinuxSyscalls::Capget() {
  struct __user_cap_header_struct header {};
  header.version = _LINUX_CAPABILITY_VERSION_3;
  struct __user_cap_data_struct data[2]{};
  if (::syscall(SYS_capget, &header, data) != 0) return ErrnoError("capget self");
  CapSets sets;
  sets.effective = data[0].effective | (uint64_t{data[1].effective} << 32);
  sets.permitted = data[0].permitted | (uint64_t{data[1].permitted} << 32);
  sets.inheritable = data[0].inheritable | (uint64_t{data[1].inheritable} << 32);
  return sets;
}

// capset(2)
Status LinuxSyscalls::Capset(const CapSets& sets) {
  struct __user_cap_header_struct header {};
  header.version = _LINUX_CAPABILITY_VERSION_3;
  struct __user_cap_data_struct data[2]{};
  data[0].effective = static_cast<uint32_t>(sets.effective);
  data[1].effective = static_cast<uint32_t>(sets.effective >> 32);
  data[0].permitted = static_cast<uint32_t>(sets.permitted);
  data[1].permitted = static_cast<uint32_t>(sets.permitted >> 32);
  data[0].inheritable = static_cast<uint32_t>(sets.inheritable);
  data[1].inheritable = static_cast<uint32_t>(sets.inheritable >> 32);
  return ErrIf(static_cast<int>(::syscall(SYS_capset, &header, data)), "capset",
               fmt::format("effective {:#x} permitted {:#x}", sets.effective, sets.permitted));
}

// seccomp(2) SECCOMP_SET_MODE_FILTER
Status LinuxSyscalls::SeccompSetModeFilter(unsigned flags, const uint8_t* bpf, size_t len) {
  if (len % sizeof(struct sock_filter) != 0 || len / sizeof(struct sock_filter) > BPF_MAXINSNS) {
    return ErrnoError(fmt::format("seccomp SECCOMP_SET_MODE_FILTER {} bytes", len), EINVAL);
  }
  struct sock_fprog prog {};
  prog.len = static_cast<unsigned short>(len / sizeof(struct sock_filter));  // NOLINT
  // The kernel only reads the program.
  prog.filter = reinterpret_cast<struct sock_filter*>(const_cast<uint8_t*>(bpf));
  return ErrIf(static_cast<int>(::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog)),
               "seccomp", fmt::format("SECCOMP_SET_MODE_FILTER {} instructions", prog.len));
}

// chdir(2)
Status LinuxSyscalls::Chdir(const std::string& path) {
  return ErrIf(::chdir(path.c_str()), "chdir", path);
}

// fchdir(2)
Status LinuxSyscalls::Fchdir(int fd) {
  return ErrIf(::fchdir(fd), "fchdir", fmt::format("fd {}", fd));
}

// setresuid(2), raw
Status LinuxSyscalls::Setresuid(uid_t ruid, uid_t euid, uid_t suid) {
  return ErrIf(static_cast<int>(::syscall(SYS_setresuid, ruid, euid, suid)), "setresuid",
               fmt::format("{}", euid));
}

// setresgid(2), raw
Status LinuxSyscalls::Setresgid(gid_t rgid, gid_t egid, gid_t sgid) {
  return ErrIf(static_cast<int>(::syscall(SYS_setresgid, rgid, egid, sgid)), "setresgid",
               fmt::format("{}", egid));
}

// setgroups(2), raw
Status LinuxSyscalls::Setgroups(const std::vector<gid_t>& groups) {
  return ErrIf(static_cast<int>(::syscall(SYS_setgroups, groups.size(), groups.data())),
               "setgroups", fmt::format("{} groups", groups.size()));
}

// prlimit(2)
Result<Rlimit> LinuxSyscalls::Prlimit(pid_t pid, int resource, const Rlimit* new_limit) {
  struct rlimit64 next {};
  struct rlimit64 old {};
  if (new_limit != nullptr) {
    next.rlim_cur = new_limit->soft;
    next.rlim_max = new_limit->hard;
  }
  if (::prlimit64(pid, static_cast<__rlimit_resource>(resource),
                  new_limit != nullptr ? &next : nullptr, &old) != 0) {
    return ErrnoError(fmt::format("prlimit {}", resource));
  }
  return Rlimit{old.rlim_cur, old.rlim_max};
}

// close_range(2)
Status LinuxSyscalls::CloseRange(unsigned first, unsigned last, unsigned flags) {
  return ErrIf(static_cast<int>(::syscall(SYS_close_range, first, last, flags)), "close_range",
               fmt::format("{}-{}", first, last));
}

// dup3(2)
Status LinuxSyscalls::Dup3(int oldfd, int newfd, int flags) {
  return ErrIf(::dup3(oldfd, newfd, flags) < 0 ? -1 : 0, "dup3",
               fmt::format("{} to {}", oldfd, newfd));
}

// setsid(2)
Status LinuxSyscalls::Setsid() { return ErrIf(::setsid() < 0 ? -1 : 0, "setsid", "self"); }

// ioctl_tty(2) TIOCSPTLCK
Status LinuxSyscalls::UnlockPty(int master) {
  int unlock = 0;
  return ErrIf(::ioctl(master, TIOCSPTLCK, &unlock), "ioctl TIOCSPTLCK",
               fmt::format("fd {}", master));
}

// ioctl_tty(2) TIOCGPTPEER
Result<UniqueFd> LinuxSyscalls::OpenPtyPeer(int master, int flags) {
  int fd = ::ioctl(master, TIOCGPTPEER, flags | O_CLOEXEC);
  if (fd < 0) return ErrnoError(fmt::format("ioctl TIOCGPTPEER fd {}", master));
  return UniqueFd(fd);
}

// ioctl_tty(2) TIOCSCTTY
Status LinuxSyscalls::SetControllingTerminal(int fd) {
  return ErrIf(::ioctl(fd, TIOCSCTTY, 0), "ioctl TIOCSCTTY", fmt::format("fd {}", fd));
}

// ioctl_tty(2) TIOCSWINSZ
Status LinuxSyscalls::SetWindowSize(int fd, unsigned rows, unsigned cols) {
  struct winsize ws {};
  ws.ws_row = static_cast<unsigned short>(rows);  // NOLINT(runtime/int)
  ws.ws_col = static_cast<unsigned short>(cols);  // NOLINT(runtime/int)
  return ErrIf(::ioctl(fd, TIOCSWINSZ, &ws), "ioctl TIOCSWINSZ", fmt::format("fd {}", fd));
}

}  // namespace berth::sys
