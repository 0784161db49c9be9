#include "runtime/internal/cgroup_fs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include <charconv>
#include <cstring>
#include <utility>
#include <thread>

#include <fmt/format.h>

#include "base/file.h"
#include "base/strings.h"
#include "base/unique_fd.h"

namespace berth::runtime::internal {
namespace {

std::string LimitValue(int64_t v) { return v < 0 ? "-1" : std::to_string(v); }

bool ParseUint64(std::string_view s, uint64_t& out) {
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && ptr == s.data() + s.size();
}

// The subdirectories of `dir` (child cgroups).
std::vector<std::string> SubDirs(const std::string& dir) {
  std::vector<std::string> out;
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return out;
  while (dirent* e = readdir(d)) {
    const std::string_view name = e->d_name;
    if (name == "." || name == "..") continue;
    if (e->d_type == DT_DIR) out.push_back(dir + "/" + std::string(name));
  }
  closedir(d);
  return out;
}

Status RemoveOne(const std::string& dir, std::chrono::milliseconds busy_timeout) {
  for (const std::string& sub : SubDirs(dir)) {
    BERTH_RETURN_IF_ERROR(RemoveOne(sub, busy_timeout));
  }
  const auto deadline = std::chrono::steady_clock::now() + busy_timeout;
  auto pause = std::chrono::milliseconds(1);
  while (true) {
    if (rmdir(dir.c_str()) == 0 || errno == ENOENT) return Ok();
    const int err = errno;
    if (err != EBUSY && err != ENOTEMPTY) return ErrnoError("rmdir " + dir, err);
    Result<std::vector<pid_t>> pids = ReadPidsRecursive(dir);
    const bool has_pids = !pids || !pids->empty();
    if (has_pids || std::chrono::steady_clock::now() >= deadline) {
      Error e = ErrnoError("rmdir " + dir, err);
      e.code = Code::kFailedPrecondition;
      if (pids && !pids->empty()) e.message += fmt::format(" ({} processes remain)", pids->size());
      return e;
    }
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::milliseconds(20));
  }
}

}  // namespace

namespace {

// A devices.allow / devices.deny line.
std::string DeviceRuleValue(const oci::LinuxDeviceCgroup& d) {
  if (d.type.empty() || d.type == "a") return "a";  // the kernel reads nothing after "a"
  auto number = [](const std::optional<int64_t>& n) {
    return n && *n >= 0 ? std::to_string(*n) : std::string("*");
  };
  return d.type + " " + number(d.major) + ":" + number(d.minor) + " " +
         (d.access.empty() ? std::string("rwm") : d.access);
}

}  // namespace

std::vector<CgroupWrite> PlanV1Writes(const oci::LinuxResources& resources, bool has_memsw) {
  std::vector<CgroupWrite> w;
  for (const oci::LinuxDeviceCgroup& d : resources.devices) {
    w.push_back({d.allow ? "devices.allow" : "devices.deny", DeviceRuleValue(d)});
  }
  if (resources.memory) {
    const oci::LinuxMemory& m = *resources.memory;
    // A fresh cgroup's memsw limit is unlimited, so the memory limit goes first: memsw must
    // stay >= the memory limit at every step.
    if (m.limit) w.push_back({"memory.limit_in_bytes", LimitValue(*m.limit)});
    if (m.swap && has_memsw) w.push_back({"memory.memsw.limit_in_bytes", LimitValue(*m.swap)});
    if (m.reservation) w.push_back({"memory.soft_limit_in_bytes", LimitValue(*m.reservation)});
    if (m.swappiness && *m.swappiness >= 0) {
      w.push_back({"memory.swappiness", std::to_string(*m.swappiness)});
    }
  }
  if (resources.cpu) {
    const oci::LinuxCpu& c = *resources.cpu;
    if (c.shares && *c.shares != 0) w.push_back({"cpu.shares", std::to_string(*c.shares)});
    // The period first: the kernel checks quota against the current period.
    if (c.period && *c.period != 0) w.push_back({"cpu.cfs_period_us", std::to_string(*c.period)});
    if (c.quota && *c.quota != 0) w.push_back({"cpu.cfs_quota_us", LimitValue(*c.quota)});
    if (!c.cpus.empty()) w.push_back({"cpuset.cpus", c.cpus});
    if (!c.mems.empty()) w.push_back({"cpuset.mems", c.mems});
  }
  if (resources.pids) {
    const int64_t limit = resources.pids->limit;
    w.push_back({"pids.max", limit > 0 ? std::to_string(limit) : "max"});
  }
  return w;
}

