#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstdint>
#include <latch>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "base/file.h"
#include "base/unique_fd.h"
#include "oci/digest.h"
#include "storage/blob_store.h"

namespace berth::storage {
namespace {

template <typename T>
testing::AssertionResult Succeeded(const Result<T>& r) {
  if (r) return testing::AssertionSuccess();
  return testing::AssertionFailure() << CodeName(r.error().code) << ": " << r.error().message;
}

template <typename T>
Code CodeOf(const Result<T>& r) {
  return r ? Code::kOk : r.error().code;
}

// n deterministic pseudo-random bytes (xorshift), different for each seed.
std::string Bytes(size_t n, uint32_t seed) {
  std::string s(n, '\0');
  uint32_t x = seed * 2654435761u + 1;
  for (char& c : s) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    c = static_cast<char>(x & 0xff);
  }
  return s;
}

class FilesystemBlobStoreTest : public testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = testing::TempDir() + "blob_store_XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    base_ = tmpl;
    root_ = base_ + "/root";
    store_ = Open();
    ASSERT_NE(store_, nullptr);
  }
  void TearDown() override { ASSERT_TRUE(Succeeded(RemoveAll(base_))); }

  std::unique_ptr<BlobStore> Open() {
    Result<std::unique_ptr<BlobStore>> s = OpenFilesystemBlobStore(root_);
    EXPECT_TRUE(Succeeded(s));
    return s ? std::move(*s) : nullptr;
  }

  std::string BlobFile(const oci::Digest& d) const {
    return root_ + "/blobs/" + std::string(oci::AlgorithmName(d.algorithm())) + "/" +
           d.hex().substr(0, 2) + "/" + d.hex();
  }
  std::string UploadDir(const std::string& id) const { return root_ + "/uploads/" + id; }

  // Creates upload `id` holding `data`; the upload is released on return.
  void MakeUpload(const std::string& id, std::string_view data) {
    ASSERT_TRUE(Succeeded(store_->CreateUpload(id)));
    auto up = store_->Acquire(id);
    ASSERT_TRUE(Succeeded(up));
    ASSERT_TRUE(Succeeded((*up)->Append(data)));
  }

  std::unique_ptr<Upload> MustAcquire(const std::string& id) {
    auto up = store_->Acquire(id);
    EXPECT_TRUE(Succeeded(up));
    return up ? std::move(*up) : nullptr;
  }

  std::vector<BlobInfo> Blobs() {
    std::vector<BlobInfo> out;
    Status st = store_->WalkBlobs([&](const BlobInfo& b) {
      out.push_back(b);
      return Ok();
    });
    EXPECT_TRUE(Succeeded(st));
    return out;
  }

  std::string base_;
  std::string root_;
  std::unique_ptr<BlobStore> store_;
};

// ---- Blobs ----

TEST_F(FilesystemBlobStoreTest, PutBlobThenStatReadOpenDelete) {
  const std::string data = "{\"schemaVersion\":2}";
  auto put = store_->PutBlob(data);
  ASSERT_TRUE(Succeeded(put));
  EXPECT_EQ(*put, oci::Digest::Of(data));

  auto info = store_->Stat(*put);
  ASSERT_TRUE(Succeeded(info));
  EXPECT_EQ(info->digest, *put);
  EXPECT_EQ(info->size, static_cast<int64_t>(data.size()));
  const auto age = std::chrono::system_clock::now() - info->modified;
  EXPECT_LT(std::chrono::abs(age), std::chrono::minutes(1));

  auto read = store_->ReadBlob(*put, 1024);
  ASSERT_TRUE(Succeeded(read));
  EXPECT_EQ(*read, data);

  auto opened = store_->OpenBlob(*put);
  ASSERT_TRUE(Succeeded(opened));
  EXPECT_EQ(opened->second, static_cast<int64_t>(data.size()));
  std::string buf(data.size(), '\0');
  ASSERT_EQ(::pread(opened->first.get(), buf.data(), buf.size(), 0),
            static_cast<ssize_t>(data.size()));
  EXPECT_EQ(buf, data);
  EXPECT_NE(::fcntl(opened->first.get(), F_GETFD) & FD_CLOEXEC, 0);

  ASSERT_TRUE(Succeeded(store_->DeleteBlob(*put)));
  EXPECT_EQ(CodeOf(store_->Stat(*put)), Code::kNotFound);
  EXPECT_EQ(CodeOf(store_->DeleteBlob(*put)), Code::kNotFound);
}

