// ContainerProbe: what runs in a container and what it uses, read from its cgroup, for
// GET /containers/{id}/top and /stats. The container's cgroup is <parent>/<id> below the
// cgroup root (runtime/cgroup.h), as ContainerService creates it.
// Top runs the host's `ps` (procps) as dockerd does (daemon/top_unix.go) and keeps the rows of
// the container's pids. Thread-safety: all methods may be called from any thread.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "runtime/cgroup.h"

namespace berth::engine {

struct TopResult {
  std::vector<std::string> titles;
  std::vector<std::vector<std::string>> processes;
};

// Host-wide CPU figures for Docker's cpu_stats: the sum of /proc/stat's first "cpu" line (user
// to steal) in nanoseconds, and the online CPUs.
struct HostCpu {
  uint64_t system_usage_ns = 0;
  int online_cpus = 0;
};

class ContainerProbe {
 public:
  ContainerProbe(std::string cgroup_root, std::string cgroup_parent, std::string proc_root);

  Result<std::vector<pid_t>> Pids(const std::string& id) const;
  Result<runtime::CgroupStats> Stats(const std::string& id) const;
  Result<HostCpu> ReadHostCpu() const;
  // `ps <ps_args>` (split on spaces, as dockerd does) filtered to `pids`. InvalidArgument when
  // ps fails or prints no PID column.
  Result<TopResult> Top(const std::vector<pid_t>& pids, std::string_view ps_args) const;

 private:
  Result<std::unique_ptr<runtime::Cgroup>> Open(const std::string& id) const;
  std::string cgroup_root_;
  std::string cgroup_parent_;
  std::string proc_root_;
};

// dockerd's parsePSOutput: titles from the first line; rows whose PID column is one of `pids`
// (and the thread lines, PID "-", that follow such a row); the columns past the last title
// joined into the last one (the command with its arguments).
Result<TopResult> ParsePsOutput(std::string_view output, const std::vector<pid_t>& pids);
// The first "cpu " line of /proc/stat; `ticks_per_second` is sysconf(_SC_CLK_TCK).
Result<uint64_t> ParseProcStatCpuNanos(std::string_view proc_stat, long ticks_per_second);

}  // namespace berth::engine
