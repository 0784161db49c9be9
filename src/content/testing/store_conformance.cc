#include "content/testing/store_conformance.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <latch>
#include <thread>
#include <vector>

#include "base/file.h"

namespace berth::content::testing {
namespace {

using oci::Digest;

std::unique_ptr<IngestWriter> MustWriter(Store& s, const std::string& ref,
                                         std::optional<Digest> expected = std::nullopt,
                                         int64_t size = -1) {
  auto w = s.Writer(ref, expected, size);
  EXPECT_TRUE(w) << w.error().message;
  return w ? std::move(*w) : nullptr;
}

Digest MustCommit(Store& s, const std::string& ref, const std::string& data) {
  auto w = MustWriter(s, ref);
  if (!w) return Digest();
  EXPECT_TRUE(w->Write(data).ok());
  auto d = w->Commit(Digest::Of(data), static_cast<int64_t>(data.size()));
  EXPECT_TRUE(d) << d.error().message;
  return d ? *d : Digest();
}

bool HasIngest(Store& s, const std::string& ref) {
  auto list = s.ListIngests();
  EXPECT_TRUE(list);
  for (const auto& st : *list) {
    if (st.ref == ref) return true;
  }
  return false;
}

}  // namespace

void ConformanceIngestThenCommitMakesBlobReadable(Store& s) {
  const std::string data = "hello, content store";
  const Digest want = Digest::Of(data);
  auto w = MustWriter(s, "ref-1", want, static_cast<int64_t>(data.size()));
  ASSERT_NE(w, nullptr);
  ASSERT_TRUE(w->Write(data.substr(0, 5)).ok());
  EXPECT_EQ(w->Offset(), 5);
  EXPECT_EQ(w->Digest(), Digest::Of(data.substr(0, 5)));
  ASSERT_TRUE(w->Write(data.substr(5)).ok());
  EXPECT_EQ(w->Digest(), want);
  EXPECT_TRUE(HasIngest(s, "ref-1"));
  EXPECT_EQ(s.Info(want).error().code, Code::kNotFound) << "visible before commit";

  auto got = w->Commit(std::nullopt);
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(*got, want);
  auto info = s.Info(want);
  ASSERT_TRUE(info) << info.error().message;
  EXPECT_EQ(info->size, static_cast<int64_t>(data.size()));
  EXPECT_EQ(info->digest, want);
  auto read = ReadBlob(s, want, 1 << 20);
  ASSERT_TRUE(read) << read.error().message;
  EXPECT_EQ(*read, data);
  EXPECT_FALSE(HasIngest(s, "ref-1"));
  auto list = s.List();
  ASSERT_TRUE(list);
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].digest, want);
  EXPECT_EQ(w->Write("more").error().code, Code::kFailedPrecondition) << "closed after commit";
}

void ConformanceCommitRejectsDigestMismatchAndDiscards(Store& s) {
  const Digest other = Digest::Of("something else");
  auto w = MustWriter(s, "ref-bad");
  ASSERT_NE(w, nullptr);
  ASSERT_TRUE(w->Write("actual bytes").ok());
  auto got = w->Commit(other);
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code, Code::kDataLoss);
  EXPECT_NE(got.error().message.find("digest mismatch: expected " + other.ToString() + " got " +
                                     Digest::Of("actual bytes").ToString()),
            std::string::npos)
      << got.error().message;
  EXPECT_EQ(s.Info(Digest::Of("actual bytes")).error().code, Code::kNotFound);
  EXPECT_EQ(s.Info(other).error().code, Code::kNotFound);
  EXPECT_FALSE(HasIngest(s, "ref-bad"));
  EXPECT_EQ(w->Commit(std::nullopt).error().code, Code::kFailedPrecondition);
  // The ref is free again and starts from zero.
  auto again = MustWriter(s, "ref-bad");
  ASSERT_NE(again, nullptr);
  EXPECT_EQ(again->Offset(), 0);
}

