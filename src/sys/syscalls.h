// Syscalls: the one interface through which Berth makes raw kernel calls (STYLE.md §5).
//
// One virtual method per system call, named after it. Each returns a Result/Status whose Error
// keeps errno (Error::sys_errno) and names the call and its main argument ("mkdirat etc: File
// exists"), so callers only add context. LinuxSyscalls (linux_syscalls.h) forwards to the kernel;
// testing::RecordingSyscalls (testing/recording_syscalls.h) records calls and injects failures.
//
// Paths taken here are used as given: confining untrusted paths (RESOLVE_IN_ROOT) is the caller's
// job, through Openat2. This header deliberately avoids <linux/*.h> and <sys/mount.h>: the
// constants callers need are mirrored below and checked against the kernel's in the .cc.
// Thread-safety: implementations hold no mutable state except RecordingSyscalls (not thread-safe).
#pragma once

#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "base/unique_fd.h"

namespace berth::sys {

// Mirrors struct open_how (openat2(2)). flags are O_* flags; mode is used with O_CREAT.
struct OpenHow {
  uint64_t flags = 0;
  uint64_t mode = 0;
  uint64_t resolve = 0;  // kResolve* bits
};

// RESOLVE_* values from <linux/openat2.h> (static_assert'ed in linux_syscalls.cc).
inline constexpr uint64_t kResolveNoXdev = 0x01;
inline constexpr uint64_t kResolveNoMagiclinks = 0x02;
inline constexpr uint64_t kResolveNoSymlinks = 0x04;
inline constexpr uint64_t kResolveBeneath = 0x08;
inline constexpr uint64_t kResolveInRoot = 0x10;

// Capability sets for capget(2)/capset(2), one bit per capability number (all 64 bits of the
// _LINUX_CAPABILITY_VERSION_3 pair of __user_cap_data_struct).
struct CapSets {
  uint64_t effective = 0;
  uint64_t permitted = 0;
  uint64_t inheritable = 0;
};

// struct rlimit for prlimit(2). kRlimInfinity is RLIM_INFINITY.
struct Rlimit {
  uint64_t soft = 0;
  uint64_t hard = 0;
};
inline constexpr uint64_t kRlimInfinity = ~uint64_t{0};

// CLOSE_RANGE_CLOEXEC from <linux/close_range.h>.
inline constexpr unsigned kCloseRangeCloexec = 1U << 2;

// RENAME_* flags for renameat2(2).
inline constexpr unsigned kRenameNoReplace = 1;
inline constexpr unsigned kRenameExchange = 2;

class Syscalls {
 public:
  virtual ~Syscalls() = default;

  // openat2(2). The returned fd always has O_CLOEXEC (added if missing).
  virtual Result<UniqueFd> Openat2(int dirfd, const std::string& path, const OpenHow& how) = 0;
  // mkdirat(2).
  virtual Status Mkdirat(int dirfd, const std::string& name, mode_t mode) = 0;
  // mknodat(2). `mode` includes the file type (S_IFCHR, S_IFBLK, S_IFIFO, ...).
  virtual Status Mknodat(int dirfd, const std::string& name, mode_t mode, dev_t dev) = 0;
  // symlinkat(2): creates `name` in dirfd pointing at `target` (stored verbatim).
  virtual Status Symlinkat(const std::string& target, int dirfd, const std::string& name) = 0;
  // linkat(2). Without AT_SYMLINK_FOLLOW in `flags` a symlink oldname is linked itself.
  virtual Status Linkat(int olddirfd, const std::string& oldname, int newdirfd,
                        const std::string& newname, int flags) = 0;
  // unlinkat(2); AT_REMOVEDIR in `flags` removes an empty directory.
  virtual Status Unlinkat(int dirfd, const std::string& name, int flags) = 0;
  // renameat2(2); `flags` are kRename* bits.
  virtual Status Renameat2(int olddirfd, const std::string& oldname, int newdirfd,
                           const std::string& newname, unsigned flags) = 0;
  // fchownat(2); AT_SYMLINK_NOFOLLOW in `flags` acts on a symlink itself (lchown).
  virtual Status Fchownat(int dirfd, const std::string& name, uid_t uid, gid_t gid, int flags) = 0;
  // fchown(2).
  virtual Status Fchown(int fd, uid_t uid, gid_t gid) = 0;
  // fchmodat(2). Linux has no lchmod: callers never pass a symlink.
  virtual Status Fchmodat(int dirfd, const std::string& name, mode_t mode, int flags) = 0;
  // fchmod(2).
  virtual Status Fchmod(int fd, mode_t mode) = 0;
  // utimensat(2): times[0] is atime, times[1] mtime.
  virtual Status Utimensat(int dirfd, const std::string& name, const struct timespec times[2],
                           int flags) = 0;
  // futimens(3) (utimensat(2) on an fd).
  virtual Status Futimens(int fd, const struct timespec times[2]) = 0;
  // fsetxattr(2) on an fd opened for reading or writing (not O_PATH).
  virtual Status Fsetxattr(int fd, const std::string& name, std::string_view value, int flags) = 0;
  // setxattr(2) on "/proc/self/fd/<path_fd>": sets an xattr through an O_PATH fd, which is how
  // one reaches a symlink or device node without a path string (proc(5), "/proc/pid/fd").
  virtual Status SetxattrPathFd(int path_fd, const std::string& name, std::string_view value,
                                int flags) = 0;
  // flistxattr(2): the attribute names.
  virtual Result<std::vector<std::string>> Flistxattr(int fd) = 0;
  // fgetxattr(2).
  virtual Result<std::string> Fgetxattr(int fd, const std::string& name) = 0;
  // fstatat(2); AT_SYMLINK_NOFOLLOW / AT_EMPTY_PATH in `flags`.
  virtual Result<struct stat> Fstatat(int dirfd, const std::string& name, int flags) = 0;
  // readlinkat(2), the whole target whatever its length.
  virtual Result<std::string> Readlinkat(int dirfd, const std::string& name) = 0;
  // getdents64(2) through fdopendir(3)/readdir(3) on a duplicate of dirfd: the names in the
  // directory, without "." and "..", in the order the file system returns them.
  virtual Result<std::vector<std::string>> ReadDirNames(int dirfd) = 0;
  // pwrite(2) of all of `data` at `offset`, retrying short writes and EINTR.
  virtual Status Pwrite(int fd, std::string_view data, off_t offset) = 0;
  // ftruncate(2).
  virtual Status Ftruncate(int fd, off_t length) = 0;
  // syncfs(2): flushes the file system holding fd.
  virtual Status Syncfs(int fd) = 0;
  // mount(2). `flags` are MS_* flags; `data` the file system options ("" for none).
  virtual Status Mount(const std::string& source, const std::string& target,
                       const std::string& fstype, unsigned long flags,  // NOLINT(runtime/int)
                       const std::string& data) = 0;
  // umount2(2); `flags` are MNT_* / UMOUNT_* flags.
  virtual Status Umount2(const std::string& target, int flags) = 0;
  // fstatfs(2): the mount flags of the mount holding fd (f_flags ST_RDONLY, ST_NOSUID, ...),
  // returned as the MS_* bits of the same names, so a remount can keep them.
  virtual Result<unsigned long> FstatfsFlags(int fd) = 0;  // NOLINT(runtime/int)

