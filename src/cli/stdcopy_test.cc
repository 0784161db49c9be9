#include "cli/stdcopy.h"

#include <gtest/gtest.h>

namespace berth::cli {
namespace {

std::string Frame(char stream, std::string_view payload) {
  std::string out = {stream, 0, 0, 0};
  uint32_t n = static_cast<uint32_t>(payload.size());
  out += static_cast<char>(n >> 24);
  out += static_cast<char>((n >> 16) & 0xff);
  out += static_cast<char>((n >> 8) & 0xff);
  out += static_cast<char>(n & 0xff);
  return out + std::string(payload);
}

TEST(StdDemuxerTest, SplitsFramesByteByByte) {
  std::string stream = Frame(1, "hello ") + Frame(2, "oops\n") + Frame(1, "world\n") +
                       Frame(1, std::string(70000, 'x'));
  StringWriter out, err;
  StdDemuxer demux(&out, &err);
  for (char c : stream) ASSERT_TRUE(demux.Write(std::string_view(&c, 1)).ok());
  EXPECT_TRUE(demux.Finish().ok());
  EXPECT_EQ(out.str(), "hello world\n" + std::string(70000, 'x'));
  EXPECT_EQ(err.str(), "oops\n");
}

TEST(StdDemuxerTest, SystemErrorAndTruncationAreErrors) {
  StringWriter out, err;
  StdDemuxer demux(&out, &err);
  Status s = demux.Write(Frame(3, "boom"));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message, "error from daemon in stream: boom");
  StdDemuxer cut(&out, &err);
  ASSERT_TRUE(cut.Write(Frame(1, "abc").substr(0, 9)).ok());
  EXPECT_FALSE(cut.Finish().ok());
  StdDemuxer bad(&out, &err);
  EXPECT_EQ(bad.Write(Frame(7, "x")).error().message, "Unrecognized input header: 7");
}

TEST(DetachKeysTest, ParsesDockerNotation) {
  EXPECT_EQ(*DetachKeyBytes("ctrl-p,ctrl-q"), "\x10\x11");
  EXPECT_EQ(*DetachKeyBytes("a,ctrl-@,ctrl-[,DEL"), std::string("a\0\x1b\x7f", 4));
  EXPECT_EQ(DetachKeyBytes("ctrl-1").error().message, "Unknown character: 'ctrl-1'");
}

TEST(DetachFilterTest, HoldsBackThePrefixAndDetachesOnTheWholeSequence) {
  DetachFilter f("\x10\x11");
  std::string fwd;
  EXPECT_FALSE(f.Feed("ab\x10", fwd));
  EXPECT_EQ(fwd, "ab");
  EXPECT_FALSE(f.Feed("c", fwd));  // not the sequence: ctrl-p goes out as typed
  EXPECT_EQ(fwd,
            "ab\x10"
            "c");
  fwd.clear();
  EXPECT_TRUE(f.Feed("x\x10\x11y", fwd));
  EXPECT_EQ(fwd, "x");
}

}  // namespace
}  // namespace berth::cli