TEST_F(FilesystemBlobStoreTest, PutBlobStoresAtItsContentAddressOnceAndLeavesNoTemp) {
  const std::string data = Bytes(5000, 1);
  auto put = store_->PutBlob(data);
  ASSERT_TRUE(Succeeded(put));
  struct stat first {};
  ASSERT_EQ(::stat(BlobFile(*put).c_str(), &first), 0);
  EXPECT_TRUE(S_ISREG(first.st_mode));
  EXPECT_EQ(first.st_mode & 07777, 0644u);

  auto again = store_->PutBlob(data);
  ASSERT_TRUE(Succeeded(again));
  EXPECT_EQ(*again, *put);
  struct stat second {};
  ASSERT_EQ(::stat(BlobFile(*put).c_str(), &second), 0);
  EXPECT_EQ(second.st_ino, first.st_ino);  // not rewritten

  EXPECT_EQ(::rmdir((root_ + "/tmp").c_str()), 0) << "tmp/ should be empty";
}

TEST_F(FilesystemBlobStoreTest, MissingBlobIsNotFound) {
  const oci::Digest d = oci::Digest::Of("absent");
  EXPECT_EQ(CodeOf(store_->Stat(d)), Code::kNotFound);
  EXPECT_EQ(CodeOf(store_->OpenBlob(d)), Code::kNotFound);
  EXPECT_EQ(CodeOf(store_->ReadBlob(d, 100)), Code::kNotFound);
  auto st = store_->DeleteBlob(d);
  EXPECT_EQ(CodeOf(st), Code::kNotFound);
  EXPECT_NE(st.error().message.find(d.ToString()), std::string::npos) << st.error().message;
}

TEST_F(FilesystemBlobStoreTest, ReadBlobOverTheLimitIsResourceExhausted) {
  auto put = store_->PutBlob(Bytes(100, 2));
  ASSERT_TRUE(Succeeded(put));
  EXPECT_EQ(CodeOf(store_->ReadBlob(*put, 99)), Code::kResourceExhausted);
  auto exact = store_->ReadBlob(*put, 100);
  ASSERT_TRUE(Succeeded(exact));
  EXPECT_EQ(*exact, Bytes(100, 2));
}

TEST_F(FilesystemBlobStoreTest, MalformedDigestNeverBecomesAPath) {
  // Digest::FromHex trusts its caller; the store must not.
  ASSERT_EQ(::mkdir((base_ + "/outside").c_str(), 0755), 0);
  ASSERT_TRUE(Succeeded(WriteFileAtomic(base_ + "/outside/victim", "x")));
  const std::string escape = "../../../../outside/victim";
  for (const oci::Digest& bad :
       {oci::Digest(), oci::Digest::FromHex(oci::Algorithm::kSha256, escape),
        oci::Digest::FromHex(oci::Algorithm::kSha256, std::string(64, 'G')),
        oci::Digest::FromHex(oci::Algorithm::kSha512, std::string(64, 'a'))}) {
    EXPECT_EQ(CodeOf(store_->Stat(bad)), Code::kInvalidArgument) << bad.ToString();
    EXPECT_EQ(CodeOf(store_->OpenBlob(bad)), Code::kInvalidArgument) << bad.ToString();
    EXPECT_EQ(CodeOf(store_->DeleteBlob(bad)), Code::kInvalidArgument) << bad.ToString();
  }
  EXPECT_TRUE(PathExists(base_ + "/outside/victim"));

  MakeUpload("u", "x");
  auto commit =
      store_->Commit(MustAcquire("u"), oci::Digest::FromHex(oci::Algorithm::kSha256, escape));
  EXPECT_EQ(CodeOf(commit), Code::kInvalidArgument);
  EXPECT_TRUE(PathExists(UploadDir("u") + "/data"));  // a malformed request loses nothing
}

TEST_F(FilesystemBlobStoreTest, WalkBlobsListsEveryBlobAndSkipsStrayFiles) {
  std::map<oci::Digest, int64_t> want;
  for (uint32_t i = 0; i < 5; ++i) {
    const std::string data = Bytes(100 + i, 10 + i);
    auto put = store_->PutBlob(data);
    ASSERT_TRUE(Succeeded(put));
    want[*put] = static_cast<int64_t>(data.size());
  }
  const std::string data512 = Bytes(77, 99);
  const oci::Digest d512 = oci::Digest::Of(data512, oci::Algorithm::kSha512);
  MakeUpload("u512", data512);
  ASSERT_TRUE(Succeeded(store_->Commit(MustAcquire("u512"), d512)));
  want[d512] = 77;
  // Strays: a bad prefix directory, a file that is no digest, one under the wrong prefix.
  ASSERT_TRUE(Succeeded(MakeDirs(root_ + "/blobs/sha256/zz")));
  ASSERT_TRUE(Succeeded(WriteFileAtomic(root_ + "/blobs/sha256/zz/junk", "j")));
  const std::string hex = want.begin()->first.hex();
  const std::string wrong_prefix = hex.substr(0, 2) == "00" ? "01" : "00";
  ASSERT_TRUE(Succeeded(MakeDirs(root_ + "/blobs/sha256/" + wrong_prefix)));
  ASSERT_TRUE(Succeeded(WriteFileAtomic(root_ + "/blobs/sha256/" + wrong_prefix + "/" + hex, "")));
  ASSERT_TRUE(Succeeded(WriteFileAtomic(root_ + "/blobs/sha256/" + hex.substr(0, 2) + "/x", "")));

  std::map<oci::Digest, int64_t> got;
  for (const BlobInfo& b : Blobs()) got[b.digest] = b.size;
  EXPECT_EQ(got, want);
}

