#include "runtime/rootfs_access.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/file.h"
#include "base/strings.h"
#include "runtime/internal/sync.h"
#include "sys/syscalls.h"

namespace berth::runtime {
namespace {

using internal::Msg;
using internal::MsgKind;
using internal::Step;

// One prepared mount(2) call: every string is built before fork, so the child allocates
// nothing.
struct PreparedMount {
  std::string source;
  std::string fstype;
  unsigned long flags = 0;  // NOLINT(runtime/int)
  std::string data;
  std::string chdir;  // "" unless the lowerdirs were made relative (CompactLowerdirs)
};

Result<PreparedMount> Prepare(const snapshot::MountSpec& spec) {
  PreparedMount p;
  snapshot::MountSpec s = spec;
  if (s.type == "overlay" && !snapshot::OptionsFitInPage(s)) {
    BERTH_ASSIGN_OR_RETURN(snapshot::CompactMount compact, snapshot::CompactLowerdirs(s));
    p.chdir = compact.chdir;
    s = compact.spec;
  }
  std::vector<std::string> data;
  for (const std::string& o : s.options) {
    if (o == "bind") {
      p.flags |= MS_BIND;
    } else if (o == "rbind") {
      p.flags |= MS_BIND | MS_REC;
    } else if (o == "ro") {
      p.flags |= MS_RDONLY;
    } else if (o == "rw") {
      continue;
    } else {
      data.push_back(o);
    }
  }
  p.source = s.source;
  p.fstype = s.type == "bind" ? std::string() : s.type;
  p.data = snapshot::JoinOptions(data);
  return p;
}

// The child: no allocation, no return.
[[noreturn]] void Child(int sock, const std::vector<PreparedMount>& mounts,
                        const std::string& target, sys::Syscalls& sys) {
  if (Status st = sys.Unshare(CLONE_NEWNS); !st) {
    internal::SendErrno(sock, Step::kRootfs, st.error().sys_errno, "unshare(CLONE_NEWNS)");
    _exit(1);
  }
  if (Status st = sys.Mount("", "/", "", MS_REC | MS_PRIVATE, ""); !st) {
    internal::SendErrno(sock, Step::kRootfs, st.error().sys_errno, "make / private");
    _exit(1);
  }
  for (const PreparedMount& m : mounts) {
    if (!m.chdir.empty()) {
      if (Status st = sys.Chdir(m.chdir); !st) {
        internal::SendErrno(sock, Step::kRootfs, st.error().sys_errno, "chdir to the layers");
        _exit(1);
      }
    }
    if (Status st = sys.Mount(m.source, target, m.fstype, m.flags, m.data); !st) {
      internal::SendErrno(sock, Step::kRootfs, st.error().sys_errno, "mount the rootfs");
      _exit(1);
    }
  }
  int fd = ::open(target.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    internal::SendErrno(sock, Step::kRootfs, errno, "open the mounted rootfs");
    _exit(1);
  }
  Msg msg;
  msg.kind = MsgKind::kReady;
  int err = internal::SendMsg(sock, msg, fd);
  _exit(err == 0 ? 0 : 1);
}

std::string Unescape(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size()) {
      int v = 0;
      bool ok = true;
      for (size_t k = 1; k <= 3; ++k) {
        char c = s[i + k];
        if (c < '0' || c > '7') ok = false;
        v = v * 8 + (c - '0');
      }
      if (ok) {
        out.push_back(static_cast<char>(v));
        i += 3;
        continue;
      }
    }
    out.push_back(s[i]);
  }
  return out;
}

}  // namespace

Result<UniqueFd> OpenProcessRoot(pid_t pid) {
  std::string path = "/proc/" + std::to_string(pid) + "/root";
  int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    Error e = ErrnoError("open " + path);
    if (e.sys_errno == ESRCH) e.code = Code::kNotFound;
    return e;
  }
  return UniqueFd(fd);
}

Result<UniqueFd> MountPrivately(const std::vector<snapshot::MountSpec>& mounts,
                                const std::string& scratch_dir, sys::Syscalls& sys) {
  if (mounts.empty()) return MakeError(Code::kInvalidArgument, "mount privately: no mounts");
  std::vector<PreparedMount> prepared;
  for (const snapshot::MountSpec& m : mounts) {
    BERTH_ASSIGN_OR_RETURN(PreparedMount p, Prepare(m));
    prepared.push_back(std::move(p));
  }
  int pair[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0) {
    return ErrnoError("mount privately: socketpair");
  }
  UniqueFd parent_sock(pair[0]);
  UniqueFd child_sock(pair[1]);
  pid_t pid = ::fork();
  if (pid < 0) return ErrnoError("mount privately: fork");
  if (pid == 0) Child(child_sock.get(), prepared, scratch_dir, sys);
  child_sock.Reset();

  Msg msg;
  int fd = -1;
  int err = internal::RecvMsg(parent_sock.get(), &msg, &fd);
  UniqueFd root(fd);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (err != 0) return ErrnoError("mount privately: helper", err);
  if (msg.kind == MsgKind::kError) {
    return internal::ErrorFromMsg(msg).WithContext("mount privately");
  }
  if (!root) return MakeError(Code::kInternal, "mount privately: helper sent no fd");
  return root;
}

Result<std::vector<std::string>> ProcessMountPoints(pid_t pid) {
  BERTH_ASSIGN_OR_RETURN(std::string text, ReadFile("/proc/" + std::to_string(pid) + "/mountinfo"));
  std::vector<std::string> points;
  for (const std::string& line : Split(text, '\n')) {
    std::vector<std::string> fields = Split(line, ' ');
    if (fields.size() < 5) continue;
    std::string point = Unescape(fields[4]);
    if (point == "/") continue;
    points.push_back(point);
  }
  return points;
}

}  // namespace berth::runtime
