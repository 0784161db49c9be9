// Conformance suite for content::Store implementations (after containerd's
// core/content/testsuite). Instantiate it with a factory type per implementation:
//
//   struct MyFactory {
//     // A fresh, empty store using `clock`; stays valid as long as the factory.
//     std::unique_ptr<content::Store> New(content::Clock clock, std::chrono::seconds expiry);
//   };
//   using Impls = ::testing::Types<MyFactory>;
//   INSTANTIATE_TYPED_TEST_SUITE_P(My, StoreConformanceTest, Impls);
//
// Only for tests; links GoogleTest.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "content/content.h"

namespace berth::content::testing {

// A settable clock for hermetic time-dependent tests. Thread-safe.
class FakeClock {
 public:
  FakeClock() : nanos_(1'700'000'000LL * 1'000'000'000LL) {}
  std::chrono::system_clock::time_point Now() const {
    return std::chrono::system_clock::time_point(
        std::chrono::duration_cast<std::chrono::system_clock::duration>(
            std::chrono::nanoseconds(nanos_.load())));
  }
  void Advance(std::chrono::nanoseconds d) { nanos_ += d.count(); }
  Clock AsClock() const {
    return [this] { return Now(); };
  }

 private:
  std::atomic<int64_t> nanos_;
};

template <typename Factory>
class StoreConformanceTest : public ::testing::Test {
 protected:
  static constexpr std::chrono::seconds kIngestExpiry = std::chrono::hours(1);
  void SetUp() override {
    store_ = factory_.New(clock_.AsClock(), kIngestExpiry);
    ASSERT_NE(store_, nullptr);
  }
  Store& store() { return *store_; }

  FakeClock clock_;
  Factory factory_;
  std::unique_ptr<Store> store_;
};

TYPED_TEST_SUITE_P(StoreConformanceTest);

void ConformanceIngestThenCommitMakesBlobReadable(Store& s);
void ConformanceCommitRejectsDigestMismatchAndDiscards(Store& s);
void ConformanceCommitRejectsSizeMismatchAndDiscards(Store& s);
void ConformanceWritePastExpectedSizeFails(Store& s);
void ConformanceResumesAfterWriterIsDropped(Store& s);
void ConformanceChangedExpectationRestartsIngest(Store& s);
void ConformanceLiveRefIsLocked(Store& s);
void ConformanceConcurrentWritersForOneRefGetOneLock(Store& s);
void ConformanceCommitOfExistingDigestSucceeds(Store& s);
void ConformanceReferencedBlobCannotBeDeleted(Store& s);
void ConformanceRemoveOwnerDropsItsReferences(Store& s);
void ConformanceGcRemovesOnlyUnreferencedOldBlobs(Store& s, FakeClock& clock);
void ConformanceGcRemovesStaleIngestsButNotLiveOnes(Store& s, FakeClock& clock,
                                                    std::chrono::seconds expiry);
void ConformanceSha512IsVerified(Store& s);
void ConformanceCommitChecksAnotherAlgorithmThanTheWriters(Store& s);
void ConformanceAbortRemovesIngest(Store& s);
void ConformanceLabelsAreStoredAndListed(Store& s);
void ConformanceWriteBlobRoundTrips(Store& s);
void ConformanceReaderExposesFdAndPath(Store& s);

#define BERTH_CONTENT_CONFORMANCE_(name, ...) \
  TYPED_TEST_P(StoreConformanceTest, name) { Conformance##name(__VA_ARGS__); }
BERTH_CONTENT_CONFORMANCE_(IngestThenCommitMakesBlobReadable, this->store())
BERTH_CONTENT_CONFORMANCE_(CommitRejectsDigestMismatchAndDiscards, this->store())
BERTH_CONTENT_CONFORMANCE_(CommitRejectsSizeMismatchAndDiscards, this->store())
BERTH_CONTENT_CONFORMANCE_(WritePastExpectedSizeFails, this->store())
BERTH_CONTENT_CONFORMANCE_(ResumesAfterWriterIsDropped, this->store())
BERTH_CONTENT_CONFORMANCE_(ChangedExpectationRestartsIngest, this->store())
BERTH_CONTENT_CONFORMANCE_(LiveRefIsLocked, this->store())
BERTH_CONTENT_CONFORMANCE_(ConcurrentWritersForOneRefGetOneLock, this->store())
BERTH_CONTENT_CONFORMANCE_(CommitOfExistingDigestSucceeds, this->store())
BERTH_CONTENT_CONFORMANCE_(ReferencedBlobCannotBeDeleted, this->store())
BERTH_CONTENT_CONFORMANCE_(RemoveOwnerDropsItsReferences, this->store())
BERTH_CONTENT_CONFORMANCE_(GcRemovesOnlyUnreferencedOldBlobs, this->store(), this->clock_)
BERTH_CONTENT_CONFORMANCE_(GcRemovesStaleIngestsButNotLiveOnes, this->store(), this->clock_,
                           TestFixture::kIngestExpiry)
BERTH_CONTENT_CONFORMANCE_(Sha512IsVerified, this->store())
BERTH_CONTENT_CONFORMANCE_(CommitChecksAnotherAlgorithmThanTheWriters, this->store())
BERTH_CONTENT_CONFORMANCE_(AbortRemovesIngest, this->store())
BERTH_CONTENT_CONFORMANCE_(LabelsAreStoredAndListed, this->store())
BERTH_CONTENT_CONFORMANCE_(WriteBlobRoundTrips, this->store())
BERTH_CONTENT_CONFORMANCE_(ReaderExposesFdAndPath, this->store())
#undef BERTH_CONTENT_CONFORMANCE_

REGISTER_TYPED_TEST_SUITE_P(StoreConformanceTest, IngestThenCommitMakesBlobReadable,
                            CommitRejectsDigestMismatchAndDiscards,
                            CommitRejectsSizeMismatchAndDiscards, WritePastExpectedSizeFails,
                            ResumesAfterWriterIsDropped, ChangedExpectationRestartsIngest,
                            LiveRefIsLocked, ConcurrentWritersForOneRefGetOneLock,
                            CommitOfExistingDigestSucceeds, ReferencedBlobCannotBeDeleted,
                            RemoveOwnerDropsItsReferences, GcRemovesOnlyUnreferencedOldBlobs,
                            GcRemovesStaleIngestsButNotLiveOnes, Sha512IsVerified,
                            CommitChecksAnotherAlgorithmThanTheWriters, AbortRemovesIngest,
                            LabelsAreStoredAndListed, WriteBlobRoundTrips, ReaderExposesFdAndPath);

}  // namespace berth::content::testing
