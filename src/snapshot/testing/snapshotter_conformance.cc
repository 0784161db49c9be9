#include "snapshot/testing/snapshotter_conformance.h"

#include <string>

#include "base/file.h"

namespace berth::snapshot::testing {
namespace {

void WriteUpper(Snapshotter& sn, const std::string& key, const std::string& file,
                const std::string& data) {
  auto upper = sn.UpperPath(key);
  ASSERT_TRUE(upper) << upper.error().message;
  ASSERT_TRUE(WriteFileAtomic(*upper + "/" + file, data).ok());
}

void MustLayer(Snapshotter& sn, const std::string& name, const std::string& parent) {
  auto m = sn.Prepare("extract-" + name, parent);
  ASSERT_TRUE(m) << m.error().message;
  ASSERT_TRUE(sn.Commit(name, "extract-" + name).ok());
}

}  // namespace

void ConformancePrepareCommitStat(Snapshotter& sn) {
  auto m = sn.Prepare("unpack-1", "");
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_FALSE(m->empty());
  auto info = sn.Stat("unpack-1");
  ASSERT_TRUE(info);
  EXPECT_EQ(info->kind, Kind::kActive);
  EXPECT_EQ(info->name, "unpack-1");
  EXPECT_EQ(info->parent, "");
  WriteUpper(sn, "unpack-1", "hello", "world");
  ASSERT_TRUE(sn.Commit("sha256:layer1", "unpack-1").ok());
  EXPECT_EQ(sn.Stat("unpack-1").error().code, Code::kNotFound) << "the key is gone after commit";
  info = sn.Stat("sha256:layer1");
  ASSERT_TRUE(info);
  EXPECT_EQ(info->kind, Kind::kCommitted);
  auto layer = sn.LayerPath("sha256:layer1");
  ASSERT_TRUE(layer) << layer.error().message;
  auto hello = ReadFile(*layer + "/hello");
  ASSERT_TRUE(hello) << "the committed layer's tree holds what was written into the upper";
  EXPECT_EQ(*hello, "world");

  ASSERT_TRUE(sn.Prepare("ctr", "sha256:layer1"));
  info = sn.Stat("ctr");
  ASSERT_TRUE(info);
  EXPECT_EQ(info->parent, "sha256:layer1");
}

void ConformancePrepareRejectsTakenKeyAndBadParent(Snapshotter& sn) {
  ASSERT_TRUE(sn.Prepare("a", ""));
  EXPECT_EQ(sn.Prepare("a", "").error().code, Code::kAlreadyExists);
  EXPECT_EQ(sn.View("a", "").error().code, Code::kAlreadyExists);
  EXPECT_EQ(sn.Prepare("b", "missing").error().code, Code::kNotFound);
  EXPECT_EQ(sn.Prepare("c", "a").error().code, Code::kFailedPrecondition) << "active parent";
  EXPECT_EQ(sn.Prepare("", "").error().code, Code::kInvalidArgument);
  auto list = sn.List();
  ASSERT_TRUE(list);
  EXPECT_EQ(list->size(), 1u) << "failed creations leave nothing behind";
}

void ConformanceCommitOnlyFromActive(Snapshotter& sn) {
  MustLayer(sn, "sha256:l1", "");
  EXPECT_EQ(sn.Commit("x", "sha256:l1").error().code, Code::kFailedPrecondition);
  EXPECT_EQ(sn.Commit("x", "missing").error().code, Code::kNotFound);
  ASSERT_TRUE(sn.Prepare("active", "sha256:l1"));
  EXPECT_EQ(sn.Commit("sha256:l1", "active").error().code, Code::kAlreadyExists);
  EXPECT_EQ(sn.Stat("active")->kind, Kind::kActive) << "failed commit leaves it active";
}

void ConformanceRemoveRefusesSnapshotWithChildren(Snapshotter& sn) {
  MustLayer(sn, "sha256:base", "");
  MustLayer(sn, "sha256:top", "sha256:base");
  ASSERT_TRUE(sn.Prepare("ctr", "sha256:top"));
  Status st = sn.Remove("sha256:top");
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, Code::kFailedPrecondition);
  EXPECT_NE(st.error().message.find("ctr"), std::string::npos) << st.error().message;
  EXPECT_EQ(sn.Remove("sha256:base").error().code, Code::kFailedPrecondition);
  ASSERT_TRUE(sn.Remove("ctr").ok());
  ASSERT_TRUE(sn.Remove("sha256:top").ok());
  ASSERT_TRUE(sn.Remove("sha256:base").ok());
  EXPECT_EQ(sn.Stat("sha256:base").error().code, Code::kNotFound);
  EXPECT_EQ(sn.Remove("sha256:base").error().code, Code::kNotFound);
}

