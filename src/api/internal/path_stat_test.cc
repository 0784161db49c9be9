#include "api/internal/path_stat.h"

#include <sys/stat.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace berth::api::internal {
namespace {

TEST(PathStatTest, GoFileModeSetsGosTypeBits) {
  EXPECT_EQ(GoFileMode(S_IFDIR | 0755), (1u << 31) | 0755);  // os.ModeDir: Mode.IsDir()
  EXPECT_EQ(GoFileMode(S_IFREG | 0644), 0644u);
  EXPECT_EQ(GoFileMode(S_IFLNK | 0777), (1u << 27) | 0777);
  EXPECT_EQ(GoFileMode(S_IFCHR | 0620), (1u << 26) | (1u << 21) | 0620);
  EXPECT_EQ(GoFileMode(S_IFBLK | 0660), (1u << 26) | 0660);
  EXPECT_EQ(GoFileMode(S_IFIFO | 0600), (1u << 25) | 0600);
  EXPECT_EQ(GoFileMode(S_IFREG | S_ISUID | S_ISGID | 0755), (1u << 23) | (1u << 22) | 0755);
  EXPECT_EQ(GoFileMode(S_IFDIR | S_ISVTX | 0777), (1u << 31) | (1u << 20) | 0777);
}

TEST(PathStatTest, Base64MatchesRfc4648Vectors) {
  EXPECT_EQ(Base64Encode(""), "");
  EXPECT_EQ(Base64Encode("f"), "Zg==");
  EXPECT_EQ(Base64Encode("fo"), "Zm8=");
  EXPECT_EQ(Base64Encode("foo"), "Zm9v");
  EXPECT_EQ(Base64Encode("foob"), "Zm9vYg==");
  EXPECT_EQ(Base64Encode("fooba"), "Zm9vYmE=");
  EXPECT_EQ(Base64Encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(Base64Encode(std::string("\xff\xfe\x00", 3)), "//4A");
}

TEST(PathStatTest, HeaderIsBase64OfDockersJson) {
  engine::PathStat st;
  st.name = "hostname";
  st.size = 13;
  st.mode = S_IFLNK | 0777;
  st.mtime_ns = 1700000000123456789;
  st.link_target = "/etc/hostname";
  // What Docker sends for the same stat, key order included.
  std::string json =
      R"({"name":"hostname","size":13,"mode":134218239,"mtime":"2023-11-14T22:13:20.123456789Z",)"
      R"("linkTarget":"/etc/hostname"})";
  EXPECT_EQ(EncodePathStat(st), Base64Encode(json));
}

}  // namespace
}  // namespace berth::api::internal
