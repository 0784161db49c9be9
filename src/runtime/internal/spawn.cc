#include "runtime/internal/spawn.h"

#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

#include "runtime/cgroup.h"
#include "runtime/internal/process.h"
#include "runtime/internal/rootfs.h"
#include "runtime/internal/sync.h"
#include "runtime/internal/sysctl.h"
#include "sys/syscalls.h"

namespace berth::runtime::internal {
namespace {

// fork(2)-like clone(2): no new stack, the child continues here. `flags` include the exit
// signal.
pid_t RawClone(unsigned long flags) {  // NOLINT(runtime/int)
  return static_cast<pid_t>(::syscall(SYS_clone, flags, nullptr, nullptr, nullptr, 0));
}

// The same with clone3(CLONE_INTO_CGROUP): the child is born in the cgroup v2 directory
// `cgroup_fd`, with no migration afterwards (which waits for an RCU grace period).
pid_t RawCloneInto(unsigned long flags, int cgroup_fd) {  // NOLINT(runtime/int)
  clone_args args{};
  args.flags = (flags & ~0xffUL) | CLONE_INTO_CGROUP;
  args.exit_signal = flags & 0xff;
  args.cgroup = static_cast<uint64_t>(cgroup_fd);
  return static_cast<pid_t>(::syscall(SYS_clone3, &args, sizeof(args)));
}

void KillAndReap(pid_t pid) {
  ::kill(pid, SIGKILL);
  while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
  }
}

void Reap(pid_t pid) {
  while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
  }
}

[[noreturn]] void Die(int sock, Step step, const Error& error) {
  SendError(sock, step, error);
  ::_exit(1);
}

[[noreturn]] void DieErrno(int sock, Step step, const char* what) {
  SendErrno(sock, step, errno, what);
  ::_exit(1);
}

void WaitForGo(int sock) {
  Msg msg;
  if (RecvMsg(sock, &msg) != 0 || msg.kind != MsgKind::kGo) ::_exit(1);
}

void SetupStdio(const ChildSpec& c, int sock) {
  // Up out of 0-2 first: a caller's fd may itself be 0, 1 or 2.
  int high[3];
  for (int i = 0; i < 3; ++i) {
    high[i] = ::fcntl(c.stdio[i], F_DUPFD_CLOEXEC, 3);
    if (high[i] < 0) DieErrno(sock, Step::kStdio, "fcntl F_DUPFD_CLOEXEC");
  }
  for (int i = 0; i < 3; ++i) {
    Status st = c.sys->Dup3(high[i], i, 0);
    if (!st) Die(sock, Step::kStdio, st.error());
    ::close(high[i]);
  }
}

// The container's own devpts: open its ptmx, unlock, hand the master to the parent, and make the
// slave our controlling terminal on 0-2.
void SetupPty(const ChildSpec& c, int sock) {
  Result<UniqueFd> master =
      c.sys->Openat2(AT_FDCWD, "/dev/ptmx", sys::OpenHow{O_RDWR | O_NOCTTY, 0, 0});
  if (!master) Die(sock, Step::kPty, master.error());
  if (Status st = c.sys->UnlockPty(master->get()); !st) Die(sock, Step::kPty, st.error());
  Result<UniqueFd> slave = c.sys->OpenPtyPeer(master->get(), O_RDWR | O_NOCTTY);
  if (!slave) Die(sock, Step::kPty, slave.error());
  if (c.console_size) {
    Status st = c.sys->SetWindowSize(slave->get(), c.console_size->height, c.console_size->width);
    if (!st) Die(sock, Step::kPty, st.error());
  }
  Msg msg;
  msg.kind = MsgKind::kPtyMaster;
  if (int err = SendMsg(sock, msg, master->get()); err != 0) {
    SendErrno(sock, Step::kPty, err, "send pty master");
    ::_exit(1);
  }
  master->Reset();
  if (Status st = c.sys->Setsid(); !st) Die(sock, Step::kPty, st.error());
  if (Status st = c.sys->SetControllingTerminal(slave->get()); !st) {
    Die(sock, Step::kPty, st.error());
  }
  for (int i = 0; i < 3; ++i) {
    if (Status st = c.sys->Dup3(slave->get(), i, 0); !st) Die(sock, Step::kPty, st.error());
  }
  slave->Reset();
}