void ConformanceViewHasNoUpperAndCannotCommit(Snapshotter& sn) {
  MustLayer(sn, "sha256:l1", "");
  auto m = sn.View("v", "sha256:l1");
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_EQ(sn.Stat("v")->kind, Kind::kView);
  EXPECT_EQ(sn.UpperPath("v").error().code, Code::kFailedPrecondition);
  EXPECT_EQ(sn.Commit("name", "v").error().code, Code::kFailedPrecondition);
  EXPECT_EQ(sn.UpperPath("sha256:l1").error().code, Code::kFailedPrecondition);
  EXPECT_EQ(sn.LayerPath("v").error().code, Code::kFailedPrecondition);
  ASSERT_TRUE(sn.Remove("v").ok());
}

void ConformanceCommittedUsageCountsUpperWrites(Snapshotter& sn) {
  ASSERT_TRUE(sn.Prepare("u", ""));
  auto empty = sn.Usage("u");
  ASSERT_TRUE(empty);
  EXPECT_EQ(empty->inodes, 1) << "just the root";
  WriteUpper(sn, "u", "a", std::string(10000, 'a'));
  WriteUpper(sn, "u", "b", "b");
  auto active = sn.Usage("u");
  ASSERT_TRUE(active);
  EXPECT_EQ(active->inodes, 3);
  EXPECT_GE(active->size, 10000);
  ASSERT_TRUE(sn.Commit("sha256:u", "u").ok());
  auto committed = sn.Usage("sha256:u");
  ASSERT_TRUE(committed);
  EXPECT_EQ(committed->inodes, 3);
  EXPECT_EQ(committed->size, active->size);
}

void ConformanceWalkAndListReportEverySnapshot(Snapshotter& sn) {
  MustLayer(sn, "sha256:l1", "");
  ASSERT_TRUE(sn.Prepare("ctr", "sha256:l1"));
  ASSERT_TRUE(sn.View("view", "sha256:l1"));
  std::map<std::string, Info> seen;
  ASSERT_TRUE(sn.Walk([&](const Info& i) {
                  seen[i.name] = i;
                  return Ok();
                }).ok());
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen["sha256:l1"].kind, Kind::kCommitted);
  EXPECT_EQ(seen["ctr"].kind, Kind::kActive);
  EXPECT_EQ(seen["ctr"].parent, "sha256:l1");
  EXPECT_EQ(seen["view"].kind, Kind::kView);
  auto list = sn.List();
  ASSERT_TRUE(list);
  EXPECT_EQ(list->size(), 3u);
  Status stop = sn.Walk([](const Info&) { return Status(MakeError(Code::kCancelled, "stop")); });
  EXPECT_EQ(stop.error().code, Code::kCancelled);
}

void ConformanceMountsRepeatPrepareAndRefuseCommitted(Snapshotter& sn) {
  MustLayer(sn, "sha256:l1", "");
  auto prepared = sn.Prepare("ctr", "sha256:l1");
  ASSERT_TRUE(prepared);
  auto again = sn.Mounts("ctr");
  ASSERT_TRUE(again);
  EXPECT_EQ(*prepared, *again);
  EXPECT_EQ(sn.Mounts("sha256:l1").error().code, Code::kFailedPrecondition);
  EXPECT_EQ(sn.Mounts("missing").error().code, Code::kNotFound);
}

void ConformanceLabelsAreStored(Snapshotter& sn) {
  ASSERT_TRUE(sn.Prepare("a", ""));
  ASSERT_TRUE(sn.SetLabels("a", {{"berth.image", "alpine"}}).ok());
  EXPECT_EQ(sn.Stat("a")->labels, (Labels{{"berth.image", "alpine"}}));
  ASSERT_TRUE(sn.Commit("sha256:a", "a").ok());
  EXPECT_EQ(sn.Stat("sha256:a")->labels, (Labels{{"berth.image", "alpine"}})) << "kept by commit";
  ASSERT_TRUE(sn.SetLabels("sha256:a", {}).ok());
  EXPECT_TRUE(sn.Stat("sha256:a")->labels.empty());
  EXPECT_EQ(sn.SetLabels("missing", {}).error().code, Code::kNotFound);
}

void ConformanceHasCommittedFindsOnlyCommittedNames(Snapshotter& sn) {
  MustLayer(sn, "sha256:chain", "");
  ASSERT_TRUE(sn.Prepare("active", ""));
  EXPECT_TRUE(*sn.HasCommitted("sha256:chain"));
  EXPECT_FALSE(*sn.HasCommitted("active"));
  EXPECT_FALSE(*sn.HasCommitted("sha256:other"));
}

}  // namespace berth::snapshot::testing