void ConformanceCommitRejectsSizeMismatchAndDiscards(Store& s) {
  const std::string data = "twelve bytes";
  auto w = MustWriter(s, "ref-size");
  ASSERT_NE(w, nullptr);
  ASSERT_TRUE(w->Write(data).ok());
  auto got = w->Commit(Digest::Of(data), 13);
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code, Code::kDataLoss);
  EXPECT_NE(got.error().message.find("unexpected commit size 12, expected 13"), std::string::npos)
      << got.error().message;
  EXPECT_EQ(s.Info(Digest::Of(data)).error().code, Code::kNotFound);
  EXPECT_FALSE(HasIngest(s, "ref-size"));
}

void ConformanceWritePastExpectedSizeFails(Store& s) {
  auto w = MustWriter(s, "ref-past", std::nullopt, 4);
  ASSERT_NE(w, nullptr);
  ASSERT_TRUE(w->Write("abc").ok());
  Status st = w->Write("de");
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, Code::kDataLoss);
  EXPECT_EQ(w->Offset(), 3);
  ASSERT_TRUE(w->Write("d").ok());
  EXPECT_TRUE(w->Commit(Digest::Of("abcd")).ok());
}

void ConformanceResumesAfterWriterIsDropped(Store& s) {
  const std::string data(300000, 'x');
  const Digest want = Digest::Of(data);
  {
    auto w = MustWriter(s, "ref-resume", want, static_cast<int64_t>(data.size()));
    ASSERT_NE(w, nullptr);
    ASSERT_TRUE(w->Write(std::string_view(data).substr(0, 100000)).ok());
  }
  auto list = s.ListIngests();
  ASSERT_TRUE(list);
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].ref, "ref-resume");
  EXPECT_EQ((*list)[0].offset, 100000);
  EXPECT_EQ((*list)[0].expected_size, 300000);
  ASSERT_TRUE((*list)[0].expected.has_value());
  EXPECT_EQ(*(*list)[0].expected, want);

  // Resuming without restating the expectation keeps the recorded one.
  auto w = MustWriter(s, "ref-resume");
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(w->Offset(), 100000);
  EXPECT_EQ(w->Digest(), Digest::Of(std::string_view(data).substr(0, 100000)));
  ASSERT_TRUE(w->Write(std::string_view(data).substr(100000)).ok());
  auto got = w->Commit(std::nullopt);
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(*got, want);
  auto read = ReadBlob(s, want, 1 << 20);
  ASSERT_TRUE(read);
  EXPECT_EQ(*read, data);
}

void ConformanceChangedExpectationRestartsIngest(Store& s) {
  {
    auto w = MustWriter(s, "ref-change", Digest::Of("first"), 5);
    ASSERT_NE(w, nullptr);
    ASSERT_TRUE(w->Write("fir").ok());
  }
  auto w = MustWriter(s, "ref-change", Digest::Of("second"), 6);
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(w->Offset(), 0);
  ASSERT_TRUE(w->Write("second").ok());
  EXPECT_TRUE(w->Commit(std::nullopt).ok());
}

void ConformanceLiveRefIsLocked(Store& s) {
  auto first = MustWriter(s, "ref-locked");
  ASSERT_NE(first, nullptr);
  auto second = s.Writer("ref-locked", std::nullopt, -1);
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().code, Code::kUnavailable);
  EXPECT_NE(second.error().message.find("ref locked"), std::string::npos);
  EXPECT_TRUE(MustWriter(s, "another-ref") != nullptr) << "locks are per ref";
  first.reset();
  EXPECT_TRUE(MustWriter(s, "ref-locked") != nullptr) << "released when the writer goes";
}

