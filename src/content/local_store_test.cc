// LocalStore behaviour beyond the shared conformance suite: restarts, on-disk layout,
// crash recovery, and references inside a caller's transaction.
#include "content/local_store.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <thread>

#include <gtest/gtest.h>

#include "base/file.h"
#include "sql/database.h"

namespace berth::content {
namespace {

using oci::Digest;

class LocalStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/berth-content-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    root_ = dir_ + "/content";
    auto db = sql::Database::Open(dir_ + "/meta.db");
    ASSERT_TRUE(db) << db.error().message;
    db_ = std::move(*db);
  }
  void TearDown() override { ASSERT_TRUE(RemoveAll(dir_).ok()); }

  std::unique_ptr<LocalStore> OpenStore() {
    auto s = LocalStore::Open(root_, *db_);
    EXPECT_TRUE(s) << s.error().message;
    return s ? std::move(*s) : nullptr;
  }

  std::string dir_, root_;
  std::unique_ptr<sql::Database> db_;
};

TEST_F(LocalStoreTest, ResumesIngestInAStoreReopenedOnTheSameRoot) {
  const std::string data = "the first half|the second half";
  const Digest want = Digest::Of(data);
  {
    auto store = OpenStore();
    ASSERT_NE(store, nullptr);
    auto w = store->Writer("pull-layer", want, static_cast<int64_t>(data.size()));
    ASSERT_TRUE(w);
    ASSERT_TRUE((*w)->Write(data.substr(0, 15)).ok());
    // The daemon "crashes": writer and store go without Commit or Abort.
  }
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  auto w = store->Writer("pull-layer", want, static_cast<int64_t>(data.size()));
  ASSERT_TRUE(w) << w.error().message;
  EXPECT_EQ((*w)->Offset(), 15);
  ASSERT_TRUE((*w)->Write(data.substr(15)).ok());
  auto got = (*w)->Commit(std::nullopt);
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(*got, want);
}

TEST_F(LocalStoreTest, LiveRefIsLockedAcrossStoreInstances) {
  auto a = OpenStore();
  auto b = OpenStore();
  ASSERT_TRUE(a && b);
  auto w = a->Writer("shared-ref", std::nullopt, -1);
  ASSERT_TRUE(w);
  auto other = b->Writer("shared-ref", std::nullopt, -1);
  ASSERT_FALSE(other);
  EXPECT_EQ(other.error().code, Code::kUnavailable);
}

TEST_F(LocalStoreTest, CommittedBlobLivesAtItsLayoutPathReadOnly) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  auto d = WriteBlob(*store, "layout", std::nullopt);
  ASSERT_TRUE(d);
  const std::string path = root_ + "/blobs/sha256/" + d->hex();
  auto p = store->Path(*d);
  ASSERT_TRUE(p);
  EXPECT_EQ(*p, path);
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0444u);
  auto r = store->Open(*d);
  ASSERT_TRUE(r);
  EXPECT_EQ((*r)->path(), path);
}

