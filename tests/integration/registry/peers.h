// The programs the compatibility tests run: berth-registry (restartable on one data root, so a
// test can kill it and start it again), Debian's docker-registry, dockerd with its docker CLI,
// podman with a private store, and skopeo. Each test makes its own, in its own TempDir.
//
// skopeo and podman keep a blob-info cache (as root: /var/lib/containers/cache/
// blob-info-cache-v1.boltdb) that no flag moves. It only lets them skip uploading a blob the
// destination already has, so the tests push images with fresh random content (oci_layout.h)
// and never depend on it. HOME and XDG_* point into the test's TempDir, so no auth.json or
// config of the machine is read.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "processes.h"

namespace berth::registry_compat {

// The berth-registry built in this tree (BERTH_REGISTRY_BINARY overrides), or "".
std::string BerthRegistryBinary();

class BerthRegistry {
 public:
  // `extra_args` follow `serve` (global flags such as --gc-grace may too).
  BerthRegistry(std::string data_root, std::string log, std::vector<std::string> extra_args = {});
  ~BerthRegistry();  // SIGKILL if still running

  // Starts `serve` and waits for its "listening on 127.0.0.1:PORT" line.
  ::testing::AssertionResult Start();
  // SIGTERM; it must exit 0 within 10 s.
  ::testing::AssertionResult Stop();
  // SIGKILL, as a crash.
  void Kill();
  // `berth-registry gc --data-root ROOT extra...`; its exit code and output.
  CommandResult Gc(const std::vector<std::string>& extra = {}) const;

  const std::string& url() const { return url_; }    // "http://127.0.0.1:PORT"
  const std::string& host() const { return host_; }  // "127.0.0.1:PORT"
  const std::string& data_root() const { return data_root_; }
  std::string LogTail() const { return Tail(log_); }

 private:
  std::string data_root_;
  std::string log_;
  std::vector<std::string> extra_args_;
  std::unique_ptr<Daemon> daemon_;
  std::string url_;
  std::string host_;
};

// Debian's docker-registry (CNCF distribution 2.8.2) on a free port, storage in `dir`.
class DockerRegistry {
 public:
  static std::string Binary();  // "" if not installed
  explicit DockerRegistry(std::string dir);
  ~DockerRegistry();
  ::testing::AssertionResult Start();
  const std::string& host() const { return host_; }
  std::string LogTail() const { return Tail(dir_ + "/registry.log"); }

 private:
  std::string dir_;
  std::unique_ptr<Daemon> daemon_;
  std::string host_;
};

// dockerd (Debian's docker.io) with its own data root, exec root, pidfile and socket below
// `dir`, without touching the host's network (--bridge=none, no iptables), vfs storage (it
// mounts nothing but its data root, which it bind-mounts onto itself and unmounts at exit).
class Dockerd {
 public:
  static std::string DaemonBinary();  // "" if not installed
  static std::string CliBinary();     // /usr/local/bin/docker (28.x) or Debian's docker
  explicit Dockerd(std::string dir);
  ~Dockerd();  // Stop()
  // Starts dockerd and waits until GET /_ping on its socket answers OK.
  ::testing::AssertionResult Start();
  // SIGTERM, wait for exit (it stops its containerd first), then checks that no process or
  // mount below `dir` remains and that it left no network device (docker0, br-*).
  ::testing::AssertionResult Stop();
  // Runs `docker -H unix://SOCK args...` with DOCKER_CONFIG in `dir`.
  CommandResult Docker(const std::vector<std::string>& args) const;
  ::testing::AssertionResult DockerOk(const std::vector<std::string>& args,
                                      std::string* out = nullptr) const;

 private:
  std::string dir_;
  std::unique_ptr<Daemon> daemon_;
  std::vector<std::string> network_devices_;  // before it started
};

// skopeo with --insecure-policy (no /etc/containers/policy.json needed) and HOME in `home`.
class Skopeo {
 public:
  explicit Skopeo(std::string home) : home_(std::move(home)) {}
  CommandResult Run(const std::vector<std::string>& args) const;
  ::testing::AssertionResult Ok(const std::vector<std::string>& args,
                                std::string* out = nullptr) const;
  // `skopeo inspect --raw` of docker://REF over plain HTTP: the manifest's exact bytes.
  ::testing::AssertionResult RawManifest(const std::string& ref, std::string* bytes) const;

 private:
  std::string home_;
};

// podman with a private store below `dir` (--root, --runroot, --tmpdir, vfs storage, no
// systemd: cgroupfs, no events), so tests share nothing with each other or the machine.
class Podman {
 public:
  explicit Podman(std::string dir) : dir_(std::move(dir)) {}
  CommandResult Run(const std::vector<std::string>& args) const;
  ::testing::AssertionResult Ok(const std::vector<std::string>& args,
                                std::string* out = nullptr) const;

 private:
  std::string dir_;
};

}  // namespace berth::registry_compat
