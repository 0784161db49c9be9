#include <stdlib.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "base/file.h"
#include "engine/container_config.h"

namespace berth::engine {
namespace {

using ::std::string;
using ::std::vector;

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/berth-user-test-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) std::abort();
    path_ = tmpl;
  }
  ~TempDir() { (void)RemoveAll(path_); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const string& path() const { return path_; }

 private:
  string path_;
};

// Writes `rel` under `root`, creating its parent directories.
void Put(const string& root, const string& rel, const string& data) {
  string path = root + "/" + rel;
  ASSERT_TRUE(MakeDirs(path.substr(0, path.rfind('/'))));
  ASSERT_TRUE(WriteFileAtomic(path, data));
}

constexpr const char* kPasswd =
    "root:x:0:0:root:/root:/bin/sh\n"
    "daemon:x:1:1:daemon:/usr/sbin:/bin/false\n"
    "# a comment\n"
    "\n"
    "www:x:33:33:www:/var/www:/bin/false\n"
    "app:x:1000:1000::/home/app:/bin/sh\n";
constexpr const char* kGroup =
    "root:x:0:\n"
    "wheel:x:10:root\n"
    "www:x:33:\n"
    "app:x:1000:\n"
    "audio:x:29:app,www\n"
    "video:x:44:www, app\n";

class ResolveUserTest : public ::testing::Test {
 protected:
  void SetUp() override {
    upper_ = tmp_.path() + "/upper";
    lower_ = tmp_.path() + "/lower";
    ASSERT_TRUE(MakeDirs(upper_));
    Put(lower_, "etc/passwd", kPasswd);
    Put(lower_, "etc/group", kGroup);
  }
  vector<string> Layers() const { return {upper_, lower_}; }

  TempDir tmp_;
  string upper_;
  string lower_;
};

TEST_F(ResolveUserTest, Forms) {
  struct Case {
    const char* user;
    oci::User want;
  };
  const vector<Case> cases = {
      {"", {0, 0, {}, {10}}},
      {"root", {0, 0, {}, {10}}},
      {"app", {1000, 1000, {}, {29, 44}}},
      {"1000", {1000, 1000, {}, {29, 44}}},
      {"www", {33, 33, {}, {29, 44}}},
      {"app:www", {1000, 33, {}, {}}},
      {"app:29", {1000, 29, {}, {}}},
      {"1000:1000", {1000, 1000, {}, {}}},
      {"4242", {4242, 0, {}, {}}},
      {"4242:4343", {4242, 4343, {}, {}}},
      {"daemon:0", {1, 0, {}, {}}},
  };
  for (const Case& tc : cases) {
    Result<oci::User> u = ResolveUser(tc.user, Layers());
    ASSERT_TRUE(u) << tc.user << ": " << u.error().message;
    EXPECT_EQ(*u, tc.want) << tc.user;
  }
}

TEST_F(ResolveUserTest, UnknownNamesUseDockersMessages) {
  Result<oci::User> u = ResolveUser("nobody", Layers());
  ASSERT_FALSE(u);
  EXPECT_EQ(u.error().code, Code::kInvalidArgument);
  EXPECT_EQ(u.error().message, "unable to find user nobody: no matching entries in passwd file");

  u = ResolveUser("app:staff", Layers());
  ASSERT_FALSE(u);
  EXPECT_EQ(u.error().message, "unable to find group staff: no matching entries in group file");

  u = ResolveUser("4294967296", Layers());
  ASSERT_FALSE(u);
  EXPECT_EQ(u.error().message, "uids and gids must be in range 0-2147483647");
}

TEST_F(ResolveUserTest, UpperLayerOverridesLower) {
  Put(upper_, "etc/passwd", "root:x:0:0::/root:/bin/sh\napp:x:2000:2001::/home/app:/bin/sh\n");
  Result<oci::User> u = ResolveUser("app", Layers());
  ASSERT_TRUE(u) << u.error().message;
  EXPECT_EQ(u->uid, 2000u);
  EXPECT_EQ(u->gid, 2001u);
  // /etc/group still comes from the lower layer.
  EXPECT_EQ(u->additional_gids, (vector<uint32_t>{29, 44}));
  // www exists only in the lower passwd, which the upper one hides.
  EXPECT_FALSE(ResolveUser("www", Layers()));
}

TEST_F(ResolveUserTest, WhiteoutHidesLowerFile) {
  ASSERT_TRUE(MakeDirs(upper_ + "/etc"));
  if (::mknod((upper_ + "/etc/passwd").c_str(), S_IFCHR | 0, makedev(0, 0)) != 0) {
    GTEST_SKIP() << "mknod needs CAP_MKNOD";
  }
  Result<oci::User> u = ResolveUser("app", Layers());
  ASSERT_FALSE(u);
  EXPECT_EQ(u.error().message, "unable to find user app: no matching entries in passwd file");
  u = ResolveUser("1000", Layers());
  ASSERT_TRUE(u);
  EXPECT_EQ(*u, (oci::User{1000, 0, {}, {}}));
}