// A blocked mask and ignored signals survive execve: the caller (a daemon that blocks SIGTERM
// for sigwait and ignores SIGPIPE) must not pass them on, or `docker stop` would not stop the
// container. Handled signals become default at execve anyway.
void ResetSignals() {
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sig == SIGKILL || sig == SIGSTOP) continue;
    struct sigaction current {};
    if (::sigaction(sig, nullptr, &current) != 0) continue;  // glibc-reserved RT signals
    if (current.sa_handler == SIG_IGN) {
      struct sigaction dfl {};
      dfl.sa_handler = SIG_DFL;
      ::sigaction(sig, &dfl, nullptr);
    }
  }
}

[[noreturn]] void ChildMain(const ChildSpec& c, int sock, const std::vector<int>& join_fds) {
  // First of all (CVE-2019-5736): nothing in the container may open /proc/<pid>/exe of ours.
  Result<int> dumpable = c.sys->Prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  if (!dumpable) Die(sock, Step::kDumpable, dumpable.error());
  // Die with the parent while we still run its code.
  (void)c.sys->Prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  for (const auto& [fd, type] : c.join_ns) {
    Status st = c.sys->Setns(fd, type);
    if (!st) Die(sock, Step::kSetns, st.error());
  }
  if (c.fork_into_pid_ns) {
    pid_t pid = RawClone(CLONE_PARENT | SIGCHLD);
    if (pid < 0) DieErrno(sock, Step::kFork, "clone CLONE_PARENT");
    if (pid > 0) {
      Msg msg;
      msg.kind = MsgKind::kPid;
      msg.pid = pid;
      ::_exit(SendMsg(sock, msg) == 0 ? 0 : 1);
    }
    // CLONE_PARENT: our parent is the caller now; PDEATHSIG is not inherited.
    (void)c.sys->Prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  }
  WaitForGo(sock);  // the parent has put us in the cgroup, or left that to us
  // Single-threaded, before anything else: moving this thread moves the process.
  if (int err = JoinSelf(join_fds); err != 0) {
    Msg msg;
    msg.kind = MsgKind::kError;
    msg.step = Step::kCgroup;
    msg.err = err;
    (void)SendMsg(sock, msg);
    ::_exit(1);
  }
  if (!c.terminal) SetupStdio(c, sock);
  if (c.rootfs != nullptr) {
    Status st = BuildRootfs(*c.rootfs, *c.sys);
    if (!st) Die(sock, Step::kRootfs, st.error());
  }
  if (!c.hostname.empty()) {
    Status st = c.sys->Sethostname(c.hostname);
    if (!st) Die(sock, Step::kHostname, st.error());
  }
  if (!c.domainname.empty()) {
    Status st = c.sys->Setdomainname(c.domainname);
    if (!st) Die(sock, Step::kHostname, st.error());
  }
  if (c.sysctls != nullptr) {
    Status st = WriteFiles(*c.sysctls, *c.sys);
    if (!st) Die(sock, Step::kSysctl, st.error());
  }
  if (!c.oom_score_adj.empty()) {
    Status st = WriteFiles({FileWrite{"/proc/self/oom_score_adj", c.oom_score_adj}}, *c.sys);
    if (!st) Die(sock, Step::kOomScoreAdj, st.error());
  }
  if (c.rootfs != nullptr) {
    Status st = FinishRootfs(*c.rootfs, *c.sys);
    if (!st) Die(sock, Step::kFinishRootfs, st.error());
  }
  if (c.terminal) SetupPty(c, sock);
  Msg ready;
  ready.kind = MsgKind::kReady;
  if (SendMsg(sock, ready) != 0) ::_exit(1);
  WaitForGo(sock);  // the barrier
  // The parent-death signal survives execve: the container must not die with its parent.
  (void)c.sys->Prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0);
  ResetSignals();
  Error error;
  Step failed = ApplyProcess(*c.process, *c.sys, &error);
  if (failed != Step::kNone) Die(sock, failed, error);
  int err = ExecProcess(*c.process);
  Msg msg;
  msg.kind = MsgKind::kError;
  msg.step = Step::kExec;
  msg.err = err;
  (void)SendMsg(sock, msg);
  ::_exit(127);
}

Error ChildGone(pid_t pid, int err) {
  return ErrnoError("container process " + std::to_string(pid) + " exited before it was ready",
                    err == ECONNRESET ? EPIPE : err);
}

}  // namespace

