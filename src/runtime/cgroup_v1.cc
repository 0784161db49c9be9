// cgroup v1: one hierarchy per controller. A container's cgroup is the same relative path in
// every hierarchy:
//
//   <root>/memory/berth/<id>/{cgroup.procs, memory.limit_in_bytes, memory.memsw.limit_in_bytes..}
//   <root>/cpu/berth/<id>/{cgroup.procs, cpu.shares, cpu.cfs_period_us, cpu.cfs_quota_us}
//   <root>/cpuset/berth/<id>/{cgroup.procs, cpuset.cpus, cpuset.mems}   (copied from the parent)
//   <root>/freezer/berth/<id>/{cgroup.procs, freezer.state}
//   <root>/pids/berth/<id>/{cgroup.procs, pids.max, pids.current}
//   <root>/{cpuacct,devices,blkio}/berth/<id>/cgroup.procs
#include <fcntl.h>
#include <sys/stat.h>

#include <set>
#include <string_view>
#include <utility>

#include <fmt/format.h>

#include "base/cleanup.h"
#include "base/file.h"
#include "runtime/internal/cgroup_backends.h"
#include "runtime/internal/cgroup_fs.h"

namespace berth::runtime::internal {
namespace {

bool IsDir(const std::string& path) {
  struct stat st {};
  return stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

// Unique directories of a controller -> directory map (cpu and cpuacct may share one).
std::vector<std::string> UniqueDirs(const std::map<std::string, std::string>& dirs) {
  std::set<std::string> seen;
  std::vector<std::string> out;
  for (const auto& [controller, dir] : dirs) {
    if (seen.insert(dir).second) out.push_back(dir);
  }
  return out;
}

// A new cpuset cgroup starts with empty cpuset.cpus and cpuset.mems, and a task cannot join it
// until both are set: copy them from the parent, level by level from the top.
Status InheritCpuset(const std::string& hierarchy, std::string_view path) {
  std::string parent = hierarchy;
  std::string dir = hierarchy;
  size_t pos = 1;
  while (pos <= path.size()) {
    const size_t slash = path.find('/', pos);
    const size_t end = slash == std::string_view::npos ? path.size() : slash;
    dir += "/" + std::string(path.substr(pos, end - pos));
    for (const char* file : {"cpuset.cpus", "cpuset.mems"}) {
      BERTH_ASSIGN_OR_RETURN(std::string own, ReadCgroupFile(dir + "/" + file));
      if (!own.empty()) continue;
      BERTH_ASSIGN_OR_RETURN(std::string inherited, ReadCgroupFile(parent + "/" + file));
      BERTH_RETURN_IF_ERROR(WriteCgroupFile(dir, file, inherited));
    }
    parent = dir;
    pos = end + 1;
  }
  return Ok();
}

class CgroupV1 final : public Cgroup {
 public:
  // `dirs`: controller -> this cgroup's directory in that controller's hierarchy.
  CgroupV1(std::string path, std::map<std::string, std::string> dirs, CgroupOptions options)
      : path_(std::move(path)),
        dirs_(std::move(dirs)),
        unique_dirs_(UniqueDirs(dirs_)),
        options_(options) {}

  Status AddProcess(pid_t pid) override {
    for (const std::string& dir : unique_dirs_) {
      Status st = WriteCgroupFile(dir, "cgroup.procs", std::to_string(pid));
      if (!st) return std::move(st).error().WithContext(Context("add process"));
    }
    return Ok();
  }

  Result<std::vector<UniqueFd>> OpenSelfJoin() override {
    std::vector<UniqueFd> fds;
    for (const std::string& dir : unique_dirs_) {
      UniqueFd fd(::open((dir + "/tasks").c_str(), O_WRONLY | O_CLOEXEC));
      if (!fd.valid()) return ErrnoError(Context("open " + dir + "/tasks"));
      fds.push_back(std::move(fd));
    }
    return fds;
  }

  Result<UniqueFd> OpenForClone() override { return UniqueFd(); }

  Status Freeze() override {
    BERTH_ASSIGN_OR_RETURN(std::string dir, Dir("freezer", "freeze"));
    // A write can leave the cgroup FREEZING (a task in an uninterruptible sleep); writing FROZEN
    // again retries, as runc does.
    Status st = PollUntil(
        [&]() -> Result<bool> {
          BERTH_RETURN_IF_ERROR(WriteCgroupFile(dir, "freezer.state", "FROZEN"));
          BERTH_ASSIGN_OR_RETURN(std::string state, ReadCgroupFile(dir + "/freezer.state"));
          return state == "FROZEN";
        },
        options_.freeze_timeout, "freezer.state FROZEN");
    if (!st) {
      (void)WriteCgroupFile(dir, "freezer.state", "THAWED");
      return std::move(st).error().WithContext(Context("freeze"));
    }
    return Ok();
  }

  Status Thaw() override {
    BERTH_ASSIGN_OR_RETURN(std::string dir, Dir("freezer", "thaw"));
    Status st = PollUntil(
        [&]() -> Result<bool> {
          BERTH_RETURN_IF_ERROR(WriteCgroupFile(dir, "freezer.state", "THAWED"));
          BERTH_ASSIGN_OR_RETURN(std::string state, ReadCgroupFile(dir + "/freezer.state"));
          return state == "THAWED";
        },
        options_.freeze_timeout, "freezer.state THAWED");
    if (!st) return std::move(st).error().WithContext(Context("thaw"));
    return Ok();
  }

  Result<CgroupStats> Stats() override {
    CgroupStats s;
    const uint64_t host = HostMemoryBytes();
    if (auto it = dirs_.find("memory"); it != dirs_.end()) {
      s.memory_usage = ReadNumberFile(it->second + "/memory.usage_in_bytes", 0);
      const uint64_t limit = ReadNumberFile(it->second + "/memory.limit_in_bytes", host);
      s.memory_limit = (limit == 0 || limit > host) ? host : limit;
      s.oom_kills = ReadKeyedValue(it->second + "/memory.oom_control", "oom_kill");
    } else {
      s.memory_limit = host;
    }
    if (auto it = dirs_.find("cpuacct"); it != dirs_.end()) {
      s.cpu_usage_ns = ReadNumberFile(it->second + "/cpuacct.usage", 0);
    }
    if (auto it = dirs_.find("pids"); it != dirs_.end()) {
      s.pids_current = ReadNumberFile(it->second + "/pids.current", 0);
    }
    return s;
  }

  Result<std::vector<pid_t>> Pids() override {
    Result<std::vector<pid_t>> pids = ReadPidsRecursive(PrimaryDir());
    if (!pids) return std::move(pids).error().WithContext(Context("list processes"));
    return pids;
  }

  Status KillAll() override {
    Status st = FreezeAndKillAll(*this, /*freeze=*/dirs_.count("freezer") != 0);
    if (!st) return std::move(st).error().WithContext(Context("kill all"));
    return Ok();
  }

  Status Destroy() override {
    Status first;
    for (const std::string& dir : unique_dirs_) {
      Status st = RemoveCgroupDir(dir, options_.busy_timeout);
      if (!st && first) first = std::move(st).error().WithContext(Context("destroy"));
    }
    return first;
  }

 private:
  std::string Context(std::string_view op) const { return fmt::format("cgroup {}: {}", path_, op); }

  Result<std::string> Dir(const std::string& controller, std::string_view op) const {
    auto it = dirs_.find(controller);
    if (it == dirs_.end()) {
      return MakeError(
          Code::kFailedPrecondition,
          fmt::format("{}: the {} controller is not mounted", Context(op), controller));
    }
    return it->second;
  }

  // The hierarchy processes are listed from: every process is in all of them.
  const std::string& PrimaryDir() const {
    for (const char* c : {"pids", "freezer", "memory", "cpu", "cpuacct"}) {
      if (auto it = dirs_.find(c); it != dirs_.end()) return it->second;
    }
    return unique_dirs_.front();
  }

  std::string path_;
  std::map<std::string, std::string> dirs_;
  std::vector<std::string> unique_dirs_;
  CgroupOptions options_;
};

class CgroupV1Manager final : public CgroupManager {
 public:
  CgroupV1Manager(std::map<std::string, std::string> hierarchies, CgroupOptions options)
      : hierarchies_(std::move(hierarchies)), options_(options) {}

  int version() const override { return 1; }

  Result<std::unique_ptr<Cgroup>> Create(const std::string& path,
                                         const oci::LinuxResources& resources) override {
    const std::string context = fmt::format("create cgroup {}", path);
    BERTH_RETURN_IF_ERROR(ValidateCgroupPath(path));
    bool has_memsw = false;
    if (auto it = hierarchies_.find("memory"); it != hierarchies_.end()) {
      has_memsw = PathExists(it->second + "/memory.memsw.limit_in_bytes");
    }
    const std::vector<CgroupWrite> writes = PlanV1Writes(resources, has_memsw);
    for (const CgroupWrite& w : writes) {
      if (hierarchies_.count(w.Controller()) == 0) {
        return MakeError(Code::kFailedPrecondition,
                         fmt::format("{}: {} needs the {} controller, which is not mounted",
                                     context, w.file, w.Controller()));
      }
    }

    std::vector<std::string> created;
    Cleanup undo([&] { RemoveCreatedDirs(created); });
    for (const std::string& hierarchy : UniqueDirs(hierarchies_)) {
      Status st = MakeCgroupDirs(hierarchy, path, created);
      if (!st) return std::move(st).error().WithContext(context);
    }
    if (auto it = hierarchies_.find("cpuset"); it != hierarchies_.end()) {
      Status st = InheritCpuset(it->second, path);
      if (!st) return std::move(st).error().WithContext(context);
    }
    std::map<std::string, std::string> dirs = DirsOf(path);
    for (const CgroupWrite& w : writes) {
      Status st = WriteCgroupFile(dirs.at(w.Controller()), w.file, w.value);
      if (!st) return std::move(st).error().WithContext(context);
    }
    undo.Cancel();
    return std::unique_ptr<Cgroup>(std::make_unique<CgroupV1>(path, std::move(dirs), options_));
  }

  Result<std::unique_ptr<Cgroup>> Open(const std::string& path) override {
    BERTH_RETURN_IF_ERROR(ValidateCgroupPath(path));
    std::map<std::string, std::string> dirs = DirsOf(path);
    for (const auto& [controller, dir] : dirs) {
      if (!IsDir(dir)) {
        return MakeError(Code::kNotFound,
                         fmt::format("open cgroup {}: {} does not exist", path, dir));
      }
    }
    return std::unique_ptr<Cgroup>(std::make_unique<CgroupV1>(path, std::move(dirs), options_));
  }

 private:
  std::map<std::string, std::string> DirsOf(const std::string& path) const {
    std::map<std::string, std::string> dirs;
    for (const auto& [controller, hierarchy] : hierarchies_) dirs[controller] = hierarchy + path;
    return dirs;
  }

  std::map<std::string, std::string> hierarchies_;
  CgroupOptions options_;
};

}  // namespace

std::unique_ptr<CgroupManager> NewCgroupV1Manager(std::map<std::string, std::string> hierarchies,
                                                  CgroupOptions options) {
  return std::make_unique<CgroupV1Manager>(std::move(hierarchies), options);
}

}  // namespace berth::runtime::internal
