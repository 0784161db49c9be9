// SystemBackend: what the Engine API's system routes (/info, /version) need from the engine.
//
// The API layer turns these plain structs into dockerd's JSON; it never sees the image store
// or the container table, only counts. Implementations must be thread-safe: the API server
// calls them from many connection threads at once.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "base/result.h"
#include "engine/build_info.h"
#include "engine/host_info.h"

namespace berth::engine {

struct ObjectCounts {
  int64_t containers = 0;
  int64_t running = 0;
  int64_t paused = 0;
  int64_t stopped = 0;
  int64_t images = 0;
};

// One entry of RegistryConfig.IndexConfigs.
struct IndexInfo {
  std::string name;
  std::vector<std::string> mirrors;
  bool secure = true;
  bool official = false;
};

struct RegistryInfo {
  std::vector<std::string> insecure_cidrs;  // always includes 127.0.0.0/8
  std::vector<IndexInfo> indexes;           // docker.io first, then insecure hostnames
  std::vector<std::string> mirrors;
};

struct SystemInfo {
  std::string id;  // stable daemon id (<data-root>/engine-id)
  ObjectCounts counts;
  std::string driver;  // storage driver: "overlay2"
  std::vector<std::pair<std::string, std::string>> driver_status;
  std::string root_dir;
  bool debug = false;
  int64_t open_fds = 0;
  int64_t threads = 0;
  std::string system_time;  // RFC 3339 with nanoseconds
  HostInfo host;
  RegistryInfo registry;
  std::string http_proxy, https_proxy, no_proxy;  // credentials masked
  std::string server_version;
  std::string default_runtime;
  std::vector<std::string> runtimes;
  std::vector<std::string> security_options;
  std::vector<std::string> warnings;
};

struct VersionInfo {
  BuildInfo build;
  std::string platform_name;
  std::string os;    // "linux"
  std::string arch;  // GOARCH name
  std::string kernel_version;
};

class SystemBackend {
 public:
  virtual ~SystemBackend() = default;
  virtual Result<SystemInfo> Info() = 0;
  virtual VersionInfo Version() = 0;
};

}  // namespace berth::engine
