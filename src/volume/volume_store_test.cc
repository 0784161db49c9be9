#include "volume/volume_store.h"

#include <fcntl.h>
#include <sys/mount.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include <gtest/gtest.h>

#include "base/cleanup.h"
#include "base/file.h"
#include "sql/database.h"
#include "sys/linux_syscalls.h"

namespace berth::volume {
namespace {

class VolumeStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/volume_store_test.XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    root_ = dir_ + "/volumes";
    ASSERT_TRUE(MakeDirs(root_, 0700).ok());
    auto db = sql::Database::Open(dir_ + "/meta.db");
    ASSERT_TRUE(db.ok()) << db.error().message;
    db_ = std::move(*db);
    Reopen();
  }
  void TearDown() override {
    store_.reset();
    db_.reset();
    (void)RemoveAll(dir_);
  }
  void Reopen() {
    store_.reset();
    auto s = VolumeStore::Open(*db_, root_, [] { return int64_t{1700000000} * 1000000000; }, &sys_);
    ASSERT_TRUE(s.ok()) << s.error().message;
    store_ = std::move(*s);
  }
  Volume MustCreate(CreateOptions opts) {
    auto v = store_->Create(opts);
    EXPECT_TRUE(v.ok()) << v.error().message;
    return v.ok() ? *v : Volume{};
  }

  std::string dir_, root_;
  sys::LinuxSyscalls sys_;
  std::unique_ptr<sql::Database> db_;
  std::unique_ptr<VolumeStore> store_;
};

TEST_F(VolumeStoreTest, DriverOptionsAreCheckedAsDockersLocalDriver) {
  auto msg = [&](std::map<std::string, std::string> o) {
    CreateOptions c;
    c.name = "v";
    c.options = std::move(o);
    auto r = store_->Create(c);
    EXPECT_FALSE(r.ok());
    return r.ok() ? std::string() : r.error().message;
  };
  EXPECT_EQ(msg({{"type", "tmpfs"}}), "missing required option: \"device\"");
  EXPECT_EQ(msg({{"device", "tmpfs"}}), "missing required option: \"type\"");
  EXPECT_EQ(msg({{"o", "size=1m"}}), "missing required option: \"device\"");
  EXPECT_EQ(msg({{"size", "1m"}}), "quota size requested but no quota support");
  EXPECT_EQ(msg({{"bogus", "1"}}), "invalid option key: \"bogus\"");
}

