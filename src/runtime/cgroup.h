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
#include "base/unique_fd.h"
#include "oci/runtime_spec.h"

namespace berth::runtime {

struct CgroupStats {
  uint64_t memory_usage = 0;  // bytes (v1 memory.usage_in_bytes, v2 memory.current)
  uint64_t memory_limit = 0;  // bytes; the host's memory when unlimited
  uint64_t cpu_usage_ns = 0;  // total CPU time (v1 cpuacct.usage, v2 cpu.stat usage_usec*1000)
  uint64_t pids_current = 0;
  uint64_t oom_kills = 0;  // v1 memory.oom_control oom_kill, v2 memory.events oom_kill
};

class Cgroup {
 public:
  virtual ~Cgroup() = default;
  // Moves `pid` (a thread-group leader) into the cgroup in every hierarchy.
  virtual Status AddProcess(pid_t pid) = 0;
  // For a process that will join by itself: files to open before it is forked, into each of
  // which the new process writes "0" (JoinSelf) while it is still single-threaded. v1: each
  // hierarchy's `tasks`. Moving the writing thread itself is the one migration the kernel does
  // without cgroup_threadgroup_rwsem; AddProcess (cgroup.procs) waits for an RCU grace period
  // for it, 14-31 ms on this VM, the largest cost of a container start. v2 has no such file
  // (its cgroup.procs takes the lock for every writer): empty, and the caller uses AddProcess.
  virtual Result<std::vector<UniqueFd>> OpenSelfJoin() = 0;
  // v2: the cgroup's directory, for clone3(CLONE_INTO_CGROUP), which creates a process in the
  // cgroup with no migration at all (kernel 5.7+). v1: an invalid fd.
  virtual Result<UniqueFd> OpenForClone() = 0;
  // Returns once the freezer reports frozen (v1 freezer.state FROZEN, v2 cgroup.events
  // "frozen 1"); Unavailable after 5 s, the cgroup thawed again. v1 without a freezer hierarchy:
  // FailedPrecondition.
  virtual Status Freeze() = 0;
  virtual Status Thaw() = 0;
  virtual Result<CgroupStats> Stats() = 0;
  virtual Result<std::vector<pid_t>> Pids() = 0;
  // SIGKILLs every process in the cgroup and its sub-cgroups (for a container whose init is gone
  // or a forced rm). v2 writes cgroup.kill when the kernel has it; otherwise the cgroup is frozen
  // (when a freezer is there), each listed pid killed, then thawed so the kills land. Returns
  // without waiting for the processes to exit; the caller reaps its child.
  virtual Status KillAll() = 0;
  // Removes the directories (sub-cgroups first) in every hierarchy; the parents ("/berth")
  // stay. FailedPrecondition while processes remain. A missing cgroup is ok.
  virtual Status Destroy() = 0;
};

// Writes "0" to each file from OpenSelfJoin: the calling thread moves into the cgroup.
// Async-signal-safe (for a forked child). Returns 0 or the errno of the failed write.
int JoinSelf(const std::vector<int>& fds);

class CgroupManager {
 public:
  virtual ~CgroupManager() = default;
  // Detects the layout under `root` (normally "/sys/fs/cgroup"): cgroup2 mounted at the root is
  // v2 (so is a root holding cgroup.controllers: tests lay out fake trees); otherwise v1, with
  // each controller at root/<name> (cpu,cpuacct links followed). A hybrid host's root/unified
  // cgroup2 mount is not used. NotFound if `root` does not exist, FailedPrecondition if it holds
  // no hierarchy.
  static Result<std::unique_ptr<CgroupManager>> Detect(const std::string& root);

  virtual int version() const = 0;  // 1 or 2
  // Creates `path` ("/berth/<id>") and applies `resources`. A limit the kernel refuses is
  // InvalidArgument naming the file and the value ("memory.limit_in_bytes=1024: Device or
  // resource busy"), and nothing is left behind: the directories this call made are removed
  // (existing ones, like a shared "/berth", stay; an existing cgroup at `path` is reused).
  // InvalidArgument for a relative path or one with "." / ".." / empty components.
  // FailedPrecondition, before anything is made, when a limit needs a controller the host does
  // not offer (v1: not mounted; v2: not in the root's cgroup.controllers).
  // Files: v1 memory.limit_in_bytes, memory.memsw.limit_in_bytes (swap = memory+swap; skipped
  // without swap accounting), memory.soft_limit_in_bytes, memory.swappiness, cpu.shares,
  // cpu.cfs_period_us, cpu.cfs_quota_us, cpuset.cpus/mems (copied from the parent when empty,
  // then the spec's), pids.max. v2 memory.max, memory.low, memory.swap.max (swap - limit, as
  // runc), cpu.weight (runc's conversion from shares), cpu.max, cpuset.*, pids.max, after
  // enabling the controllers in every ancestor's cgroup.subtree_control. -1 / pids <= 0: "max".
  // Not applied yet: blkio/io, hugetlb, devices (linux.resources.devices is not in the spec
  // subset), kernel memory.
  virtual Result<std::unique_ptr<Cgroup>> Create(const std::string& path,
                                                 const oci::LinuxResources& resources) = 0;
  // Opens an existing cgroup; NotFound if it does not exist.
  virtual Result<std::unique_ptr<Cgroup>> Open(const std::string& path) = 0;
};

}  // namespace berth::runtime
