// berthd's side of the shim (protocol.h): spawning berth-shim for a bundle, and one call per
// connection to a running shim. Thread-safety: a Client holds only its paths; calls may run
// concurrently from several threads (each opens its own connection).
#pragma once

#include <sys/types.h>

#include <string>

#include "base/result.h"
#include "base/unique_fd.h"
#include "shim/protocol.h"

namespace berth::shim {

struct Spawned {
  pid_t shim_pid = 0;
  pid_t init_pid = 0;  // the container's init, held at the start barrier
};

// Runs `shim_binary <bundle>` (which reads <bundle>/shim.json and daemonises) and waits until
// the shim has created the container's init and listens on its socket, or has failed; the
// shim's error keeps its code (NotFound for a missing command is only known at Start).
Result<Spawned> Spawn(const std::string& shim_binary, const std::string& bundle);

struct ShimState {
  pid_t pid = 0;
  bool started = false;
  bool running = false;
};

struct ExecState {
  bool running = false;
  pid_t pid = 0;
  int exit_code = 0;
};

class Client {
 public:
  explicit Client(std::string run_dir);

  // True if the shim's socket accepts a connection.
  bool Alive() const;
  // Releases the container's init. The runtime's error (NotFound, PermissionDenied, ...) keeps
  // its code and message.
  Status Start() const;
  Result<ShimState> State() const;
  Status Kill(int signal, bool all) const;
  // The container's pty, or with a non-empty `exec_id` that exec's.
  Status Resize(unsigned height, unsigned width, const std::string& exec_id = "") const;
  // Runs `process_json` (oci::SerializeProcess) in the container as exec `exec_id` and returns
  // its stream (protocol.h, exec). A program that cannot start is an error with the runtime's
  // code (NotFound: exit code 127, else 126; ExecState reports it). The stream carries stdin,
  // stdout and stderr only as asked; unasked output is dropped.
  Result<UniqueFd> Exec(const std::string& exec_id, const std::string& process_json,
                        bool stdin, bool out = true, bool err = true) const;
  Result<ExecState> ExecStatus(const std::string& exec_id) const;
  // The container's stream (protocol.h, attach), after the shim accepted the request.
  Result<UniqueFd> Attach(bool in, bool out, bool err) const;
  // Sends "wait" and returns the connection; the response arrives on it when the container
  // has exited. ReadWait reads it (blocking).
  Result<UniqueFd> OpenWait() const;
  static Result<ExitStatus> ReadWait(int fd);

 private:
  Result<UniqueFd> Connect() const;
  Result<std::string> Call(const std::string& request) const;

  std::string run_dir_;
};

// Reads one '\n'-terminated line from `fd`, byte by byte, so nothing after it is consumed.
// Unavailable on EOF before the newline.
Result<std::string> ReadLine(int fd, size_t max = 1 << 20);

}  // namespace berth::shim
