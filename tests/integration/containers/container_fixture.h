// ContainerFixture: a berthd with busybox:latest imported (from Debian's busybox-static), for
// tests that run real containers. Root only: containers need namespaces, mounts and cgroups.
#pragma once

#include <unistd.h>

#include <string>

#include "base/file.h"
#include "base/strings.h"
#include "daemon_fixture.h"

namespace berth::testing {

class ContainerFixture : public DaemonFixture {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "containers need root";
    DaemonFixture::SetUp();
    std::string rootfs = dir_ + "/busybox.tar";
    Run made = Shell(std::string(BERTH_SOURCE_DIR) + "/scripts/make-busybox-rootfs.sh > " + rootfs);
    ASSERT_EQ(made.exit_code, 0) << made.output;
    d_ = StartDaemon("d", root_);
    ASSERT_TRUE(WaitReady(d_));
    Run imp = Berth(d_, {"import", "-c", "CMD [\"sh\"]", rootfs, "busybox:latest"});
    ASSERT_EQ(imp.exit_code, 0) << imp.output;
  }

  Run Shell(const std::string& script) {
    std::string log = dir_ + "/shell.out";
    pid_t pid = Spawn({"/bin/sh", "-c", script}, log);
    std::optional<int> code = WaitExit(pid, std::chrono::seconds(120));
    Result<std::string> out = ReadFile(log);
    return {code.value_or(-1), out ? *out : ""};
  }

  static std::string Trim(const std::string& s) { return std::string(TrimSpace(s)); }
  // A file's contents without surrounding space; "" if it cannot be read.
  static std::string ReadTrimmed(const std::string& path) {
    Result<std::string> text = ReadFile(path);
    return text ? Trim(*text) : "";
  }

  // The cgroup directory of a container in the memory hierarchy (v1) or the unified one (v2).
  std::string MemoryCgroup(const std::string& id) {
    std::string v1 = "/sys/fs/cgroup/memory" + cgroup_parent_ + "/" + id;
    std::string v2 = "/sys/fs/cgroup" + cgroup_parent_ + "/" + id;
    return PathExists("/sys/fs/cgroup/memory") ? v1 : v2;
  }

  std::string PidsCgroup(const std::string& id) {
    std::string v1 = "/sys/fs/cgroup/pids" + cgroup_parent_ + "/" + id;
    std::string v2 = "/sys/fs/cgroup" + cgroup_parent_ + "/" + id;
    return PathExists("/sys/fs/cgroup/pids") ? v1 : v2;
  }

  Daemon d_;
};

}  // namespace berth::testing
