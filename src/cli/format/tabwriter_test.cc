#include "cli/format/tabwriter.h"

#include <gtest/gtest.h>

namespace berth::cli::format {
namespace {

std::string Tab(size_t min_width, size_t padding, const std::string& text) {
  TabWriter w(min_width, padding);
  w.Write(text);
  return w.Flush();
}

TEST(TabWriterTest, PadsColumnsToWidestCellPlusPadding) {
  EXPECT_EQ(Tab(0, 3, "a\tbb\tc\nlonger\tx\ty\n"),
            "a        bb   c\n"
            "longer   x    y\n");
}

TEST(TabWriterTest, MinWidthAppliesToShortColumns) {
  // docker's tables: min width 10, padding 3.
  EXPECT_EQ(Tab(10, 3, "REPOSITORY\tTAG\tSIZE\nbusybox\tlatest\t4.26MB\n"),
            "REPOSITORY   TAG       SIZE\n"
            "busybox      latest    4.26MB\n");
}

TEST(TabWriterTest, LastCellIsNotPadded) {
  EXPECT_EQ(Tab(0, 1, "a\tb\n"), "a b\n");
  EXPECT_EQ(Tab(0, 1, "a\tb   \n"), "a b   \n");
}

TEST(TabWriterTest, LineWithoutTabsEndsAColumnBlock) {
  // The widths before and after the plain line are computed separately.
  EXPECT_EQ(Tab(0, 1, "aaaa\tx\nplain\nb\ty\n"),
            "aaaa x\n"
            "plain\n"
            "b y\n");
}

TEST(TabWriterTest, ColumnBlocksFollowGoSemantics) {
  // Column 1 exists only on the first two lines; the third line's cell 0 still aligns with them.
  EXPECT_EQ(Tab(0, 1, "a\tbbb\tc\naa\tb\tc\naaa\tz\n"),
            "a   bbb c\n"
            "aa  b   c\n"
            "aaa z\n");
}

TEST(TabWriterTest, CountsUtf8CodePoints) {
  EXPECT_EQ(Tab(0, 1, "\xc3\xa9\xc3\xa9\tx\nabc\ty\n"),
            "\xc3\xa9\xc3\xa9  x\n"
            "abc y\n");
}

TEST(TabWriterTest, KeepsAMissingTrailingNewlineMissing) {
  EXPECT_EQ(Tab(0, 1, "a\tb\ncc\td"), "a  b\ncc d");
  EXPECT_EQ(Tab(0, 1, ""), "");
}

TEST(TabWriterTest, VersionLayoutUsesMinWidth20) {
  EXPECT_EQ(Tab(20, 1, " Version:\t0.1.0\n API version:\t1.43\n"),
            " Version:           0.1.0\n"
            " API version:       1.43\n");
}

}  // namespace
}  // namespace berth::cli::format
