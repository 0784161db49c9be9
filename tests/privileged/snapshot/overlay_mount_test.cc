// Mounts what OverlaySnapshotter plans and checks overlayfs semantics through it: writes land
// in the upper, copy-up leaves lowers untouched, whiteouts and opaque dirs hide lower entries,
// committed layers are shared read-only, long chains mount via compacted lowerdirs.
// Root only (GTEST_SKIP otherwise); every mount is detached in TearDown, even on failure.
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "base/file.h"
#include "base/unique_fd.h"
#include "snapshot/mount_spec.h"
#include "snapshot/overlay/overlay_snapshotter.h"
#include "sql/database.h"

namespace berth::snapshot {
namespace {

class OverlayMountTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root to mount";
    char tmpl[] = "/tmp/berth-snapshot-priv-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    auto db = sql::Database::Open(dir_ + "/meta.db");
    ASSERT_TRUE(db) << db.error().message;
    db_ = std::move(*db);
    auto sn = OverlaySnapshotter::Open(dir_ + "/root", *db_);
    ASSERT_TRUE(sn) << sn.error().message;
    sn_ = std::move(*sn);
  }

  void TearDown() override {
    for (auto it = mounted_.rbegin(); it != mounted_.rend(); ++it) {
      EXPECT_EQ(::umount2(it->c_str(), MNT_DETACH), 0) << *it << ": " << std::strerror(errno);
    }
    mounted_.clear();
    sn_.reset();
    db_.reset();
    if (!dir_.empty()) {
      EXPECT_TRUE(RemoveAll(dir_).ok());
    }
  }

  // The mount executor of these tests: applies each spec at `target` (created if missing).
  void MountAll(const std::vector<MountSpec>& specs, const std::string& target) {
    ASSERT_TRUE(MakeDirs(target).ok());
    for (const MountSpec& spec : specs) {
      ASSERT_NO_FATAL_FAILURE(MountOne(spec, target));
    }
  }

