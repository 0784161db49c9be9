// Containers: the engine's container service behind the Engine API's /containers routes.
// Each container is a row in meta.db (container_store.h), a directory <data-root>/containers/
// <id>/ (shim/protocol.h: config.json, shim.json, exit.json, the log, hosts, hostname,
// resolv.conf), an active overlay snapshot "container-<id>" on its image's top layer, and while
// it runs a berth-shim (shim/) that is the parent of its init. berthd holds no container
// process itself: restarting berthd leaves containers running, and Restore() finds them again
// through their shims' sockets (or exit.json when they ended while berthd was down).
//
// Lifecycle (Docker's states): created -> running <-> paused -> exited -> (start again) ...;
// removing -> gone. Each transition is written to meta.db in one statement before it is
// reported; a crash at any point leaves a row that List shows and Remove can finish.
// Thread-safety: all methods may be called from any thread; each container has its own lock.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/io.h"
#include "base/result.h"
#include "base/unique_fd.h"
#include "engine/container_config.h"
#include "oci/digest.h"

namespace berth::image {
class ImageStore;
}
namespace berth::snapshot {
class Snapshotter;
}
namespace berth::sql {
class Database;
}
namespace berth::sys {
class Syscalls;
}
namespace berth::volume {
class VolumeStore;
}

namespace berth::engine {

class EventBus;

// Docker's ContainerState.
struct ContainerState {
  std::string status = "created";  // created running paused restarting removing exited dead
  bool paused = false;
  bool restarting = false;
  bool oom_killed = false;
  bool dead = false;
  int pid = 0;
  int exit_code = 0;
  std::string error;
  int64_t started_at = 0;   // unix nanos; 0: never
  int64_t finished_at = 0;  // unix nanos; 0: never
  bool running() const { return status == "running" || status == "paused"; }
};

// Docker's MountPoint: a volume or bind mount of a container (inspect's Mounts).
struct MountPoint {
  std::string type;         // "volume" or "bind"
  std::string name;         // the volume's name ("" for a bind)
  std::string source;       // host path: the volume's _data, or the bind source
  std::string destination;  // absolute, cleaned, inside the container
  std::string driver;       // "local" for volumes
  std::string mode;         // as given after the second ':' ("z" for volumes by default)
  bool rw = true;
  std::string propagation;  // "rprivate" for binds
  bool anonymous = false;   // removed with the container by `rm -v` / --rm
  friend bool operator==(const MountPoint&, const MountPoint&) = default;
};

struct Container {
  std::string id;    // 64 hex
  std::string name;  // without the leading '/'
  oci::Digest image_id;
  int64_t created = 0;  // unix nanos
  std::string config_json;       // Docker's Config as inspect shows it (merged with the image's)
  std::string host_config_json;  // Docker's HostConfig as given
  ContainerConfig config;
  HostConfig host_config;
  ContainerState state;
  int restart_count = 0;
  bool stopped_by_user = false;  // `stop`/`kill` by a user: restart policies stay quiet
  std::string path;               // the program (Docker's Path)
  std::vector<std::string> args;  // its arguments (Docker's Args)
  std::string bundle;             // <data-root>/containers/<id>
  std::string log_path;
  std::vector<MountPoint> mounts;  // volumes and binds, resolved at create
};

struct ContainerServiceOptions {
  sql::Database* db = nullptr;
  snapshot::Snapshotter* snapshots = nullptr;
  image::ImageStore* images = nullptr;
  std::string data_root;  // containers/ lives here
  std::string exec_root;  // containers/<id>/shim.sock lives here
  std::string shim_binary;
  std::string init_binary;  // tini-static for --init; "" if not installed
  std::string cgroup_root = "/sys/fs/cgroup";
  std::string cgroup_parent = "/berth";
  int host_cpus = 1;
  std::string kernel_release;
  volume::VolumeStore* volumes = nullptr;  // -v volumes; required when a container has one
  sys::Syscalls* sys = nullptr;  // for filling new volumes from the image; null: left empty
  EventBus* events = nullptr;  // container events go here (create, start, die, ...); optional
};

struct CreateResult {
  std::string id;
  std::vector<std::string> warnings;
};

enum class WaitCondition { kNotRunning, kNextExit, kRemoved };

struct WaitResult {
  int exit_code = 0;
  std::string error;
};

struct LogOptions {
  bool stdout = true;
  bool stderr = true;
  bool follow = false;
  bool timestamps = false;
  int64_t since = 0;  // unix nanos
  int64_t until = 0;
  int64_t tail = -1;  // -1: all
};

// A reservation from ContainerService::ReserveAttach: whether it was counted, and which
// start it waits for.
struct AttachReservation {
  bool reserved = false;
  uint64_t spawns = 0;  // the container's spawn count when reserved
};

class ContainerService {
 public:
  static Result<std::unique_ptr<ContainerService>> Open(ContainerServiceOptions options);
  ~ContainerService();

