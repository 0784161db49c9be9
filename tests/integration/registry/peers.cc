#include "peers.h"

#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>

#include "loopback.h"

namespace berth::registry_compat {
namespace {

using registry_conformance::AwaitListening;
using registry_conformance::CanConnect;
using registry_conformance::FreePort;
using registry_conformance::Listening;
using registry_conformance::WriteDockerRegistryConfig;

// The network devices of this namespace that dockerd would name (docker0, br-<id>), sorted.
// Only those: other tests on the machine may make and remove devices of their own meanwhile.
std::vector<std::string> NetworkDevices() {
  std::vector<std::string> devices;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator("/sys/class/net", ec)) {
    std::string name = e.path().filename().string();
    if (name == "docker0" || name.rfind("br-", 0) == 0) devices.push_back(name);
  }
  std::sort(devices.begin(), devices.end());
  return devices;
}

// GET `path` over the unix socket `sock` (HTTP/1.0, so the answer ends at close); the raw
// response, "" if nothing answers.
std::string UnixGet(const std::string& sock, const std::string& path) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, sock.c_str(), sizeof(addr.sun_path) - 1);
  std::string response;
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) {
    std::string request = "GET " + path + " HTTP/1.0\r\nHost: docker\r\n\r\n";
    if (write(fd, request.data(), request.size()) == static_cast<ssize_t>(request.size())) {
      char buf[4096];
      pollfd p{fd, POLLIN, 0};
      while (poll(&p, 1, 2000) > 0) {
        ssize_t n = read(fd, buf, sizeof(buf));
        if (n <= 0) break;
        response.append(buf, static_cast<size_t>(n));
      }
    }
  }
  close(fd);
  return response;
}

// HOME and XDG directories in `home` (created), so no user configuration is read.
std::vector<std::string> HomeEnv(const std::string& home) {
  std::error_code ec;
  std::filesystem::create_directories(home + "/run", ec);
  chmod((home + "/run").c_str(), 0700);
  return {"HOME=" + home, "XDG_CONFIG_HOME=" + home + "/.config",
          "XDG_RUNTIME_DIR=" + home + "/run", "XDG_DATA_HOME=" + home + "/.local/share"};
}

// Success if `r` (of `tool` run with `args`) exited 0, else its description; its stdout to
// `out` either way when given.
::testing::AssertionResult Succeeded(const char* tool, const std::vector<std::string>& args,
                                     const CommandResult& r, std::string* out) {
  if (out != nullptr) *out = r.out;
  if (!r.ok()) {
    std::vector<std::string> argv = {tool};
    argv.insert(argv.end(), args.begin(), args.end());
    return ::testing::AssertionFailure() << Describe(argv, r);
  }
  return ::testing::AssertionSuccess();
}

}  // namespace

std::string BerthRegistryBinary() {
  const char* env = std::getenv("BERTH_REGISTRY_BINARY");
  if (env != nullptr && *env != '\0') return env;
  return BERTH_REGISTRY_PATH;
}

// ---- BerthRegistry ----

BerthRegistry::BerthRegistry(std::string data_root, std::string log,
                             std::vector<std::string> extra_args)
    : data_root_(std::move(data_root)), log_(std::move(log)), extra_args_(std::move(extra_args)) {}

BerthRegistry::~BerthRegistry() = default;  // the Daemon SIGKILLs

