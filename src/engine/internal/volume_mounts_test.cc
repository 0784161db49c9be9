#include "engine/internal/volume_mounts.h"

#include <gtest/gtest.h>

namespace berth::engine::internal {
namespace {

TEST(ParseMountPointsTest, NamedBindAndAnonymous) {
  auto got = ParseMountPoints({"data:/data", "/host/dir/:/srv//x:ro", "cache:/c:rw"},
                              {"/anon", "/data"});
  ASSERT_TRUE(got.ok()) << got.error().message;
  ASSERT_EQ(got->size(), 4u);
  const auto& v = *got;
  EXPECT_EQ(v[0].type, "volume");
  EXPECT_EQ(v[0].name, "data");
  EXPECT_EQ(v[0].destination, "/data");
  EXPECT_EQ(v[0].mode, "z");
  EXPECT_TRUE(v[0].rw);
  EXPECT_EQ(v[1].type, "bind");
  EXPECT_EQ(v[1].source, "/host/dir");
  EXPECT_EQ(v[1].destination, "/srv/x");
  EXPECT_FALSE(v[1].rw);
  EXPECT_EQ(v[1].propagation, "rprivate");
  EXPECT_TRUE(v[2].rw);
  EXPECT_EQ(v[3].destination, "/anon");  // /data is covered by the named volume
  EXPECT_TRUE(v[3].anonymous);
  EXPECT_TRUE(v[3].name.empty());
}

TEST(ParseMountPointsTest, BadInputInDockersWords) {
  auto msg = [](std::vector<std::string> binds, std::vector<std::string> vols = {}) {
    auto got = ParseMountPoints(binds, vols);
    EXPECT_FALSE(got.ok());
    return got.ok() ? std::string() : got.error().message;
  };
  EXPECT_EQ(msg({"a:/b:ro:x"}), "invalid volume specification: 'a:/b:ro:x'");
  EXPECT_EQ(msg({""}), "invalid volume specification: ''");
  EXPECT_EQ(msg({"vol:/d:rx"}), "invalid mode: rx");
  EXPECT_EQ(msg({"vol:rel"}),
            "invalid mount config for type \"volume\": invalid mount path: 'rel' mount path "
            "must be absolute");
  EXPECT_EQ(msg({"aa:/d", "/h:/d/"}), "Duplicate mount point: /d");
  EXPECT_NE(msg({"a/b:/d"}).find("includes invalid characters"), std::string::npos);
  EXPECT_NE(msg({"..:/d"}).find("includes invalid characters"), std::string::npos);
  EXPECT_NE(msg({}, {"relative"}).find("must be absolute"), std::string::npos);
  EXPECT_NE(msg({"vv:/"}).find("destination can't be '/'"), std::string::npos);
}

TEST(ParseApiMountsTest, TmpfsBecomesTmpfsOptions) {
  auto got = ParseApiMounts(
      R"({"Mounts":[{"Type":"tmpfs","Target":"/t/","ReadOnly":true,"TmpfsOptions":{"SizeBytes":67108864,"Mode":448}},
                    {"Type":"tmpfs","Target":"/u","TmpfsOptions":{"SizeBytes":1000}},
                    {"Type":"tmpfs","Target":"/v"}]})",
      {});
  ASSERT_TRUE(got.ok()) << got.error().message;
  ASSERT_EQ(got->size(), 3u);
  EXPECT_EQ((*got)[0].type, "tmpfs");
  EXPECT_EQ((*got)[0].destination, "/t");
  EXPECT_EQ((*got)[0].mode, "ro,mode=700,size=64m");
  EXPECT_EQ((*got)[1].mode, "size=1000");
  EXPECT_EQ((*got)[2].mode, "");
}

TEST(ParseApiMountsTest, VolumeBindAndErrors) {
  auto got = ParseApiMounts(
      R"({"Mounts":[{"Type":"volume","Source":"mv","Target":"/m/","ReadOnly":true},
                    {"Type":"volume","Target":"/anon","VolumeOptions":{"NoCopy":true}},
                    {"Type":"bind","Source":"/tmp","Target":"/b"}]})",
      {});
  ASSERT_TRUE(got.ok()) << got.error().message;
  ASSERT_EQ(got->size(), 3u);
  EXPECT_EQ((*got)[0].name, "mv");
  EXPECT_EQ((*got)[0].destination, "/m");
  EXPECT_FALSE((*got)[0].rw);
  EXPECT_TRUE((*got)[1].anonymous);
  EXPECT_EQ((*got)[1].mode, "nocopy");
  EXPECT_EQ((*got)[2].type, "bind");
  EXPECT_EQ((*got)[2].source, "/tmp");

  auto msg = [](const char* json, std::vector<MountPoint> taken = {}) {
    auto r = ParseApiMounts(json, taken);
    EXPECT_FALSE(r.ok()) << json;
    return r.ok() ? std::string() : r.error().message;
  };
  EXPECT_EQ(msg(R"({"Mounts":[{"Type":"bind","Source":"/no/such/dir","Target":"/b"}]})"),
            "invalid mount config for type \"bind\": bind source path does not exist: "
            "/no/such/dir");
  EXPECT_EQ(msg(R"({"Mounts":[{"Type":"bind","Target":"/b"}]})"),
            "invalid mount config for type \"bind\": field Source must not be empty");
  EXPECT_EQ(msg(R"({"Mounts":[{"Type":"tmpfs","Source":"x","Target":"/t"}]})"),
            "invalid mount config for type \"tmpfs\": field Source must not be specified");
  EXPECT_EQ(msg(R"({"Mounts":[{"Type":"nfs","Target":"/b"}]})"),
            "invalid mount config for type \"nfs\": mount type unknown");
  MountPoint b;
  b.destination = "/b";
  EXPECT_EQ(msg(R"({"Mounts":[{"Type":"volume","Target":"/b"}]})", {b}),
            "Duplicate mount point: /b");
}

TEST(CleanPathTest, Lexical) {
  EXPECT_EQ(CleanPath("/a//b/../c/"), "/a/c");
  EXPECT_EQ(CleanPath("/../x"), "/x");
  EXPECT_EQ(CleanPath("/"), "/");
}

}  // namespace
}  // namespace berth::engine::internal