  void MountOne(const MountSpec& spec, const std::string& target) {
    auto has = [&](const std::string& o) {
      return std::find(spec.options.begin(), spec.options.end(), o) != spec.options.end();
    };
    if (spec.type == "bind") {
      unsigned long flags = MS_BIND;
      if (has("rbind")) flags |= MS_REC;
      ASSERT_EQ(::mount(spec.source.c_str(), target.c_str(), nullptr, flags, nullptr), 0)
          << "bind " << spec.source << ": " << std::strerror(errno);
      mounted_.push_back(target);
      if (has("ro")) {
        ASSERT_EQ(
            ::mount(nullptr, target.c_str(), nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY, nullptr), 0)
            << std::strerror(errno);
      }
      return;
    }
    ASSERT_EQ(spec.type, "overlay");
    if (OptionsFitInPage(spec)) {
      const std::string data = JoinOptions(spec.options);
      ASSERT_EQ(::mount("overlay", target.c_str(), "overlay", 0, data.c_str()), 0)
          << data << ": " << std::strerror(errno);
      mounted_.push_back(target);
      return;
    }
    // The page-limit path of mount_spec.h; this test is single-threaded, so chdir is safe.
    auto compact = CompactLowerdirs(spec);
    ASSERT_TRUE(compact) << compact.error().message;
    ASSERT_TRUE(OptionsFitInPage(compact->spec));
    const std::string data = JoinOptions(compact->spec.options);
    UniqueFd cwd(::open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    ASSERT_TRUE(cwd.valid());
    ASSERT_EQ(::chdir(compact->chdir.c_str()), 0);
    int rc = ::mount("overlay", target.c_str(), "overlay", 0, data.c_str());
    int err = errno;
    ASSERT_EQ(::fchdir(cwd.get()), 0);
    ASSERT_EQ(rc, 0) << std::strerror(err);
    mounted_.push_back(target);
  }

  void Write(const std::string& path, const std::string& data) {
    std::string dir = path.substr(0, path.rfind('/'));
    ASSERT_TRUE(MakeDirs(dir).ok());
    ASSERT_TRUE(WriteFileAtomic(path, data).ok()) << path;
  }
  std::string Read(const std::string& path) {
    auto r = ReadFile(path);
    return r ? *r : "<" + r.error().message + ">";
  }
  std::string Upper(const std::string& key) {
    auto u = sn_->UpperPath(key);
    EXPECT_TRUE(u) << u.error().message;
    return u ? *u : "";
  }
  // Two committed layers as an unpacker writes them: files, then whiteouts in overlay form.
  void MakeBaseLayers() {
    ASSERT_TRUE(sn_->Prepare("unpack-1", ""));
    const std::string l1 = Upper("unpack-1");
    Write(l1 + "/etc/config", "v1");
    Write(l1 + "/etc/remove-me", "x");
    Write(l1 + "/dir/file", "f");
    Write(l1 + "/opaque/old", "old");
    ASSERT_TRUE(sn_->Commit("sha256:layer1", "unpack-1").ok());

    ASSERT_TRUE(sn_->Prepare("unpack-2", "sha256:layer1"));
    const std::string l2 = Upper("unpack-2");
    ASSERT_TRUE(MakeDirs(l2 + "/etc").ok());
    ASSERT_EQ(::mknod((l2 + "/etc/remove-me").c_str(), S_IFCHR | 0000, makedev(0, 0)), 0);
    ASSERT_TRUE(MakeDirs(l2 + "/opaque").ok());
    ASSERT_EQ(::setxattr((l2 + "/opaque").c_str(), "trusted.overlay.opaque", "y", 1, 0), 0);
    Write(l2 + "/opaque/new", "new");
    ASSERT_TRUE(sn_->Commit("sha256:layer2", "unpack-2").ok());
  }

  std::string dir_;
  std::unique_ptr<sql::Database> db_;
  std::unique_ptr<OverlaySnapshotter> sn_;
  std::vector<std::string> mounted_;
};

TEST_F(OverlayMountTest, ActiveWithoutParentIsAWritableBindOfItsUpper) {
  auto m = sn_->Prepare("scratch", "");
  ASSERT_TRUE(m);
  MountAll(*m, dir_ + "/mnt");
  Write(dir_ + "/mnt/hello", "world");
  EXPECT_EQ(Read(Upper("scratch") + "/hello"), "world");
}

TEST_F(OverlayMountTest, WhiteoutsHideAndCopyUpLeavesLowersUntouched) {
  ASSERT_NO_FATAL_FAILURE(MakeBaseLayers());
  auto m = sn_->Prepare("ctr", "sha256:layer2");
  ASSERT_TRUE(m);
  const std::string mnt = dir_ + "/ctr";
  MountAll(*m, mnt);

  EXPECT_EQ(Read(mnt + "/etc/config"), "v1");
  EXPECT_EQ(Read(mnt + "/dir/file"), "f");
  EXPECT_FALSE(PathExists(mnt + "/etc/remove-me")) << "whiteout in layer2";
  EXPECT_FALSE(PathExists(mnt + "/opaque/old")) << "opaque dir in layer2";
  EXPECT_EQ(Read(mnt + "/opaque/new"), "new");

  Write(mnt + "/etc/config", "v2");
  EXPECT_EQ(Read(mnt + "/etc/config"), "v2");
  EXPECT_EQ(Read(Upper("ctr") + "/etc/config"), "v2") << "copied up";
  auto l1 = sn_->Mounts("sha256:layer1");
  EXPECT_FALSE(l1) << "committed layers have no mounts";
  const std::string layer1_fs = dir_ + "/root/snapshots/1/fs";
  EXPECT_EQ(Read(layer1_fs + "/etc/config"), "v1") << "the lower is untouched";

  ASSERT_EQ(::unlink((mnt + "/dir/file").c_str()), 0);
  struct stat st {};
  ASSERT_EQ(::lstat((Upper("ctr") + "/dir/file").c_str(), &st), 0) << "whiteout in the upper";
  EXPECT_TRUE(S_ISCHR(st.st_mode));
  EXPECT_EQ(st.st_rdev, makedev(0, 0));
  EXPECT_EQ(Read(layer1_fs + "/dir/file"), "f");
}

TEST_F(OverlayMountTest, CommittedLayersAreSharedReadOnlyBetweenActives) {
  ASSERT_NO_FATAL_FAILURE(MakeBaseLayers());
  auto m1 = sn_->Prepare("ctr1", "sha256:layer2");
  auto m2 = sn_->Prepare("ctr2", "sha256:layer2");
  ASSERT_TRUE(m1 && m2);
  MountAll(*m1, dir_ + "/ctr1");
  MountAll(*m2, dir_ + "/ctr2");

  // Before any copy-up both see the very same lower inode.
  struct stat a {
  }, b{}, lower{};
  ASSERT_EQ(::stat((dir_ + "/ctr1/dir/file").c_str(), &a), 0);
  ASSERT_EQ(::stat((dir_ + "/ctr2/dir/file").c_str(), &b), 0);
  ASSERT_EQ(::stat((dir_ + "/root/snapshots/1/fs/dir/file").c_str(), &lower), 0);
  EXPECT_EQ(a.st_ino, lower.st_ino);
  EXPECT_EQ(b.st_ino, lower.st_ino);

  Write(dir_ + "/ctr1/etc/config", "changed in ctr1");
  Write(dir_ + "/ctr1/only-in-ctr1", "1");
  EXPECT_EQ(Read(dir_ + "/ctr2/etc/config"), "v1");
  EXPECT_FALSE(PathExists(dir_ + "/ctr2/only-in-ctr1"));

  // Views are read-only, as a bind (one layer) and as an overlay with no upper (two).
  auto v1 = sn_->View("view1", "sha256:layer1");
  auto v2 = sn_->View("view2", "sha256:layer2");
  ASSERT_TRUE(v1 && v2);
  EXPECT_EQ((*v1)[0].type, "bind");
  EXPECT_EQ((*v2)[0].type, "overlay");
  MountAll(*v1, dir_ + "/view1");
  MountAll(*v2, dir_ + "/view2");
  for (const char* view : {"/view1", "/view2"}) {
    const std::string path = dir_ + view + "/etc/config";
    int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
    EXPECT_LT(fd, 0) << path;
    EXPECT_EQ(errno, EROFS) << path;
    if (fd >= 0) ::close(fd);
  }
  EXPECT_EQ(Read(dir_ + "/view2/etc/config"), "v1");
}

TEST_F(OverlayMountTest, LongChainMountsThroughCompactedLowerdirs) {
  constexpr int kLayers = 110;
  std::string parent;
  for (int i = 1; i <= kLayers; ++i) {
    const std::string key = "unpack-" + std::to_string(i);
    ASSERT_TRUE(sn_->Prepare(key, parent));
    const std::string upper = Upper(key);
    Write(upper + "/layer-" + std::to_string(i), std::to_string(i));
    Write(upper + "/top", std::to_string(i));
    parent = "sha256:" + std::to_string(i);
    ASSERT_TRUE(sn_->Commit(parent, key).ok());
  }
  auto m = sn_->Prepare("ctr", parent);
  ASSERT_TRUE(m) << m.error().message;
  ASSERT_FALSE(OptionsFitInPage((*m)[0])) << "the chain must be long enough to need compaction";
  MountAll(*m, dir_ + "/ctr");
  EXPECT_EQ(Read(dir_ + "/ctr/top"), std::to_string(kLayers)) << "newest layer wins";
  for (int i = 1; i <= kLayers; ++i) {
    EXPECT_EQ(Read(dir_ + "/ctr/layer-" + std::to_string(i)), std::to_string(i));
  }
  Write(dir_ + "/ctr/top", "written");
  EXPECT_EQ(Read(Upper("ctr") + "/top"), "written");
}

}  // namespace
}  // namespace berth::snapshot