  // Process and namespace calls used by runtime/ in a container's child. Each returns the
  // errno of the call; none allocates on success.
  // pivot_root(2). runtime/ uses pivot_root(".", ".") after fchdir into the new root.
  virtual Status PivotRoot(const std::string& new_root, const std::string& put_old) = 0;
  // setns(2); `nstype` is a CLONE_NEW* flag or 0.
  virtual Status Setns(int fd, int nstype) = 0;
  // unshare(2); `flags` are CLONE_* flags.
  virtual Status Unshare(int flags) = 0;
  // sethostname(2), setdomainname(2).
  virtual Status Sethostname(const std::string& name) = 0;
  virtual Status Setdomainname(const std::string& name) = 0;
  // prctl(2). Returns the call's non-negative result (PR_CAPBSET_READ, PR_GET_DUMPABLE, ...).
  virtual Result<int> Prctl(int option, unsigned long arg2, unsigned long arg3,  // NOLINT
                            unsigned long arg4, unsigned long arg5) = 0;         // NOLINT
  // capget(2)/capset(2) of the calling thread, _LINUX_CAPABILITY_VERSION_3.
  virtual Result<CapSets> Capget() = 0;
  virtual Status Capset(const CapSets& sets) = 0;
  // seccomp(2) SECCOMP_SET_MODE_FILTER with a classic BPF program of `len` bytes
  // (struct sock_filter[], 8 bytes each); `flags` are SECCOMP_FILTER_FLAG_* bits.
  virtual Status SeccompSetModeFilter(unsigned flags, const uint8_t* bpf, size_t len) = 0;
  // chdir(2), fchdir(2).
  virtual Status Chdir(const std::string& path) = 0;
  virtual Status Fchdir(int fd) = 0;
  // setresuid(2), setresgid(2), setgroups(2) (raw syscalls: this thread only, as a fresh child
  // needs; glibc's wrappers would broadcast to threads that do not exist there).
  virtual Status Setresuid(uid_t ruid, uid_t euid, uid_t suid) = 0;
  virtual Status Setresgid(gid_t rgid, gid_t egid, gid_t sgid) = 0;
  virtual Status Setgroups(const std::vector<gid_t>& groups) = 0;
  // prlimit(2): sets `resource` of `pid` (0: self) to *new_limit unless null; returns the old.
  virtual Result<Rlimit> Prlimit(pid_t pid, int resource, const Rlimit* new_limit) = 0;
  // close_range(2); `flags` are CLOSE_RANGE_* bits (kCloseRangeCloexec).
  virtual Status CloseRange(unsigned first, unsigned last, unsigned flags) = 0;
  // dup3(2); `flags` 0 or O_CLOEXEC. newfd is the caller's (0-2 for stdio): not a UniqueFd.
  virtual Status Dup3(int oldfd, int newfd, int flags) = 0;
  // setsid(2).
  virtual Status Setsid() = 0;
  // Terminal ioctls (ioctl_tty(2), pts(4)): TIOCSPTLCK 0 (unlockpt), TIOCGPTPEER (the slave of
  // a master, opened through the master's own devpts; `flags` O_RDWR | O_NOCTTY, O_CLOEXEC
  // always added), TIOCSCTTY 0, TIOCSWINSZ.
  virtual Status UnlockPty(int master) = 0;
  virtual Result<UniqueFd> OpenPtyPeer(int master, int flags) = 0;
  virtual Status SetControllingTerminal(int fd) = 0;
  virtual Status SetWindowSize(int fd, unsigned rows, unsigned cols) = 0;
};

}  // namespace berth::sys
