// Cgroups for containers, v1 (one hierarchy per controller, as on this machine: a hybrid layout
// with only hugetlb in the cgroup2 mount) and v2 (unified), detected at start. Each container has
// one cgroup, `spec.linux.cgroupsPath` ("/berth/<id>") below every hierarchy root. The root is a
// parameter so tests run against a temp dir (STYLE.md §5).
//
// Lifecycle: Create (mkdir + limits) -> AddProcess(pid) before the process runs user code ->
// Freeze/Thaw, Stats, Pids while it runs -> Destroy once every process is gone (rmdir; EBUSY
// while a process remains). Open re-attaches after a daemon or shim restart.
// Thread-safety: a Cgroup is used by one thread at a time; the Manager is thread-safe.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/result.h"
#include "oci/runtime_spec.h"

namespace berth::runtime {

struct CgroupStats {
  uint64_t memory_usage = 0;  // bytes (v1 memory.usage_in_bytes, v2 memory.current)
  uint64_t memory_limit = 0;  // bytes; the host's memory when unlimited
  uint64_t cpu_usage_ns = 0;  // total CPU time (v1 cpuacct.usage, v2 cpu.stat usage_usec*1000)
  uint64_t pids_current = 0;
  uint64_t oom_kills = 0;     // v1 memory.oom_control oom_kill, v2 memory.events oom_kill
};

class Cgroup {
 public:
  virtual ~Cgroup() = default;
  // Moves `pid` (a thread-group leader) into the cgroup in every hierarchy.
  virtual Status AddProcess(pid_t pid) = 0;
  virtual Status Freeze() = 0;  // returns once the freezer reports FROZEN
  virtual Status Thaw() = 0;
  virtual Result<CgroupStats> Stats() = 0;
  virtual Result<std::vector<pid_t>> Pids() = 0;
  // SIGKILLs every process in the cgroup (for a container whose init is gone or a forced rm).
  virtual Status KillAll() = 0;
  // Removes the directories. FailedPrecondition while processes remain. A missing cgroup is ok.
  virtual Status Destroy() = 0;
};

class CgroupManager {
 public:
  virtual ~CgroupManager() = default;
  // Detects the layout under `root` (normally "/sys/fs/cgroup"): cgroup2 mounted at the root is
  // v2; otherwise v1, with each controller at root/<name> (cpu,cpuacct links followed).
  static Result<std::unique_ptr<CgroupManager>> Detect(const std::string& root);

  virtual int version() const = 0;  // 1 or 2
  // Creates `path` ("/berth/<id>") and applies `resources`. A limit the kernel refuses is
  // InvalidArgument naming the file and the value ("memory.limit_in_bytes=1024: Device or
  // resource busy"), and nothing is left behind.
  virtual Result<std::unique_ptr<Cgroup>> Create(const std::string& path,
                                                 const oci::LinuxResources& resources) = 0;
  // Opens an existing cgroup; NotFound if it does not exist.
  virtual Result<std::unique_ptr<Cgroup>> Open(const std::string& path) = 0;
};

}  // namespace berth::runtime
