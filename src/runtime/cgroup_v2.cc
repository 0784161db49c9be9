// cgroup v2: one unified hierarchy. A container's cgroup is one directory:
//
//   <root>/cgroup.subtree_control         +cpu +io +memory +pids (+cpuset when asked)
//   <root>/berth/cgroup.subtree_control   the same, so <id> gets the controllers' files
//   <root>/berth/<id>/{cgroup.procs, cgroup.freeze, cgroup.events, cgroup.kill,
//                      memory.max, memory.swap.max, cpu.weight, cpu.max, cpuset.*, pids.max}
#include <fcntl.h>
#include <sys/stat.h>

#include <set>
#include <string_view>
#include <utility>

#include <fmt/format.h>

#include "base/cleanup.h"
#include "base/file.h"
#include "base/unique_fd.h"
#include "base/strings.h"
#include "runtime/internal/cgroup_backends.h"
#include "runtime/internal/cgroup_fs.h"
#include "runtime/internal/device_filter.h"

namespace berth::runtime::internal {
namespace {

// Enabled for the container even when no limit needs them, for Stats (and Docker's --cpus etc.
// later); skipped where the parent does not offer them.
constexpr const char* kStatsControllers[] = {"cpu", "io", "memory", "pids"};

std::set<std::string> ControllerSet(const std::string& file) {
  std::set<std::string> out;
  Result<std::string> data = ReadCgroupFile(file);
  if (!data) return out;
  for (const std::string& c : Split(*data, ' ')) {
    if (!c.empty()) out.insert(c);
  }
  return out;
}

// Makes `needed` (required) and kStatsControllers (when available) enabled in dir's
// cgroup.subtree_control, so its children get their files.
Status EnableControllers(const std::string& dir, const std::set<std::string>& needed) {
  const std::set<std::string> available = ControllerSet(dir + "/cgroup.controllers");
  const std::set<std::string> enabled = ControllerSet(dir + "/cgroup.subtree_control");
  std::vector<std::string> wanted;
  for (const std::string& c : needed) {
    if (available.count(c) == 0) {
      return MakeError(
          Code::kFailedPrecondition,
          fmt::format("controller {} is not available in {}/cgroup.controllers", c, dir));
    }
    if (enabled.count(c) == 0) wanted.push_back(c);
  }
  for (const char* c : kStatsControllers) {
    if (available.count(c) != 0 && enabled.count(c) == 0 && needed.count(c) == 0) {
      wanted.push_back(c);
    }
  }
  if (wanted.empty()) return Ok();
  std::string all;
  for (const std::string& c : wanted) all += (all.empty() ? "+" : " +") + c;
  if (WriteCgroupFile(dir, "cgroup.subtree_control", all)) return Ok();
  // One at a time, so an optional controller the kernel refuses does not stop the needed ones.
  for (const std::string& c : wanted) {
    Status st = WriteCgroupFile(dir, "cgroup.subtree_control", "+" + c);
    if (!st && needed.count(c) != 0) return st;
  }
  return Ok();
}

class CgroupV2 final : public Cgroup {
 public:
  CgroupV2(std::string path, std::string dir, CgroupOptions options)
      : path_(std::move(path)), dir_(std::move(dir)), options_(options) {}

  Status AddProcess(pid_t pid) override {
    Status st = WriteCgroupFile(dir_, "cgroup.procs", std::to_string(pid));
    if (!st) return std::move(st).error().WithContext(Context("add process"));
    return Ok();
  }

  Result<std::vector<UniqueFd>> OpenSelfJoin() override { return std::vector<UniqueFd>{}; }

  Result<UniqueFd> OpenForClone() override {
    UniqueFd fd(::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd.valid()) return ErrnoError(Context("open " + dir_));
    return fd;
  }

  Status Freeze() override {
    Status st = SetFrozen(true);
    if (!st) {
      (void)WriteCgroupFile(dir_, "cgroup.freeze", "0");
      return std::move(st).error().WithContext(Context("freeze"));
    }
    return Ok();
  }

  Status Thaw() override {
    Status st = SetFrozen(false);
    if (!st) return std::move(st).error().WithContext(Context("thaw"));
    return Ok();
  }

  Result<CgroupStats> Stats() override {
    CgroupStats s;
    const uint64_t host = HostMemoryBytes();
    s.memory_usage = ReadNumberFile(dir_ + "/memory.current", 0);
    const uint64_t limit = ReadNumberFile(dir_ + "/memory.max", host);
    s.memory_limit = (limit == 0 || limit > host) ? host : limit;
    s.oom_kills = ReadKeyedValue(dir_ + "/memory.events", "oom_kill");
    s.cpu_usage_ns = ReadKeyedValue(dir_ + "/cpu.stat", "usage_usec") * 1000;
    s.pids_current = ReadNumberFile(dir_ + "/pids.current", 0);
    return s;
  }