TEST_F(FilesystemBlobStoreTest, WalkBlobsStopsAtTheFirstError) {
  for (uint32_t i = 0; i < 3; ++i) ASSERT_TRUE(Succeeded(store_->PutBlob(Bytes(10, i))));
  int calls = 0;
  Status st = store_->WalkBlobs([&](const BlobInfo&) -> Status {
    ++calls;
    return MakeError(Code::kCancelled, "enough");
  });
  EXPECT_EQ(CodeOf(st), Code::kCancelled);
  EXPECT_EQ(calls, 1);
}

// ---- Uploads ----

TEST_F(FilesystemBlobStoreTest, UploadAppendsAndCommitsAsABlob) {
  ASSERT_TRUE(Succeeded(store_->CreateUpload("abc-123_X")));
  EXPECT_TRUE(PathExists(UploadDir("abc-123_X") + "/data"));
  auto up = MustAcquire("abc-123_X");
  ASSERT_NE(up, nullptr);
  EXPECT_EQ(up->id(), "abc-123_X");
  EXPECT_EQ(up->Offset(), 0);
  EXPECT_EQ(up->CurrentDigest(), oci::Digest::Of(""));
  ASSERT_TRUE(Succeeded(up->Append("hello ")));
  ASSERT_TRUE(Succeeded(up->Append("")));
  ASSERT_TRUE(Succeeded(up->Append("world")));
  EXPECT_EQ(up->Offset(), 11);
  EXPECT_EQ(up->CurrentDigest(), oci::Digest::Of("hello world"));
  EXPECT_EQ(up->CurrentDigest(oci::Algorithm::kSha512),
            oci::Digest::Of("hello world", oci::Algorithm::kSha512));
  EXPECT_EQ(up->CurrentDigest(), oci::Digest::Of("hello world"));  // still going

  const oci::Digest d = oci::Digest::Of("hello world");
  auto size = store_->Commit(std::move(up), d, 11);
  ASSERT_TRUE(Succeeded(size));
  EXPECT_EQ(*size, 11);
  auto read = store_->ReadBlob(d, 100);
  ASSERT_TRUE(Succeeded(read));
  EXPECT_EQ(*read, "hello world");
  struct stat st {};
  ASSERT_EQ(::stat(BlobFile(d).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0644u);
  EXPECT_FALSE(PathExists(UploadDir("abc-123_X")));
  EXPECT_EQ(CodeOf(store_->Acquire("abc-123_X")), Code::kNotFound);
}

TEST_F(FilesystemBlobStoreTest, UploadLifecycleErrors) {
  ASSERT_TRUE(Succeeded(store_->CreateUpload("u1")));
  EXPECT_EQ(CodeOf(store_->CreateUpload("u1")), Code::kAlreadyExists);
  EXPECT_EQ(CodeOf(store_->Acquire("nope")), Code::kNotFound);
  EXPECT_EQ(CodeOf(store_->DeleteUpload("nope")), Code::kNotFound);
  ASSERT_TRUE(Succeeded(store_->DeleteUpload("u1")));
  EXPECT_FALSE(PathExists(UploadDir("u1")));
  EXPECT_EQ(CodeOf(store_->Acquire("u1")), Code::kNotFound);
  EXPECT_EQ(CodeOf(store_->DeleteUpload("u1")), Code::kNotFound);
  // The id can be used again once the upload is gone.
  ASSERT_TRUE(Succeeded(store_->CreateUpload("u1")));
  auto up = MustAcquire("u1");
  ASSERT_NE(up, nullptr);
  EXPECT_EQ(up->Offset(), 0);
}

TEST_F(FilesystemBlobStoreTest, AcquireIsExclusiveUntilReleased) {
  MakeUpload("u", "abc");
  auto held = MustAcquire("u");
  ASSERT_NE(held, nullptr);
  auto second = store_->Acquire("u");
  EXPECT_EQ(CodeOf(second), Code::kUnavailable);
  EXPECT_EQ(CodeOf(store_->DeleteUpload("u")), Code::kUnavailable);
  EXPECT_TRUE(PathExists(UploadDir("u") + "/data"));
  // Other uploads are not affected.
  MakeUpload("other", "x");

  held.reset();
  auto again = MustAcquire("u");
  ASSERT_NE(again, nullptr);
  EXPECT_EQ(again->Offset(), 3);
  again.reset();
  EXPECT_TRUE(Succeeded(store_->DeleteUpload("u")));
}

TEST_F(FilesystemBlobStoreTest, ConcurrentAcquireOfTheSameIdHasOneWinner) {
  MakeUpload("contended", "data");
  constexpr int kThreads = 8;
  std::latch start(kThreads);
  std::latch tried(kThreads);
  std::vector<Code> codes(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      start.arrive_and_wait();
      auto up = store_->Acquire("contended");
      codes[static_cast<size_t>(i)] = CodeOf(up);
      tried.arrive_and_wait();  // the winner holds it until everyone has tried
    });
  }
  for (std::thread& t : threads) t.join();
  int winners = 0;
  for (Code c : codes) {
    if (c == Code::kOk) {
      ++winners;
    } else {
      EXPECT_EQ(c, Code::kUnavailable);
    }
  }
  EXPECT_EQ(winners, 1);
  auto up = MustAcquire("contended");  // released by the winner
  ASSERT_NE(up, nullptr);
  EXPECT_EQ(up->CurrentDigest(), oci::Digest::Of("data"));
}