TEST_F(VolumeStoreTest, OptionVolumesAreMountedWhileUsedAndNeverRemovedThrough) {
  if (::geteuid() != 0) GTEST_SKIP() << "mounting needs root";
  CreateOptions t;
  t.name = "tv";
  t.options = {{"type", "tmpfs"}, {"device", "tmpfs"}, {"o", "size=1m,mode=0700"}};
  Volume v = MustCreate(t);
  // A bind of a host directory with data that must survive everything below.
  std::string host = dir_ + "/host";
  ASSERT_TRUE(MakeDirs(host).ok());
  ASSERT_TRUE(WriteFileAtomic(host + "/keep", "precious").ok());
  CreateOptions b;
  b.name = "bv";
  b.options = {{"type", "none"}, {"device", host}, {"o", "bind,ro"}};
  Volume bv = MustCreate(b);
  auto mounted = [](const std::string& p) {
    struct statx stx {};
    return ::statx(AT_FDCWD, p.c_str(), AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &stx) == 0 &&
           (stx.stx_attributes & STATX_ATTR_MOUNT_ROOT) != 0;
  };
  // A failed expectation below must not leave a mount behind.
  Cleanup unmount([&] {
    for (const std::string& p : {v.mountpoint, bv.mountpoint}) {
      for (int i = 0; i < 4 && mounted(p); ++i) (void)::umount2(p.c_str(), MNT_DETACH);
    }
  });
  EXPECT_FALSE(mounted(v.mountpoint));
  ASSERT_TRUE(store_->Mount("tv", "c1").ok());
  ASSERT_TRUE(store_->Mount("tv", "c2").ok());
  EXPECT_TRUE(mounted(v.mountpoint));
  struct stat st {};
  ASSERT_EQ(::stat(v.mountpoint.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0700u);
  ASSERT_TRUE(store_->Unmount("tv", "c1").ok());
  EXPECT_TRUE(mounted(v.mountpoint));  // c2 still uses it
  ASSERT_TRUE(store_->Unmount("tv", "c2").ok());
  EXPECT_FALSE(mounted(v.mountpoint));

  ASSERT_TRUE(store_->Mount("bv", "c3").ok());
  EXPECT_EQ(*ReadFile(bv.mountpoint + "/keep"), "precious");
  // o=bind,ro: the remount made it read-only.
  EXPECT_EQ(::open((bv.mountpoint + "/new").c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644), -1);
  EXPECT_EQ(errno, EROFS);
  // A daemon restart: a new store counts nobody; the mount a running container holds is taken
  // as it is by Mount, and UnmountIdle leaves it alone.
  Reopen();
  ASSERT_TRUE(store_->Mount("bv", "c3").ok());
  ASSERT_TRUE(store_->UnmountIdle().ok());
  EXPECT_TRUE(mounted(bv.mountpoint));
  // Removing a volume never goes through its mount into the host directory.
  Reopen();
  ASSERT_TRUE(store_->UnmountIdle().ok());
  EXPECT_FALSE(mounted(bv.mountpoint));
  ASSERT_TRUE(store_->Mount("bv", "c4").ok());
  ASSERT_TRUE(store_->Remove("bv").ok());  // unmounted first
  EXPECT_EQ(*ReadFile(host + "/keep"), "precious");
  // A device that cannot be mounted says so, the local driver's way.
  CreateOptions bad;
  bad.name = "bad";
  bad.options = {{"type", "nosuchfs"}, {"device", "x"}, {"o", "password=hunter2"}};
  MustCreate(bad);
  Status st2 = store_->Mount("bad", "c5");
  ASSERT_FALSE(st2.ok());
  EXPECT_TRUE(st2.error().message.starts_with("failed to mount local volume: ")) << st2.error().message;
  EXPECT_EQ(st2.error().message.find("hunter2"), std::string::npos) << st2.error().message;
  EXPECT_NE(st2.error().message.find("password=********"), std::string::npos) << st2.error().message;
}

TEST(ValidateVolumeNameTest, FollowsDockersRule) {
  EXPECT_TRUE(ValidateVolumeName("data").ok());
  EXPECT_TRUE(ValidateVolumeName("a1_b.c-d").ok());
  EXPECT_FALSE(ValidateVolumeName("a").ok());
  EXPECT_FALSE(ValidateVolumeName("").ok());
  EXPECT_FALSE(ValidateVolumeName("a/b").ok());
  EXPECT_FALSE(ValidateVolumeName("..").ok());
  EXPECT_FALSE(ValidateVolumeName("../x").ok());
  EXPECT_FALSE(ValidateVolumeName(".hidden").ok());
  EXPECT_FALSE(ValidateVolumeName("-x").ok());
  Status bad = ValidateVolumeName("a/b");
  EXPECT_EQ(bad.error().code, Code::kInvalidArgument);
  EXPECT_NE(bad.error().message.find("includes invalid characters"), std::string::npos);
}

TEST_F(VolumeStoreTest, CreateMakesDirectoryAndRow) {
  Volume v = MustCreate({.name = "data", .labels = {{"a", "b"}}});
  EXPECT_EQ(v.name, "data");
  EXPECT_EQ(v.driver, "local");
  EXPECT_EQ(v.mountpoint, root_ + "/data/_data");
  EXPECT_FALSE(v.anonymous());
  struct stat st {};
  ASSERT_EQ(::stat(v.mountpoint.c_str(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0755u);
  auto got = store_->Get("data");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->labels.at("a"), "b");
  EXPECT_EQ(got->created_at, int64_t{1700000000} * 1000000000);
}

TEST_F(VolumeStoreTest, CreateIsIdempotentForAName) {
  MustCreate({.name = "data", .labels = {{"a", "b"}}});
  Volume again = MustCreate({.name = "data"});
  EXPECT_EQ(again.labels.at("a"), "b");
  auto all = store_->List();
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 1u);
}

TEST_F(VolumeStoreTest, AnonymousGetsHexNameAndLabel) {
  Volume v = MustCreate({});
  EXPECT_EQ(v.name.size(), 64u);
  EXPECT_TRUE(v.anonymous());
  EXPECT_TRUE(PathExists(v.mountpoint));
}

TEST_F(VolumeStoreTest, CreateRejectsBadInputAndLeavesNothing) {
  EXPECT_EQ(store_->Create({.name = "a/b"}).error().code, Code::kInvalidArgument);
  EXPECT_EQ(store_->Create({.name = ".."}).error().code, Code::kInvalidArgument);
  EXPECT_EQ(store_->Create({.name = "ok", .options = {{"bogus", "1"}}}).error().code,
            Code::kInvalidArgument);
  EXPECT_EQ(store_->Create({.name = "ok", .driver = "nfs"}).error().code, Code::kNotFound);
  EXPECT_TRUE(store_->List()->empty());
  EXPECT_FALSE(PathExists(root_ + "/ok"));
  EXPECT_FALSE(PathExists(root_ + "/a"));
}

TEST_F(VolumeStoreTest, GetUnknownIsNotFoundInDockersWords) {
  auto got = store_->Get("nope");
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error().code, Code::kNotFound);
  EXPECT_EQ(got.error().message, "get nope: no such volume");
}