Result<Spawned> Spawn(const ChildSpec& spec, Cgroup* cgroup) {
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
    return ErrnoError("socketpair");
  }
  UniqueFd parent_end(sv[0]);
  UniqueFd child_end(sv[1]);
  // v1: the child joins the cgroup itself (Cgroup::OpenSelfJoin says why); v2: we move it.
  std::vector<UniqueFd> join;
  if (cgroup != nullptr) {
    Result<std::vector<UniqueFd>> opened = cgroup->OpenSelfJoin();
    if (!opened) return std::move(opened).error().WithContext("join cgroup");
    join = std::move(*opened);
  }
  std::vector<int> join_fds;
  for (const UniqueFd& fd : join) join_fds.push_back(fd.get());
  // v2: the container's init is born in its cgroup (exec's process is forked by a helper that
  // has joined the namespaces, so it is moved after all).
  UniqueFd clone_into;
  if (cgroup != nullptr && join_fds.empty() && !spec.fork_into_pid_ns) {
    Result<UniqueFd> fd = cgroup->OpenForClone();
    if (!fd) return std::move(fd).error().WithContext("join cgroup");
    clone_into = std::move(*fd);
  }
  const auto flags = static_cast<unsigned long>(spec.clone_flags) | SIGCHLD;  // NOLINT
  pid_t first = -1;
  if (clone_into.valid()) {
    first = RawCloneInto(flags, clone_into.get());
    if (first < 0 && (errno == ENOSYS || errno == E2BIG || errno == EINVAL)) {
      clone_into.Reset();  // a kernel before 5.7: clone, then move it
    }
  }
  if (!clone_into.valid()) first = RawClone(flags);
  if (first < 0) return ErrnoError("clone");
  if (first == 0) {
    ::close(parent_end.release());
    ChildMain(spec, child_end.get(), join_fds);
  }
  child_end.Reset();
  join.clear();

  Spawned out;
  out.pid = first;
  Msg msg;
  if (spec.fork_into_pid_ns) {
    int err = RecvMsg(parent_end.get(), &msg);
    Reap(first);
    if (err != 0) return ChildGone(first, err);
    if (msg.kind == MsgKind::kError) return ErrorFromMsg(msg);
    if (msg.kind != MsgKind::kPid || msg.pid <= 0) {
      return MakeError(Code::kInternal, "exec: unexpected message from the container process");
    }
    out.pid = msg.pid;
  }
  if (cgroup != nullptr && join_fds.empty() && !clone_into.valid()) {
    Status st = cgroup->AddProcess(out.pid);
    if (!st) {
      KillAndReap(out.pid);
      return std::move(st).error().WithContext("join cgroup");
    }
  }
  Msg go;
  go.kind = MsgKind::kGo;
  if (int err = SendMsg(parent_end.get(), go); err != 0) {
    KillAndReap(out.pid);
    return ChildGone(out.pid, err);
  }
  while (true) {
    int fd = -1;
    int err = RecvMsg(parent_end.get(), &msg, &fd);
    if (err != 0) {
      KillAndReap(out.pid);
      return ChildGone(out.pid, err);
    }
    if (msg.kind == MsgKind::kPtyMaster && fd >= 0) {
      out.pty_master.Reset(fd);
      continue;
    }
    if (fd >= 0) ::close(fd);
    if (msg.kind == MsgKind::kReady) break;
    KillAndReap(out.pid);
    if (msg.kind == MsgKind::kError) return ErrorFromMsg(msg);
    return MakeError(Code::kInternal, "unexpected message from the container process");
  }
  out.sock = std::move(parent_end);
  return out;
}

Status Release(int sock, const std::string& arg0) {
  Msg go;
  go.kind = MsgKind::kGo;
  if (int err = SendMsg(sock, go); err != 0) return ErrnoError("start: release barrier", err);
  Msg msg;
  int err = RecvMsg(sock, &msg);
  if (err == ECONNRESET) return Ok();  // execve closed the CLOEXEC socket
  if (err != 0) return ErrnoError("start: wait for exec", err);
  if (msg.kind != MsgKind::kError) {
    return MakeError(Code::kInternal, "start: unexpected message from the container process");
  }
  if (msg.step == Step::kExec) return ExecError(arg0, msg.err);
  return ErrorFromMsg(msg);
}

}  // namespace berth::runtime::internal