TEST_F(FilesystemBlobStoreTest, UploadResumesAfterReopeningTheStore) {
  MakeUpload("resume", "hello ");
  store_.reset();  // a restart: nothing in memory survives
  store_ = Open();
  ASSERT_NE(store_, nullptr);
  auto up = MustAcquire("resume");
  ASSERT_NE(up, nullptr);
  EXPECT_EQ(up->Offset(), 6);
  EXPECT_EQ(up->CurrentDigest(), oci::Digest::Of("hello "));
  ASSERT_TRUE(Succeeded(up->Append("world")));
  auto size = store_->Commit(std::move(up), oci::Digest::Of("hello world"));
  ASSERT_TRUE(Succeeded(size));
  EXPECT_EQ(*size, 11);
}

TEST_F(FilesystemBlobStoreTest, TornTailAfterRestartIsCutWithTruncate) {
  MakeUpload("torn", "acknowledged");
  store_.reset();
  {
    // Bytes that reached the file but were never acknowledged (the request died).
    auto fd = OpenFile(UploadDir("torn") + "/data", O_WRONLY | O_APPEND);
    ASSERT_TRUE(Succeeded(fd));
    ASSERT_TRUE(Succeeded(WriteAll(fd->get(), "garbage")));
  }
  store_ = Open();
  auto up = MustAcquire("torn");
  ASSERT_NE(up, nullptr);
  EXPECT_EQ(up->Offset(), 19);
  ASSERT_TRUE(Succeeded(up->Truncate(12)));
  EXPECT_EQ(up->Offset(), 12);
  EXPECT_EQ(up->CurrentDigest(), oci::Digest::Of("acknowledged"));
  ASSERT_TRUE(Succeeded(up->Append("!")));
  ASSERT_TRUE(Succeeded(store_->Commit(std::move(up), oci::Digest::Of("acknowledged!"), 13)));
}

TEST_F(FilesystemBlobStoreTest, TruncateCutsBackAndRejectsOffsetsPastTheEnd) {
  MakeUpload("t", "abcdef");
  auto up = MustAcquire("t");
  ASSERT_NE(up, nullptr);
  EXPECT_EQ(CodeOf(up->Truncate(7)), Code::kInvalidArgument);
  EXPECT_EQ(CodeOf(up->Truncate(-1)), Code::kInvalidArgument);
  ASSERT_TRUE(Succeeded(up->Truncate(6)));  // no-op
  ASSERT_TRUE(Succeeded(up->Truncate(3)));
  EXPECT_EQ(up->CurrentDigest(), oci::Digest::Of("abc"));
  ASSERT_TRUE(Succeeded(up->Append("XY")));
  up.reset();  // the state saved at release is the rehashed one
  up = MustAcquire("t");
  ASSERT_NE(up, nullptr);
  EXPECT_EQ(up->Offset(), 5);
  EXPECT_EQ(up->CurrentDigest(), oci::Digest::Of("abcXY"));
  ASSERT_TRUE(Succeeded(store_->Commit(std::move(up), oci::Digest::Of("abcXY"), 5)));
}

TEST_F(FilesystemBlobStoreTest, ChunkedAppendsAcrossAcquiresGiveTheRightDigest) {
  ASSERT_TRUE(Succeeded(store_->CreateUpload("chunks")));
  std::string all;
  for (uint32_t i = 0; i < 40; ++i) {
    const std::string chunk = Bytes(1000 + 37 * i, i);
    auto up = MustAcquire("chunks");  // one PATCH request each
    ASSERT_NE(up, nullptr);
    ASSERT_EQ(up->Offset(), static_cast<int64_t>(all.size()));
    ASSERT_TRUE(Succeeded(up->Append(chunk)));
    all += chunk;
    ASSERT_EQ(up->CurrentDigest(), oci::Digest::Of(all)) << "after chunk " << i;
  }
  auto size =
      store_->Commit(MustAcquire("chunks"), oci::Digest::Of(all), static_cast<int64_t>(all.size()));
  ASSERT_TRUE(Succeeded(size));
  auto read = store_->ReadBlob(oci::Digest::Of(all), all.size());
  ASSERT_TRUE(Succeeded(read));
  EXPECT_EQ(*read, all);
}

