#include "snapshot/mount_spec.h"

#include <gtest/gtest.h>

namespace berth::snapshot {
namespace {

TEST(MountSpecTest, OptionsFitInPageCountsCommasAndTheNul) {
  MountSpec spec{"overlay", "overlay", "", {"aaaa", "bbbb"}};  // "aaaa,bbbb" + NUL = 10
  EXPECT_TRUE(OptionsFitInPage(spec, 10));
  EXPECT_FALSE(OptionsFitInPage(spec, 9));
}

TEST(MountSpecTest, CompactLowerdirsRewritesRelativeToTheCommonParent) {
  MountSpec spec{"overlay",
                 "overlay",
                 "",
                 {"workdir=/r/snapshots/9/work", "upperdir=/r/snapshots/9/fs",
                  "lowerdir=/r/snapshots/12/fs:/r/snapshots/1/fs:/r/snapshots/100/fs"}};
  auto c = CompactLowerdirs(spec);
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->chdir, "/r/snapshots");
  EXPECT_EQ(c->spec.options[0], "workdir=/r/snapshots/9/work") << "only lowerdir is rewritten";
  EXPECT_EQ(c->spec.options[2], "lowerdir=12/fs:1/fs:100/fs");
}

TEST(MountSpecTest, CompactLowerdirsStopsAtADirectoryBoundary) {
  MountSpec spec{"overlay", "overlay", "", {"lowerdir=/data/layer10:/data/layer11"}};
  auto c = CompactLowerdirs(spec);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->chdir, "/data");
  EXPECT_EQ(c->spec.options[0], "lowerdir=layer10:layer11");
}

TEST(MountSpecTest, CompactLowerdirsRejectsSpecsItCannotRewrite) {
  EXPECT_EQ(CompactLowerdirs({"bind", "/x", "", {"rbind"}}).error().code, Code::kInvalidArgument);
  EXPECT_EQ(CompactLowerdirs({"overlay", "overlay", "", {"lowerdir=rel:/abs"}}).error().code,
            Code::kInvalidArgument);
}

}  // namespace
}  // namespace berth::snapshot
