// CgroupManager on the host's real cgroups. The conformance suite (runtime/testing/
// cgroup_conformance.h) runs against /sys/fs/cgroup (v1 here, v2 on a unified host) and, on a
// hybrid host, against the cgroup2 mount at /sys/fs/cgroup/unified, so both backends meet a real
// kernel. The tests below check what only one layout shows: the values in the kernel's files, a
// value the kernel refuses, a controller the hierarchy does not offer.
// Root only (GTEST_SKIP otherwise). Every cgroup lives under /berth-test-<pid>, removed in
// TearDown (processes killed first) even when a test fails.
#include <errno.h>
#include <sys/wait.h>
#include <unistd.h>

#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "base/file.h"
#include "base/strings.h"
#include "runtime/cgroup.h"
#include "runtime/testing/cgroup_conformance.h"

namespace berth::runtime {
namespace {

using testing::CgroupConformanceTest;
using testing::CgroupRoot;
using testing::IsCgroup2Mount;

constexpr const char* kCgroupRoot = "/sys/fs/cgroup";
constexpr const char* kUnified = "/sys/fs/cgroup/unified";

std::string Read(const std::string& path) {
  Result<std::string> data = ReadFile(path);
  return data ? std::string(TrimSpace(*data)) : "<" + path + ": unreadable>";
}

// Whether `root` offers the memory and pids controllers.
bool HasLimits(const std::string& root) {
  if (!IsCgroup2Mount(root)) {
    return PathExists(root + "/memory/cgroup.procs") && PathExists(root + "/pids/cgroup.procs");
  }
  std::set<std::string> controllers;
  for (const std::string& c : Split(Read(root + "/cgroup.controllers"), ' ')) controllers.insert(c);
  return controllers.count("memory") != 0 && controllers.count("pids") != 0;
}

std::vector<CgroupRoot> HostRoots() {
  std::vector<CgroupRoot> roots = {{"Host", kCgroupRoot, HasLimits(kCgroupRoot)}};
  if (!IsCgroup2Mount(kCgroupRoot) && IsCgroup2Mount(kUnified)) {
    roots.push_back({"HybridUnified", kUnified, HasLimits(kUnified)});
  }
  return roots;
}

INSTANTIATE_TEST_SUITE_P(Real, CgroupConformanceTest, ::testing::ValuesIn(HostRoots()),
                         testing::CgroupRootName);

class CgroupPrivilegedTest : public testing::CgroupHostTest {};

TEST_F(CgroupPrivilegedTest, LimitsLandInTheKernelFiles) {
  auto manager = CgroupManager::Detect(kCgroupRoot);
  ASSERT_TRUE(manager) << manager.error().message;
  if (!HasLimits(kCgroupRoot)) GTEST_SKIP() << "no memory/pids controllers";
  const std::string path = prefix_ + "/c1";
  oci::LinuxResources res;
  res.memory = oci::LinuxMemory{};
  res.memory->limit = 64 << 20;
  res.pids = oci::LinuxPids{16};
  res.cpu = oci::LinuxCpu{};
  res.cpu->shares = 512;
  res.cpu->quota = 50000;
  res.cpu->period = 100000;
  auto cg = (*manager)->Create(path, res);
  ASSERT_TRUE(cg) << cg.error().message;

  const std::string root = kCgroupRoot;
  if ((*manager)->version() == 1) {
    EXPECT_EQ(Read(root + "/memory" + path + "/memory.limit_in_bytes"), "67108864");
    EXPECT_EQ(Read(root + "/pids" + path + "/pids.max"), "16");
    EXPECT_EQ(Read(root + "/cpu" + path + "/cpu.shares"), "512");
    EXPECT_EQ(Read(root + "/cpu" + path + "/cpu.cfs_quota_us"), "50000");
    EXPECT_EQ(Read(root + "/cpu" + path + "/cpu.cfs_period_us"), "100000");
    // cpuset copied from the parents, or no task could join.
    EXPECT_EQ(Read(root + "/cpuset" + path + "/cpuset.cpus"), Read(root + "/cpuset/cpuset.cpus"));
    EXPECT_EQ(Read(root + "/cpuset" + path + "/cpuset.mems"), Read(root + "/cpuset/cpuset.mems"));
  } else {
    EXPECT_EQ(Read(root + path + "/memory.max"), "67108864");
    EXPECT_EQ(Read(root + path + "/pids.max"), "16");
    EXPECT_EQ(Read(root + path + "/cpu.weight"), "20");
    EXPECT_EQ(Read(root + path + "/cpu.max"), "50000 100000");
  }

  const pid_t child = ForkCounter();
  ASSERT_GT(child, 0);
  ASSERT_TRUE((*cg)->AddProcess(child));
  if ((*manager)->version() == 1) {
    EXPECT_EQ(Read(root + "/memory" + path + "/cgroup.procs"), std::to_string(child));
    EXPECT_EQ(Read(root + "/cpuset" + path + "/cgroup.procs"), std::to_string(child));
    ASSERT_TRUE((*cg)->Freeze());
    EXPECT_EQ(Read(root + "/freezer" + path + "/freezer.state"), "FROZEN");
    ASSERT_TRUE((*cg)->Thaw());
    EXPECT_EQ(Read(root + "/freezer" + path + "/freezer.state"), "THAWED");
  } else {
    EXPECT_EQ(Read(root + path + "/cgroup.procs"), std::to_string(child));
  }
  ASSERT_TRUE((*cg)->KillAll());
  Reap(child);
  ASSERT_TRUE((*cg)->Destroy());
}

TEST_F(CgroupPrivilegedTest, RefusedValueIsClearErrorAndLeavesNoDirectory) {
  auto manager = CgroupManager::Detect(kCgroupRoot);
  ASSERT_TRUE(manager) << manager.error().message;
  // No such CPU on any test machine; and a CFS quota below the kernel's 1 ms minimum.
  oci::LinuxResources cpus;
  cpus.cpu = oci::LinuxCpu{};
  cpus.cpu->cpus = "1023";
  oci::LinuxResources quota;
  quota.cpu = oci::LinuxCpu{};
  quota.cpu->quota = 500;
  quota.cpu->period = 100000;
  const bool v1 = (*manager)->version() == 1;
  const std::vector<std::pair<oci::LinuxResources, std::string>> cases = {
      {cpus, "cpuset.cpus=1023: "},
      {quota, v1 ? "cpu.cfs_quota_us=500: " : "cpu.max=500 100000: "},
  };
  for (const auto& [res, want] : cases) {
    auto cg = (*manager)->Create(prefix_ + "/refused", res);
    ASSERT_FALSE(cg) << want;
    EXPECT_EQ(cg.error().code, Code::kInvalidArgument) << cg.error().message;
    EXPECT_EQ(cg.error().message.rfind("create cgroup " + prefix_ + "/refused: " + want, 0), 0u)
        << cg.error().message;
    // EINVAL, or ERANGE for a CPU number past the kernel's nr_cpu_ids.
    EXPECT_TRUE(cg.error().sys_errno == EINVAL || cg.error().sys_errno == ERANGE)
        << cg.error().message;
    // Create made the prefix too, and took it back.
    EXPECT_EQ(Leftovers(kCgroupRoot), std::vector<std::string>{});
  }
}

TEST_F(CgroupPrivilegedTest, HybridUnifiedMountRefusesControllersItLacks) {
  if (IsCgroup2Mount(kCgroupRoot) || !IsCgroup2Mount(kUnified)) {
    GTEST_SKIP() << "not a hybrid host";
  }
  if (HasLimits(kUnified)) GTEST_SKIP() << kUnified << " offers memory and pids";
  cleanup_roots_ = {kUnified};
  auto manager = CgroupManager::Detect(kUnified);
  ASSERT_TRUE(manager) << manager.error().message;
  ASSERT_EQ((*manager)->version(), 2);
  oci::LinuxResources pids;
  pids.pids = oci::LinuxPids{8};
  auto refused = (*manager)->Create(prefix_ + "/v2", pids);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, Code::kFailedPrecondition) << refused.error().message;
  EXPECT_EQ(
      refused.error().message,
      "create cgroup " + prefix_ + "/v2: the pids controller is not available in " + kUnified);
  EXPECT_EQ(Leftovers(kUnified), std::vector<std::string>{});
}

}  // namespace
}  // namespace berth::runtime