// What makes N chunks cost O(n): the sha256 state is kept in memory between Acquires, so the
// data is not reread. Shown by changing the file behind the store's back (same size): the
// running store still reports the digest of what it was given; a restarted one rereads.
TEST_F(FilesystemBlobStoreTest, HashStateIsKeptInMemoryBetweenAcquires) {
  MakeUpload("kept", "aaaa");
  {
    auto fd = OpenFile(UploadDir("kept") + "/data", O_WRONLY);
    ASSERT_TRUE(Succeeded(fd));
    ASSERT_EQ(::pwrite(fd->get(), "bbbb", 4, 0), 4);
  }
  auto up = MustAcquire("kept");
  ASSERT_NE(up, nullptr);
  EXPECT_EQ(up->CurrentDigest(), oci::Digest::Of("aaaa"));
  up.reset();

  store_ = Open();
  up = MustAcquire("kept");
  ASSERT_NE(up, nullptr);
  EXPECT_EQ(up->CurrentDigest(), oci::Digest::Of("bbbb"));
}

// The saved state is trusted only while it covers exactly the bytes on disk.
TEST_F(FilesystemBlobStoreTest, SavedHashStateIsDroppedWhenTheDataChangedSize) {
  MakeUpload("grown", "aaaa");
  {
    auto fd = OpenFile(UploadDir("grown") + "/data", O_WRONLY | O_APPEND);
    ASSERT_TRUE(Succeeded(fd));
    ASSERT_TRUE(Succeeded(WriteAll(fd->get(), "bb")));
  }
  auto up = MustAcquire("grown");
  ASSERT_NE(up, nullptr);
  EXPECT_EQ(up->Offset(), 6);
  EXPECT_EQ(up->CurrentDigest(), oci::Digest::Of("aaaabb"));
}

// An upload removed behind the store's back and created again starts from a clean state.
TEST_F(FilesystemBlobStoreTest, CreateUploadForgetsTheStateOfAnEarlierUploadOfThatId) {
  MakeUpload("again", "aaaa");
  ASSERT_TRUE(Succeeded(RemoveAll(UploadDir("again"))));
  ASSERT_TRUE(Succeeded(store_->CreateUpload("again")));
  ASSERT_TRUE(Succeeded(WriteFileAtomic(UploadDir("again") + "/data", "bbbb")));
  auto up = MustAcquire("again");
  ASSERT_NE(up, nullptr);
  EXPECT_EQ(up->CurrentDigest(), oci::Digest::Of("bbbb"));
}

TEST_F(FilesystemBlobStoreTest, SyncThenCommitPublishesTheBlob) {
  MakeUpload("synced", "payload");
  auto up = MustAcquire("synced");
  ASSERT_NE(up, nullptr);
  ASSERT_TRUE(Succeeded(up->Sync()));
  EXPECT_EQ(up->Offset(), 7);  // syncing changes nothing of the upload
  auto size = store_->Commit(std::move(up), oci::Digest::Of("payload"));
  ASSERT_TRUE(Succeeded(size));
  EXPECT_EQ(*size, 7);
  EXPECT_EQ(*store_->ReadBlob(oci::Digest::Of("payload"), 100), "payload");
}

TEST_F(FilesystemBlobStoreTest, CommitWithTheWrongDigestRemovesTheUploadAndStoresNothing) {
  MakeUpload("bad", "real bytes");
  const oci::Digest claimed = oci::Digest::Of("other bytes");
  auto r = store_->Commit(MustAcquire("bad"), claimed);
  EXPECT_EQ(CodeOf(r), Code::kDataLoss);
  EXPECT_NE(r.error().message.find(claimed.ToString()), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("bad"), std::string::npos) << r.error().message;
  EXPECT_FALSE(PathExists(UploadDir("bad")));
  EXPECT_EQ(CodeOf(store_->Acquire("bad")), Code::kNotFound);
  EXPECT_EQ(CodeOf(store_->Stat(claimed)), Code::kNotFound);
  EXPECT_EQ(CodeOf(store_->Stat(oci::Digest::Of("real bytes"))), Code::kNotFound);
  EXPECT_TRUE(Blobs().empty());
  // The id is free again.
  EXPECT_TRUE(Succeeded(store_->CreateUpload("bad")));
}

TEST_F(FilesystemBlobStoreTest, CommitWithTheWrongSizeRemovesTheUploadAndStoresNothing) {
  MakeUpload("short", "12345");
  const oci::Digest d = oci::Digest::Of("12345");
  auto r = store_->Commit(MustAcquire("short"), d, 6);
  EXPECT_EQ(CodeOf(r), Code::kInvalidArgument);
  EXPECT_FALSE(PathExists(UploadDir("short")));
  EXPECT_EQ(CodeOf(store_->Stat(d)), Code::kNotFound);
  EXPECT_TRUE(Blobs().empty());
}

