#include "base/file.h"

#include <stdlib.h>

#include <gtest/gtest.h>

namespace berth {
namespace {

class FileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/berth-file-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { ASSERT_TRUE(RemoveAll(dir_).ok()); }
  std::string dir_;
};

TEST_F(FileTest, AtomicWriteReplacesContent) {
  std::string p = dir_ + "/f";
  ASSERT_TRUE(WriteFileAtomic(p, "one").ok());
  ASSERT_TRUE(WriteFileAtomic(p, "two").ok());
  EXPECT_EQ(*ReadFile(p), "two");
}

TEST_F(FileTest, MakeDirsCreatesNestedAndRefusesFile) {
  ASSERT_TRUE(MakeDirs(dir_ + "/a/b/c").ok());
  EXPECT_TRUE(PathExists(dir_ + "/a/b/c"));
  ASSERT_TRUE(WriteFileAtomic(dir_ + "/file", "x").ok());
  EXPECT_FALSE(MakeDirs(dir_ + "/file").ok());
}

TEST_F(FileTest, ReadMissingFileIsNotFound) {
  Result<std::string> r = ReadFile(dir_ + "/missing");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Code::kNotFound);
}

}  // namespace
}  // namespace berth