::testing::AssertionResult BerthRegistry::Start() {
  std::vector<std::string> argv = {BerthRegistryBinary(), "serve",       "--listen",
                                   "127.0.0.1:0",         "--data-root", data_root_};
  argv.insert(argv.end(), extra_args_.begin(), extra_args_.end());
  daemon_ = Daemon::Spawn(argv, log_, /*pipe_stdout=*/true);
  if (!daemon_) return ::testing::AssertionFailure() << "cannot spawn " << argv[0];
  Listening listening = AwaitListening(daemon_->stdout_fd(), std::chrono::seconds(30));
  if (listening.host.empty()) {
    return ::testing::AssertionFailure()
           << "berth-registry printed no 'listening on 127.0.0.1:PORT' (" << listening.failure
           << "); stdout: " << listening.output << "\nlog:\n"
           << LogTail();
  }
  host_ = listening.host;
  url_ = "http://" + host_;
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult BerthRegistry::Stop() {
  if (!daemon_ || !daemon_->running()) {
    return ::testing::AssertionFailure() << "berth-registry is not running";
  }
  daemon_->Signal(SIGTERM);
  auto status = daemon_->Wait(std::chrono::seconds(10));
  if (!status) return ::testing::AssertionFailure() << "berth-registry ignored SIGTERM for 10 s";
  daemon_.reset();
  if (!WIFEXITED(*status) || WEXITSTATUS(*status) != 0) {
    return ::testing::AssertionFailure()
           << "berth-registry ended with " << DescribeWaitStatus(*status) << "\nlog:\n"
           << LogTail();
  }
  return ::testing::AssertionSuccess();
}

void BerthRegistry::Kill() {
  if (!daemon_) return;
  daemon_->Signal(SIGKILL);
  daemon_->Wait(std::chrono::seconds(10));
  daemon_.reset();
}

CommandResult BerthRegistry::Gc(const std::vector<std::string>& extra) const {
  std::vector<std::string> argv = {BerthRegistryBinary(), "gc", "--data-root", data_root_};
  argv.insert(argv.end(), extra.begin(), extra.end());
  return Run(argv);
}

// ---- DockerRegistry ----

std::string DockerRegistry::Binary() {
  return FindExecutable({"/usr/bin/docker-registry", "/usr/local/bin/docker-registry"});
}

DockerRegistry::DockerRegistry(std::string dir) : dir_(std::move(dir)) {}

DockerRegistry::~DockerRegistry() {
  if (daemon_ && daemon_->running()) {
    daemon_->Signal(SIGTERM);
    daemon_->Wait(std::chrono::seconds(5));
  }
}

::testing::AssertionResult DockerRegistry::Start() {
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  int port = FreePort();
  if (port < 0) return ::testing::AssertionFailure() << "no free port";
  std::string config = dir_ + "/config.yml";
  WriteDockerRegistryConfig(config, dir_, port);
  daemon_ = Daemon::Spawn({Binary(), "serve", config}, dir_ + "/registry.log", false);
  if (!daemon_) return ::testing::AssertionFailure() << "cannot spawn docker-registry";
  // It prints nothing at level warn: ready is a connect() that succeeds.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    if (CanConnect(port)) {
      host_ = "127.0.0.1:" + std::to_string(port);
      return ::testing::AssertionSuccess();
    }
    if (auto status = daemon_->Wait(std::chrono::milliseconds(20))) {
      return ::testing::AssertionFailure()
             << "docker-registry ended with " << DescribeWaitStatus(*status) << "\n"
             << LogTail();
    }
  }
  return ::testing::AssertionFailure() << "docker-registry is not listening after 30 s";
}

// ---- Dockerd ----

std::string Dockerd::DaemonBinary() {
  return FindExecutable({"/usr/sbin/dockerd", "/usr/bin/dockerd"});
}

std::string Dockerd::CliBinary() {
  return FindExecutable({"/usr/local/bin/docker", "/usr/bin/docker"});
}

Dockerd::Dockerd(std::string dir) : dir_(std::move(dir)) {}

Dockerd::~Dockerd() { (void)Stop(); }

::testing::AssertionResult Dockerd::Start() {
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  std::string sock = dir_ + "/docker.sock";
  network_devices_ = NetworkDevices();
  daemon_ = Daemon::Spawn(
      {DaemonBinary(), "--bridge=none", "--iptables=false", "--ip-forward=false", "--ip-masq=false",
       "--storage-driver=vfs", "--data-root", dir_ + "/data", "--exec-root", dir_ + "/exec",
       "--pidfile", dir_ + "/dockerd.pid", "--host", "unix://" + sock},
      dir_ + "/dockerd.log", false);
  if (!daemon_) return ::testing::AssertionFailure() << "cannot spawn dockerd";
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    std::string ping = UnixGet(sock, "/_ping");
    if (ping.rfind("HTTP/1.", 0) == 0 && ping.find(" 200 ") != std::string::npos) {
      return ::testing::AssertionSuccess();
    }
    if (auto status = daemon_->Wait(std::chrono::milliseconds(20))) {
      return ::testing::AssertionFailure()
             << "dockerd ended with " << DescribeWaitStatus(*status) << "\n"
             << Tail(dir_ + "/dockerd.log");
    }
  }
  return ::testing::AssertionFailure() << "dockerd does not answer /_ping after 30 s\n"
                                       << Tail(dir_ + "/dockerd.log");
}

