#include "daemon_fixture.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "base/file.h"
#include "base/strings.h"
#include "base/unique_fd.h"

extern char** environ;

namespace berth::testing {

using Clock = std::chrono::steady_clock;
constexpr auto kTimeout = std::chrono::seconds(120);

size_t CountEntries(const std::string& dir) {
  size_t n = 0;
  std::error_code ec;
  for (auto it = std::filesystem::directory_iterator(dir, ec);
       !ec && it != std::filesystem::directory_iterator(); ++it) {
    ++n;
  }
  return n;
}

std::string FindDocker() {
  if (::access("/usr/local/bin/docker", X_OK) == 0) return "/usr/local/bin/docker";
  const char* path = std::getenv("PATH");
  for (const std::string& dir : Split(path ? path : "", ':')) {
    std::string candidate = (dir.empty() ? "." : dir) + "/docker";
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "";
}

pid_t Spawn(const std::vector<std::string>& argv, const std::string& log,
            const std::vector<std::string>& env_extra, const std::string& stdin_path) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  posix_spawn_file_actions_addopen(
      &actions, 0, stdin_path.empty() ? "/dev/null" : stdin_path.c_str(), O_RDONLY, 0);
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string_view kv(*e);
    // The test decides the CLIs' environment.
    if (kv.starts_with("DOCKER_") || kv.starts_with("BERTH_")) continue;
    // A variable env_extra sets replaces the inherited one (getenv finds the first: HOME would
    // otherwise stay the real one, and `berth login` would write to the real ~/.berth).
    std::string_view name = kv.substr(0, kv.find('='));
    bool replaced = false;
    for (const std::string& x : env_extra) {
      replaced = replaced || (x.size() > name.size() && x.compare(0, name.size(), name) == 0 &&
                              x[name.size()] == '=');
    }
    if (replaced) continue;
    env_strings.emplace_back(kv);
  }
  for (const std::string& e : env_extra) env_strings.push_back(e);
  std::vector<char*> envp;
  for (std::string& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, args[0], &actions, nullptr, args.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  return rc == 0 ? pid : -1;
}

std::optional<int> WaitExit(pid_t pid, Clock::duration timeout) {
  auto deadline = Clock::now() + timeout;
  while (true) {
    int status = 0;
    pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (r < 0 || Clock::now() > deadline) return std::nullopt;
    ::poll(nullptr, 0, 5);  // child exit has no fd to wait on without pidfd; poll briefly
  }
}

std::string HttpCall(const std::string& socket_path, const std::string& method,
                     const std::string& path) {
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  socket_path.copy(addr.sun_path, sizeof(addr.sun_path) - 1);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) return "";
  std::string req = method + " " + path + " HTTP/1.0\r\nHost: x\r\n\r\n";
  if (!WriteAll(fd.get(), req)) return "";
  std::string got;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd.get(), buf, sizeof(buf))) > 0) got.append(buf, static_cast<size_t>(n));
  auto body = got.find("\r\n\r\n");
  return body == std::string::npos ? "" : got.substr(body + 4);
}

void SweepCgroups(const std::string& parent) {
  // Never the root of a hierarchy: that would kill every process on the host.
  if (parent.size() < 2 || parent[0] != '/' || parent.find("..") != std::string::npos) return;
  // v1: one hierarchy per controller; v2 (or the hybrid's unified mount): cgroup.procs too.
  DIR* top = ::opendir("/sys/fs/cgroup");
  if (top == nullptr) return;
  std::vector<std::string> roots = {"/sys/fs/cgroup"};
  while (dirent* e = ::readdir(top)) {
    if (e->d_name[0] != '.') roots.push_back(std::string("/sys/fs/cgroup/") + e->d_name);
  }
  ::closedir(top);
  for (const std::string& root : roots) {
    std::string base = root + parent;
    DIR* d = ::opendir(base.c_str());
    if (d == nullptr) continue;
    std::vector<std::string> children;
    while (dirent* e = ::readdir(d)) {
      if (e->d_type == DT_DIR && e->d_name[0] != '.') children.push_back(base + "/" + e->d_name);
    }
    ::closedir(d);
    children.push_back(base);
    for (const std::string& c : children) {
      for (int attempt = 0; attempt < 50; ++attempt) {
        auto procs = ReadFile(c + "/cgroup.procs");
        if (procs) {
          for (const std::string& line : Split(*procs, '\n')) {
            if (!line.empty()) ::kill(std::atoi(line.c_str()), SIGKILL);
          }
        }
        if (::rmdir(c.c_str()) == 0 || errno == ENOENT) break;
        ::poll(nullptr, 0, 20);
      }
    }
  }
}

