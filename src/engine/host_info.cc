#include "engine/host_info.h"

#include <sched.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <set>

#include "base/file.h"
#include "base/strings.h"

namespace berth::engine {
namespace {

std::string ReadTrimmed(const std::string& path) {
  Result<std::string> text = ReadFile(path);
  return text ? std::string(TrimSpace(*text)) : std::string();
}

// One KEY=value line of os-release(5), unquoted.
std::string OsReleaseValue(const std::string& text, std::string_view key) {
  for (const std::string& line : Split(text, '\n')) {
    std::string_view l = TrimSpace(line);
    if (!l.starts_with(key) || l.size() <= key.size() || l[key.size()] != '=') continue;
    std::string_view v = l.substr(key.size() + 1);
    if (v.size() >= 2 && (v.front() == '"' || v.front() == '\'') && v.back() == v.front()) {
      v = v.substr(1, v.size() - 2);
    }
    return std::string(v);
  }
  return "";
}

int64_t MemTotal(const std::string& meminfo) {
  for (const std::string& line : Split(meminfo, '\n')) {
    if (!line.starts_with("MemTotal:")) continue;
    std::vector<std::string> f;
    for (const std::string& part : Split(line.substr(9), ' ')) {
      if (!part.empty()) f.push_back(part);
    }
    if (f.empty()) return 0;
    int64_t kib = 0;
    for (char c : f[0]) {
      if (c < '0' || c > '9') return 0;
      kib = kib * 10 + (c - '0');
    }
    return kib * 1024;
  }
  return 0;
}

CgroupInfo ProbeCgroup(const std::string& cgroup_root) {
  CgroupInfo info;
  if (PathExists(cgroup_root + "/cgroup.controllers")) {
    // Unified hierarchy: what the root delegates is what containers can be limited by.
    info.version = "2";
    std::set<std::string> controllers;
    for (const std::string& c : Split(ReadTrimmed(cgroup_root + "/cgroup.controllers"), ' ')) {
      controllers.insert(c);
    }
    info.memory_limit = controllers.count("memory") != 0;
    info.swap_limit = info.memory_limit;
    info.cpu_cfs_period = info.cpu_cfs_quota = info.cpu_shares = controllers.count("cpu") != 0;
    info.cpu_set = controllers.count("cpuset") != 0;
    info.pids_limit = controllers.count("pids") != 0;
    return info;
  }
  info.version = "1";
  auto has = [&](const std::string& rel) { return PathExists(cgroup_root + "/" + rel); };
  info.memory_limit = has("memory/memory.limit_in_bytes");
  info.swap_limit = has("memory/memory.memsw.limit_in_bytes");
  info.kernel_memory_tcp = has("memory/memory.kmem.tcp.limit_in_bytes");
  info.oom_kill_disable = has("memory/memory.oom_control");
  info.cpu_cfs_period = has("cpu/cpu.cfs_period_us");
  info.cpu_cfs_quota = has("cpu/cpu.cfs_quota_us");
  info.cpu_shares = has("cpu/cpu.shares");
  info.cpu_set = has("cpuset/cpuset.cpus");
  info.pids_limit = has("pids/pids.max");
  return info;
}

}  // namespace

std::string GoArch(const std::string& machine) {
  if (machine == "x86_64") return "amd64";
  if (machine == "aarch64" || machine == "arm64") return "arm64";
  if (machine.starts_with("armv")) return "arm";
  if (machine == "i386" || machine == "i686") return "386";
  return machine;  // ppc64le, s390x, riscv64 are spelled the same
}

HostInfo ProbeHost(const std::string& root) {
  HostInfo h;
  struct utsname u {};
  if (::uname(&u) == 0) {
    h.kernel_version = u.release;
    h.architecture = u.machine;
    h.hostname = u.nodename;
  }
  h.go_arch = GoArch(h.architecture);

  Result<std::string> os_release = ReadFile(root + "etc/os-release");
  if (!os_release) os_release = ReadFile(root + "usr/lib/os-release");
  if (os_release) {
    h.operating_system = OsReleaseValue(*os_release, "PRETTY_NAME");
    h.os_version = OsReleaseValue(*os_release, "VERSION_ID");
  }
  if (h.operating_system.empty()) h.operating_system = "Linux";

  cpu_set_t set;
  CPU_ZERO(&set);
  if (::sched_getaffinity(0, sizeof(set), &set) == 0) h.ncpu = CPU_COUNT(&set);
  if (h.ncpu <= 0) h.ncpu = static_cast<int>(::sysconf(_SC_NPROCESSORS_ONLN));

  Result<std::string> meminfo = ReadFile(root + "proc/meminfo");
  if (meminfo) h.mem_total = MemTotal(*meminfo);

  h.cgroup = ProbeCgroup(root + "sys/fs/cgroup");
  h.ipv4_forwarding = ReadTrimmed(root + "proc/sys/net/ipv4/ip_forward") == "1";
  h.bridge_nf_iptables = ReadTrimmed(root + "proc/sys/net/bridge/bridge-nf-call-iptables") == "1";
  h.bridge_nf_ip6tables = ReadTrimmed(root + "proc/sys/net/bridge/bridge-nf-call-ip6tables") == "1";
  return h;
}

}  // namespace berth::engine