void ConformanceConcurrentWritersForOneRefGetOneLock(Store& s) {
  constexpr int kThreads = 8;
  std::latch tried(kThreads);
  std::atomic<int> won{0}, locked{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&] {
      auto w = s.Writer("ref-race", std::nullopt, -1);
      if (w) {
        ++won;
      } else if (w.error().code == Code::kUnavailable) {
        ++locked;
      }
      tried.arrive_and_wait();  // hold any writer until every thread has tried
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(won.load(), 1);
  EXPECT_EQ(locked.load(), kThreads - 1);
}

void ConformanceCommitOfExistingDigestSucceeds(Store& s) {
  const Digest d1 = MustCommit(s, "ref-a", "same bytes");
  const Digest d2 = MustCommit(s, "ref-b", "same bytes");
  EXPECT_EQ(d1, d2);
  auto list = s.List();
  ASSERT_TRUE(list);
  EXPECT_EQ(list->size(), 1u);
  EXPECT_FALSE(HasIngest(s, "ref-b"));
}

void ConformanceReferencedBlobCannotBeDeleted(Store& s) {
  const Digest d = MustCommit(s, "ref", "referenced");
  ASSERT_TRUE(s.AddReference(d, "image:sha256:abc").ok());
  ASSERT_TRUE(s.AddReference(d, "image:sha256:abc").ok()) << "idempotent";
  Status st = s.Delete(d);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, Code::kFailedPrecondition);
  EXPECT_NE(st.error().message.find("image:sha256:abc"), std::string::npos);
  EXPECT_TRUE(s.Info(d).ok());
  auto owners = s.Owners(d);
  ASSERT_TRUE(owners);
  EXPECT_EQ(*owners, std::vector<std::string>{"image:sha256:abc"});
  ASSERT_TRUE(s.RemoveReference(d, "image:sha256:abc").ok());
  EXPECT_EQ(s.RemoveReference(d, "image:sha256:abc").error().code, Code::kNotFound);
  ASSERT_TRUE(s.Delete(d).ok());
  EXPECT_EQ(s.Info(d).error().code, Code::kNotFound);
  EXPECT_EQ(s.Delete(d).error().code, Code::kNotFound);
}

void ConformanceRemoveOwnerDropsItsReferences(Store& s) {
  const Digest a = MustCommit(s, "a", "blob a");
  const Digest b = MustCommit(s, "b", "blob b");
  ASSERT_TRUE(s.AddReference(a, "lease:pull-1").ok());
  ASSERT_TRUE(s.AddReference(b, "lease:pull-1").ok());
  ASSERT_TRUE(s.AddReference(b, "image:x").ok());
  ASSERT_TRUE(s.AddReference(b, "lease:pull-2").ok());
  auto leases = s.OwnersWithPrefix("lease:");
  ASSERT_TRUE(leases);
  EXPECT_EQ(*leases, (std::vector<std::string>{"lease:pull-1", "lease:pull-2"}));
  EXPECT_EQ(*s.OwnersWithPrefix("lease:pull-1"), std::vector<std::string>{"lease:pull-1"});
  EXPECT_TRUE(s.OwnersWithPrefix("nobody:")->empty());
  ASSERT_TRUE(s.RemoveOwner("lease:pull-2").ok());
  auto n = s.RemoveOwner("lease:pull-1");
  ASSERT_TRUE(n);
  EXPECT_EQ(*n, 2);
  EXPECT_TRUE(s.Delete(a).ok());
  EXPECT_EQ(s.Delete(b).error().code, Code::kFailedPrecondition);
}

