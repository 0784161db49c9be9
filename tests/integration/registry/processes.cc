#include "processes.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "loopback.h"
#include "test_data.h"

extern char** environ;

namespace berth::registry_compat {
namespace {

using registry_conformance::WaitPid;

// environ with `overrides` ("NAME=VALUE") replacing or adding entries.
std::vector<std::string> MergedEnv(const std::vector<std::string>& overrides) {
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string_view entry(*e);
    std::string_view name = entry.substr(0, entry.find('='));
    bool replaced = std::any_of(overrides.begin(), overrides.end(), [&](const std::string& o) {
      return std::string_view(o).substr(0, o.find('=')) == name;
    });
    if (!replaced) env.emplace_back(entry);
  }
  env.insert(env.end(), overrides.begin(), overrides.end());
  return env;
}

std::vector<char*> Pointers(const std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (const auto& s : strings) out.push_back(const_cast<char*>(s.c_str()));
  out.push_back(nullptr);
  return out;
}

// fork + exec with stdin /dev/null and the given stdout/stderr. The child dies with this
// thread's process (PR_SET_PDEATHSIG).
pid_t ForkExec(const std::vector<std::string>& argv, const std::vector<std::string>& env,
               int out_fd, int err_fd) {
  std::vector<char*> args = Pointers(argv);
  std::vector<char*> envp = Pointers(env);
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);
    setpgid(0, 0);  // a group of its own: a timeout kills its children too
    int devnull = open("/dev/null", O_RDONLY);
    dup2(devnull, 0);
    dup2(out_fd, 1);
    dup2(err_fd, 2);
    execvpe(args[0], args.data(), envp.data());
    _exit(127);
  }
  return pid;
}

}  // namespace

// ---- TempDir ----

// Lower case only, unlike mkdtemp's: podman names an image pulled from oci:DIR after DIR, and
// refuses upper case there.
TempDir::TempDir() {
  for (int attempt = 0; attempt < 100 && path_.empty(); ++attempt) {
    std::string p = "/tmp/berth-registry-compat-" + registry_conformance::RandomName(10);
    if (mkdir(p.c_str(), 0755) == 0) path_ = p;
  }
}

TempDir::~TempDir() {
  if (path_.empty()) return;
  for (pid_t pid : ProcessesMentioning(path_)) kill(pid, SIGKILL);
  std::vector<std::string> mounts = MountsBelow(path_);
  std::sort(mounts.rbegin(), mounts.rend());  // deepest first
  for (const auto& m : mounts) umount2(m.c_str(), MNT_DETACH);
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::string TempDir::Sub(std::string_view name) const {
  std::string p = path_ + "/" + std::string(name);
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(p).parent_path(), ec);
  return p;
}

// ---- commands ----

CommandResult Run(const std::vector<std::string>& argv, const CommandOptions& options) {
  CommandResult result;
  int out[2];
  int err[2];
  if (pipe2(out, O_CLOEXEC) != 0) return result;
  if (pipe2(err, O_CLOEXEC) != 0) {
    close(out[0]);
    close(out[1]);
    return result;
  }
  pid_t pid = ForkExec(argv, MergedEnv(options.env), out[1], err[1]);
  close(out[1]);
  close(err[1]);
  auto deadline = std::chrono::steady_clock::now() + options.timeout;
  bool out_open = true;
  bool err_open = true;
  bool timed_out = false;
  while (out_open || err_open) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      timed_out = true;
      break;
    }
    pollfd fds[2] = {{out_open ? out[0] : -1, POLLIN, 0}, {err_open ? err[0] : -1, POLLIN, 0}};
    if (poll(fds, 2, static_cast<int>(left.count())) <= 0) continue;
    char buf[65536];
    for (int i = 0; i < 2; ++i) {
      if (fds[i].revents == 0) continue;
      ssize_t n = read(fds[i].fd, buf, sizeof(buf));
      if (n <= 0) {
        (i == 0 ? out_open : err_open) = false;
      } else {
        (i == 0 ? result.out : result.err).append(buf, static_cast<size_t>(n));
      }
    }
  }
  close(out[0]);
  close(err[0]);
  if (pid < 0) return result;
  if (timed_out) {
    kill(-pid, SIGKILL);
    kill(pid, SIGKILL);
    result.err += "\n[killed after " + std::to_string(options.timeout.count()) + " s]";
  }
  int status = 0;
  waitpid(pid, &status, 0);
  if (!timed_out && WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  return result;
}