TEST_F(FilesystemBlobStoreTest, CommitOfAnExistingBlobKeepsItAndDropsTheData) {
  const std::string data = Bytes(4096, 7);
  auto put = store_->PutBlob(data);
  ASSERT_TRUE(Succeeded(put));
  struct stat before {};
  ASSERT_EQ(::stat(BlobFile(*put).c_str(), &before), 0);

  MakeUpload("dup", data);
  auto size = store_->Commit(MustAcquire("dup"), *put, 4096);
  ASSERT_TRUE(Succeeded(size));
  EXPECT_EQ(*size, 4096);
  struct stat after {};
  ASSERT_EQ(::stat(BlobFile(*put).c_str(), &after), 0);
  EXPECT_EQ(after.st_ino, before.st_ino);
  EXPECT_FALSE(PathExists(UploadDir("dup")));
  EXPECT_EQ(Blobs().size(), 1u);
}

TEST_F(FilesystemBlobStoreTest, CommitWithASha512DigestStoresUnderSha512) {
  const std::string data = Bytes(3000, 5);
  const oci::Digest d = oci::Digest::Of(data, oci::Algorithm::kSha512);
  MakeUpload("u", data);
  auto up = MustAcquire("u");
  ASSERT_NE(up, nullptr);
  EXPECT_EQ(up->CurrentDigest(oci::Algorithm::kSha512), d);
  ASSERT_TRUE(Succeeded(store_->Commit(std::move(up), d, 3000)));
  EXPECT_TRUE(PathExists(BlobFile(d)));
  auto info = store_->Stat(d);
  ASSERT_TRUE(Succeeded(info));
  EXPECT_EQ(info->size, 3000);
  EXPECT_EQ(CodeOf(store_->Stat(oci::Digest::Of(data))), Code::kNotFound);
}

TEST_F(FilesystemBlobStoreTest, CommitRefusesAnUploadOfAnotherStore) {
  ASSERT_TRUE(Succeeded(MakeDirs(base_ + "/other")));
  auto other = OpenFilesystemBlobStore(base_ + "/other");
  ASSERT_TRUE(Succeeded(other));
  MakeUpload("u", "x");
  EXPECT_EQ(CodeOf((*other)->Commit(MustAcquire("u"), oci::Digest::Of("x"))),
            Code::kInvalidArgument);
  EXPECT_EQ(CodeOf((*other)->Commit(nullptr, oci::Digest::Of("x"))), Code::kInvalidArgument);
  auto up = MustAcquire("u");  // released, untouched
  ASSERT_NE(up, nullptr);
  EXPECT_EQ(up->Offset(), 1);
}

TEST_F(FilesystemBlobStoreTest, UploadOutlivingItsStoreStaysUsable) {
  MakeUpload("u", "ab");
  auto up = MustAcquire("u");
  ASSERT_NE(up, nullptr);
  store_.reset();
  ASSERT_TRUE(Succeeded(up->Append("cd")));
  EXPECT_EQ(up->CurrentDigest(), oci::Digest::Of("abcd"));
  up.reset();
  store_ = Open();
  up = MustAcquire("u");
  ASSERT_NE(up, nullptr);
  EXPECT_EQ(up->CurrentDigest(), oci::Digest::Of("abcd"));
}

// A write that fails half-way (here EFBIG past RLIMIT_FSIZE) leaves the upload as it was
// before the call: same offset, same digest, no torn bytes in the file.
TEST_F(FilesystemBlobStoreTest, FailedAppendLeavesTheUploadAsBefore) {
  MakeUpload("full", "before");
  auto up = MustAcquire("full");
  ASSERT_NE(up, nullptr);
  struct rlimit old_limit {};
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &old_limit), 0);
  auto old_handler = ::signal(SIGXFSZ, SIG_IGN);
  struct rlimit small = old_limit;
  small.rlim_cur = 4096;
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &small), 0);
  Status st = up->Append(Bytes(10000, 3));
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &old_limit), 0);
  ::signal(SIGXFSZ, old_handler);

  EXPECT_FALSE(st);
  EXPECT_NE(st.error().message.find("full"), std::string::npos) << st.error().message;
  EXPECT_EQ(up->Offset(), 6);
  struct stat file {};
  ASSERT_EQ(::stat((UploadDir("full") + "/data").c_str(), &file), 0);
  EXPECT_EQ(file.st_size, 6);
  ASSERT_TRUE(Succeeded(up->Append("+after")));
  ASSERT_TRUE(Succeeded(store_->Commit(std::move(up), oci::Digest::Of("before+after"), 12)));
}

// ---- AppendFrom ----