uint64_t CpuSharesToWeight(uint64_t shares) {
  if (shares == 0) return 0;
  if (shares < 2) shares = 2;
  if (shares > 262144) shares = 262144;
  return 1 + ((shares - 2) * 9999) / 262142;
}

Result<std::vector<CgroupWrite>> PlanV2Writes(const oci::LinuxResources& resources, bool has_swap) {
  std::vector<CgroupWrite> w;
  if (resources.memory) {
    const oci::LinuxMemory& m = *resources.memory;
    auto max_value = [](int64_t v) { return v < 0 ? std::string("max") : std::to_string(v); };
    if (m.limit) w.push_back({"memory.max", max_value(*m.limit)});
    if (m.reservation) w.push_back({"memory.low", max_value(*m.reservation)});
    // OCI's swap is memory+swap (v1 memsw); v2's memory.swap.max is swap alone.
    if (m.swap && *m.swap != 0 && has_swap) {
      const int64_t limit = m.limit.value_or(0);
      if (*m.swap == -1) {
        w.push_back({"memory.swap.max", "max"});
      } else if (limit <= 0) {
        return MakeError(Code::kInvalidArgument,
                         "cgroup v2: a memory+swap limit needs a memory limit");
      } else if (*m.swap < limit) {
        return MakeError(Code::kInvalidArgument,
                         fmt::format("cgroup v2: memory+swap limit {} is below the memory limit {}",
                                     *m.swap, limit));
      } else {
        w.push_back({"memory.swap.max", std::to_string(*m.swap - limit)});
      }
    }
  }
  if (resources.cpu) {
    const oci::LinuxCpu& c = *resources.cpu;
    if (c.shares && *c.shares != 0) {
      w.push_back({"cpu.weight", std::to_string(CpuSharesToWeight(*c.shares))});
    }
    const int64_t quota = c.quota.value_or(0);
    const uint64_t period = c.period.value_or(0);
    if (quota != 0 || period != 0) {
      std::string value = quota > 0 ? std::to_string(quota) : "max";
      if (period != 0) value += " " + std::to_string(period);
      w.push_back({"cpu.max", value});
    }
    if (!c.cpus.empty()) w.push_back({"cpuset.cpus", c.cpus});
    if (!c.mems.empty()) w.push_back({"cpuset.mems", c.mems});
  }
  if (resources.pids) {
    const int64_t limit = resources.pids->limit;
    w.push_back({"pids.max", limit > 0 ? std::to_string(limit) : "max"});
  }
  return w;
}

Status ValidateCgroupPath(std::string_view path) {
  auto bad = [&](std::string_view why) {
    return MakeError(Code::kInvalidArgument, fmt::format("cgroup path \"{}\": {}", path, why));
  };
  if (path.empty() || path.front() != '/') return bad("must be absolute");
  if (path == "/") return bad("must not be the root");
  std::string_view rest = path.substr(1);
  while (true) {
    const size_t slash = rest.find('/');
    const std::string_view part = rest.substr(0, slash);
    if (part.empty()) return bad("has an empty component");
    if (part == "." || part == "..") return bad("has a \".\" or \"..\" component");
    if (slash == std::string_view::npos) break;
    rest.remove_prefix(slash + 1);
  }
  return Ok();
}

Result<std::string> ReadCgroupFile(const std::string& path) {
  BERTH_ASSIGN_OR_RETURN(std::string data, ReadFile(path));
  return std::string(TrimSpace(data));
}

Status WriteCgroupFile(const std::string& dir, const std::string& file, std::string_view value) {
  const std::string path = dir + "/" + file;
  const std::string what = fmt::format("{}={}", file, value);
  const int fd = open(path.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);
  if (fd < 0) return ErrnoError(fmt::format("{}: open {}", what, path));
  UniqueFd owner(fd);
  ssize_t n;
  do {
    n = write(fd, value.data(), value.size());
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    const int err = errno;
    Error e = ErrnoError(what, err);
    if (err == EINVAL || err == EBUSY || err == ERANGE || err == EOVERFLOW) {
      e.code = Code::kInvalidArgument;
    }
    return e;
  }
  if (static_cast<size_t>(n) != value.size()) {
    return MakeError(Code::kInternal, fmt::format("{}: short write ({} bytes)", what, n));
  }
  return Ok();
}