::testing::AssertionResult Dockerd::Stop() {
  if (!daemon_) return ::testing::AssertionSuccess();
  ::testing::AssertionResult result = ::testing::AssertionSuccess();
  if (daemon_->running()) {
    daemon_->Signal(SIGTERM);
    if (!daemon_->Wait(std::chrono::seconds(15))) {
      result = ::testing::AssertionFailure() << "dockerd did not stop within 15 s of SIGTERM";
    }
  }
  daemon_.reset();  // SIGKILL if it still runs
  std::vector<pid_t> left = ProcessesMentioning(dir_);
  if (!left.empty()) {
    if (result) result = ::testing::AssertionFailure();
    result << "; processes left after dockerd stopped:";
    for (pid_t pid : left) {
      result << " " << pid;
      kill(pid, SIGKILL);
    }
  }
  std::vector<std::string> mounts = MountsBelow(dir_);
  if (!mounts.empty()) {
    if (result) result = ::testing::AssertionFailure();
    result << "; mounts left after dockerd stopped:";
    for (const auto& m : mounts) result << " " << m;
  }
  if (NetworkDevices() != network_devices_) {
    if (result) result = ::testing::AssertionFailure();
    result << "; dockerd's network devices changed while it ran:";
    for (const auto& d : NetworkDevices()) result << " " << d;
  }
  return result;
}

CommandResult Dockerd::Docker(const std::vector<std::string>& args) const {
  std::vector<std::string> argv = {CliBinary(), "-H", "unix://" + dir_ + "/docker.sock"};
  argv.insert(argv.end(), args.begin(), args.end());
  CommandOptions options;
  options.env = {"DOCKER_CONFIG=" + dir_ + "/cli", "HOME=" + dir_};
  return registry_compat::Run(argv, options);
}

::testing::AssertionResult Dockerd::DockerOk(const std::vector<std::string>& args,
                                             std::string* out) const {
  CommandResult r = Docker(args);
  if (out != nullptr) *out = r.out;
  if (!r.ok()) return ::testing::AssertionFailure() << Describe(args, r);
  return ::testing::AssertionSuccess();
}

// ---- Skopeo ----

CommandResult Skopeo::Run(const std::vector<std::string>& args) const {
  std::vector<std::string> argv = {"skopeo", "--insecure-policy"};
  argv.insert(argv.end(), args.begin(), args.end());
  CommandOptions options;
  options.env = HomeEnv(home_);
  return registry_compat::Run(argv, options);
}

::testing::AssertionResult Skopeo::Ok(const std::vector<std::string>& args,
                                      std::string* out) const {
  return Succeeded("skopeo", args, Run(args), out);
}

::testing::AssertionResult Skopeo::RawManifest(const std::string& ref, std::string* bytes) const {
  return Ok({"inspect", "--tls-verify=false", "--raw", "docker://" + ref}, bytes);
}

// ---- Podman ----

CommandResult Podman::Run(const std::vector<std::string>& args) const {
  std::vector<std::string> argv = {
      "podman",      "--root",           dir_ + "/root", "--runroot",
      dir_ + "/run", "--tmpdir",         dir_ + "/tmp",  "--storage-driver",
      "vfs",         "--cgroup-manager", "cgroupfs",     "--events-backend",
      "none"};
  argv.insert(argv.end(), args.begin(), args.end());
  CommandOptions options;
  options.env = HomeEnv(dir_);
  return registry_compat::Run(argv, options);
}

::testing::AssertionResult Podman::Ok(const std::vector<std::string>& args,
                                      std::string* out) const {
  return Succeeded("podman", args, Run(args), out);
}

}  // namespace berth::registry_compat
