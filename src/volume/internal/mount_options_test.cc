#include "volume/internal/mount_options.h"

#include <sys/mount.h>

#include <gtest/gtest.h>

namespace berth::volume::internal {
namespace {

TEST(ParseMountOptionsTest, FlagsAndData) {
  auto m = ParseMountOptions("size=10m,uid=1000,ro,nosuid");
  EXPECT_EQ(m.flags, static_cast<unsigned long>(MS_RDONLY | MS_NOSUID));
  EXPECT_EQ(m.data, "size=10m,uid=1000");
  m = ParseMountOptions("bind");
  EXPECT_EQ(m.flags, static_cast<unsigned long>(MS_BIND));
  EXPECT_EQ(m.data, "");
  m = ParseMountOptions("ro,rw, addr=10.0.0.1 ,nfsvers=4");
  EXPECT_EQ(m.flags, 0ul);
  EXPECT_EQ(m.data, "addr=10.0.0.1,nfsvers=4");
  m = ParseMountOptions("rbind,noexec,defaults");
  EXPECT_EQ(m.flags, static_cast<unsigned long>(MS_BIND | MS_REC | MS_NOEXEC));
  EXPECT_EQ(ParseMountOptions("").flags, 0ul);
}

}  // namespace
}  // namespace berth::volume::internal