uint64_t ReadKeyedValue(const std::string& path, std::string_view key) {
  Result<std::string> data = ReadFile(path);
  if (!data) return 0;
  for (const std::string& line : Split(*data, '\n')) {
    const std::string_view l = TrimSpace(line);
    if (l.size() > key.size() && l.starts_with(key) && l[key.size()] == ' ') {
      uint64_t v = 0;
      if (ParseUint64(TrimSpace(l.substr(key.size() + 1)), v)) return v;
    }
  }
  return 0;
}

uint64_t ReadNumberFile(const std::string& path, uint64_t max_value) {
  Result<std::string> data = ReadCgroupFile(path);
  if (!data) return 0;
  if (*data == "max") return max_value;
  uint64_t v = 0;
  return ParseUint64(*data, v) ? v : 0;
}

uint64_t HostMemoryBytes() {
  struct sysinfo info {};
  if (sysinfo(&info) != 0) return 0;
  return static_cast<uint64_t>(info.totalram) * info.mem_unit;
}

Result<std::vector<pid_t>> ReadPidsRecursive(const std::string& dir) {
  std::vector<pid_t> pids;
  Result<std::string> data = ReadFile(dir + "/cgroup.procs");
  if (!data) return std::move(data).error().WithContext("read pids");
  for (const std::string& line : Split(*data, '\n')) {
    const std::string_view l = TrimSpace(line);
    if (l.empty()) continue;
    uint64_t v = 0;
    if (!ParseUint64(l, v) || v == 0 || v > static_cast<uint64_t>(INT32_MAX)) {
      return MakeError(Code::kDataLoss,
                       fmt::format("{}/cgroup.procs: bad pid \"{}\"", dir, std::string(l)));
    }
    pids.push_back(static_cast<pid_t>(v));
  }
  for (const std::string& sub : SubDirs(dir)) {
    BERTH_ASSIGN_OR_RETURN(std::vector<pid_t> more, ReadPidsRecursive(sub));
    pids.insert(pids.end(), more.begin(), more.end());
  }
  return pids;
}

Status KillPids(const std::vector<pid_t>& pids) {
  for (pid_t pid : pids) {
    if (kill(pid, SIGKILL) != 0 && errno != ESRCH) {
      return ErrnoError(fmt::format("kill -KILL {}", pid));
    }
  }
  return Ok();
}

Status FreezeAndKillAll(Cgroup& cgroup, bool freeze) {
  const bool frozen = freeze && cgroup.Freeze().ok();
  Result<std::vector<pid_t>> pids = cgroup.Pids();
  Status st = pids ? KillPids(*pids) : Status(pids.error());
  if (frozen) {
    Status thaw = cgroup.Thaw();
    if (st && !thaw) st = std::move(thaw);
  }
  return st;
}

Status MakeCgroupDirs(const std::string& hierarchy, std::string_view path,
                      std::vector<std::string>& created) {
  std::string dir = hierarchy;
  for (const std::string& part : Split(path.substr(1), '/')) {
    dir += "/" + part;
    BERTH_RETURN_IF_ERROR(MakeCgroupDir(dir, created));
  }
  return Ok();
}

Status MakeCgroupDir(const std::string& dir, std::vector<std::string>& created) {
  if (mkdir(dir.c_str(), 0755) == 0) {
    created.push_back(dir);
    return Ok();
  }
  if (errno != EEXIST) return ErrnoError("mkdir " + dir);
  // An existing cgroup is reused; a control file of the same name ("cgroup.procs") is not one.
  struct stat st {};
  if (lstat(dir.c_str(), &st) != 0) return ErrnoError("stat " + dir);
  if (!S_ISDIR(st.st_mode)) {
    return MakeError(Code::kAlreadyExists, fmt::format("{} exists and is not a cgroup", dir));
  }
  return Ok();
}

Status RemoveCgroupDir(const std::string& dir, std::chrono::milliseconds busy_timeout) {
  return RemoveOne(dir, busy_timeout);
}

void RemoveCreatedDirs(const std::vector<std::string>& dirs) {
  for (auto it = dirs.rbegin(); it != dirs.rend(); ++it) rmdir(it->c_str());
}

Status PollUntil(const std::function<Result<bool>()>& done, std::chrono::milliseconds timeout,
                 std::string_view what) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  auto pause = std::chrono::microseconds(100);
  while (true) {
    BERTH_ASSIGN_OR_RETURN(bool ok, done());
    if (ok) return Ok();
    if (std::chrono::steady_clock::now() >= deadline) {
      return MakeError(Code::kUnavailable, fmt::format("timed out waiting for {}", what));
    }
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::microseconds(10000));
  }
}

}  // namespace berth::runtime::internal
