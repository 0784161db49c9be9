// Conformance suite for Snapshotter implementations (after containerd's
// core/snapshots/testsuite). It checks the lifecycle and metadata contract without mounting
// anything, writing layer content through UpperPath(). Instantiate with a factory per
// implementation:
//
//   struct MyFactory {
//     std::unique_ptr<snapshot::Snapshotter> New();  // fresh and empty; lives with the factory
//   };
//   INSTANTIATE_TYPED_TEST_SUITE_P(My, SnapshotterConformanceTest, ::testing::Types<MyFactory>);
//
// Root-only mount behaviour is in tests/privileged/snapshot/. Only for tests; links GoogleTest.
#pragma once

#include <memory>

#include <gtest/gtest.h>

#include "snapshot/snapshotter.h"

namespace berth::snapshot::testing {

template <typename Factory>
class SnapshotterConformanceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    sn_ = factory_.New();
    ASSERT_NE(sn_, nullptr);
  }
  Snapshotter& sn() { return *sn_; }

  Factory factory_;
  std::unique_ptr<Snapshotter> sn_;
};

TYPED_TEST_SUITE_P(SnapshotterConformanceTest);

void ConformancePrepareCommitStat(Snapshotter& sn);
void ConformancePrepareRejectsTakenKeyAndBadParent(Snapshotter& sn);
void ConformanceCommitOnlyFromActive(Snapshotter& sn);
void ConformanceRemoveRefusesSnapshotWithChildren(Snapshotter& sn);
void ConformanceViewHasNoUpperAndCannotCommit(Snapshotter& sn);
void ConformanceCommittedUsageCountsUpperWrites(Snapshotter& sn);
void ConformanceWalkAndListReportEverySnapshot(Snapshotter& sn);
void ConformanceMountsRepeatPrepareAndRefuseCommitted(Snapshotter& sn);
void ConformanceLabelsAreStored(Snapshotter& sn);
void ConformanceHasCommittedFindsOnlyCommittedNames(Snapshotter& sn);

#define BERTH_SNAPSHOT_CONFORMANCE_(name) \
  TYPED_TEST_P(SnapshotterConformanceTest, name) { Conformance##name(this->sn()); }
BERTH_SNAPSHOT_CONFORMANCE_(PrepareCommitStat)
BERTH_SNAPSHOT_CONFORMANCE_(PrepareRejectsTakenKeyAndBadParent)
BERTH_SNAPSHOT_CONFORMANCE_(CommitOnlyFromActive)
BERTH_SNAPSHOT_CONFORMANCE_(RemoveRefusesSnapshotWithChildren)
BERTH_SNAPSHOT_CONFORMANCE_(ViewHasNoUpperAndCannotCommit)
BERTH_SNAPSHOT_CONFORMANCE_(CommittedUsageCountsUpperWrites)
BERTH_SNAPSHOT_CONFORMANCE_(WalkAndListReportEverySnapshot)
BERTH_SNAPSHOT_CONFORMANCE_(MountsRepeatPrepareAndRefuseCommitted)
BERTH_SNAPSHOT_CONFORMANCE_(LabelsAreStored)
BERTH_SNAPSHOT_CONFORMANCE_(HasCommittedFindsOnlyCommittedNames)
#undef BERTH_SNAPSHOT_CONFORMANCE_

REGISTER_TYPED_TEST_SUITE_P(SnapshotterConformanceTest, PrepareCommitStat,
                            PrepareRejectsTakenKeyAndBadParent, CommitOnlyFromActive,
                            RemoveRefusesSnapshotWithChildren, ViewHasNoUpperAndCannotCommit,
                            CommittedUsageCountsUpperWrites, WalkAndListReportEverySnapshot,
                            MountsRepeatPrepareAndRefuseCommitted, LabelsAreStored,
                            HasCommittedFindsOnlyCommittedNames);

}  // namespace berth::snapshot::testing
