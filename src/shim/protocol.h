// The shim's files and its control protocol, shared by berth-shim (server.h) and berthd
// (client.h). The shim is the parent of one container's init: it owns the container's stdio,
// its json-file log and its exit status, so berthd can restart without stopping containers
// (ARCHITECTURE.md, "Containers survive the daemon").
//
// Files:
//   <bundle>/                  <data-root>/containers/<id>/ (survives a reboot)
//     config.json              the OCI runtime spec (oci/runtime_spec.h), written by berthd
//     shim.json                ShimOptions, written by berthd before it spawns the shim
//     exit.json                ExitStatus, written atomically by the shim when the init exits;
//                              removed by berthd before each start
//     <id>-json.log[.N]        the json-file log (json_log.h)
//   <run-dir>/                 <exec-root>/containers/<id>/ (tmpfs; gone after a reboot)
//     shim.sock                the control socket; connectable while the shim runs
//     shim.pid                 the shim's pid
//
// Protocol on shim.sock: each connection sends one request, a JSON object on one line, and
// reads one response line: {"ok":true,...} or {"error":"...","code":"NotFound"}. Some
// requests turn the connection into something longer-lived:
//   start                      releases the init (runtime::ContainerProcess::Start)
//   state                      {"pid","running","exit":{...}}
//   wait                       the response comes when the init has exited and its output is
//                              drained into the log: {"exit":{...}}
//   kill   {"signal","all"}    signals the init (all: every process of the cgroup)
//   resize {"height","width","exec"?}
//                              the pty (the container's, or exec <exec>'s)
//   exec {"id","process","stdin","stdout","stderr"}
//                              runs an oci::Process in the container (runtime::CreateExec with
//                              the container's spec and cgroup); after the response line
//                              {"ok":true,"pid"} the connection is that process's stream, in
//                              attach's format (only the outputs asked for; stdout and stderr
//                              default to true); a half-close closes its stdin. The stream ends
//                              when the process has exited and its output is drained. A program
//                              that cannot start is an error response (NotFound: 127, else 126)
//   exec-state {"id"}          {"running","pid","exit_code"}; the shim reaps exec processes
//                              and keeps their exit codes while it runs
//   attach {"stdin","stdout","stderr"}
//                              after the response line the connection is the container's
//                              stream: output in Docker's raw-stream format (8-byte stdcopy
//                              frames, or raw bytes with a tty), input bytes to stdin; a
//                              half-close closes the container's stdin when StdinOnce.
// Thread-safety: plain data and pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "snapshot/mount_spec.h"

namespace berth::shim {

inline constexpr std::string_view kConfigFile = "config.json";
inline constexpr std::string_view kOptionsFile = "shim.json";
inline constexpr std::string_view kExitFile = "exit.json";
inline constexpr std::string_view kSocketFile = "shim.sock";
inline constexpr std::string_view kPidFile = "shim.pid";

struct ShimOptions {
  std::string id;
  std::string bundle;   // holds config.json; root.path is relative to it
  std::string run_dir;  // holds shim.sock
  std::vector<snapshot::MountSpec> rootfs_mounts;
  std::string log_path;  // "" for no log
  int64_t log_max_size = 0;  // bytes; 0 unlimited
  int log_max_file = 1;
  bool open_stdin = false;
  bool stdin_once = false;
  std::string cgroup_root = "/sys/fs/cgroup";
  std::string seccomp_cache_dir;  // compiled filters shared by all shims ("" none)
};

struct ExitStatus {
  int exit_code = 0;        // the program's, or 128+N after signal N
  bool oom_killed = false;
  int64_t finished_at = 0;  // unix nanos
  std::string error;        // why the container could not run, when it never did
};

std::string SerializeOptions(const ShimOptions& options);
Result<ShimOptions> ParseOptions(std::string_view json);
std::string SerializeExit(const ExitStatus& status);
Result<ExitStatus> ParseExit(std::string_view json);

// Docker's raw-stream frame header (stdcopy): [stream, 0, 0, 0, size big-endian uint32].
enum class StreamType : uint8_t { kStdin = 0, kStdout = 1, kStderr = 2 };
std::string FrameHeader(StreamType stream, uint32_t size);

}  // namespace berth::shim

namespace berth::shim {

// A failure as a response line: {"error":"<message>","code":<int Code>,"errno":<n>}.
std::string EncodeError(const Error& error);
// The error a response line carries, if any (a line that is not JSON is Internal).
Status DecodeError(std::string_view line);

}  // namespace berth::shim