bool PingOnce(const std::string& socket_path) {
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  socket_path.copy(addr.sun_path, sizeof(addr.sun_path) - 1);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) return false;
  if (!WriteAll(fd.get(), "GET /_ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")) {
    return false;
  }
  std::string got;
  char buf[1024];
  ssize_t n;
  while ((n = ::read(fd.get(), buf, sizeof(buf))) > 0) got.append(buf, static_cast<size_t>(n));
  return got.starts_with("HTTP/1.1 200") && got.ends_with("OK");
}

void DaemonFixture::SetUp() {
  docker_ = FindDocker();
  char tmpl[] = "/tmp/berthd-it-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  dir_ = tmpl;
  root_ = dir_ + "/root";
  ASSERT_TRUE(MakeDirs(dir_ + "/docker-config"));
  ASSERT_TRUE(WriteFileAtomic(dir_ + "/daemon.json", "{}\n"));
  cgroup_parent_ = "/berth-it-" + dir_.substr(dir_.rfind('-') + 1);
}

void DaemonFixture::RemoveAllContainers(const Daemon& d) {
  std::string list = HttpCall(d.socket, "GET", "/containers/json?all=1");
  for (size_t at = list.find("\"Id\":\""); at != std::string::npos;
       at = list.find("\"Id\":\"", at + 1)) {
    std::string id = list.substr(at + 6, 64);
    HttpCall(d.socket, "DELETE", "/containers/" + id + "?force=1");
  }
}