TEST_F(LocalStoreTest, RecoveryReconcilesFilesRowsAndLeftovers) {
  const std::string orphan_data = "file renamed, row never written";
  const Digest orphan = Digest::Of(orphan_data);
  Digest lost;
  {
    auto store = OpenStore();
    ASSERT_NE(store, nullptr);
    auto d = WriteBlob(*store, "row written, file lost", std::nullopt);
    ASSERT_TRUE(d);
    lost = *d;
    auto w = store->Writer("resumable", std::nullopt, -1);
    ASSERT_TRUE(w);
    ASSERT_TRUE((*w)->Write("keep me").ok());
  }
  ASSERT_TRUE(WriteFileAtomic(root_ + "/blobs/sha256/" + orphan.hex(), orphan_data).ok());
  ASSERT_EQ(::unlink((root_ + "/blobs/sha256/" + lost.hex()).c_str()), 0);
  ASSERT_TRUE(WriteFileAtomic(root_ + "/blobs/sha256/not-a-digest.tmp", "junk").ok());
  ASSERT_TRUE(MakeDirs(root_ + "/ingest/.trash-1234/sub").ok());
  ASSERT_TRUE(MakeDirs(root_ + "/ingest/half-created").ok());

  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  auto info = store->Info(orphan);
  ASSERT_TRUE(info) << "a verified file without a row is adopted";
  EXPECT_EQ(info->size, static_cast<int64_t>(orphan_data.size()));
  EXPECT_EQ(store->Info(lost).error().code, Code::kNotFound) << "a row without a file is dropped";
  EXPECT_FALSE(PathExists(root_ + "/blobs/sha256/not-a-digest.tmp"));
  EXPECT_FALSE(PathExists(root_ + "/ingest/.trash-1234"));
  EXPECT_FALSE(PathExists(root_ + "/ingest/half-created"));
  auto ingests = store->ListIngests();
  ASSERT_TRUE(ingests);
  ASSERT_EQ(ingests->size(), 1u);
  EXPECT_EQ((*ingests)[0].ref, "resumable");
  EXPECT_EQ((*ingests)[0].offset, 7);
}

TEST_F(LocalStoreTest, ReferencesJoinTheCallersTransaction) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  auto d = WriteBlob(*store, "manifest", std::nullopt);
  ASSERT_TRUE(d);
  {
    auto tx = sql::Transaction::Begin(*db_);
    ASSERT_TRUE(tx);
    ASSERT_TRUE(store->AddReference(*d, "image:rolled-back").ok());
    // Rolled back by the destructor.
  }
  auto owners = store->Owners(*d);
  ASSERT_TRUE(owners);
  EXPECT_TRUE(owners->empty());
  {
    auto tx = sql::Transaction::Begin(*db_);
    ASSERT_TRUE(tx);
    ASSERT_TRUE(store->AddReference(*d, "image:kept").ok());
    ASSERT_TRUE(store->SetLabels(*d, {{"k", "v"}}).ok()) << "savepoints nest in the transaction";
    ASSERT_TRUE(tx->Commit().ok());
  }
  owners = store->Owners(*d);
  ASSERT_TRUE(owners);
  EXPECT_EQ(*owners, std::vector<std::string>{"image:kept"});
  EXPECT_EQ(store->Delete(*d).error().code, Code::kFailedPrecondition);
}

TEST_F(LocalStoreTest, GcWaitsForAReferenceAddedInAnOpenTransaction) {
  auto now = std::chrono::system_clock::now();
  auto s = LocalStore::Open(root_, *db_, {[&now] { return now; }, std::chrono::hours(1)});
  ASSERT_TRUE(s);
  auto store = std::move(*s);
  auto d = WriteBlob(*store, "layer pulled long ago", std::nullopt);
  ASSERT_TRUE(d);
  now += std::chrono::hours(2);
  Result<GcStats> stats = GcStats{};
  std::jthread gc;  // joins on every exit, after the transaction below has gone
  {
    // The image store records a manifest and its references in one transaction. A collector
    // on another thread must not slip in between: it blocks on the database lock (held until
    // the transaction object goes) and then sees the committed reference.
    auto tx = sql::Transaction::Begin(*db_);
    ASSERT_TRUE(tx);
    ASSERT_TRUE(store->AddReference(*d, "image:sha256:abc").ok());
    gc = std::jthread([&] { stats = store->GarbageCollect(std::chrono::minutes(1)); });
    ASSERT_TRUE(tx->Commit().ok());
  }
  gc.join();
  ASSERT_TRUE(stats) << stats.error().message;
  EXPECT_EQ(stats->blobs_removed, 0);
  EXPECT_TRUE(store->Info(*d).ok());
}

TEST_F(LocalStoreTest, RejectsEmptyRefAndOwner) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->Writer("", std::nullopt, -1).error().code, Code::kInvalidArgument);
  EXPECT_EQ(store->AddReference(Digest::Of("x"), "").error().code, Code::kInvalidArgument);
}

}  // namespace
}  // namespace berth::content
