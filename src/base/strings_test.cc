#include "base/strings.h"

#include <gtest/gtest.h>

namespace berth {
namespace {

TEST(StringsTest, SplitAndJoin) {
  EXPECT_EQ(Split("a:b::c", ':'), (std::vector<std::string>{"a", "b", "", "c"}));
  EXPECT_EQ(SplitN("a=b=c", '=', 2), (std::vector<std::string>{"a", "b=c"}));
  EXPECT_EQ(Join({"x", "y"}, ", "), "x, y");
  EXPECT_EQ(TrimSpace("  hi \n"), "hi");
}

TEST(StringsTest, HumanSizeMatchesDocker) {
  EXPECT_EQ(HumanSize(0), "0B");
  EXPECT_EQ(HumanSize(1000), "1kB");
  EXPECT_EQ(HumanSize(1234567), "1.23MB");
  EXPECT_EQ(HumanSize(4100), "4.1kB");
}

TEST(StringsTest, ParseRamInBytes) {
  int64_t v = 0;
  ASSERT_TRUE(ParseRamInBytes("64m", &v));
  EXPECT_EQ(v, 64 << 20);
  ASSERT_TRUE(ParseRamInBytes("1g", &v));
  EXPECT_EQ(v, int64_t{1} << 30);
  ASSERT_TRUE(ParseRamInBytes("100", &v));
  EXPECT_EQ(v, 100);
  EXPECT_FALSE(ParseRamInBytes("1x", &v));
  EXPECT_FALSE(ParseRamInBytes("", &v));
}

TEST(StringsTest, Rfc3339Nano) {
  EXPECT_EQ(FormatRfc3339Nano(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(FormatRfc3339Nano(1500000000LL * 1000000000 + 120000000), "2017-07-14T02:40:00.12Z");
}

TEST(StringsTest, ParseRfc3339) {
  int64_t ns = 0;
  ASSERT_TRUE(ParseRfc3339("2017-07-14T02:40:00.12Z", &ns));
  EXPECT_EQ(ns, 1500000000LL * 1000000000 + 120000000);
  ASSERT_TRUE(ParseRfc3339("2017-07-14T04:40:00+02:00", &ns));
  EXPECT_EQ(ns, 1500000000LL * 1000000000);
  EXPECT_FALSE(ParseRfc3339("2017-07-14", &ns));
  EXPECT_FALSE(ParseRfc3339("2017-07-14T02:40:00", &ns));
  EXPECT_FALSE(ParseRfc3339("yesterday", &ns));
}

TEST(StringsTest, RandomHexIsHex) {
  std::string h = RandomHex(32);
  EXPECT_EQ(h.size(), 64u);
  EXPECT_TRUE(IsHexLower(h));
  EXPECT_NE(h, RandomHex(32));
}

TEST(StringsTest, GoQuoteEscapesAsStrconvQuote) {
  EXPECT_EQ(GoQuote("plain"), "\"plain\"");
  EXPECT_EQ(GoQuote("a \"b\" \\c"), "\"a \\\"b\\\" \\\\c\"");
  EXPECT_EQ(GoQuote("l1\nl2\tx\ry"), "\"l1\\nl2\\tx\\ry\"");
  EXPECT_EQ(GoQuote(std::string("\x01\x7f", 2)), "\"\\x01\\x7f\"");
  EXPECT_EQ(GoQuote("h\xc3\xa9"), "\"h\xc3\xa9\"");  // UTF-8 kept
}

}  // namespace
}  // namespace berth
