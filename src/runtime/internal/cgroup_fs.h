// Internal to runtime/: what the v1 and v2 cgroup backends share. Limits are planned as data
// (a list of file writes, STYLE.md §5) by pure functions, then applied by WriteCgroupFile; tests
// assert on both the plans and the files in a fake tree under a temp dir.
// Thread-safety: pure functions and plain file I/O.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "oci/runtime_spec.h"
#include "runtime/cgroup.h"

namespace berth::runtime::internal {

// One write of a limit: `file` ("memory.max") gets `value` ("1048576"). The controller that owns
// the file is the part of its name before the first dot ("memory"), in v1 and v2 alike.
struct CgroupWrite {
  std::string file;
  std::string value;
  std::string Controller() const { return file.substr(0, file.find('.')); }
  friend bool operator==(const CgroupWrite&, const CgroupWrite&) = default;
};

// v1 files: devices.deny and devices.allow (linux.resources.devices, in order: "a" or
// "c 1:3 rwm"), memory.limit_in_bytes, memory.soft_limit_in_bytes, memory.memsw.limit_in_bytes (only
// when `has_memsw`: swap accounting on), memory.swappiness, cpu.shares, cpu.cfs_period_us (before
// the quota), cpu.cfs_quota_us, cpuset.cpus, cpuset.mems, pids.max. In the order to apply.
std::vector<CgroupWrite> PlanV1Writes(const oci::LinuxResources& resources, bool has_memsw);

// v2 files: memory.max, memory.low, memory.swap.max (swap - limit, runc's conversion; only when
// `has_swap`), cpu.weight (from shares), cpu.max, cpuset.cpus, cpuset.mems, pids.max.
// InvalidArgument for a swap limit runc refuses too (swap without a memory limit, swap < limit).
Result<std::vector<CgroupWrite>> PlanV2Writes(const oci::LinuxResources& resources, bool has_swap);

// runc's ConvertCPUSharesToCgroupV2Value: [2, 262144] -> [1, 10000]; 0 stays 0 (unset).
uint64_t CpuSharesToWeight(uint64_t shares);

// "/berth/<id>": absolute, no "." or ".." component, no empty component. InvalidArgument else.
Status ValidateCgroupPath(std::string_view path);

// Reads a cgroup file, surrounding whitespace trimmed.
Result<std::string> ReadCgroupFile(const std::string& path);
// Writes `value` to dir/file (O_WRONLY|O_TRUNC, no O_CREAT: the kernel makes the files). The error
// names the file and the value: "memory.limit_in_bytes=1024: Device or resource busy"; a value
// the kernel refuses (EINVAL, EBUSY, ERANGE, EOVERFLOW) is InvalidArgument.
Status WriteCgroupFile(const std::string& dir, const std::string& file, std::string_view value);

// The value of `key` in a flat keyed file ("oom_kill 3" lines); 0 if the file or key is absent.
uint64_t ReadKeyedValue(const std::string& path, std::string_view key);
// A number file ("123\n", or "max" -> `max_value`); 0 if absent or unparsable.
uint64_t ReadNumberFile(const std::string& path, uint64_t max_value);
// Total RAM of the host (sysinfo), the memory limit shown for an unlimited cgroup.
uint64_t HostMemoryBytes();

// Pids in dir/cgroup.procs and in every cgroup below `dir`.
Result<std::vector<pid_t>> ReadPidsRecursive(const std::string& dir);
// SIGKILLs each pid; ESRCH (already gone) is fine.
Status KillPids(const std::vector<pid_t>& pids);
// SIGKILLs every process of `cgroup`, frozen meanwhile when `freeze` (and freezing works) so a
// fork bomb cannot outrun the loop (runc's signalAllProcesses); thawed after.
Status FreezeAndKillAll(Cgroup& cgroup, bool freeze);

// mkdir of `dir`; appends it to `created` unless it existed.
Status MakeCgroupDir(const std::string& dir, std::vector<std::string>& created);
// mkdir of each component of `path` below `hierarchy`; appends the directories it made (not those
// that existed) to `created`, parents first.
Status MakeCgroupDirs(const std::string& hierarchy, std::string_view path,
                      std::vector<std::string>& created);
// Removes `dir` and the cgroups below it, deepest first. A missing dir is fine; EBUSY (processes
// remain) is FailedPrecondition. rmdir may briefly see EBUSY after the last process exited, so an
// EBUSY with no pid left is retried for up to `busy_timeout`.
Status RemoveCgroupDir(const std::string& dir, std::chrono::milliseconds busy_timeout);
// rmdir of `dirs` in reverse order, errors ignored: undoing a failed Create.
void RemoveCreatedDirs(const std::vector<std::string>& dirs);

// Polls `done` (with short sleeps: the kernel gives no cheap event for it) until it returns true,
// fails, or `timeout` passes (Unavailable "timed out waiting for <what>").
Status PollUntil(const std::function<Result<bool>()>& done, std::chrono::milliseconds timeout,
                 std::string_view what);

}  // namespace berth::runtime::internal
