// Processes for the registry compatibility tests: commands run to completion (skopeo, podman,
// docker, tar), background daemons (berth-registry, Debian's docker-registry, dockerd) and the
// temp directories they use.
//
// Every child gets PR_SET_PDEATHSIG(SIGKILL), so none outlives a crashed test binary. A Daemon
// is killed and reaped when destroyed; a TempDir, when destroyed, unmounts whatever is mounted
// below it (dockerd bind-mounts its data root), SIGKILLs processes whose command line names it
// (containerd started by a dockerd that did not stop) and removes it. Not thread-safe: one
// object per thread, except Daemon::Signal.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

namespace berth::registry_compat {

class TempDir {
 public:
  TempDir();  // /tmp/berth-registry-compat-<10 of [a-z0-9]>, 0755
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  // path() + "/" + name, its parent directories created.
  std::string Sub(std::string_view name) const;

 private:
  std::string path_;
};

struct CommandResult {
  int exit_code = -1;  // -1: killed by a signal, timed out or not started
  std::string out;
  std::string err;
  bool ok() const { return exit_code == 0; }
};

struct CommandOptions {
  std::vector<std::string> env;  // "NAME=VALUE" added to (or replacing in) this environment
  std::chrono::seconds timeout{60};
};

// Runs argv[0] (a path, or a name looked up in PATH) to completion, collecting its output.
CommandResult Run(const std::vector<std::string>& argv, const CommandOptions& options = {});
// "`argv...` exited N; stderr: ..." for failure messages.
std::string Describe(const std::vector<std::string>& argv, const CommandResult& r);
// Runs and asserts exit 0, returning stdout.
::testing::AssertionResult RunOk(const std::vector<std::string>& argv, std::string* out = nullptr,
                                 const CommandOptions& options = {});

// The first of `paths` that is an executable file, or "".
std::string FindExecutable(std::initializer_list<const char*> paths);

// A process running in the background, stdout to a pipe (stdout_fd) or to `log`, stderr to
// `log`.
class Daemon {
 public:
  static std::unique_ptr<Daemon> Spawn(const std::vector<std::string>& argv, const std::string& log,
                                       bool pipe_stdout, const std::vector<std::string>& env = {});
  ~Daemon();  // SIGKILL and reap if still running
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  pid_t pid() const { return pid_; }
  int stdout_fd() const { return stdout_fd_; }
  void Signal(int sig) const;
  // Its wait status once it exited within `timeout`; nullopt if it still runs.
  std::optional<int> Wait(std::chrono::milliseconds timeout);
  bool running() const { return pid_ > 0; }

 private:
  Daemon() = default;
  pid_t pid_ = -1;
  int stdout_fd_ = -1;
};

// The whole of a file ("" if it cannot be read).
std::string ReadFile(const std::string& path);
// The last 16000 bytes of a log file (room for a sanitizer report).
std::string Tail(const std::string& path);
// "exit status N" or "signal N".
std::string DescribeWaitStatus(int status);

// A process on this machine whose command line contains `needle` (by pid), for leak checks.
std::vector<pid_t> ProcessesMentioning(const std::string& needle);
// Mount points at or below `dir`.
std::vector<std::string> MountsBelow(const std::string& dir);

}  // namespace berth::registry_compat