TEST_F(ResolveUserTest, OpaqueEtcHidesLowerFiles) {
  ASSERT_TRUE(MakeDirs(upper_ + "/etc"));
  if (::setxattr((upper_ + "/etc").c_str(), "trusted.overlay.opaque", "y", 1, 0) != 0) {
    GTEST_SKIP() << "trusted xattrs need CAP_SYS_ADMIN and file system support";
  }
  EXPECT_FALSE(ResolveUser("app", Layers()));
}

TEST_F(ResolveUserTest, SymlinkStaysInsideTheLayer) {
  // /etc/passwd -> /../../../etc/passwd must resolve inside the layer, not on the host.
  TempDir other;
  Put(other.path(), "etc/passwd", "app:x:0:0::/:/bin/sh\n");
  ASSERT_TRUE(MakeDirs(upper_ + "/etc"));
  string target = "/../../../../../../.." + other.path() + "/etc/passwd";
  ASSERT_EQ(::symlink(target.c_str(), (upper_ + "/etc/passwd").c_str()), 0);
  // The link points nowhere inside the upper layer: neither `other`'s file is read nor the
  // lower layer's, which the link hides.
  Result<oci::User> u = ResolveUser("app", Layers());
  ASSERT_FALSE(u);
  EXPECT_EQ(u.error().message, "unable to find user app: no matching entries in passwd file");
  // A link inside the layer is followed there.
  ASSERT_EQ(::unlink((upper_ + "/etc/passwd").c_str()), 0);
  Put(upper_, "etc/passwd.real", "app:x:7:8::/:/bin/sh\n");
  ASSERT_EQ(::symlink("/etc/passwd.real", (upper_ + "/etc/passwd").c_str()), 0);
  u = ResolveUser("app", Layers());
  ASSERT_TRUE(u) << u.error().message;
  EXPECT_EQ(u->uid, 7u);
}

TEST(ResolveUserNoPasswdTest, NumericUserWithoutPasswd) {
  TempDir empty;
  Result<oci::User> u = ResolveUser("123", {empty.path()});
  ASSERT_TRUE(u) << u.error().message;
  EXPECT_EQ(*u, (oci::User{123, 0, {}, {}}));
  u = ResolveUser("123:456", {empty.path()});
  ASSERT_TRUE(u);
  EXPECT_EQ(*u, (oci::User{123, 456, {}, {}}));
  u = ResolveUser("", {empty.path()});
  ASSERT_TRUE(u);
  EXPECT_EQ(*u, oci::User{});
  u = ResolveUser("app", {empty.path()});
  ASSERT_FALSE(u);
  EXPECT_EQ(u.error().message, "unable to find user app: no matching entries in passwd file");
}

TEST(ListHostDevicesTest, ListsCharAndBlockDevicesSkippingPts) {
  TempDir dev;
  if (::mknod((dev.path() + "/null").c_str(), S_IFCHR | 0666, makedev(1, 3)) != 0) {
    GTEST_SKIP() << "mknod needs CAP_MKNOD";
  }
  ASSERT_EQ(::chmod((dev.path() + "/null").c_str(), 0666), 0);
  ASSERT_EQ(::mknod((dev.path() + "/sda").c_str(), S_IFBLK | 0660, makedev(8, 0)), 0);
  ASSERT_TRUE(MakeDirs(dev.path() + "/pts"));
  ASSERT_EQ(::mknod((dev.path() + "/pts/0").c_str(), S_IFCHR | 0620, makedev(136, 0)), 0);
  ASSERT_TRUE(MakeDirs(dev.path() + "/net"));
  ASSERT_EQ(::mknod((dev.path() + "/net/tun").c_str(), S_IFCHR | 0666, makedev(10, 200)), 0);
  ASSERT_EQ(::symlink("null", (dev.path() + "/link").c_str()), 0);
  ASSERT_TRUE(WriteFileAtomic(dev.path() + "/file", "x"));

  Result<vector<oci::LinuxDevice>> devices = ListHostDevices(dev.path());
  ASSERT_TRUE(devices) << devices.error().message;
  std::map<string, oci::LinuxDevice> by_path;
  for (const auto& d : *devices) by_path[d.path.substr(dev.path().size())] = d;
  ASSERT_EQ(by_path.size(), 3u);
  EXPECT_EQ(by_path["/null"].type, "c");
  EXPECT_EQ(by_path["/null"].major, 1);
  EXPECT_EQ(by_path["/null"].minor, 3);
  EXPECT_EQ(by_path["/null"].file_mode, std::optional<uint32_t>(0666u));
  EXPECT_EQ(by_path["/sda"].type, "b");
  EXPECT_EQ(by_path["/net/tun"].minor, 200);
}

}  // namespace
}  // namespace berth::engine
