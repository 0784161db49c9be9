// berthd as a user runs it: the real binary on a temp state root and unix socket, talked to
// by the stock docker CLI. Every daemon started here is killed in TearDown.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "base/file.h"
#include "base/strings.h"
#include "base/unique_fd.h"

extern char** environ;

namespace berth {
namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kTimeout = std::chrono::seconds(60);

std::string FindDocker() {
  if (::access("/usr/local/bin/docker", X_OK) == 0) return "/usr/local/bin/docker";
  const char* path = std::getenv("PATH");
  for (const std::string& dir : Split(path ? path : "", ':')) {
    std::string candidate = (dir.empty() ? "." : dir) + "/docker";
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "";
}

// Spawns argv with stdout and stderr to `log`; extra environment appended to ours.
pid_t Spawn(const std::vector<std::string>& argv, const std::string& log,
            const std::vector<std::string>& env_extra = {}) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string_view kv(*e);
    if (kv.starts_with("DOCKER_")) continue;  // the test decides the CLI's environment
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

// Waits for `pid` to exit; nullopt if it is still running at the deadline.
std::optional<int> WaitExit(pid_t pid, Clock::duration timeout = kTimeout) {
  auto deadline = Clock::now() + timeout;
  while (true) {
    int status = 0;
    pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (r < 0 || Clock::now() > deadline) return std::nullopt;
    ::poll(nullptr, 0, 5);  // child exit has no fd to wait on without pidfd; poll briefly
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

class BerthdTest : public ::testing::Test {
 protected:
  void SetUp() override {
    docker_ = FindDocker();
    char tmpl[] = "/tmp/berthd-it-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    root_ = dir_ + "/root";
    ASSERT_TRUE(MakeDirs(dir_ + "/docker-config"));
    ASSERT_TRUE(WriteFileAtomic(dir_ + "/daemon.json", "{}\n"));
  }

  void TearDown() override {
    for (pid_t pid : daemons_) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
    EXPECT_TRUE(RemoveAll(dir_));
  }

  struct Daemon {
    pid_t pid;
    std::string socket;
    std::string pidfile;
    std::string log;
  };

  Daemon StartDaemon(const std::string& name, const std::string& data_root,
                     std::vector<std::string> extra = {}) {
    Daemon d{-1, dir_ + "/" + name + ".sock", dir_ + "/" + name + "-exec/berthd.pid",
             dir_ + "/" + name + ".log"};
    std::vector<std::string> argv = {BERTHD_PATH,  "--data-root", data_root,
                                     "--exec-root", dir_ + "/" + name + "-exec",
                                     "-p",          d.pidfile,
                                     "-H",          "unix://" + d.socket,
                                     // Never the host's /etc/berth/daemon.json.
                                     "--config-file", dir_ + "/daemon.json"};
    for (std::string& e : extra) argv.push_back(std::move(e));
    d.pid = Spawn(argv, d.log);
    if (d.pid > 0) daemons_.push_back(d.pid);
    return d;
  }

  // Polls _ping until it answers; fails fast if the daemon dies.
  ::testing::AssertionResult WaitReady(const Daemon& d) {
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

  struct Run {
    int exit_code;
    std::string output;
  };

  Run Docker(const Daemon& d, std::vector<std::string> args,
             std::vector<std::string> env = {}) {
    std::vector<std::string> argv = {docker_, "-H", "unix://" + d.socket};
    for (std::string& a : args) argv.push_back(std::move(a));
    env.push_back("DOCKER_CONFIG=" + dir_ + "/docker-config");
    env.push_back("HOME=" + dir_);
    std::string log = dir_ + "/docker.out";
    pid_t pid = Spawn(argv, log, env);
    if (pid < 0) return {-1, "spawn failed"};
    std::optional<int> code = WaitExit(pid);
    if (!code) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
      return {-1, "docker timed out"};
    }
    Result<std::string> out = ReadFile(log);
    return {*code, out ? *out : ""};
  }

  std::string Log(const Daemon& d) {
    Result<std::string> text = ReadFile(d.log);
    return text ? *text : "";
  }
  void Forget(pid_t pid) { std::erase(daemons_, pid); }

  std::string docker_;
  std::string dir_;
  std::string root_;
  std::vector<pid_t> daemons_;
};

#define SKIP_WITHOUT_DOCKER() \
  if (docker_.empty()) GTEST_SKIP() << "no docker CLI in /usr/local/bin or on PATH"

TEST_F(BerthdTest, DockerVersionTalksToBerthd) {
  SKIP_WITHOUT_DOCKER();
  Daemon d = StartDaemon("a", root_);
  ASSERT_TRUE(WaitReady(d));
  Run r = Docker(d, {"version"});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("Server: Berth Engine"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("1.43 (minimum version 1.24)"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("1.43 (downgraded from"), std::string::npos) << r.output;
}

TEST_F(BerthdTest, DockerInfoShowsOurStorageAndRoot) {
  SKIP_WITHOUT_DOCKER();
  Daemon d = StartDaemon("a", root_, {"--insecure-registry", "myreg.example:5000"});
  ASSERT_TRUE(WaitReady(d));
  Run r = Docker(d, {"info"});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("Storage Driver: overlay2"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("Docker Root Dir: " + root_ + "\n"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("Cgroup Driver: cgroupfs"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("Images: 0"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("myreg.example:5000"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("127.0.0.0/8"), std::string::npos) << r.output;
}

TEST_F(BerthdTest, ApiVersionOutsideTheRangeIsRefusedWithDockerdMessages) {
  SKIP_WITHOUT_DOCKER();
  Daemon d = StartDaemon("a", root_);
  ASSERT_TRUE(WaitReady(d));
  Run old = Docker(d, {"version"}, {"DOCKER_API_VERSION=1.12"});
  EXPECT_NE(old.exit_code, 0);
  EXPECT_NE(old.output.find("client version 1.12 is too old. Minimum supported API version is "
                            "1.24, please upgrade your client to a newer version"),
            std::string::npos)
      << old.output;
  Run fresh = Docker(d, {"version"}, {"DOCKER_API_VERSION=1.44"});
  EXPECT_NE(fresh.exit_code, 0);
  EXPECT_NE(fresh.output.find(
                "client version 1.44 is too new. Maximum supported API version is 1.43"),
            std::string::npos)
      << fresh.output;
}

TEST_F(BerthdTest, SecondDaemonOnTheSameRootExitsWithTheLockMessage) {
  Daemon first = StartDaemon("a", root_);
  ASSERT_TRUE(WaitReady(first));
  Daemon second = StartDaemon("b", root_);
  ASSERT_GT(second.pid, 0);
  std::optional<int> code = WaitExit(second.pid);
  ASSERT_TRUE(code) << "second berthd kept running";
  Forget(second.pid);
  EXPECT_NE(*code, 0);
  EXPECT_NE(Log(second).find("in use by another berthd (pid " + std::to_string(first.pid) + ")"),
            std::string::npos)
      << Log(second);
  EXPECT_FALSE(PathExists(second.socket));
  EXPECT_TRUE(PingOnce(first.socket));  // the first one is untouched
}

TEST_F(BerthdTest, SigtermExitsZeroAndRemovesSocketAndPidfile) {
  Daemon d = StartDaemon("a", root_);
  ASSERT_TRUE(WaitReady(d));
  ASSERT_TRUE(PathExists(d.pidfile));
  ASSERT_EQ(::kill(d.pid, SIGTERM), 0);
  std::optional<int> code = WaitExit(d.pid);
  ASSERT_TRUE(code) << "berthd ignored SIGTERM";
  Forget(d.pid);
  EXPECT_EQ(*code, 0) << Log(d);
  EXPECT_FALSE(PathExists(d.socket));
  EXPECT_FALSE(PathExists(d.pidfile));
  // The lock went with it: a new daemon takes the same root.
  Daemon again = StartDaemon("c", root_);
  EXPECT_TRUE(WaitReady(again));
}

TEST_F(BerthdTest, SettingInBothFlagAndConfigFileIsRefused) {
  ASSERT_TRUE(WriteFileAtomic(dir_ + "/daemon.json", R"({"data-root": "/srv/elsewhere"})"));
  Daemon d = StartDaemon("a", root_);
  ASSERT_GT(d.pid, 0);
  std::optional<int> code = WaitExit(d.pid);
  ASSERT_TRUE(code);
  Forget(d.pid);
  EXPECT_NE(*code, 0);
  EXPECT_NE(Log(d).find("the following directives are specified both as a flag and in the "
                        "configuration file: data-root: (from flag: " +
                        root_ + ", from file: /srv/elsewhere)"),
            std::string::npos)
      << Log(d);
}

}  // namespace
}  // namespace berth
