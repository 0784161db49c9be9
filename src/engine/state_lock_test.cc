#include "engine/state_lock.h"

#include <stdlib.h>
#include <unistd.h>

#include <string>

#include <gtest/gtest.h>

#include "base/file.h"

namespace berth::engine {
namespace {

class StateLockTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/berth-lock-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { EXPECT_TRUE(RemoveAll(dir_)); }
  std::string dir_;
};

TEST_F(StateLockTest, SecondAcquireIsRefusedNamingTheHolderPid) {
  std::string path = dir_ + "/berth.lock";
  Result<StateLock> first = StateLock::Acquire(path);
  ASSERT_TRUE(first) << first.error().message;
  Result<StateLock> second = StateLock::Acquire(path);
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().code, Code::kFailedPrecondition);
  EXPECT_NE(second.error().message.find("pid " + std::to_string(::getpid())), std::string::npos)
      << second.error().message;
  EXPECT_NE(second.error().message.find(dir_), std::string::npos);
}

TEST_F(StateLockTest, LockIsReleasedWhenDestroyed) {
  std::string path = dir_ + "/berth.lock";
  { ASSERT_TRUE(StateLock::Acquire(path)); }
  EXPECT_TRUE(StateLock::Acquire(path));
}

TEST_F(StateLockTest, PidFileIsWrittenAndRemoved) {
  std::string path = dir_ + "/run/berthd.pid";
  {
    Result<PidFile> pf = PidFile::Create(path);
    ASSERT_TRUE(pf) << pf.error().message;
    Result<std::string> text = ReadFile(path);
    ASSERT_TRUE(text);
    EXPECT_EQ(*text, std::to_string(::getpid()) + "\n");
  }
  EXPECT_FALSE(PathExists(path));
}

TEST_F(StateLockTest, PidFileNamingALiveOtherProcessIsRefused) {
  std::string path = dir_ + "/berthd.pid";
  ASSERT_TRUE(WriteFileAtomic(path, std::to_string(::getppid()) + "\n"));
  Result<PidFile> pf = PidFile::Create(path);
  ASSERT_FALSE(pf);
  EXPECT_EQ(pf.error().code, Code::kAlreadyExists);
  EXPECT_TRUE(PathExists(path));  // not ours: left alone
}

TEST_F(StateLockTest, StalePidFileIsReplaced) {
  std::string path = dir_ + "/berthd.pid";
  ASSERT_TRUE(WriteFileAtomic(path, "2147483646\n"));  // above pid_max: no such process
  EXPECT_TRUE(PidFile::Create(path));
}

}  // namespace
}  // namespace berth::engine