TEST_F(VolumeStoreTest, RemoveRefusesWhileReferencedNamingTheContainer) {
  MustCreate({.name = "data"});
  ASSERT_TRUE(store_->AddReference("data", "c1").ok());
  ASSERT_TRUE(store_->AddReference("data", "c1").ok());  // repeat is a no-op
  ASSERT_TRUE(store_->AddReference("data", "c2").ok());
  Status rm = store_->Remove("data", /*force=*/true);
  ASSERT_FALSE(rm.ok());
  EXPECT_EQ(rm.error().code, Code::kConflict);
  EXPECT_EQ(rm.error().message, "remove data: volume is in use - [c1 c2]");
  EXPECT_TRUE(PathExists(root_ + "/data/_data"));
  auto names = store_->RemoveReferences("c1");
  ASSERT_TRUE(names.ok());
  EXPECT_EQ(*names, std::vector<std::string>{"data"});
  EXPECT_FALSE(store_->Remove("data").ok());
  ASSERT_TRUE(store_->RemoveReferences("c2").ok());
  EXPECT_TRUE(store_->Remove("data").ok());
  EXPECT_FALSE(PathExists(root_ + "/data"));
}

TEST_F(VolumeStoreTest, RemoveUnknownFailsUnlessForced) {
  Status rm = store_->Remove("nope");
  EXPECT_EQ(rm.error().code, Code::kNotFound);
  EXPECT_EQ(rm.error().message, "get nope: no such volume");
  EXPECT_TRUE(store_->Remove("nope", true).ok());
}

TEST_F(VolumeStoreTest, ReferenceToUnknownVolumeIsNotFound) {
  EXPECT_EQ(store_->AddReference("nope", "c1").error().code, Code::kNotFound);
}

TEST_F(VolumeStoreTest, ListFilters) {
  MustCreate({.name = "alpha", .labels = {{"env", "prod"}}});
  MustCreate({.name = "beta", .labels = {{"env", "dev"}}});
  MustCreate({.name = "gamma"});
  ASSERT_TRUE(store_->AddReference("beta", "c1").ok());
  auto names = [&](const ListFilter& f) {
    std::vector<std::string> out;
    auto list = store_->List(f);
    EXPECT_TRUE(list.ok());
    for (const Volume& v : *list) out.push_back(v.name);
    return out;
  };
  EXPECT_EQ(names({}), (std::vector<std::string>{"alpha", "beta", "gamma"}));
  EXPECT_EQ(names({.dangling = true}), (std::vector<std::string>{"alpha", "gamma"}));
  EXPECT_EQ(names({.dangling = false}), (std::vector<std::string>{"beta"}));
  EXPECT_EQ(names({.names = {"mm"}}), (std::vector<std::string>{"gamma"}));
  EXPECT_EQ(names({.labels = {"env"}}), (std::vector<std::string>{"alpha", "beta"}));
  EXPECT_EQ(names({.labels = {"env=dev"}}), (std::vector<std::string>{"beta"}));
  EXPECT_EQ(names({.drivers = {"other"}}), (std::vector<std::string>{}));
}

TEST_F(VolumeStoreTest, PruneTakesAnonymousUnusedUnlessAll) {
  MustCreate({.name = "named"});
  Volume anon = MustCreate({});
  Volume used = MustCreate({});
  ASSERT_TRUE(store_->AddReference(used.name, "c1").ok());
  ASSERT_TRUE(WriteFileAtomic(anon.mountpoint + "/f", "12345").ok());
  auto report = store_->Prune(false);
  ASSERT_TRUE(report.ok()) << report.error().message;
  EXPECT_EQ(report->deleted, std::vector<std::string>{anon.name});
  EXPECT_EQ(report->space_reclaimed, 5u);
  EXPECT_FALSE(PathExists(root_ + "/" + anon.name));
  auto all = store_->Prune(true);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->deleted, std::vector<std::string>{"named"});
  EXPECT_TRUE(store_->Get(used.name).ok());
}

TEST_F(VolumeStoreTest, SurvivesReopenAndSweepsDirectoriesWithoutRows) {
  MustCreate({.name = "kept"});
  ASSERT_TRUE(store_->AddReference("kept", "c1").ok());
  // A create cut short before its row: a directory nobody saw.
  ASSERT_TRUE(MakeDirs(root_ + "/half/_data").ok());
  Reopen();
  EXPECT_FALSE(PathExists(root_ + "/half"));
  auto kept = store_->Get("kept");
  ASSERT_TRUE(kept.ok());
  EXPECT_EQ(kept->users, std::vector<std::string>{"c1"});
  EXPECT_TRUE(PathExists(kept->mountpoint));
}

TEST_F(VolumeStoreTest, ReferencesFollowTheCallersTransaction) {
  MustCreate({.name = "data"});
  {
    auto tx = sql::Transaction::Begin(*db_);
    ASSERT_TRUE(tx.ok());
    ASSERT_TRUE(store_->AddReference("data", "c1").ok());
    // Rolled back: no Commit().
  }
  EXPECT_TRUE(store_->Get("data")->users.empty());
  {
    auto tx = sql::Transaction::Begin(*db_);
    ASSERT_TRUE(tx.ok());
    ASSERT_TRUE(store_->AddReference("data", "c1").ok());
    ASSERT_TRUE(tx->Commit().ok());
  }
  EXPECT_EQ(store_->Get("data")->users, std::vector<std::string>{"c1"});
}

}  // namespace
}  // namespace berth::volume