void ConformanceGcRemovesOnlyUnreferencedOldBlobs(Store& s, FakeClock& clock) {
  const Digest kept_ref = MustCommit(s, "1", "old but referenced");
  const Digest old = MustCommit(s, "2", "old and unreferenced");
  ASSERT_TRUE(s.AddReference(kept_ref, "image:1").ok());
  // A lease taken before the blob lands protects it too.
  const Digest leased = Digest::Of("leased before commit");
  ASSERT_TRUE(s.AddReference(leased, "lease:pull-9").ok());
  MustCommit(s, "3", "leased before commit");
  clock.Advance(std::chrono::minutes(20));
  const Digest young = MustCommit(s, "4", "young and unreferenced");
  clock.Advance(std::chrono::minutes(5));

  auto stats = s.GarbageCollect(std::chrono::minutes(10));
  ASSERT_TRUE(stats) << stats.error().message;
  EXPECT_EQ(stats->blobs_removed, 1);
  EXPECT_EQ(stats->bytes_removed, static_cast<int64_t>(std::string("old and unreferenced").size()));
  EXPECT_EQ(s.Info(old).error().code, Code::kNotFound);
  EXPECT_TRUE(s.Info(kept_ref).ok());
  EXPECT_TRUE(s.Info(leased).ok());
  EXPECT_TRUE(s.Info(young).ok());

  // Re-committing an old blob restarts its grace period.
  clock.Advance(std::chrono::minutes(30));
  MustCommit(s, "5", "young and unreferenced");
  stats = s.GarbageCollect(std::chrono::minutes(10));
  ASSERT_TRUE(stats);
  EXPECT_EQ(stats->blobs_removed, 0);
  EXPECT_TRUE(s.Info(young).ok());
}

void ConformanceGcRemovesStaleIngestsButNotLiveOnes(Store& s, FakeClock& clock,
                                                    std::chrono::seconds expiry) {
  {
    auto w = MustWriter(s, "stale");
    ASSERT_NE(w, nullptr);
    ASSERT_TRUE(w->Write("partial").ok());
  }
  auto live = MustWriter(s, "live");
  ASSERT_NE(live, nullptr);
  ASSERT_TRUE(live->Write("partial").ok());
  clock.Advance(expiry / 2);
  {
    auto w = MustWriter(s, "recent");
    ASSERT_NE(w, nullptr);
  }
  clock.Advance(expiry / 2 + std::chrono::seconds(1));
  auto stats = s.GarbageCollect(std::chrono::hours(1000));
  ASSERT_TRUE(stats) << stats.error().message;
  EXPECT_EQ(stats->ingests_removed, 1);
  EXPECT_FALSE(HasIngest(s, "stale"));
  EXPECT_TRUE(HasIngest(s, "live"));
  EXPECT_TRUE(HasIngest(s, "recent"));
  ASSERT_TRUE(live->Write(" and more").ok());
  EXPECT_TRUE(live->Commit(Digest::Of("partial and more")).ok());
}

void ConformanceSha512IsVerified(Store& s) {
  const std::string data = "sha512 content";
  const Digest want = Digest::Of(data, oci::Algorithm::kSha512);
  auto w = MustWriter(s, "ref-512", want, static_cast<int64_t>(data.size()));
  ASSERT_NE(w, nullptr);
  ASSERT_TRUE(w->Write(data).ok());
  EXPECT_EQ(w->Digest(), want);
  auto got = w->Commit(std::nullopt);
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(*got, want);
  auto read = ReadBlob(s, want, 1024);
  ASSERT_TRUE(read);
  EXPECT_EQ(*read, data);
  EXPECT_EQ(s.Info(Digest::Of(data)).error().code, Code::kNotFound) << "stored under sha512 only";

  auto bad = MustWriter(s, "ref-512-bad", Digest::Of("x", oci::Algorithm::kSha512), -1);
  ASSERT_NE(bad, nullptr);
  ASSERT_TRUE(bad->Write("y").ok());
  EXPECT_EQ(bad->Commit(std::nullopt).error().code, Code::kDataLoss);
}

void ConformanceCommitChecksAnotherAlgorithmThanTheWriters(Store& s) {
  const std::string data = "unknown digest at start";
  auto w = MustWriter(s, "ref-alg");
  ASSERT_NE(w, nullptr);
  ASSERT_TRUE(w->Write(data).ok());
  const Digest want = Digest::Of(data, oci::Algorithm::kSha512);
  auto got = w->Commit(want);
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(*got, want);
  EXPECT_TRUE(s.Info(want).ok());
}

