#include "sys/testing/recording_syscalls.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

#include <gtest/gtest.h>

#include "base/file.h"
#include "sys/linux_syscalls.h"
#include "sys/testing/syscalls_conformance.h"

namespace berth::sys::testing {
namespace {

// RecordingSyscalls forwards faithfully: it passes the same suite as the kernel.
INSTANTIATE_TEST_SUITE_P(Recording, SyscallsConformanceTest,
                         ::testing::Values(SyscallsFactory{"RecordingOverLinux",
                                                           [] {
                                                             struct Both {
                                                               LinuxSyscalls linux;
                                                               RecordingSyscalls rec{linux};
                                                             };
                                                             auto both = std::make_shared<Both>();
                                                             return std::shared_ptr<Syscalls>(
                                                                 both, &both->rec);
                                                           }}),
                         SyscallsFactoryName);

class RecordingSyscallsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/berth-rec-test.XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    dirfd_.Reset(::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    ASSERT_TRUE(dirfd_.valid());
  }
  void TearDown() override { ASSERT_TRUE(RemoveAll(dir_)); }

  std::string dir_;
  UniqueFd dirfd_;
  LinuxSyscalls linux_;
  RecordingSyscalls rec_{linux_};
};

TEST_F(RecordingSyscallsTest, RecordsAndForwards) {
  ASSERT_TRUE(rec_.Mkdirat(dirfd_.get(), "a", 0750));
  ASSERT_TRUE(rec_.Symlinkat("/target", dirfd_.get(), "l"));
  ASSERT_EQ(rec_.calls().size(), 2u);
  EXPECT_EQ(rec_.calls()[0].ToString(), "mkdirat(" + std::to_string(dirfd_.get()) + ", a, 0750)");
  EXPECT_EQ(rec_.calls()[1].name, "symlinkat");
  EXPECT_EQ(rec_.Count("mkdirat"), 1u);
  struct stat st {};
  EXPECT_EQ(::fstatat(dirfd_.get(), "a", &st, 0), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
}

TEST_F(RecordingSyscallsTest, FailsChosenCallWithErrnoWithoutForwarding) {
  rec_.FailCall("mkdirat", EPERM, {.arg_contains = "b"});
  ASSERT_TRUE(rec_.Mkdirat(dirfd_.get(), "a", 0755));
  Status st = rec_.Mkdirat(dirfd_.get(), "b", 0755);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().sys_errno, EPERM);
  EXPECT_EQ(st.error().code, Code::kPermissionDenied);
  EXPECT_EQ(st.error().message, "mkdirat b: Operation not permitted");
  struct stat s {};
  EXPECT_NE(::fstatat(dirfd_.get(), "b", &s, 0), 0);  // not forwarded
  // One-shot by default: the next matching call goes through.
  EXPECT_TRUE(rec_.Mkdirat(dirfd_.get(), "b", 0755));
  EXPECT_EQ(rec_.Count("mkdirat"), 3u);
}

TEST_F(RecordingSyscallsTest, SkipAndTimes) {
  rec_.FailCall("fstatat", ENOENT, {.arg_contains = "", .skip = 1, .times = -1});
  EXPECT_TRUE(rec_.Fstatat(dirfd_.get(), ".", 0));
  for (int i = 0; i < 3; ++i) {
    Result<struct stat> st = rec_.Fstatat(dirfd_.get(), ".", 0);
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().code, Code::kNotFound);
  }
}

TEST_F(RecordingSyscallsTest, MountIsRecordedAndCanFailWithoutPrivilege) {
  rec_.FailCall("mount", EBUSY);
  Status st = rec_.Mount("overlay", "/mnt/x", "overlay", 0, "lowerdir=/a");
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().message, "mount /mnt/x: Device or resource busy");
  ASSERT_EQ(rec_.calls().size(), 1u);
  EXPECT_EQ(rec_.calls()[0].args[3], "0x0");
  EXPECT_EQ(rec_.calls()[0].args[4], "lowerdir=/a");
}

}  // namespace
}  // namespace berth::sys::testing