  Result<std::vector<pid_t>> Pids() override {
    Result<std::vector<pid_t>> pids = ReadPidsRecursive(dir_);
    if (!pids) return std::move(pids).error().WithContext(Context("list processes"));
    return pids;
  }

  Status KillAll() override {
    if (PathExists(dir_ + "/cgroup.kill")) {
      // Linux 5.14+: the kernel kills every process below, racing no fork.
      Status st = WriteCgroupFile(dir_, "cgroup.kill", "1");
      if (!st) return std::move(st).error().WithContext(Context("kill all"));
      return Ok();
    }
    Status st = FreezeAndKillAll(*this, /*freeze=*/true);
    if (!st) return std::move(st).error().WithContext(Context("kill all"));
    return Ok();
  }

  Status Destroy() override {
    Status st = RemoveCgroupDir(dir_, options_.busy_timeout);
    if (!st) return std::move(st).error().WithContext(Context("destroy"));
    return Ok();
  }

 private:
  std::string Context(std::string_view op) const { return fmt::format("cgroup {}: {}", path_, op); }

  Status SetFrozen(bool frozen) {
    BERTH_RETURN_IF_ERROR(WriteCgroupFile(dir_, "cgroup.freeze", frozen ? "1" : "0"));
    const uint64_t want = frozen ? 1 : 0;
    return PollUntil(
        [&]() -> Result<bool> { return ReadKeyedValue(dir_ + "/cgroup.events", "frozen") == want; },
        options_.freeze_timeout, fmt::format("cgroup.events frozen {}", want));
  }

  std::string path_;
  std::string dir_;
  CgroupOptions options_;
};

class CgroupV2Manager final : public CgroupManager {
 public:
  CgroupV2Manager(std::string root, CgroupOptions options)
      : root_(std::move(root)), options_(options) {}

  int version() const override { return 2; }

  Result<std::unique_ptr<Cgroup>> Create(const std::string& path,
                                         const oci::LinuxResources& resources) override {
    const std::string context = fmt::format("create cgroup {}", path);
    BERTH_RETURN_IF_ERROR(ValidateCgroupPath(path));
    // Planned once up front (swap assumed available) to validate and to know the controllers.
    Result<std::vector<CgroupWrite>> draft = PlanV2Writes(resources, /*has_swap=*/true);
    if (!draft) return std::move(draft).error().WithContext(context);
    std::set<std::string> needed;
    for (const CgroupWrite& w : *draft) needed.insert(w.Controller());
    const std::set<std::string> available = ControllerSet(root_ + "/cgroup.controllers");
    for (const std::string& c : needed) {
      if (available.count(c) == 0) {
        return MakeError(
            Code::kFailedPrecondition,
            fmt::format("{}: the {} controller is not available in {}", context, c, root_));
      }
    }

    std::vector<std::string> created;
    Cleanup undo([&] { RemoveCreatedDirs(created); });
    // Parents first: a child only gets a controller's files if its parent enabled it.
    std::string dir = root_;
    const std::vector<std::string> parts = Split(std::string_view(path).substr(1), '/');
    for (size_t i = 0; i < parts.size(); ++i) {
      Status st = EnableControllers(dir, needed);
      if (!st) return std::move(st).error().WithContext(context);
      dir += "/" + parts[i];
      st = MakeCgroupDir(dir, created);
      if (!st) return std::move(st).error().WithContext(context);
    }
    Result<std::vector<CgroupWrite>> writes =
        PlanV2Writes(resources, PathExists(dir + "/memory.swap.max"));
    if (!writes) return std::move(writes).error().WithContext(context);
    for (const CgroupWrite& w : *writes) {
      Status st = WriteCgroupFile(dir, w.file, w.value);
      if (!st) return std::move(st).error().WithContext(context);
    }
    if (!resources.devices.empty()) {
      // v2 has no devices.allow: the rules become an eBPF program on the cgroup.
      UniqueFd dir_fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
      if (!dir_fd.valid()) return ErrnoError(context + ": open " + dir);
      Status st = AttachDeviceFilter(dir_fd.get(), CompileDeviceFilter(resources.devices));
      if (!st) return std::move(st).error().WithContext(context);
    }
    undo.Cancel();
    return std::unique_ptr<Cgroup>(std::make_unique<CgroupV2>(path, dir, options_));
  }

  Result<std::unique_ptr<Cgroup>> Open(const std::string& path) override {
    BERTH_RETURN_IF_ERROR(ValidateCgroupPath(path));
    const std::string dir = root_ + path;
    struct stat st {};
    if (stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
      return MakeError(Code::kNotFound,
                       fmt::format("open cgroup {}: {} does not exist", path, dir));
    }
    return std::unique_ptr<Cgroup>(std::make_unique<CgroupV2>(path, dir, options_));
  }

 private:
  std::string root_;
  CgroupOptions options_;
};

}  // namespace

std::unique_ptr<CgroupManager> NewCgroupV2Manager(std::string root, CgroupOptions options) {
  return std::make_unique<CgroupV2Manager>(std::move(root), options);
}

}  // namespace berth::runtime::internal