void ConformanceAbortRemovesIngest(Store& s) {
  auto w = MustWriter(s, "ref-abort");
  ASSERT_NE(w, nullptr);
  ASSERT_TRUE(w->Write("data").ok());
  EXPECT_EQ(s.Abort("ref-abort").error().code, Code::kUnavailable) << "live writer";
  ASSERT_TRUE(w->Abort().ok());
  EXPECT_FALSE(HasIngest(s, "ref-abort"));
  EXPECT_EQ(s.Abort("ref-abort").error().code, Code::kNotFound);
  {
    auto dropped = MustWriter(s, "ref-abort-2");
    ASSERT_NE(dropped, nullptr);
    ASSERT_TRUE(dropped->Write("data").ok());
  }
  ASSERT_TRUE(s.Abort("ref-abort-2").ok());
  EXPECT_FALSE(HasIngest(s, "ref-abort-2"));
  auto again = MustWriter(s, "ref-abort-2");
  ASSERT_NE(again, nullptr);
  EXPECT_EQ(again->Offset(), 0);
}

void ConformanceLabelsAreStoredAndListed(Store& s) {
  const Digest d = MustCommit(s, "ref", "labelled");
  ASSERT_TRUE(s.SetLabels(d, {{"berth.gc.root", "1"}, {"k", "v"}}).ok());
  auto info = s.Info(d);
  ASSERT_TRUE(info);
  EXPECT_EQ(info->labels, (Labels{{"berth.gc.root", "1"}, {"k", "v"}}));
  ASSERT_TRUE(s.SetLabels(d, {{"k", "w"}}).ok());
  int seen = 0;
  ASSERT_TRUE(s.Walk([&](const content::Info& i) {
                 ++seen;
                 EXPECT_EQ(i.labels, (Labels{{"k", "w"}}));
                 return Ok();
               }).ok());
  EXPECT_EQ(seen, 1);
  EXPECT_EQ(s.SetLabels(Digest::Of("absent"), {}).error().code, Code::kNotFound);
  Status stop =
      s.Walk([](const content::Info&) { return Status(MakeError(Code::kCancelled, "stop")); });
  EXPECT_EQ(stop.error().code, Code::kCancelled);
}

void ConformanceWriteBlobRoundTrips(Store& s) {
  const std::string manifest = R"({"schemaVersion":2})";
  auto d = WriteBlob(s, manifest, Digest::Of(manifest));
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_EQ(*d, Digest::Of(manifest));
  auto unchecked = WriteBlob(s, "config", std::nullopt);
  ASSERT_TRUE(unchecked);
  EXPECT_EQ(*unchecked, Digest::Of("config"));
  auto bad = WriteBlob(s, manifest, Digest::Of("other"));
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, Code::kDataLoss);
  auto read = ReadBlob(s, *d, 1024);
  ASSERT_TRUE(read);
  EXPECT_EQ(*read, manifest);
  EXPECT_EQ(ReadBlob(s, *d, 3).error().code, Code::kResourceExhausted);
  auto ingests = s.ListIngests();
  ASSERT_TRUE(ingests);
  EXPECT_TRUE(ingests->empty());
}

void ConformanceReaderExposesFdAndPath(Store& s) {
  const std::string data = "0123456789";
  const Digest d = MustCommit(s, "ref", data);
  auto r = s.Open(d);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ((*r)->size(), 10);
  ASSERT_GE((*r)->fd(), 0);
  struct stat st {};
  ASSERT_EQ(::fstat((*r)->fd(), &st), 0);
  EXPECT_EQ(st.st_size, 10);
  char buf[4];
  auto n = (*r)->ReadAt(buf, sizeof(buf), 6);
  ASSERT_TRUE(n);
  EXPECT_EQ(std::string(buf, *n), "6789");
  auto path = s.Path(d);
  ASSERT_TRUE(path);
  auto via_path = ReadFile(*path);
  ASSERT_TRUE(via_path) << via_path.error().message;
  EXPECT_EQ(*via_path, data);
  EXPECT_EQ(s.Open(Digest::Of("absent")).error().code, Code::kNotFound);
  EXPECT_EQ(s.Path(Digest::Of("absent")).error().code, Code::kNotFound);
}

}  // namespace berth::content::testing
