// OverlaySnapshotter without root: the conformance suite, the exact MountSpecs, the on-disk
// directories and crash recovery. Real mounts: tests/privileged/snapshot/.
#include "snapshot/overlay/overlay_snapshotter.h"

#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>

#include <gtest/gtest.h>

#include "base/file.h"
#include "snapshot/testing/snapshotter_conformance.h"
#include "sql/database.h"

namespace berth::snapshot {
namespace {

std::string MakeTempDir() {
  char tmpl[] = "/tmp/berth-snapshot-XXXXXX";
  BERTH_CHECK(::mkdtemp(tmpl) != nullptr);
  return tmpl;
}

class OverlayFactory {
 public:
  OverlayFactory() : dir_(MakeTempDir()) {}
  ~OverlayFactory() { (void)RemoveAll(dir_); }
  std::unique_ptr<Snapshotter> New() {
    auto db = sql::Database::Open(dir_ + "/meta.db");
    EXPECT_TRUE(db) << db.error().message;
    if (!db) return nullptr;
    db_ = std::move(*db);
    auto sn = OverlaySnapshotter::Open(dir_ + "/root", *db_);
    EXPECT_TRUE(sn) << sn.error().message;
    if (!sn) return nullptr;
    return std::move(*sn);
  }

 private:
  std::string dir_;
  std::unique_ptr<sql::Database> db_;
};

class OverlaySnapshotterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = MakeTempDir();
    root_ = dir_ + "/root";
    auto db = sql::Database::Open(dir_ + "/meta.db");
    ASSERT_TRUE(db) << db.error().message;
    db_ = std::move(*db);
    Reopen();
  }
  void TearDown() override {
    sn_.reset();
    ASSERT_TRUE(RemoveAll(dir_).ok());
  }
  void Reopen(OverlayOptions options = {}) {
    sn_.reset();
    auto sn = OverlaySnapshotter::Open(root_, *db_, std::move(options));
    ASSERT_TRUE(sn) << sn.error().message;
    sn_ = std::move(*sn);
  }
  // The directory of snapshot number `id` (ids count from 1 in creation order).
  std::string Dir(int id) const { return root_ + "/snapshots/" + std::to_string(id); }
  void Layer(const std::string& name, const std::string& parent) {
    ASSERT_TRUE(sn_->Prepare("x-" + name, parent));
    ASSERT_TRUE(sn_->Commit(name, "x-" + name).ok());
  }

  std::string dir_, root_;
  std::unique_ptr<sql::Database> db_;
  std::unique_ptr<OverlaySnapshotter> sn_;
};

TEST_F(OverlaySnapshotterTest, ActiveWithoutParentIsARwBindWithFsAndWorkDirs) {
  auto m = sn_->Prepare("a", "");
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_EQ(*m, (std::vector<MountSpec>{{"bind", Dir(1) + "/fs", "", {"rbind", "rw"}}}));
  EXPECT_TRUE(PathExists(Dir(1) + "/fs"));
  EXPECT_TRUE(PathExists(Dir(1) + "/work"));
  EXPECT_EQ(*sn_->UpperPath("a"), Dir(1) + "/fs");
}

TEST_F(OverlaySnapshotterTest, ViewWithoutParentIsARoBindWithoutWorkDir) {
  auto m = sn_->View("v", "");
  ASSERT_TRUE(m);
  EXPECT_EQ(*m, (std::vector<MountSpec>{{"bind", Dir(1) + "/fs", "", {"rbind", "ro"}}}));
  EXPECT_FALSE(PathExists(Dir(1) + "/work"));
}

TEST_F(OverlaySnapshotterTest, ActiveWithParentsIsOverlayWithLowersNewestFirst) {
  Layer("sha256:l1", "");           // id 1
  Layer("sha256:l2", "sha256:l1");  // id 2
  EXPECT_FALSE(PathExists(Dir(1) + "/work")) << "committed snapshots drop their workdir";
  auto m = sn_->Prepare("ctr", "sha256:l2");  // id 3
  ASSERT_TRUE(m);
  EXPECT_EQ(*m,
            (std::vector<MountSpec>{{"overlay",
                                     "overlay",
                                     "",
                                     {"workdir=" + Dir(3) + "/work", "upperdir=" + Dir(3) + "/fs",
                                      "lowerdir=" + Dir(2) + "/fs:" + Dir(1) + "/fs"}}}));
}

TEST_F(OverlaySnapshotterTest, ViewOfOneLayerIsARoBindOfThatLayer) {
  Layer("sha256:l1", "");
  auto m = sn_->View("v", "sha256:l1");
  ASSERT_TRUE(m);
  EXPECT_EQ(*m, (std::vector<MountSpec>{{"bind", Dir(1) + "/fs", "", {"rbind", "ro"}}}));
}

TEST_F(OverlaySnapshotterTest, ViewOfManyLayersIsOverlayWithoutUpper) {
  Layer("sha256:l1", "");
  Layer("sha256:l2", "sha256:l1");
  auto m = sn_->View("v", "sha256:l2");
  ASSERT_TRUE(m);
  EXPECT_EQ(*m, (std::vector<MountSpec>{
                    {"overlay", "overlay", "", {"lowerdir=" + Dir(2) + "/fs:" + Dir(1) + "/fs"}}}));
}

