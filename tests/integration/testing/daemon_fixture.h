// DaemonFixture: a GoogleTest fixture that runs the real berthd on a temp state root and unix
// socket, and runs the real berth and docker CLIs against it, as a user would.
// Every daemon started is killed in TearDown; the temp dir is removed.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace berth::testing {

// Spawns argv with stdout and stderr into `log` and stdin from `stdin_path` (or /dev/null);
// `env_extra` is appended to the environment (whose DOCKER_* and BERTH_* variables are dropped).
pid_t Spawn(const std::vector<std::string>& argv, const std::string& log,
            const std::vector<std::string>& env_extra = {}, const std::string& stdin_path = "");
// Waits for `pid`; nullopt if it still runs at the deadline. 128+N for a signal.
std::optional<int> WaitExit(pid_t pid, std::chrono::steady_clock::duration timeout);
// One HTTP/1.0 request on a unix socket; the response body ("" on failure).
std::string HttpCall(const std::string& socket_path, const std::string& method,
                     const std::string& path);
// Kills the processes of every cgroup under `parent` (e.g. "/berth-it-x") in every hierarchy
// and removes the cgroups.
void SweepCgroups(const std::string& parent);
// One GET /_ping on a unix socket; true on "200 OK".
bool PingOnce(const std::string& socket_path);
// How many entries a directory has (0 if it does not exist).
size_t CountEntries(const std::string& dir);
// /usr/local/bin/docker, else `docker` on PATH, else "".
std::string FindDocker();

class DaemonFixture : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  struct Daemon {
    pid_t pid = -1;
    std::string socket;
    std::string pidfile;
    std::string log;
  };
  struct Run {
    int exit_code = -1;
    std::string output;  // stdout and stderr together
  };

  Daemon StartDaemon(const std::string& name, const std::string& data_root,
                     std::vector<std::string> extra = {});
  ::testing::AssertionResult WaitReady(const Daemon& d);
  // docker -H unix://<socket> args... (DOCKER_CONFIG and HOME in the temp dir).
  Run Docker(const Daemon& d, std::vector<std::string> args, std::vector<std::string> env = {},
             const std::string& stdin_path = "");
  // berth -H unix://<socket> args... (HOME in the temp dir).
  Run Berth(const Daemon& d, std::vector<std::string> args, std::vector<std::string> env = {},
            const std::string& stdin_path = "");
  // Starts berth without waiting for it (output into `log`); the caller waits with WaitExit.
  pid_t StartBerth(const Daemon& d, std::vector<std::string> args, const std::string& stdin_path,
                   const std::string& log);
  std::string Log(const Daemon& d);
  void Forget(pid_t pid);
  // DELETE ?force=1 of every container the daemon has.
  void RemoveAllContainers(const Daemon& d);

  std::string docker_;  // "" when there is no docker CLI
  std::string dir_;     // the test's temp dir
  std::string root_;    // dir_/root, the default data root
  std::string cgroup_parent_;  // --cgroup-parent of every daemon started here

 private:
  Run RunTool(std::vector<std::string> argv, std::vector<std::string> env,
              const std::string& stdin_path);
  std::vector<pid_t> daemons_;
  std::vector<Daemon> started_;
  int runs_ = 0;
};

}  // namespace berth::testing

#define BERTH_SKIP_WITHOUT_DOCKER() \
  if (docker_.empty()) GTEST_SKIP() << "no docker CLI in /usr/local/bin or on PATH"
