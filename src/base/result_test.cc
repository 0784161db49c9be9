#include "base/result.h"

#include <cerrno>
#include <memory>

#include <gtest/gtest.h>

namespace berth {
namespace {

Result<int> Half(int x) {
  if (x % 2) return MakeError(Code::kInvalidArgument, "odd");
  return x / 2;
}

Result<int> Quarter(int x) {
  BERTH_ASSIGN_OR_RETURN(int h, Half(x));
  BERTH_ASSIGN_OR_RETURN(int q, Half(h));
  return q;
}

Status CheckEven(int x) {
  BERTH_RETURN_IF_ERROR(Half(x));
  return Ok();
}

TEST(ResultTest, ValueAndErrorPropagate) {
  EXPECT_EQ(*Quarter(8), 2);
  Result<int> r = Quarter(6);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Code::kInvalidArgument);
  EXPECT_EQ(r.error().message, "odd");
  EXPECT_TRUE(CheckEven(4).ok());
  EXPECT_FALSE(CheckEven(3).ok());
}

TEST(ResultTest, HoldsMoveOnlyValues) {
  Result<std::unique_ptr<int>> r = std::make_unique<int>(7);
  ASSERT_TRUE(r);
  std::unique_ptr<int> p = std::move(r).value();
  EXPECT_EQ(*p, 7);
}

TEST(ResultTest, ErrnoErrorMapsCodeAndKeepsErrno) {
  Error e = ErrnoError("open /x", ENOENT);
  EXPECT_EQ(e.code, Code::kNotFound);
  EXPECT_EQ(e.sys_errno, ENOENT);
  EXPECT_EQ(e.message, "open /x: No such file or directory");
  Error c = e.WithContext("load image");
  EXPECT_EQ(c.message, "load image: open /x: No such file or directory");
  EXPECT_EQ(c.code, Code::kNotFound);
}

}  // namespace
}  // namespace berth