TEST_F(OverlaySnapshotterTest, LongChainsNeedCompactionAndTooLongOnesAreRefused) {
  OverlayOptions small;
  small.page_size = 200;
  Reopen(small);
  std::string parent;
  for (int i = 1; i <= 6; ++i) {
    const std::string name = "sha256:" + std::to_string(i);
    Layer(name, parent);
    parent = name;
  }
  auto m = sn_->Prepare("ctr", parent);
  ASSERT_TRUE(m) << m.error().message;
  ASSERT_EQ(m->size(), 1u);
  EXPECT_FALSE(OptionsFitInPage((*m)[0], 200)) << JoinOptions((*m)[0].options);
  auto c = CompactLowerdirs((*m)[0]);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->chdir, root_ + "/snapshots");
  EXPECT_EQ(c->spec.options.back(), "lowerdir=6/fs:5/fs:4/fs:3/fs:2/fs:1/fs");
  EXPECT_TRUE(OptionsFitInPage(c->spec, 200));

  OverlayOptions tiny;
  tiny.page_size = static_cast<size_t>(JoinOptions(c->spec.options).size());
  Reopen(tiny);
  auto refused = sn_->Prepare("ctr2", parent);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, Code::kResourceExhausted);
  EXPECT_EQ(sn_->Stat("ctr2").error().code, Code::kNotFound) << "nothing half-created";
}

TEST_F(OverlaySnapshotterTest, RemoveDeletesTheDirectory) {
  ASSERT_TRUE(sn_->Prepare("a", ""));
  ASSERT_TRUE(PathExists(Dir(1)));
  ASSERT_TRUE(sn_->Remove("a").ok());
  EXPECT_FALSE(PathExists(Dir(1)));
  EXPECT_FALSE(PathExists(root_ + "/snapshots/rm-1"));
}

TEST_F(OverlaySnapshotterTest, OpenRemovesDirectoriesWithoutRows) {
  Layer("sha256:kept", "");                          // id 1
  ASSERT_TRUE(sn_->Prepare("removed-mid-way", ""));  // id 2
  // A crash after Remove's transaction: the row is gone, the directory is not.
  ASSERT_TRUE(db_->Exec("DELETE FROM snapshot_snapshots WHERE key = 'removed-mid-way'").ok());
  ASSERT_TRUE(MakeDirs(root_ + "/snapshots/new-abc123/fs").ok());  // creation never committed
  ASSERT_TRUE(MakeDirs(root_ + "/snapshots/rm-7/fs").ok());        // removal half done
  Reopen();
  EXPECT_FALSE(PathExists(Dir(2)));
  EXPECT_FALSE(PathExists(root_ + "/snapshots/new-abc123"));
  EXPECT_FALSE(PathExists(root_ + "/snapshots/rm-7"));
  EXPECT_TRUE(PathExists(Dir(1) + "/fs"));
  EXPECT_TRUE(*sn_->HasCommitted("sha256:kept"));
  EXPECT_EQ(sn_->Stat("removed-mid-way").error().code, Code::kNotFound);
  // Ids are never reused, so a new snapshot can not land in a stale directory.
  ASSERT_TRUE(sn_->Prepare("next", ""));
  EXPECT_EQ(*sn_->UpperPath("next"), Dir(3) + "/fs");
}

TEST_F(OverlaySnapshotterTest, FailedCreationLeavesNoDirectory) {
  ASSERT_TRUE(sn_->Prepare("a", ""));
  ASSERT_FALSE(sn_->Prepare("a", ""));
  ASSERT_FALSE(sn_->Prepare("b", "missing"));
  int entries = 0;
  for (const auto& e : std::filesystem::directory_iterator(root_ + "/snapshots")) {
    (void)e;
    ++entries;
  }
  EXPECT_EQ(entries, 1);
}

TEST_F(OverlaySnapshotterTest, ChildStartsOwnedLikeItsParent) {
  ASSERT_TRUE(sn_->Prepare("a", ""));
  const uid_t uid = ::geteuid() == 0 ? 1234 : ::geteuid();
  const gid_t gid = ::geteuid() == 0 ? 5678 : ::getegid();
  ASSERT_EQ(::chown((Dir(1) + "/fs").c_str(), uid, gid), 0);
  ASSERT_TRUE(sn_->Commit("sha256:a", "a").ok());
  ASSERT_TRUE(sn_->Prepare("b", "sha256:a"));
  struct stat st {};
  ASSERT_EQ(::stat((Dir(2) + "/fs").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, uid);
  EXPECT_EQ(st.st_gid, gid);
}

}  // namespace

namespace testing {
INSTANTIATE_TYPED_TEST_SUITE_P(Overlay, SnapshotterConformanceTest,
                               ::testing::Types<OverlayFactory>);
}  // namespace testing

}  // namespace berth::snapshot