std::string Describe(const std::vector<std::string>& argv, const CommandResult& r) {
  std::string cmd;
  for (const auto& a : argv) cmd += (cmd.empty() ? "" : " ") + a;
  std::string err = r.err.size() > 3000 ? "..." + r.err.substr(r.err.size() - 3000) : r.err;
  std::string out = r.out.size() > 1000 ? r.out.substr(0, 1000) + "..." : r.out;
  return "`" + cmd + "` exited " + std::to_string(r.exit_code) + "\nstdout: " + out +
         "\nstderr: " + err;
}

::testing::AssertionResult RunOk(const std::vector<std::string>& argv, std::string* out,
                                 const CommandOptions& options) {
  CommandResult r = Run(argv, options);
  if (out != nullptr) *out = r.out;
  if (!r.ok()) return ::testing::AssertionFailure() << Describe(argv, r);
  return ::testing::AssertionSuccess();
}

std::string FindExecutable(std::initializer_list<const char*> paths) {
  for (const char* p : paths) {
    struct stat st {};
    if (stat(p, &st) == 0 && S_ISREG(st.st_mode) && access(p, X_OK) == 0) return p;
  }
  return "";
}

// ---- Daemon ----

std::unique_ptr<Daemon> Daemon::Spawn(const std::vector<std::string>& argv, const std::string& log,
                                      bool pipe_stdout, const std::vector<std::string>& env) {
  std::unique_ptr<Daemon> d(new Daemon());
  int log_fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  int fds[2] = {-1, -1};
  if (pipe_stdout && pipe2(fds, O_CLOEXEC) != 0) return nullptr;
  d->pid_ = ForkExec(argv, MergedEnv(env), pipe_stdout ? fds[1] : log_fd, log_fd);
  if (pipe_stdout) {
    close(fds[1]);
    d->stdout_fd_ = fds[0];
  }
  if (log_fd >= 0) close(log_fd);
  if (d->pid_ < 0) return nullptr;
  return d;
}

Daemon::~Daemon() {
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    int status = 0;
    waitpid(pid_, &status, 0);
  }
  if (stdout_fd_ >= 0) close(stdout_fd_);
}

void Daemon::Signal(int sig) const {
  if (pid_ > 0) kill(pid_, sig);
}

std::optional<int> Daemon::Wait(std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return std::nullopt;
  auto status = WaitPid(pid_, timeout);
  if (status) pid_ = -1;
  return status;
}

// ---- inspection ----

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string Tail(const std::string& path) {
  std::string all = ReadFile(path);
  return all.size() > 16000 ? all.substr(all.size() - 16000) : all;
}

std::string DescribeWaitStatus(int status) {
  if (WIFEXITED(status)) return "exit status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "signal " + std::to_string(WTERMSIG(status));
  return "wait status " + std::to_string(status);
}

std::vector<pid_t> ProcessesMentioning(const std::string& needle) {
  std::vector<pid_t> pids;
  DIR* proc = opendir("/proc");
  if (proc == nullptr) return pids;
  while (dirent* e = readdir(proc)) {
    char* end = nullptr;
    long pid = std::strtol(e->d_name, &end, 10);
    if (*end != '\0' || pid <= 0 || pid == getpid()) continue;
    std::string cmdline = ReadFile("/proc/" + std::string(e->d_name) + "/cmdline");
    std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
    if (cmdline.find(needle) != std::string::npos) pids.push_back(static_cast<pid_t>(pid));
  }
  closedir(proc);
  return pids;
}

std::vector<std::string> MountsBelow(const std::string& dir) {
  std::vector<std::string> mounts;
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string id, parent, dev, root, point;
    fields >> id >> parent >> dev >> root >> point;
    if (point == dir || point.rfind(dir + "/", 0) == 0) mounts.push_back(point);
  }
  return mounts;
}

}  // namespace berth::registry_compat
