#include "engine/host_info.h"

#include <stdlib.h>

#include <string>

#include <gtest/gtest.h>

#include "base/file.h"

namespace berth::engine {
namespace {

class HostInfoTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/berth-host-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    root_ = std::string(tmpl) + "/";
  }
  void TearDown() override { EXPECT_TRUE(RemoveAll(root_)); }
  void Put(const std::string& rel, const std::string& text) {
    std::string path = root_ + rel;
    ASSERT_TRUE(MakeDirs(path.substr(0, path.rfind('/'))));
    ASSERT_TRUE(WriteFileAtomic(path, text));
  }
  std::string root_;
};

TEST_F(HostInfoTest, ReadsOsReleaseMeminfoAndSysctls) {
  Put("etc/os-release",
      "NAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\n"
      "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n");
  Put("proc/meminfo", "MemTotal:       24683364 kB\nMemFree:  1 kB\n");
  Put("proc/sys/net/ipv4/ip_forward", "1\n");
  Put("proc/sys/net/bridge/bridge-nf-call-iptables", "0\n");
  HostInfo h = ProbeHost(root_);
  EXPECT_EQ(h.operating_system, "Debian GNU/Linux 12 (bookworm)");
  EXPECT_EQ(h.os_version, "12");
  EXPECT_EQ(h.mem_total, int64_t{24683364} * 1024);
  EXPECT_TRUE(h.ipv4_forwarding);
  EXPECT_FALSE(h.bridge_nf_iptables);
  EXPECT_GT(h.ncpu, 0);
  EXPECT_FALSE(h.kernel_version.empty());
  EXPECT_FALSE(h.go_arch.empty());
}

TEST_F(HostInfoTest, DetectsCgroupV2FromControllers) {
  Put("sys/fs/cgroup/cgroup.controllers", "cpuset cpu io memory pids\n");
  HostInfo h = ProbeHost(root_);
  EXPECT_EQ(h.cgroup.version, "2");
  EXPECT_TRUE(h.cgroup.memory_limit);
  EXPECT_TRUE(h.cgroup.cpu_cfs_quota);
  EXPECT_TRUE(h.cgroup.cpu_set);
  EXPECT_TRUE(h.cgroup.pids_limit);
  EXPECT_FALSE(h.cgroup.oom_kill_disable);
}

TEST_F(HostInfoTest, DetectsCgroupV1FromHierarchies) {
  Put("sys/fs/cgroup/memory/memory.limit_in_bytes", "9223372036854771712\n");
  Put("sys/fs/cgroup/cpu/cpu.shares", "1024\n");
  HostInfo h = ProbeHost(root_);
  EXPECT_EQ(h.cgroup.version, "1");
  EXPECT_TRUE(h.cgroup.memory_limit);
  EXPECT_FALSE(h.cgroup.swap_limit);
  EXPECT_TRUE(h.cgroup.cpu_shares);
  EXPECT_FALSE(h.cgroup.cpu_cfs_quota);
}

TEST_F(HostInfoTest, MissingFilesLeaveFactsEmpty) {
  HostInfo h = ProbeHost(root_);
  EXPECT_EQ(h.operating_system, "Linux");
  EXPECT_EQ(h.mem_total, 0);
  EXPECT_FALSE(h.ipv4_forwarding);
}

TEST(GoArchTest, MapsUnameMachineToGoarch) {
  EXPECT_EQ(GoArch("x86_64"), "amd64");
  EXPECT_EQ(GoArch("aarch64"), "arm64");
  EXPECT_EQ(GoArch("armv7l"), "arm");
  EXPECT_EQ(GoArch("i686"), "386");
  EXPECT_EQ(GoArch("s390x"), "s390x");
}

}  // namespace
}  // namespace berth::engine
