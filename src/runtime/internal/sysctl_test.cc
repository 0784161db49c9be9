#include "runtime/internal/sysctl.h"

#include <sched.h>

#include <gtest/gtest.h>

namespace berth::runtime::internal {
namespace {

constexpr int kAll = CLONE_NEWIPC | CLONE_NEWNET | CLONE_NEWUTS;

TEST(SysctlTest, NamespacedSysctlsBecomeProcSysWrites) {
  Result<std::vector<FileWrite>> w = PlanSysctls(
      {{"net.ipv4.ip_forward", "1"}, {"kernel/shmmax", "4096"}, {"fs.mqueue.msg_max", "20"}}, kAll);
  ASSERT_TRUE(w) << w.error().message;
  ASSERT_EQ(w->size(), 3u);
  // std::map order.
  EXPECT_EQ((*w)[0].path, "/proc/sys/fs/mqueue/msg_max");
  EXPECT_EQ((*w)[1].path, "/proc/sys/kernel/shmmax");
  EXPECT_EQ((*w)[1].value, "4096");
  EXPECT_EQ((*w)[2].path, "/proc/sys/net/ipv4/ip_forward");
}

TEST(SysctlTest, RefusesHostWideOnesAndMissingNamespaces) {
  EXPECT_EQ(PlanSysctls({{"kernel.panic", "1"}}, kAll).error().message,
            "sysctl \"kernel.panic\" is not in a separate kernel namespace");
  EXPECT_EQ(PlanSysctls({{"net.ipv4.ip_forward", "1"}}, CLONE_NEWIPC).error().message,
            "sysctl \"net.ipv4.ip_forward\" needs a new network namespace");
  EXPECT_EQ(PlanSysctls({{"kernel.sem", "1"}}, CLONE_NEWNET).error().message,
            "sysctl \"kernel.sem\" needs a new ipc namespace");
  EXPECT_FALSE(PlanSysctls({{"kernel.domainname", "x"}}, CLONE_NEWNET));
  EXPECT_FALSE(PlanSysctls({{"net..ipv4", "1"}}, kAll));
  EXPECT_FALSE(PlanSysctls({{"net.ipv4.", "1"}}, kAll));
  EXPECT_TRUE(PlanSysctls({{"kernel.domainname", "x"}}, CLONE_NEWUTS));
}

}  // namespace
}  // namespace berth::runtime::internal
