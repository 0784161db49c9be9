// Execs: `docker exec`, processes run inside a running container through its shim
// (shim/protocol.h, exec). An exec is created (POST /containers/{id}/exec), started once
// (POST /exec/{id}/start), and inspected until a while after it ended or until its container
// is removed (engine/internal/exec_store.h); like dockerd, execs live in memory only. The process is built from the container's config.json: its user resolution,
// env, cwd, capabilities and no_new_privs, with the exec's overrides.
// Thread-safety: all methods may be called from any thread.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "base/unique_fd.h"

namespace berth::engine {

class ContainerService;

// Docker's ExecConfig.
struct ExecConfig {
  bool attach_stdin = false;
  bool attach_stdout = false;
  bool attach_stderr = false;
  bool tty = false;
  std::vector<std::string> env;
  std::vector<std::string> cmd;
  std::string working_dir;
  std::string user;
  bool privileged = false;
  std::string detach_keys;
  std::optional<std::pair<unsigned, unsigned>> console_size;  // height, width
};

struct ExecInfo {
  std::string id;
  std::string container_id;
  ExecConfig config;
  bool running = false;
  bool started = false;
  std::optional<int> exit_code;  // set once the process has exited
  pid_t pid = 0;
  std::string entrypoint;  // ProcessConfig.entrypoint: cmd[0]
  std::vector<std::string> arguments;
  std::string user;
};

class ExecService {
 public:
  // `exec_root` holds containers/<id>/shim.sock, as ContainerServiceOptions::exec_root.
  // An ended exec stays inspectable for `ended_ttl_ns` (as dockerd's, 5 minutes by default);
  // `now` gives Unix nanoseconds (NowUnixNanos when empty; injected by tests).
  ExecService(ContainerService& containers, std::string exec_root,
              std::function<int64_t()> now = {}, int64_t ended_ttl_ns = 0);
  ~ExecService();

  // Conflict "Container <id> is not running" / "... is paused, unpause the container before
  // exec"; NotFound for an unknown container.
  Result<std::string> Create(std::string_view container_ref, const ExecConfig& config);
  // Starts the exec. Returns its stream (protocol.h's attach format), or an invalid fd when
  // `detach` (the output is dropped). A program that cannot start is an error with the
  // runtime's code; Inspect then reports 127 (not found) or 126.
  Result<UniqueFd> Start(std::string_view exec_id, bool detach,
                         std::optional<std::pair<unsigned, unsigned>> console_size);
  Result<ExecInfo> Inspect(std::string_view exec_id);
  Status Resize(std::string_view exec_id, unsigned height, unsigned width);
  // The ids of a container's execs that have not ended (container inspect's ExecIDs, as
  // dockerd's), oldest first.
  std::vector<std::string> IdsOf(std::string_view container_id);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace berth::engine