void DaemonFixture::TearDown() {
  for (const Daemon& d : started_) {
    if (PingOnce(d.socket)) RemoveAllContainers(d);
  }
  for (pid_t pid : daemons_) {
    // SIGTERM first so the daemon removes its own state; SIGKILL if it does not go.
    ::kill(pid, SIGTERM);
    if (!WaitExit(pid, std::chrono::seconds(20))) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
  }
  // Whatever a failed test left running: shims, then the cgroups of their containers.
  if (DIR* d = ::opendir(dir_.c_str())) {
    std::vector<std::string> execs;
    while (dirent* e = ::readdir(d)) {
      std::string name = e->d_name;
      if (name.size() > 5 && name.ends_with("-exec")) execs.push_back(dir_ + "/" + name);
    }
    ::closedir(d);
    for (const std::string& exec : execs) {
      DIR* cs = ::opendir((exec + "/containers").c_str());
      if (cs == nullptr) continue;
      while (dirent* e = ::readdir(cs)) {
        auto pid = ReadFile(exec + "/containers/" + e->d_name + "/shim.pid");
        if (pid && std::atoi(pid->c_str()) > 1) ::kill(std::atoi(pid->c_str()), SIGKILL);
      }
      ::closedir(cs);
    }
  }
  SweepCgroups(cgroup_parent_);
  // Whatever a failed test left mounted below the test's directory (a volume with mount
  // options whose container was killed, say): unmounted, deepest first, before the removal,
  // which must never go through a mount.
  if (auto mounts = ReadFile("/proc/self/mounts"); mounts) {
    std::vector<std::string> below;
    for (const std::string& line : Split(*mounts, '\n')) {
      std::vector<std::string> fields = Split(line, ' ');
      if (fields.size() > 1 && fields[1].starts_with(dir_ + "/")) below.push_back(fields[1]);
    }
    std::sort(below.begin(), below.end(),
              [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
    for (const std::string& m : below) {
      std::fprintf(stderr, "daemon fixture: unmounting %s, left mounted by the test\n", m.c_str());
      (void)::umount2(m.c_str(), MNT_DETACH);
    }
  }
  EXPECT_TRUE(RemoveAll(dir_));
}

DaemonFixture::Daemon DaemonFixture::StartDaemon(const std::string& name,
                                                 const std::string& data_root,
                                                 std::vector<std::string> extra) {
  Daemon d{-1, dir_ + "/" + name + ".sock", dir_ + "/" + name + "-exec/berthd.pid",
           dir_ + "/" + name + ".log"};
  std::vector<std::string> argv = {BERTHD_PATH, "--data-root", data_root, "--exec-root",
                                   dir_ + "/" + name + "-exec", "-p", d.pidfile, "-H",
                                   "unix://" + d.socket,
                                   // Never the host's /etc/berth/daemon.json.
                                   "--config-file", dir_ + "/daemon.json",
                                   // Containers' cgroups under a parent of the test's own.
                                   "--cgroup-parent", cgroup_parent_};
  for (std::string& e : extra) argv.push_back(std::move(e));
  d.pid = Spawn(argv, d.log);
  if (d.pid > 0) daemons_.push_back(d.pid);
  started_.push_back(d);
  return d;
}

::testing::AssertionResult DaemonFixture::WaitReady(const Daemon& d) {
  auto deadline = Clock::now() + kTimeout;
  while (Clock::now() < deadline) {
    if (PingOnce(d.socket)) return ::testing::AssertionSuccess();
    int status = 0;
    if (::waitpid(d.pid, &status, WNOHANG) == d.pid) {
      Forget(d.pid);
      return ::testing::AssertionFailure() << "berthd exited early: " << Log(d);
    }
    ::poll(nullptr, 0, 2);
  }
  return ::testing::AssertionFailure() << "berthd never answered _ping: " << Log(d);
}

DaemonFixture::Run DaemonFixture::RunTool(std::vector<std::string> argv,
                                          std::vector<std::string> env,
                                          const std::string& stdin_path) {
  env.push_back("HOME=" + dir_);
  std::string log = dir_ + "/run-" + std::to_string(++runs_) + ".out";
  pid_t pid = Spawn(argv, log, env, stdin_path);
  if (pid < 0) return {-1, "spawn failed: " + argv[0]};
  std::optional<int> code = WaitExit(pid, kTimeout);
  if (!code) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    return {-1, argv[0] + " timed out"};
  }
  Result<std::string> out = ReadFile(log);
  (void)::unlink(log.c_str());
  return {*code, out ? *out : ""};
}

DaemonFixture::Run DaemonFixture::Docker(const Daemon& d, std::vector<std::string> args,
                                         std::vector<std::string> env,
                                         const std::string& stdin_path) {
  std::vector<std::string> argv = {docker_, "-H", "unix://" + d.socket};
  for (std::string& a : args) argv.push_back(std::move(a));
  env.push_back("DOCKER_CONFIG=" + dir_ + "/docker-config");
  return RunTool(std::move(argv), std::move(env), stdin_path);
}

DaemonFixture::Run DaemonFixture::Berth(const Daemon& d, std::vector<std::string> args,
                                        std::vector<std::string> env,
                                        const std::string& stdin_path) {
  std::vector<std::string> argv = {BERTH_PATH, "-H", "unix://" + d.socket};
  for (std::string& a : args) argv.push_back(std::move(a));
  return RunTool(std::move(argv), std::move(env), stdin_path);
}

pid_t DaemonFixture::StartBerth(const Daemon& d, std::vector<std::string> args,
                                const std::string& stdin_path, const std::string& log) {
  std::vector<std::string> argv = {BERTH_PATH, "-H", "unix://" + d.socket};
  for (std::string& a : args) argv.push_back(std::move(a));
  return Spawn(argv, log, {"HOME=" + dir_}, stdin_path);
}

std::string DaemonFixture::Log(const Daemon& d) {
  Result<std::string> text = ReadFile(d.log);
  return text ? *text : "";
}

void DaemonFixture::Forget(pid_t pid) { std::erase(daemons_, pid); }

}  // namespace berth::testing
