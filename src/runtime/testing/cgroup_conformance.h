// A value-parameterized conformance suite for CgroupManager/Cgroup (STYLE.md §6), run against
// real cgroup hierarchies: each backend is instantiated with the root it is detected from.
//
//   INSTANTIATE_TEST_SUITE_P(Host, CgroupConformanceTest,
//       ::testing::Values(CgroupRoot{"Host", "/sys/fs/cgroup", /*limits=*/true}),
//       CgroupRootName);
//
// Root only (each test skips otherwise). Every cgroup lives under /berth-test-<pid> and is removed
// in TearDown, processes killed first, even when a test fails. The fixture's helpers (a child that
// counts in shared memory, the cleanup) serve the host-specific tests in
// tests/privileged/runtime_cgroup/ too.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "runtime/cgroup.h"

namespace berth::runtime::testing {

struct CgroupRoot {
  std::string name;     // test name suffix
  std::string root;     // given to CgroupManager::Detect
  bool limits = false;  // the memory and pids controllers are available there
};

inline void PrintTo(const CgroupRoot& r, std::ostream* os) { *os << r.name << " " << r.root; }
inline std::string CgroupRootName(const ::testing::TestParamInfo<CgroupRoot>& info) {
  return info.param.name;
}

// Whether `path` is a cgroup2 mount.
bool IsCgroup2Mount(const std::string& path);

// Fixture for tests on the host's cgroups.
class CgroupHostTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  // Every directory of `prefix_` in `root` (v2) or in any hierarchy below it (v1).
  std::vector<std::string> Leftovers(const std::string& root) const;
  // Forks a child that counts in shared memory until killed; reaped in TearDown if still alive.
  pid_t ForkCounter();
  // Whether the counter moves within 1 s (false: it stood still that long, the child is frozen).
  bool CounterMoves() const;
  // waitpid(pid) and its status.
  int Reap(pid_t pid);

  std::string prefix_;  // "/berth-test-<pid>"
  std::vector<std::string> cleanup_roots_ = {"/sys/fs/cgroup"};
  std::vector<pid_t> children_;

 private:
  struct Counter {
    std::atomic<uint64_t> n{0};
  };
  Counter* counter_ = nullptr;
};

class CgroupConformanceTest : public CgroupHostTest,
                              public ::testing::WithParamInterface<CgroupRoot> {
 protected:
  void SetUp() override;

  std::unique_ptr<CgroupManager> manager_;
};

}  // namespace berth::runtime::testing
