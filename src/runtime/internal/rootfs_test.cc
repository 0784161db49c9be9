// The rootfs executor, unprivileged: RecordingSyscalls fails the calls that would change the
// system, so nothing reaches the kernel, and the tests see the order of calls and the errors.
#include "runtime/internal/rootfs.h"

#include <sys/mount.h>

#include <cerrno>

#include <gtest/gtest.h>

#include "sys/linux_syscalls.h"
#include "sys/testing/recording_syscalls.h"

namespace berth::runtime::internal {
namespace {

class RootfsExecutorTest : public ::testing::Test {
 protected:
  sys::LinuxSyscalls linux_;
  sys::testing::RecordingSyscalls rec_{linux_};
};

TEST_F(RootfsExecutorTest, FirstCallMakesTheRootASlaveAndErrorsNameIt) {
  RootfsPlan plan;
  plan.rootfs = "/nonexistent/rootfs";
  plan.root_propagation = MS_SLAVE | MS_REC;
  rec_.FailCall("mount", EPERM, {.arg_contains = "", .skip = 0, .times = -1});
  Status st = BuildRootfs(plan, rec_);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().sys_errno, EPERM);
  EXPECT_EQ(st.error().message, "mount /: Operation not permitted");
  ASSERT_EQ(rec_.calls().size(), 1u);
  EXPECT_EQ(rec_.calls()[0].ToString(), "mount(, /, , 0x84000, )");
}

TEST_F(RootfsExecutorTest, MissingMaskedAndReadonlyPathsAreSkipped) {
  RootfsPlan plan;
  plan.masked_paths = {"/proc/kcore", "/sys/firmware"};
  plan.readonly_paths = {"/proc/sys"};
  rec_.FailCall("openat2", ENOENT, {.arg_contains = "", .skip = 0, .times = -1});
  rec_.FailCall("mount", EPERM, {.arg_contains = "", .skip = 0, .times = -1});
  ASSERT_TRUE(FinishRootfs(plan, rec_));
  EXPECT_EQ(rec_.CallNames(), (std::vector<std::string>{"openat2", "openat2", "openat2"}));
  EXPECT_EQ(rec_.calls()[0].args[1], "/proc/sys");  // read-only paths first
  EXPECT_EQ(rec_.calls()[1].args[1], "/proc/kcore");
}

TEST_F(RootfsExecutorTest, OtherOpenErrorsStopWithThePath) {
  RootfsPlan plan;
  plan.masked_paths = {"/proc/kcore", "/proc/keys"};
  rec_.FailCall("openat2", EACCES, {.arg_contains = "", .skip = 0, .times = -1});
  rec_.FailCall("mount", EPERM, {.arg_contains = "", .skip = 0, .times = -1});
  Status st = FinishRootfs(plan, rec_);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, Code::kPermissionDenied);
  EXPECT_EQ(st.error().message, "masked path /proc/kcore: openat2 /proc/kcore: Permission denied");
  EXPECT_EQ(rec_.calls().size(), 1u);
}

TEST_F(RootfsExecutorTest, ReadonlyRootNeedsTheRoot) {
  RootfsPlan plan;
  plan.readonly_root = true;
  plan.final_propagation = MS_PRIVATE;
  rec_.FailCall("openat2", ENOENT, {.arg_contains = "", .skip = 0, .times = -1});
  rec_.FailCall("mount", EPERM, {.arg_contains = "", .skip = 0, .times = -1});
  Status st = FinishRootfs(plan, rec_);
  ASSERT_FALSE(st);
  EXPECT_EQ(rec_.CallNames(), std::vector<std::string>{"openat2"});
}

}  // namespace
}  // namespace berth::runtime::internal