TEST_F(FilesystemBlobStoreTest, AppendFromABlockingSocketReadsUpToMaxThenToEof) {
  int sv[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  UniqueFd reader(sv[0]);
  UniqueFd writer(sv[1]);
  const std::string body = Bytes(3 << 20, 42);  // more than a socket buffer
  std::thread sender([&] {
    EXPECT_TRUE(Succeeded(WriteAll(writer.get(), body)));
    writer.Reset();  // EOF
  });

  MakeUpload("sock", "");
  auto up = MustAcquire("sock");
  ASSERT_NE(up, nullptr);
  auto first = up->AppendFrom(reader.get(), 1000);
  ASSERT_TRUE(Succeeded(first));
  EXPECT_EQ(*first, 1000u);
  auto rest = up->AppendFrom(reader.get(), 64 << 20);
  ASSERT_TRUE(Succeeded(rest));
  EXPECT_EQ(*rest, body.size() - 1000);
  sender.join();
  auto eof = up->AppendFrom(reader.get(), 10);
  ASSERT_TRUE(Succeeded(eof));
  EXPECT_EQ(*eof, 0u);
  EXPECT_EQ(up->Offset(), static_cast<int64_t>(body.size()));
  EXPECT_EQ(up->CurrentDigest(), oci::Digest::Of(body));
  EXPECT_EQ(CodeOf(up->AppendFrom(reader.get(), 0)), Code::kInvalidArgument);
  ASSERT_TRUE(Succeeded(store_->Commit(std::move(up), oci::Digest::Of(body))));
  auto read = store_->ReadBlob(oci::Digest::Of(body), body.size());
  ASSERT_TRUE(Succeeded(read));
  EXPECT_TRUE(*read == body);
}

TEST_F(FilesystemBlobStoreTest, AppendFromANonBlockingSocketSaysWouldBlockWhenEmpty) {
  int sv[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv), 0);
  UniqueFd reader(sv[0]);
  UniqueFd writer(sv[1]);
  MakeUpload("nb", "");
  auto up = MustAcquire("nb");
  ASSERT_NE(up, nullptr);

  auto empty = up->AppendFrom(reader.get(), 1 << 20);
  EXPECT_EQ(CodeOf(empty), Code::kUnavailable);
  EXPECT_EQ(up->Offset(), 0);

  const std::string part1 = Bytes(5000, 1);
  ASSERT_TRUE(Succeeded(WriteAll(writer.get(), part1)));
  auto got = up->AppendFrom(reader.get(), 1 << 20);  // what is there, not 1 MiB
  ASSERT_TRUE(Succeeded(got));
  EXPECT_EQ(*got, part1.size());
  EXPECT_EQ(CodeOf(up->AppendFrom(reader.get(), 1 << 20)), Code::kUnavailable);

  const std::string part2 = Bytes(300, 2);
  ASSERT_TRUE(Succeeded(WriteAll(writer.get(), part2)));
  writer.Reset();
  got = up->AppendFrom(reader.get(), 1 << 20);  // data, then EOF: the data
  ASSERT_TRUE(Succeeded(got));
  EXPECT_EQ(*got, part2.size());
  got = up->AppendFrom(reader.get(), 1 << 20);  // then 0 for EOF, not Unavailable
  ASSERT_TRUE(Succeeded(got));
  EXPECT_EQ(*got, 0u);
  EXPECT_EQ(up->CurrentDigest(), oci::Digest::Of(part1 + part2));
}

TEST_F(FilesystemBlobStoreTest, AppendFromAReadErrorIsAnError) {
  MakeUpload("err", "x");
  auto up = MustAcquire("err");
  ASSERT_NE(up, nullptr);
  auto r = up->AppendFrom(-1, 10);
  EXPECT_FALSE(r);
  EXPECT_NE(CodeOf(r), Code::kUnavailable);
  EXPECT_EQ(up->Offset(), 1);
}

// ---- Ids, tmp/, listing, size ----

TEST_F(FilesystemBlobStoreTest, InvalidUploadIdsAreRejected) {
  for (const std::string& bad :
       {std::string(), std::string("."), std::string(".."), std::string("../escape"),
        std::string("a/b"), std::string("/abs"), std::string("a b"), std::string("a.b"),
        std::string("caf\xc3\xa9"), std::string("nul\0id", 6), std::string(129, 'a')}) {
    EXPECT_EQ(CodeOf(store_->CreateUpload(bad)), Code::kInvalidArgument) << bad;
    EXPECT_EQ(CodeOf(store_->Acquire(bad)), Code::kInvalidArgument) << bad;
    EXPECT_EQ(CodeOf(store_->DeleteUpload(bad)), Code::kInvalidArgument) << bad;
  }
  EXPECT_FALSE(PathExists(root_ + "/escape"));
  EXPECT_TRUE(Succeeded(store_->CreateUpload(std::string(128, 'a'))));
  EXPECT_TRUE(Succeeded(store_->CreateUpload("0")));
}