  // At daemon start: reconnects to running shims, records exits that happened while berthd was
  // down, finishes interrupted removals, and applies restart policies.
  Status Restore();
  // At daemon stop: stops watching shims; containers keep running.
  void Shutdown();

  // `name` may be empty (a name is generated). Config and HostConfig are the JSON objects of
  // the request body.
  Result<CreateResult> Create(std::string_view name, std::string_view config_json,
                              std::string_view host_config_json);
  // By full id, unique id prefix, or name (with or without '/'). NotFound: "No such container:
  // <x>".
  Result<Container> Get(std::string_view ref);
  std::vector<Container> List();
  Status Start(std::string_view ref);
  // `timeout` seconds before SIGKILL (nullopt: the container's StopTimeout or 10; -1 waits
  // forever); `signal` overrides the container's StopSignal.
  Status Stop(std::string_view ref, std::optional<int> timeout, std::string_view signal);
  Status Restart(std::string_view ref, std::optional<int> timeout, std::string_view signal);
  Status Kill(std::string_view ref, std::string_view signal);
  Status Pause(std::string_view ref);
  Status Unpause(std::string_view ref);
  Status Rename(std::string_view ref, std::string_view new_name);
  Status Remove(std::string_view ref, bool force, bool remove_volumes);
  // Blocks until the condition holds; `cancelled` is polled so a client that goes away frees
  // the thread.
  // `registered`, when given, is called once the wait is in place (the container found, the
  // exit to wait for fixed), without the container's lock held: the API sends its 200 there,
  // so a client that starts the container only after it cannot miss the exit or the removal.
  Result<WaitResult> Wait(std::string_view ref, WaitCondition condition,
                          const std::function<bool()>& cancelled,
                          const std::function<Status()>& registered = {});
  // The container's stream (shim/protocol.h attach). Before the container starts, blocks until
  // Start has spawned its shim, so no output is lost (docker run attaches, then starts).
  Result<UniqueFd> Attach(std::string_view ref, bool in, bool out, bool err,
                          const AttachReservation& reservation = {});
  // Before answering an attach's 101: a container that is not running yet counts this attach
  // as pending, so a start that the client sends right after the 101 waits for it. Pass the
  // result to Attach: it connects to the first shim spawned after the reservation, even when
  // that start came before Attach was called.
  Result<AttachReservation> ReserveAttach(std::string_view ref);
  // Gives back a reservation that will not be used (the client went away before the 101).
  void CancelAttach(std::string_view ref);
  Status Resize(std::string_view ref, unsigned height, unsigned width);
  // Calls `fn(stream, bytes, time)` for each log entry; `fn` returns false to stop.
  Status Logs(std::string_view ref, const LogOptions& options,
              const std::function<bool(std::string_view stream, std::string_view bytes,
                                       int64_t time)>& fn);
  // Removes stopped containers; returns their ids.
  Result<std::vector<std::string>> Prune();
  // Short ids of containers created from an image (image::UsageChecker).
  std::vector<std::string> ContainersUsing(const oci::Digest& image_id);

  struct Impl;

 private:
  explicit ContainerService(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace berth::engine
