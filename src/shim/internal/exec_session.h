// Private to shim/: one `docker exec` process as berth-shim runs it (protocol.h, exec): its
// stdio (pipes, or a pty), stdin queued towards it, and its status once reaped. The shim's
// poll loop owns the sessions and the connections streaming them; these functions do the
// process-side I/O. Thread-safety: used by the shim's single thread.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"
#include "base/unique_fd.h"
#include "runtime/container.h"
#include "shim/protocol.h"

namespace berth::shim::internal {

using Clock = std::chrono::steady_clock;

struct ExecSession {
  std::string id;
  std::unique_ptr<runtime::ContainerProcess> proc;
  pid_t pid = 0;
  bool tty = false;
  UniqueFd pty;
  UniqueFd out;
  UniqueFd err;
  UniqueFd stdin;  // pipe write end, or a dup of the pty; invalid without stdin
  std::string stdin_buf;
  bool stdin_close_pending = false;
  bool exited = false;
  int exit_code = 0;
  std::optional<Clock::time_point> exited_at;
  bool streaming = false;  // a connection streams it
  bool attach_stdout = true;  // whether the stream carries its stdout (a tty's output)
  bool attach_stderr = true;
};

// Creates the process (runtime::CreateExec with `options`' init, spec and cgroup), held at the
// barrier, with pipes for its stdio (stdin only when `stdin`) or a pty when process.terminal.
Result<std::unique_ptr<ExecSession>> CreateExecSession(std::string id, const oci::Process& process,
                                                       bool stdin, runtime::ExecOptions options,
                                                       sys::Syscalls& sys);
// Releases the process. On failure it has exited with Docker's code (127 for a missing
// program, else 126) and its fds are closed.
Status StartExecSession(ExecSession& x);
// Records the wait status of the reaped process.
void RecordExecExit(ExecSession& x, int wait_status);
// Reads what `fd` (one of x's outputs) holds and hands it to `sink`; closes the fd at EOF.
void ReadExecOutput(ExecSession& x, int fd, const std::function<void(std::string_view data)>& sink);
// Writes queued stdin; closes stdin once drained when a close is pending (a tty gets ^D).
void FlushExecStdin(ExecSession& x);
// True once the stream can end: exited, and the output drained or `limit` passed since.
bool ExecFinished(const ExecSession& x, Clock::duration limit);
// Closes every fd (after a last read into `sink`).
void CloseExecSession(ExecSession& x, const std::function<void(std::string_view data)>& out,
                      const std::function<void(std::string_view data)>& err);

}  // namespace berth::shim::internal
