// RecordingSyscalls: a Syscalls decorator for unit tests (STYLE.md §5, §6). It records every
// call (name + arguments rendered as strings) and forwards it to a wrapped Syscalls, unless a
// failure rule matches, in which case the call is not forwarded and fails with the chosen errno
// as the real call would ("mkdirat etc: Permission denied", sys_errno set).
//
//   sys::LinuxSyscalls linux;
//   sys::testing::RecordingSyscalls rec(linux);
//   rec.FailCall("fchownat", EPERM, {.arg_contains = "passwd"});
//
// Not thread-safe. The wrapped Syscalls must outlive this object.
#pragma once

#include <string>
#include <vector>

#include "sys/syscalls.h"

namespace berth::sys::testing {

struct RecordedCall {
  std::string name;               // "mkdirat"
  std::vector<std::string> args;  // {"3", "etc", "0755"}
  std::string ToString() const;   // "mkdirat(3, etc, 0755)"
};

struct FailOptions {
  std::string arg_contains;  // only calls with an argument containing this ("" = any)
  int skip = 0;              // let this many matching calls through first
  int times = 1;             // fail this many matching calls; -1 = all of them
};

class RecordingSyscalls final : public Syscalls {
 public:
  explicit RecordingSyscalls(Syscalls& inner) : inner_(inner) {}

  // Makes matching calls named `name` (e.g. "openat2") fail with `err`.
  void FailCall(std::string name, int err, FailOptions options = {});
  const std::vector<RecordedCall>& calls() const { return calls_; }
  // Names of the recorded calls, in order.
  std::vector<std::string> CallNames() const;
  // Number of recorded calls named `name`.
  size_t Count(std::string_view name) const;
  void Clear() { calls_.clear(); }

  Result<UniqueFd> Openat2(int dirfd, const std::string& path, const OpenHow& how) override;
  Status Mkdirat(int dirfd, const std::string& name, mode_t mode) override;
  Status Mknodat(int dirfd, const std::string& name, mode_t mode, dev_t dev) override;
  Status Symlinkat(const std::string& target, int dirfd, const std::string& name) override;
  Status Linkat(int olddirfd, const std::string& oldname, int newdirfd, const std::string& newname,
                int flags) override;
  Status Unlinkat(int dirfd, const std::string& name, int flags) override;
  Status Renameat2(int olddirfd, const std::string& oldname, int newdirfd,
                   const std::string& newname, unsigned flags) override;
  Status Fchownat(int dirfd, const std::string& name, uid_t uid, gid_t gid, int flags) override;
  Status Fchown(int fd, uid_t uid, gid_t gid) override;
  Status Fchmodat(int dirfd, const std::string& name, mode_t mode, int flags) override;
  Status Fchmod(int fd, mode_t mode) override;
  Status Utimensat(int dirfd, const std::string& name, const struct timespec times[2],
                   int flags) override;
  Status Futimens(int fd, const struct timespec times[2]) override;
  Status Fsetxattr(int fd, const std::string& name, std::string_view value, int flags) override;
  Status SetxattrPathFd(int path_fd, const std::string& name, std::string_view value,
                        int flags) override;
  Result<std::vector<std::string>> Flistxattr(int fd) override;
  Result<std::string> Fgetxattr(int fd, const std::string& name) override;
  Result<struct stat> Fstatat(int dirfd, const std::string& name, int flags) override;
  Result<std::string> Readlinkat(int dirfd, const std::string& name) override;
  Result<std::vector<std::string>> ReadDirNames(int dirfd) override;
  Status Pwrite(int fd, std::string_view data, off_t offset) override;
  Status Ftruncate(int fd, off_t length) override;
  Status Syncfs(int fd) override;
  Status Mount(const std::string& source, const std::string& target, const std::string& fstype,
               unsigned long flags, const std::string& data) override;  // NOLINT(runtime/int)
  Status Umount2(const std::string& target, int flags) override;
  Result<unsigned long> FstatfsFlags(int fd) override;  // NOLINT(runtime/int)
  Status PivotRoot(const std::string& new_root, const std::string& put_old) override;
  Status Setns(int fd, int nstype) override;
  Status Unshare(int flags) override;
  Status Sethostname(const std::string& name) override;
  Status Setdomainname(const std::string& name) override;
  Result<int> Prctl(int option, unsigned long arg2, unsigned long arg3,  // NOLINT
                    unsigned long arg4, unsigned long arg5) override;    // NOLINT
  Result<CapSets> Capget() override;
  Status Capset(const CapSets& sets) override;
  Status SeccompSetModeFilter(unsigned flags, const uint8_t* bpf, size_t len) override;
  Status Chdir(const std::string& path) override;
  Status Fchdir(int fd) override;
  Status Setresuid(uid_t ruid, uid_t euid, uid_t suid) override;
  Status Setresgid(gid_t rgid, gid_t egid, gid_t sgid) override;
  Status Setgroups(const std::vector<gid_t>& groups) override;
  Result<Rlimit> Prlimit(pid_t pid, int resource, const Rlimit* new_limit) override;
  Status CloseRange(unsigned first, unsigned last, unsigned flags) override;
  Status Dup3(int oldfd, int newfd, int flags) override;
  Status Setsid() override;
  Status UnlockPty(int master) override;
  Result<UniqueFd> OpenPtyPeer(int master, int flags) override;
  Status SetControllingTerminal(int fd) override;
  Status SetWindowSize(int fd, unsigned rows, unsigned cols) override;

 private:
  struct Rule {
    std::string name;
    int err;
    FailOptions options;
  };
  // Records the call; returns the injected error if a rule matches it, else an ok Status.
  // args[what] is the argument an injected error names, as LinuxSyscalls would.
  Status Record(std::string name, std::vector<std::string> args, size_t what = 1);

  Syscalls& inner_;
  std::vector<RecordedCall> calls_;
  std::vector<Rule> rules_;
};

}  // namespace berth::sys::testing
