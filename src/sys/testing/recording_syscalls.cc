#include "sys/testing/recording_syscalls.h"

#include <fmt/format.h>

#include "base/strings.h"

namespace berth::sys::testing {
namespace {

std::string Octal(unsigned v) { return fmt::format("0{:o}", v); }
std::string Str(long long v) { return std::to_string(v); }  // NOLINT(runtime/int)
std::string Times(const struct timespec times[2]) {
  if (times == nullptr) return "now";
  return fmt::format("{}.{:09}/{}.{:09}", times[0].tv_sec, times[0].tv_nsec, times[1].tv_sec,
                     times[1].tv_nsec);
}

}  // namespace

std::string RecordedCall::ToString() const { return name + "(" + Join(args, ", ") + ")"; }

void RecordingSyscalls::FailCall(std::string name, int err, FailOptions options) {
  rules_.push_back(Rule{std::move(name), err, std::move(options)});
}

std::vector<std::string> RecordingSyscalls::CallNames() const {
  std::vector<std::string> out;
  out.reserve(calls_.size());
  for (const RecordedCall& c : calls_) out.push_back(c.name);
  return out;
}

size_t RecordingSyscalls::Count(std::string_view name) const {
  size_t n = 0;
  for (const RecordedCall& c : calls_) n += c.name == name ? 1 : 0;
  return n;
}

Status RecordingSyscalls::Record(std::string name, std::vector<std::string> args, size_t what) {
  calls_.push_back(RecordedCall{std::move(name), std::move(args)});
  const RecordedCall& call = calls_.back();
  for (Rule& rule : rules_) {
    if (rule.name != call.name || rule.options.times == 0) continue;
    if (!rule.options.arg_contains.empty()) {
      bool found = false;
      for (const std::string& a : call.args) {
        if (a.find(rule.options.arg_contains) != std::string::npos) found = true;
      }
      if (!found) continue;
    }
    if (rule.options.skip > 0) {
      --rule.options.skip;
      continue;
    }
    if (rule.options.times > 0) --rule.options.times;
    std::string arg = what < call.args.size() ? call.args[what] : "";
    return ErrnoError(fmt::format("{} {}", call.name, arg), rule.err);
  }
  return Ok();
}

Result<UniqueFd> RecordingSyscalls::Openat2(int dirfd, const std::string& path,
                                            const OpenHow& how) {
  BERTH_RETURN_IF_ERROR(Record(
      "openat2", {Str(dirfd), path, fmt::format("{:#x}", how.flags),
                  Octal(static_cast<unsigned>(how.mode)), fmt::format("{:#x}", how.resolve)}));
  return inner_.Openat2(dirfd, path, how);
}

Status RecordingSyscalls::Mkdirat(int dirfd, const std::string& name, mode_t mode) {
  BERTH_RETURN_IF_ERROR(Record("mkdirat", {Str(dirfd), name, Octal(mode)}));
  return inner_.Mkdirat(dirfd, name, mode);
}

Status RecordingSyscalls::Mknodat(int dirfd, const std::string& name, mode_t mode, dev_t dev) {
  BERTH_RETURN_IF_ERROR(
      Record("mknodat", {Str(dirfd), name, Octal(mode), Str(static_cast<long long>(dev))}));
  return inner_.Mknodat(dirfd, name, mode, dev);
}

Status RecordingSyscalls::Symlinkat(const std::string& target, int dirfd, const std::string& name) {
  // Argument order: the name second, so failure rules and messages name the new link.
  BERTH_RETURN_IF_ERROR(Record("symlinkat", {Str(dirfd), name, target}));
  return inner_.Symlinkat(target, dirfd, name);
}

Status RecordingSyscalls::Linkat(int olddirfd, const std::string& oldname, int newdirfd,
                                 const std::string& newname, int flags) {
  BERTH_RETURN_IF_ERROR(
      Record("linkat", {Str(olddirfd), oldname, Str(newdirfd), newname, Str(flags)}));
  return inner_.Linkat(olddirfd, oldname, newdirfd, newname, flags);
}

Status RecordingSyscalls::Unlinkat(int dirfd, const std::string& name, int flags) {
  BERTH_RETURN_IF_ERROR(Record("unlinkat", {Str(dirfd), name, Str(flags)}));
  return inner_.Unlinkat(dirfd, name, flags);
}

Status RecordingSyscalls::Renameat2(int olddirfd, const std::string& oldname, int newdirfd,
                                    const std::string& newname, unsigned flags) {
  BERTH_RETURN_IF_ERROR(
      Record("renameat2", {Str(olddirfd), oldname, Str(newdirfd), newname, Str(flags)}));
  return inner_.Renameat2(olddirfd, oldname, newdirfd, newname, flags);
}

Status RecordingSyscalls::Fchownat(int dirfd, const std::string& name, uid_t uid, gid_t gid,
                                   int flags) {
  BERTH_RETURN_IF_ERROR(Record("fchownat", {Str(dirfd), name, Str(uid), Str(gid), Str(flags)}));
  return inner_.Fchownat(dirfd, name, uid, gid, flags);
}

Status RecordingSyscalls::Fchown(int fd, uid_t uid, gid_t gid) {
  BERTH_RETURN_IF_ERROR(Record("fchown", {Str(fd), Str(uid), Str(gid)}, 0));
  return inner_.Fchown(fd, uid, gid);
}

Status RecordingSyscalls::Fchmodat(int dirfd, const std::string& name, mode_t mode, int flags) {
  BERTH_RETURN_IF_ERROR(Record("fchmodat", {Str(dirfd), name, Octal(mode), Str(flags)}));
  return inner_.Fchmodat(dirfd, name, mode, flags);
}

Status RecordingSyscalls::Fchmod(int fd, mode_t mode) {
  BERTH_RETURN_IF_ERROR(Record("fchmod", {Str(fd), Octal(mode)}, 0));
  return inner_.Fchmod(fd, mode);
}

Status RecordingSyscalls::Utimensat(int dirfd, const std::string& name,
                                    const struct timespec times[2], int flags) {
  BERTH_RETURN_IF_ERROR(Record("utimensat", {Str(dirfd), name, Times(times), Str(flags)}));
  return inner_.Utimensat(dirfd, name, times, flags);
}

Status RecordingSyscalls::Futimens(int fd, const struct timespec times[2]) {
  BERTH_RETURN_IF_ERROR(Record("futimens", {Str(fd), Times(times)}, 0));
  return inner_.Futimens(fd, times);
}

Status RecordingSyscalls::Fsetxattr(int fd, const std::string& name, std::string_view value,
                                    int flags) {
  BERTH_RETURN_IF_ERROR(
      Record("fsetxattr", {Str(fd), name, std::to_string(value.size()) + " bytes", Str(flags)}));
  return inner_.Fsetxattr(fd, name, value, flags);
}

Status RecordingSyscalls::SetxattrPathFd(int path_fd, const std::string& name,
                                         std::string_view value, int flags) {
  BERTH_RETURN_IF_ERROR(Record(
      "setxattr", {Str(path_fd), name, std::to_string(value.size()) + " bytes", Str(flags)}));
  return inner_.SetxattrPathFd(path_fd, name, value, flags);
}

Result<std::vector<std::string>> RecordingSyscalls::Flistxattr(int fd) {
  BERTH_RETURN_IF_ERROR(Record("flistxattr", {Str(fd)}, 0));
  return inner_.Flistxattr(fd);
}

Result<std::string> RecordingSyscalls::Fgetxattr(int fd, const std::string& name) {
  BERTH_RETURN_IF_ERROR(Record("fgetxattr", {Str(fd), name}));
  return inner_.Fgetxattr(fd, name);
}

Result<struct stat> RecordingSyscalls::Fstatat(int dirfd, const std::string& name, int flags) {
  BERTH_RETURN_IF_ERROR(Record("fstatat", {Str(dirfd), name, Str(flags)}));
  return inner_.Fstatat(dirfd, name, flags);
}

Result<std::string> RecordingSyscalls::Readlinkat(int dirfd, const std::string& name) {
  BERTH_RETURN_IF_ERROR(Record("readlinkat", {Str(dirfd), name}));
  return inner_.Readlinkat(dirfd, name);
}

Result<std::vector<std::string>> RecordingSyscalls::ReadDirNames(int dirfd) {
  BERTH_RETURN_IF_ERROR(Record("getdents64", {Str(dirfd)}, 0));
  return inner_.ReadDirNames(dirfd);
}

Status RecordingSyscalls::Pwrite(int fd, std::string_view data, off_t offset) {
  BERTH_RETURN_IF_ERROR(Record("pwrite", {Str(fd), std::to_string(data.size()), Str(offset)}, 0));
  return inner_.Pwrite(fd, data, offset);
}

Status RecordingSyscalls::Ftruncate(int fd, off_t length) {
  BERTH_RETURN_IF_ERROR(Record("ftruncate", {Str(fd), Str(length)}, 0));
  return inner_.Ftruncate(fd, length);
}

Status RecordingSyscalls::Syncfs(int fd) {
  BERTH_RETURN_IF_ERROR(Record("syncfs", {Str(fd)}, 0));
  return inner_.Syncfs(fd);
}

Status RecordingSyscalls::Mount(const std::string& source, const std::string& target,
                                const std::string& fstype, unsigned long flags,  // NOLINT
                                const std::string& data) {
  BERTH_RETURN_IF_ERROR(
      Record("mount", {source, target, fstype, fmt::format("{:#x}", flags), data}));
  return inner_.Mount(source, target, fstype, flags, data);
}

Status RecordingSyscalls::Umount2(const std::string& target, int flags) {
  BERTH_RETURN_IF_ERROR(Record("umount2", {target, Str(flags)}, 0));
  return inner_.Umount2(target, flags);
}

Result<unsigned long> RecordingSyscalls::FstatfsFlags(int fd) {  // NOLINT(runtime/int)
  BERTH_RETURN_IF_ERROR(Record("fstatfs", {Str(fd)}, 0));
  return inner_.FstatfsFlags(fd);
}

Status RecordingSyscalls::PivotRoot(const std::string& new_root, const std::string& put_old) {
  BERTH_RETURN_IF_ERROR(Record("pivot_root", {new_root, put_old}, 0));
  return inner_.PivotRoot(new_root, put_old);
}

Status RecordingSyscalls::Setns(int fd, int nstype) {
  BERTH_RETURN_IF_ERROR(Record("setns", {Str(fd), fmt::format("{:#x}", nstype)}, 0));
  return inner_.Setns(fd, nstype);
}

Status RecordingSyscalls::Unshare(int flags) {
  BERTH_RETURN_IF_ERROR(Record("unshare", {fmt::format("{:#x}", flags)}, 0));
  return inner_.Unshare(flags);
}

Status RecordingSyscalls::Sethostname(const std::string& name) {
  BERTH_RETURN_IF_ERROR(Record("sethostname", {name}, 0));
  return inner_.Sethostname(name);
}

Status RecordingSyscalls::Setdomainname(const std::string& name) {
  BERTH_RETURN_IF_ERROR(Record("setdomainname", {name}, 0));
  return inner_.Setdomainname(name);
}

Result<int> RecordingSyscalls::Prctl(int option, unsigned long arg2,          // NOLINT
                                     unsigned long arg3, unsigned long arg4,  // NOLINT
                                     unsigned long arg5) {                    // NOLINT
  BERTH_RETURN_IF_ERROR(
      Record("prctl",
             {Str(option), Str(static_cast<long long>(arg2)), Str(static_cast<long long>(arg3)),
              Str(static_cast<long long>(arg4)), Str(static_cast<long long>(arg5))},
             0));
  return inner_.Prctl(option, arg2, arg3, arg4, arg5);
}

Result<CapSets> RecordingSyscalls::Capget() {
  BERTH_RETURN_IF_ERROR(Record("capget", {"self"}, 0));
  return inner_.Capget();
}

Status RecordingSyscalls::Capset(const CapSets& sets) {
  BERTH_RETURN_IF_ERROR(
      Record("capset",
             {fmt::format("{:#x}", sets.effective), fmt::format("{:#x}", sets.permitted),
              fmt::format("{:#x}", sets.inheritable)},
             0));
  return inner_.Capset(sets);
}

Status RecordingSyscalls::SeccompSetModeFilter(unsigned flags, const uint8_t* bpf, size_t len) {
  BERTH_RETURN_IF_ERROR(Record(
      "seccomp", {"SECCOMP_SET_MODE_FILTER", Str(flags), std::to_string(len) + " bytes"}, 0));
  return inner_.SeccompSetModeFilter(flags, bpf, len);
}

Status RecordingSyscalls::Chdir(const std::string& path) {
  BERTH_RETURN_IF_ERROR(Record("chdir", {path}, 0));
  return inner_.Chdir(path);
}

Status RecordingSyscalls::Fchdir(int fd) {
  BERTH_RETURN_IF_ERROR(Record("fchdir", {Str(fd)}, 0));
  return inner_.Fchdir(fd);
}

Status RecordingSyscalls::Setresuid(uid_t ruid, uid_t euid, uid_t suid) {
  BERTH_RETURN_IF_ERROR(Record("setresuid", {Str(ruid), Str(euid), Str(suid)}));
  return inner_.Setresuid(ruid, euid, suid);
}

Status RecordingSyscalls::Setresgid(gid_t rgid, gid_t egid, gid_t sgid) {
  BERTH_RETURN_IF_ERROR(Record("setresgid", {Str(rgid), Str(egid), Str(sgid)}));
  return inner_.Setresgid(rgid, egid, sgid);
}

Status RecordingSyscalls::Setgroups(const std::vector<gid_t>& groups) {
  std::vector<std::string> args;
  for (gid_t g : groups) args.push_back(Str(g));
  BERTH_RETURN_IF_ERROR(Record("setgroups", {Join(args, ",")}, 0));
  return inner_.Setgroups(groups);
}

Result<Rlimit> RecordingSyscalls::Prlimit(pid_t pid, int resource, const Rlimit* new_limit) {
  BERTH_RETURN_IF_ERROR(Record(
      "prlimit",
      {Str(pid), Str(resource),
       new_limit != nullptr ? fmt::format("{}/{}", new_limit->soft, new_limit->hard) : "get"},
      1));
  return inner_.Prlimit(pid, resource, new_limit);
}

Status RecordingSyscalls::CloseRange(unsigned first, unsigned last, unsigned flags) {
  BERTH_RETURN_IF_ERROR(Record("close_range", {Str(first), Str(last), Str(flags)}, 0));
  return inner_.CloseRange(first, last, flags);
}

Status RecordingSyscalls::Dup3(int oldfd, int newfd, int flags) {
  BERTH_RETURN_IF_ERROR(Record("dup3", {Str(oldfd), Str(newfd), Str(flags)}, 0));
  return inner_.Dup3(oldfd, newfd, flags);
}

Status RecordingSyscalls::Setsid() {
  BERTH_RETURN_IF_ERROR(Record("setsid", {"self"}, 0));
  return inner_.Setsid();
}

Status RecordingSyscalls::UnlockPty(int master) {
  BERTH_RETURN_IF_ERROR(Record("ioctl TIOCSPTLCK", {Str(master)}, 0));
  return inner_.UnlockPty(master);
}

Result<UniqueFd> RecordingSyscalls::OpenPtyPeer(int master, int flags) {
  BERTH_RETURN_IF_ERROR(Record("ioctl TIOCGPTPEER", {Str(master), Str(flags)}, 0));
  return inner_.OpenPtyPeer(master, flags);
}

Status RecordingSyscalls::SetControllingTerminal(int fd) {
  BERTH_RETURN_IF_ERROR(Record("ioctl TIOCSCTTY", {Str(fd)}, 0));
  return inner_.SetControllingTerminal(fd);
}

Status RecordingSyscalls::SetWindowSize(int fd, unsigned rows, unsigned cols) {
  BERTH_RETURN_IF_ERROR(Record("ioctl TIOCSWINSZ", {Str(fd), Str(rows), Str(cols)}, 0));
  return inner_.SetWindowSize(fd, rows, cols);
}

}  // namespace berth::sys::testing
