// HostInfo: facts about the machine that `docker info` and `docker version` show (kernel,
// OS, CPUs, memory, cgroup version and controllers, IP forwarding).
//
// ProbeHost reads files under a root directory ("/" in the daemon, a temp dir in tests) plus
// uname(2) and sched_getaffinity(2). It never fails: a fact that cannot be read stays empty
// or false, as dockerd does. Plain value; probing has no shared state.
#pragma once

#include <cstdint>
#include <string>

namespace berth::engine {

struct CgroupInfo {
  std::string version;  // "1" or "2"
  bool memory_limit = false;
  bool swap_limit = false;
  bool kernel_memory_tcp = false;
  bool cpu_cfs_period = false;
  bool cpu_cfs_quota = false;
  bool cpu_shares = false;
  bool cpu_set = false;
  bool pids_limit = false;
  bool oom_kill_disable = false;
};

struct HostInfo {
  std::string kernel_version;  // uname -r
  std::string architecture;    // uname -m: "x86_64"
  std::string go_arch;         // the same in Go's GOARCH names: "amd64"
  std::string hostname;
  std::string operating_system;  // os-release PRETTY_NAME
  std::string os_version;        // os-release VERSION_ID
  int ncpu = 0;
  int64_t mem_total = 0;  // bytes
  CgroupInfo cgroup;
  bool ipv4_forwarding = false;
  bool bridge_nf_iptables = false;
  bool bridge_nf_ip6tables = false;
};

// `root` must end with '/'.
HostInfo ProbeHost(const std::string& root = "/");

// Go's GOARCH for a uname machine name ("aarch64" -> "arm64"); unknown names pass through.
std::string GoArch(const std::string& machine);

}  // namespace berth::engine
