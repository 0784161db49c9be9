#include "engine/container_probe.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <utility>

#include <fmt/format.h>

#include "base/file.h"
#include "base/strings.h"
#include "base/unique_fd.h"

extern char** environ;

namespace berth::engine {
namespace {

std::vector<std::string> Fields(std::string_view line) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    size_t start = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t') ++i;
    if (i > start) out.emplace_back(line.substr(start, i - start));
  }
  return out;
}

// Runs `argv` with stdout captured, stderr to /dev/null. The exit status and the output.
Result<std::pair<int, std::string>> Capture(const std::vector<std::string>& argv) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return ErrnoError("top: pipe", errno);
  UniqueFd r(fds[0]), w(fds[1]);
  posix_spawn_file_actions_t fa;
  ::posix_spawn_file_actions_init(&fa);
  ::posix_spawn_file_actions_adddup2(&fa, w.get(), STDOUT_FILENO);
  ::posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
  ::posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  std::vector<std::string> copy = argv;
  std::vector<char*> cargv;
  for (auto& a : copy) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  pid_t pid = 0;
  int rc = ::posix_spawnp(&pid, cargv[0], &fa, nullptr, cargv.data(), environ);
  ::posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) return ErrnoError(fmt::format("top: spawn {}", argv[0]), rc);
  w.Reset();
  std::string out;
  char buf[16384];
  for (;;) {
    ssize_t n = ::read(r.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return std::make_pair(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status),
                        std::move(out));
}

}  // namespace

ContainerProbe::ContainerProbe(std::string cgroup_root, std::string cgroup_parent,
                               std::string proc_root)
    : cgroup_root_(std::move(cgroup_root)),
      cgroup_parent_(std::move(cgroup_parent)),
      proc_root_(std::move(proc_root)) {}

Result<std::unique_ptr<runtime::Cgroup>> ContainerProbe::Open(const std::string& id) const {
  BERTH_ASSIGN_OR_RETURN(auto mgr, runtime::CgroupManager::Detect(cgroup_root_));
  return mgr->Open(cgroup_parent_ + "/" + id);
}

Result<std::vector<pid_t>> ContainerProbe::Pids(const std::string& id) const {
  BERTH_ASSIGN_OR_RETURN(auto cg, Open(id));
  return cg->Pids();
}

Result<runtime::CgroupStats> ContainerProbe::Stats(const std::string& id) const {
  BERTH_ASSIGN_OR_RETURN(auto cg, Open(id));
  return cg->Stats();
}

Result<HostCpu> ContainerProbe::ReadHostCpu() const {
  BERTH_ASSIGN_OR_RETURN(std::string text, ReadFile(proc_root_ + "/stat"));
  HostCpu h;
  BERTH_ASSIGN_OR_RETURN(h.system_usage_ns, ParseProcStatCpuNanos(text, ::sysconf(_SC_CLK_TCK)));
  h.online_cpus = static_cast<int>(std::max(1L, ::sysconf(_SC_NPROCESSORS_ONLN)));
  return h;
}

Result<TopResult> ContainerProbe::Top(const std::vector<pid_t>& pids,
                                      std::string_view ps_args) const {
  std::vector<std::string> argv = {"ps"};
  for (auto& a : Split(ps_args.empty() ? std::string_view("-ef") : ps_args, ' ')) {
    argv.push_back(std::move(a));
  }
  // dockerd asks ps for the container's pids only (-q), and retries without when the options
  // do not go with -q (f, for one).
  std::string q = "-q";
  for (size_t i = 0; i < pids.size(); ++i) q += (i ? "," : "") + std::to_string(pids[i]);
  std::vector<std::string> with_q = argv;
  with_q.push_back(q);
  BERTH_ASSIGN_OR_RETURN(auto run, Capture(with_q));
  if (run.first != 0) {
    BERTH_ASSIGN_OR_RETURN(run, Capture(argv));
  }
  if (run.first != 0) {
    return MakeError(Code::kInvalidArgument,
                     fmt::format("Error running ps: exit status {}", run.first));
  }
  return ParsePsOutput(run.second, pids);
}

Result<TopResult> ParsePsOutput(std::string_view output, const std::vector<pid_t>& pids) {
  auto lines = Split(output, '\n');
  TopResult r;
  if (lines.empty()) return MakeError(Code::kInvalidArgument, "ps printed nothing");
  r.titles = Fields(lines[0]);
  auto pid_col = std::find(r.titles.begin(), r.titles.end(), "PID");
  if (pid_col == r.titles.end()) {
    return MakeError(Code::kInvalidArgument, "Couldn't find PID field in ps output");
  }
  size_t pid_index = static_cast<size_t>(pid_col - r.titles.begin());
  auto append = [&](std::vector<std::string> fields) {
    size_t last = r.titles.size() - 1;
    if (fields.size() > r.titles.size()) {
      std::string joined = fields[last];
      for (size_t i = last + 1; i < fields.size(); ++i) joined += " " + fields[i];
      fields.resize(last + 1);
      fields[last] = std::move(joined);
    }
    r.processes.push_back(std::move(fields));
  };
  bool previous_contained = false;
  for (size_t i = 1; i < lines.size(); ++i) {
    auto fields = Fields(lines[i]);
    if (fields.empty()) continue;
    if (fields.size() <= pid_index) {
      return MakeError(Code::kInvalidArgument, fmt::format("Unexpected ps line '{}'", lines[i]));
    }
    const std::string& p = fields[pid_index];
    if (p == "-") {  // a thread line (ps -m): kept with its process
      if (previous_contained) append(std::move(fields));
      continue;
    }
    pid_t pid = 0;
    auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), pid);
    if (ec != std::errc() || end != p.data() + p.size()) {
      return MakeError(Code::kInvalidArgument, fmt::format("Unexpected pid '{}'", p));
    }
    previous_contained = std::find(pids.begin(), pids.end(), pid) != pids.end();
    if (previous_contained) append(std::move(fields));
  }
  return r;
}

Result<uint64_t> ParseProcStatCpuNanos(std::string_view proc_stat, long ticks_per_second) {
  for (const auto& line : Split(proc_stat, '\n')) {
    auto fields = Fields(line);
    if (fields.empty() || fields[0] != "cpu") continue;
    if (fields.size() < 8 || ticks_per_second <= 0) break;
    uint64_t ticks = 0;
    for (size_t i = 1; i < 8; ++i) {  // user nice system idle iowait irq softirq
      uint64_t v = 0;
      auto [end, ec] = std::from_chars(fields[i].data(), fields[i].data() + fields[i].size(), v);
      if (ec != std::errc() || end != fields[i].data() + fields[i].size()) break;
      ticks += v;
    }
    return ticks * (1000000000ULL / static_cast<uint64_t>(ticks_per_second));
  }
  return MakeError(Code::kInternal, "/proc/stat: no cpu line");
}

}  // namespace berth::engine