TEST_F(FilesystemBlobStoreTest, TmpLeftoversAreRemovedAtOpen) {
  ASSERT_TRUE(Succeeded(WriteFileAtomic(root_ + "/tmp/put-deadbeef", "half")));
  ASSERT_TRUE(Succeeded(MakeDirs(root_ + "/tmp/dir/sub")));
  ASSERT_TRUE(Succeeded(WriteFileAtomic(root_ + "/tmp/dir/sub/f", "f")));
  ASSERT_TRUE(Succeeded(MakeDirs(base_ + "/outside")));
  ASSERT_TRUE(Succeeded(WriteFileAtomic(base_ + "/outside/keep", "k")));
  ASSERT_EQ(::symlink((base_ + "/outside").c_str(), (root_ + "/tmp/link").c_str()), 0);
  MakeUpload("stays", "data");
  auto put = store_->PutBlob("blob");
  ASSERT_TRUE(Succeeded(put));

  store_ = Open();
  ASSERT_NE(store_, nullptr);
  EXPECT_EQ(::rmdir((root_ + "/tmp").c_str()), 0) << "tmp/ should be empty";
  EXPECT_TRUE(PathExists(base_ + "/outside/keep"));  // the symlink was not followed
  EXPECT_TRUE(PathExists(UploadDir("stays") + "/data"));
  EXPECT_TRUE(Succeeded(store_->Stat(*put)));
}

TEST_F(FilesystemBlobStoreTest, WalkUploadsListsEachUploadWithItsLastWrite) {
  const auto before = std::chrono::system_clock::now() - std::chrono::seconds(2);
  MakeUpload("one", "1");
  MakeUpload("two", "22");
  ASSERT_TRUE(Succeeded(MakeDirs(root_ + "/uploads/not.an.id")));
  const auto after = std::chrono::system_clock::now() + std::chrono::seconds(2);
  std::set<std::string> ids;
  Status st = store_->WalkUploads([&](const std::string& id, auto updated) {
    ids.insert(id);
    EXPECT_GT(updated, before) << id;
    EXPECT_LT(updated, after) << id;
    return Ok();
  });
  ASSERT_TRUE(Succeeded(st));
  EXPECT_EQ(ids, (std::set<std::string>{"one", "two"}));

  ASSERT_TRUE(Succeeded(store_->DeleteUpload("one")));
  int calls = 0;
  st = store_->WalkUploads([&](const std::string& id, auto) -> Status {
    ++calls;
    EXPECT_EQ(id, "two");
    return MakeError(Code::kCancelled, "stop");
  });
  EXPECT_EQ(CodeOf(st), Code::kCancelled);
  EXPECT_EQ(calls, 1);
}

TEST_F(FilesystemBlobStoreTest, LargeUploadInMiBChunks) {
  constexpr int kChunks = 64;
  constexpr size_t kChunk = 1 << 20;
  ASSERT_TRUE(Succeeded(store_->CreateUpload("big")));
  oci::Digester want;
  for (uint32_t i = 0; i < kChunks; ++i) {
    const std::string chunk = Bytes(kChunk, i);
    want.Update(chunk);
    auto up = MustAcquire("big");
    ASSERT_NE(up, nullptr);
    ASSERT_TRUE(Succeeded(up->Append(chunk)));
  }
  const oci::Digest d = want.Finish();
  auto size = store_->Commit(MustAcquire("big"), d, int64_t{kChunks} * int64_t{kChunk});
  ASSERT_TRUE(Succeeded(size));
  EXPECT_EQ(*size, int64_t{kChunks} * int64_t{kChunk});

  // Read the stored file back independently of the upload's hash.
  auto opened = store_->OpenBlob(d);
  ASSERT_TRUE(Succeeded(opened));
  EXPECT_EQ(opened->second, *size);
  oci::Digester check;
  std::string buf(kChunk, '\0');
  int64_t total = 0;
  while (true) {
    ssize_t n = ::read(opened->first.get(), buf.data(), buf.size());
    ASSERT_GE(n, 0);
    if (n == 0) break;
    check.Update(buf.data(), static_cast<size_t>(n));
    total += n;
  }
  EXPECT_EQ(total, *size);
  EXPECT_EQ(check.Finish(), d);
}

TEST_F(FilesystemBlobStoreTest, AvailableBytesIsWhatStatvfsGivesAnUnprivilegedWriter) {
  Result<uint64_t> available = store_->AvailableBytes();
  ASSERT_TRUE(Succeeded(available));
  struct statvfs st {};
  ASSERT_EQ(::statvfs(root_.c_str(), &st), 0);
  uint64_t expected = static_cast<uint64_t>(st.f_bavail) * st.f_frsize;
  // Other writers on the file system move it a little between the two calls.
  uint64_t diff = *available > expected ? *available - expected : expected - *available;
  EXPECT_LT(diff, uint64_t{1} << 30);
  EXPECT_LE(*available, static_cast<uint64_t>(st.f_blocks) * st.f_frsize);
}

}  // namespace
}  // namespace berth::storage
