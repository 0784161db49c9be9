#include "shim/internal/exec_session.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

#include "base/result.h"
#include "shim/internal/pipes.h"

namespace berth::shim::internal {
namespace {

constexpr size_t kReadChunk = 32 * 1024;

void CloseStdin(ExecSession& x) {
  if (x.tty && x.stdin) (void)::write(x.stdin.get(), "\x04", 1);
  x.stdin.Reset();
  x.stdin_buf.clear();
  x.stdin_close_pending = false;
}

}  // namespace

Result<std::unique_ptr<ExecSession>> CreateExecSession(std::string id, const oci::Process& process,
                                                       bool stdin, runtime::ExecOptions options,
                                                       sys::Syscalls& sys) {
  auto x = std::make_unique<ExecSession>();
  x->id = std::move(id);
  x->tty = process.terminal;
  options.process = &process;
  std::optional<Pipe> in, out, err;
  if (!x->tty) {
    if (stdin) {
      BERTH_ASSIGN_OR_RETURN(in, MakePipe());
      options.stdio.in = in->read.get();
    }
    BERTH_ASSIGN_OR_RETURN(out, MakePipe());
    BERTH_ASSIGN_OR_RETURN(err, MakePipe());
    options.stdio.out = out->write.get();
    options.stdio.err = err->write.get();
  }
  BERTH_ASSIGN_OR_RETURN(x->proc, runtime::CreateExec(options, sys));
  x->pid = x->proc->pid();
  if (x->tty) {
    x->pty = x->proc->TakePtyMaster();
    BERTH_RETURN_IF_ERROR(SetNonBlocking(x->pty.get()));
    if (stdin) {
      x->stdin = UniqueFd(::fcntl(x->pty.get(), F_DUPFD_CLOEXEC, 3));
      if (!x->stdin) return ErrnoError("dup pty");
    }
    return x;
  }
  // Our ends of the child's pipes close when `in`, `out` and `err` go, so EOF comes when the
  // process (and whatever it forked) closes them.
  x->out = std::move(out->read);
  x->err = std::move(err->read);
  BERTH_RETURN_IF_ERROR(SetNonBlocking(x->out.get()));
  BERTH_RETURN_IF_ERROR(SetNonBlocking(x->err.get()));
  if (in) {
    x->stdin = std::move(in->write);
    BERTH_RETURN_IF_ERROR(SetNonBlocking(x->stdin.get()));
  }
  return x;
}

Status StartExecSession(ExecSession& x) {
  Status st = x.proc->Start();
  if (st) return st;
  // The process has exited; the shim's reaper collects it.
  x.exit_code = st.error().code == Code::kNotFound ? 127 : 126;
  x.exited = true;
  x.exited_at = Clock::now();
  x.out.Reset();
  x.err.Reset();
  x.pty.Reset();
  x.stdin.Reset();
  return st;
}

void RecordExecExit(ExecSession& x, int wait_status) {
  if (x.exited) return;
  x.exited = true;
  x.exited_at = Clock::now();
  if (WIFEXITED(wait_status)) x.exit_code = WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status)) x.exit_code = 128 + WTERMSIG(wait_status);
}

void ReadExecOutput(ExecSession& x, int fd,
                    const std::function<void(std::string_view data)>& sink) {
  char buf[kReadChunk];
  for (int round = 0; round < 8; ++round) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n > 0) {
      sink(std::string_view(buf, static_cast<size_t>(n)));
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    // EOF, or EIO from a pty whose last slave closed.
    if (fd == x.out.get()) x.out.Reset();
    if (fd == x.err.get()) x.err.Reset();
    if (fd == x.pty.get()) {
      if (!x.exited) return;  // a pty reports EIO between slave opens; final only after exit
      x.pty.Reset();
    }
    return;
  }
}

void FlushExecStdin(ExecSession& x) {
  while (x.stdin && !x.stdin_buf.empty()) {
    ssize_t w = ::write(x.stdin.get(), x.stdin_buf.data(), x.stdin_buf.size());
    if (w > 0) {
      x.stdin_buf.erase(0, static_cast<size_t>(w));
      continue;
    }
    if (w < 0 && (errno == EAGAIN || errno == EINTR)) return;
    CloseStdin(x);  // EPIPE: the process closed its stdin
    return;
  }
  if (x.stdin_close_pending) CloseStdin(x);
}

bool ExecFinished(const ExecSession& x, Clock::duration limit) {
  if (!x.exited) return false;
  bool drained = !x.out && !x.err && !x.pty;
  return drained || Clock::now() - *x.exited_at > limit;
}

void CloseExecSession(ExecSession& x, const std::function<void(std::string_view data)>& out,
                      const std::function<void(std::string_view data)>& err) {
  if (x.out) ReadExecOutput(x, x.out.get(), out);
  if (x.err) ReadExecOutput(x, x.err.get(), err);
  if (x.pty) ReadExecOutput(x, x.pty.get(), out);
  x.out.Reset();
  x.err.Reset();
  x.pty.Reset();
  x.stdin.Reset();
}

}  // namespace berth::shim::internal
