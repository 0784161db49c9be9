// SqliteRegistryMeta: every RegistryMeta method on a file database, transactions joined with a
// caller's, GC mark/sweep races, and reopening.
#include <stdlib.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "base/file.h"
#include "meta/registry_meta.h"
#include "sql/database.h"

namespace berth::meta {
namespace {

using oci::Digest;
using std::chrono::hours;
using std::chrono::minutes;
using Strings = std::vector<std::string>;

// A fixed, injected clock: tests move it by hand.
const TimePoint kT0 = TimePoint(hours(24 * 365 * 50));

class SqliteRegistryMetaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/berth-meta-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    Reopen();
  }
  void TearDown() override {
    meta_.reset();
    db_.reset();
    ASSERT_TRUE(RemoveAll(dir_).ok());
  }

  void Reopen() {
    meta_.reset();
    db_.reset();
    auto db = sql::Database::Open(dir_ + "/registry.db");
    ASSERT_TRUE(db) << db.error().message;
    db_ = std::move(*db);
    auto meta = OpenSqliteRegistryMeta(*db_);
    ASSERT_TRUE(meta) << meta.error().message;
    meta_ = std::move(*meta);
  }

  // Adds blob `data` to `repo` at `t`; returns its digest.
  Digest Blob(const std::string& repo, const std::string& data, TimePoint t = kT0) {
    Digest d = Digest::Of(data);
    Status s = meta_->AddBlob(repo, d, static_cast<int64_t>(data.size()), t);
    EXPECT_TRUE(s.ok()) << s.error().message;
    return d;
  }

  // A manifest whose bytes are `data`, added as a blob to `repo` first, as the registry does.
  ManifestRecord Manifest(const std::string& repo, const std::string& data, TimePoint t = kT0) {
    ManifestRecord m;
    m.digest = Blob(repo, data, t);
    m.media_type = "application/vnd.oci.image.manifest.v1+json";
    m.size = static_cast<int64_t>(data.size());
    return m;
  }

  Strings TagsOf(const std::string& repo, Page page = {}) {
    auto tags = meta_->Tags(repo, page);
    EXPECT_TRUE(tags) << tags.error().message;
    return tags ? *tags : Strings{"<error>"};
  }

  Strings Repos(Page page = {}) {
    auto repos = meta_->Repositories(page);
    EXPECT_TRUE(repos) << repos.error().message;
    return repos ? *repos : Strings{"<error>"};
  }

  std::vector<Digest> Candidates(TimePoint before) {
    auto c = meta_->UnreferencedBlobs(before);
    EXPECT_TRUE(c) << c.error().message;
    std::vector<Digest> out;
    if (c) {
      for (const GcCandidate& g : *c) out.push_back(g.digest);
    }
    return out;
  }

  std::string dir_;
  std::unique_ptr<sql::Database> db_;
  std::unique_ptr<RegistryMeta> meta_;
};

// --- blobs

TEST_F(SqliteRegistryMetaTest, AddBlobLinksItAndCreatesTheRepository) {
  EXPECT_EQ(meta_->Tags("library/alpine", {}).error().code, Code::kNotFound);
  Digest d = Blob("library/alpine", "layer");
  EXPECT_EQ(*meta_->LinkedBlobSize("library/alpine", d), 5);
  EXPECT_EQ(*meta_->BlobSize(d), 5);
  EXPECT_EQ(Repos(), Strings{"library/alpine"});
  EXPECT_EQ(TagsOf("library/alpine"), Strings{}) << "exists, with no tags";
  // Idempotent, and a second repository gets its own link to the same blob.
  Blob("library/alpine", "layer");
  Blob("other", "layer");
  EXPECT_EQ(*meta_->RepositoriesWithBlob(d), (Strings{"library/alpine", "other"}));
  EXPECT_EQ(Repos(), (Strings{"library/alpine", "other"}));
}

TEST_F(SqliteRegistryMetaTest, AddBlobWithAnotherSizeIsDataLoss) {
  Digest d = Blob("r", "layer");
  Status s = meta_->AddBlob("r2", d, 6, kT0);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, Code::kDataLoss);
  EXPECT_NE(s.error().message.find(d.ToString()), std::string::npos) << s.error().message;
  EXPECT_EQ(Repos(), Strings{"r"}) << "nothing stored";
  EXPECT_EQ(meta_->AddBlob("r", Digest::Of("x"), -1, kT0).error().code, Code::kInvalidArgument);
}

TEST_F(SqliteRegistryMetaTest, LinkBlobMountsAnExistingBlobOnly) {
  Digest d = Blob("from", "layer");
  EXPECT_EQ(meta_->LinkedBlobSize("to", d).error().code, Code::kNotFound);
  ASSERT_TRUE(meta_->LinkBlob("to", d, kT0).ok());
  EXPECT_EQ(*meta_->LinkedBlobSize("to", d), 5);
  ASSERT_TRUE(meta_->LinkBlob("to", d, kT0).ok()) << "idempotent";

  Status s = meta_->LinkBlob("elsewhere", Digest::Of("never pushed"), kT0);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, Code::kNotFound);
  EXPECT_EQ(Repos(), (Strings{"from", "to"})) << "a failed mount creates no repository";
}

TEST_F(SqliteRegistryMetaTest, SizesOfUnknownOrUnlinkedBlobsAreNotFound) {
  Digest d = Blob("a", "layer");
  EXPECT_EQ(meta_->LinkedBlobSize("b", d).error().code, Code::kNotFound);
  EXPECT_EQ(meta_->LinkedBlobSize("a", Digest::Of("other")).error().code, Code::kNotFound);
  EXPECT_EQ(meta_->BlobSize(Digest::Of("other")).error().code, Code::kNotFound);
  EXPECT_EQ(*meta_->RepositoriesWithBlob(Digest::Of("other")), Strings{});
}

TEST_F(SqliteRegistryMetaTest, UnlinkBlobKeepsTheBlobForGc) {
  Digest d = Blob("a", "layer");
  Blob("b", "layer");
  ASSERT_TRUE(meta_->UnlinkBlob("a", d).ok());
  EXPECT_EQ(meta_->LinkedBlobSize("a", d).error().code, Code::kNotFound);
  EXPECT_EQ(*meta_->LinkedBlobSize("b", d), 5);
  EXPECT_EQ(*meta_->RepositoriesWithBlob(d), Strings{"b"});
  EXPECT_EQ(meta_->UnlinkBlob("a", d).error().code, Code::kNotFound);
  EXPECT_EQ(meta_->UnlinkBlob("nowhere", d).error().code, Code::kNotFound);
  ASSERT_TRUE(meta_->UnlinkBlob("b", d).ok());
  EXPECT_EQ(*meta_->BlobSize(d), 5);
}

// --- manifests and tags

TEST_F(SqliteRegistryMetaTest, PutManifestThenGetByTagAndByDigest) {
  Digest config = Blob("r", "config");
  Digest layer = Blob("r", "layer");
  Digest subject = Digest::Of("some image");
  ManifestRecord m = Manifest("r", "manifest bytes");
  m.subject = subject;
  m.artifact_type = "application/vnd.example.sbom";
  m.annotations_json = R"({"org.opencontainers.image.created":"2026-11-27"})";
  ASSERT_TRUE(meta_->PutManifest("r", m, {{config, layer}, {}}, "v1", kT0).ok());

  for (auto got : {meta_->GetManifest("r", std::string("v1")), meta_->GetManifest("r", m.digest)}) {
    ASSERT_TRUE(got) << got.error().message;
    EXPECT_EQ(got->digest, m.digest);
    EXPECT_EQ(got->media_type, m.media_type);
    EXPECT_EQ(got->size, m.size);
    EXPECT_EQ(got->subject, subject);
    EXPECT_EQ(got->artifact_type, m.artifact_type);
    EXPECT_EQ(got->annotations_json, m.annotations_json);
  }
  EXPECT_EQ(TagsOf("r"), Strings{"v1"});
  EXPECT_EQ(meta_->GetManifest("r", std::string("v2")).error().code, Code::kNotFound);
  EXPECT_EQ(meta_->GetManifest("other", std::string("v1")).error().code, Code::kNotFound);
  EXPECT_EQ(meta_->GetManifest("other", m.digest).error().code, Code::kNotFound);

  // Without a tag, and without a subject: a manifest by digest only.
  ManifestRecord plain = Manifest("r", "untagged");
  ASSERT_TRUE(meta_->PutManifest("r", plain, {{layer}, {}}, std::nullopt, kT0).ok());
  auto got = meta_->GetManifest("r", plain.digest);
  ASSERT_TRUE(got);
  EXPECT_FALSE(got->subject.has_value());
  EXPECT_EQ(got->annotations_json, "");
  EXPECT_EQ(TagsOf("r"), Strings{"v1"});
}

TEST_F(SqliteRegistryMetaTest, PutManifestMovesTheTag) {
  ManifestRecord one = Manifest("r", "one");
  ManifestRecord two = Manifest("r", "two");
  ASSERT_TRUE(meta_->PutManifest("r", one, {}, "latest", kT0).ok());
  ASSERT_TRUE(meta_->PutManifest("r", two, {}, "latest", kT0).ok());
  EXPECT_EQ(meta_->GetManifest("r", std::string("latest"))->digest, two.digest);
  EXPECT_TRUE(meta_->GetManifest("r", one.digest).ok()) << "the old manifest stays by digest";
  EXPECT_EQ(TagsOf("r"), Strings{"latest"});
  // Re-putting the same manifest is fine and can tag it again.
  ASSERT_TRUE(meta_->PutManifest("r", one, {}, "latest", kT0).ok());
  ASSERT_TRUE(meta_->PutManifest("r", one, {}, "stable", kT0).ok());
  EXPECT_EQ(meta_->GetManifest("r", std::string("latest"))->digest, one.digest);
  EXPECT_EQ(TagsOf("r"), (Strings{"latest", "stable"}));
}

TEST_F(SqliteRegistryMetaTest, PutManifestWithAMissingBlobNamesItAndStoresNothing) {
  Digest layer = Blob("r", "layer");
  Digest elsewhere = Blob("other", "linked elsewhere only");
  ManifestRecord m = Manifest("other", "manifest");  // bytes exist, not yet linked to "fresh"
  for (const Digest& missing : {Digest::Of("never pushed"), elsewhere}) {
    Status s = meta_->PutManifest("r", m, {{layer, missing}, {}}, "v1", kT0);
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.error().code, Code::kFailedPrecondition);
    EXPECT_NE(s.error().message.find(missing.ToString()), std::string::npos) << s.error().message;
  }
  EXPECT_EQ(meta_->GetManifest("r", m.digest).error().code, Code::kNotFound);
  EXPECT_EQ(TagsOf("r"), Strings{});
  EXPECT_EQ(meta_->LinkedBlobSize("r", m.digest).error().code, Code::kNotFound)
      << "the manifest's own link is rolled back too";

  Status s = meta_->PutManifest("fresh", m, {{Digest::Of("never pushed")}, {}}, "v1", kT0);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(Repos(), (Strings{"other", "r"})) << "no repository row left behind";
}

TEST_F(SqliteRegistryMetaTest, PutManifestNeedsItsOwnBytesAsABlobAndLinksThem) {
  ManifestRecord m;
  m.digest = Digest::Of("manifest never uploaded");
  m.media_type = "application/vnd.oci.image.manifest.v1+json";
  m.size = 10;
  Status s = meta_->PutManifest("r", m, {}, "v1", kT0);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, Code::kFailedPrecondition);
  EXPECT_NE(s.error().message.find(m.digest.ToString()), std::string::npos);

  ManifestRecord elsewhere = Manifest("other", "manifest in another repository's upload");
  ASSERT_TRUE(meta_->PutManifest("r", elsewhere, {}, "v1", kT0).ok());
  EXPECT_TRUE(meta_->LinkedBlobSize("r", elsewhere.digest).ok());
}

TEST_F(SqliteRegistryMetaTest, IndexNeedsItsChildManifestsInTheRepository) {
  ManifestRecord amd64 = Manifest("r", "amd64");
  ManifestRecord arm64 = Manifest("r", "arm64");
  ASSERT_TRUE(meta_->PutManifest("r", amd64, {}, std::nullopt, kT0).ok());
  ManifestRecord index = Manifest("r", "index");
  index.media_type = "application/vnd.oci.image.index.v1+json";

  // arm64's bytes are a blob in the repository, but not a manifest there yet.
  Status s = meta_->PutManifest("r", index, {{}, {amd64.digest, arm64.digest}}, "v1", kT0);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, Code::kFailedPrecondition);
  EXPECT_NE(s.error().message.find(arm64.digest.ToString()), std::string::npos);
  EXPECT_EQ(TagsOf("r"), Strings{});

  ASSERT_TRUE(meta_->PutManifest("r", arm64, {}, std::nullopt, kT0).ok());
  ASSERT_TRUE(meta_->PutManifest("r", index, {{}, {amd64.digest, arm64.digest}}, "v1", kT0).ok());
  EXPECT_EQ(meta_->GetManifest("r", std::string("v1"))->media_type, index.media_type);

  // The children must be in this repository, not just somewhere.
  ManifestRecord index2 = Manifest("r2", "index2");
  s = meta_->PutManifest("r2", index2, {{}, {amd64.digest}}, "v1", kT0);
  EXPECT_EQ(s.error().code, Code::kFailedPrecondition);
}

TEST_F(SqliteRegistryMetaTest, DeleteManifestRemovesItsTagsAndReferences) {
  Digest layer = Blob("r", "layer");
  ManifestRecord m = Manifest("r", "manifest");
  ManifestRecord other = Manifest("r", "other");
  ASSERT_TRUE(meta_->PutManifest("r", m, {{layer}, {}}, "v1", kT0).ok());
  ASSERT_TRUE(meta_->PutManifest("r", m, {{layer}, {}}, "latest", kT0).ok());
  ASSERT_TRUE(meta_->PutManifest("r", other, {}, "v2", kT0).ok());
  EXPECT_EQ(Candidates(kT0 + hours(1)), std::vector<Digest>{}) << "layer is referenced";

  ASSERT_TRUE(meta_->DeleteManifest("r", m.digest).ok());
  EXPECT_EQ(meta_->GetManifest("r", m.digest).error().code, Code::kNotFound);
  EXPECT_EQ(meta_->GetManifest("r", std::string("v1")).error().code, Code::kNotFound);
  EXPECT_EQ(TagsOf("r"), Strings{"v2"});
  EXPECT_EQ(*meta_->BlobSize(m.digest), m.size) << "blob rows stay; GC decides";
  EXPECT_EQ(*meta_->BlobSize(layer), 5);
  std::vector<Digest> want = {layer, m.digest};
  std::sort(want.begin(), want.end(),
            [](const Digest& a, const Digest& b) { return a.ToString() < b.ToString(); });
  EXPECT_EQ(Candidates(kT0 + hours(1)), want) << "neither is referenced now";

  EXPECT_EQ(meta_->DeleteManifest("r", m.digest).error().code, Code::kNotFound);
  EXPECT_EQ(meta_->DeleteManifest("nowhere", m.digest).error().code, Code::kNotFound);
}

TEST_F(SqliteRegistryMetaTest, ARepositoryOutlivesItsManifests) {
  ManifestRecord m = Manifest("r", "manifest");
  ASSERT_TRUE(meta_->PutManifest("r", m, {}, "v1", kT0).ok());
  ASSERT_TRUE(meta_->DeleteManifest("r", m.digest).ok());
  auto tags = meta_->Tags("r", {});
  ASSERT_TRUE(tags) << "still exists: " << tags.error().message;
  EXPECT_TRUE(tags->empty());
  EXPECT_EQ(Repos(), Strings{"r"});
}

TEST_F(SqliteRegistryMetaTest, DeleteTagLeavesTheManifest) {
  ManifestRecord m = Manifest("r", "manifest");
  ASSERT_TRUE(meta_->PutManifest("r", m, {}, "v1", kT0).ok());
  ASSERT_TRUE(meta_->PutManifest("r", m, {}, "v1.0", kT0).ok());
  ASSERT_TRUE(meta_->DeleteTag("r", "v1").ok());
  EXPECT_EQ(TagsOf("r"), Strings{"v1.0"});
  EXPECT_TRUE(meta_->GetManifest("r", m.digest).ok());
  EXPECT_EQ(meta_->DeleteTag("r", "v1").error().code, Code::kNotFound);
  EXPECT_EQ(meta_->DeleteTag("nowhere", "v1.0").error().code, Code::kNotFound);
}

TEST_F(SqliteRegistryMetaTest, TagsArePagedInByteOrder) {
  ManifestRecord m = Manifest("r", "manifest");
  // Byte order: '-' (0x2d) < '.' (0x2e) < '1' < 'A' < '_' < 'a'.
  for (const char* tag : {"a", "A", "a.b", "a-b", "_x", "1"}) {
    ASSERT_TRUE(meta_->PutManifest("r", m, {}, std::string(tag), kT0).ok());
  }
  const Strings all = {"1", "A", "_x", "a", "a-b", "a.b"};
  EXPECT_EQ(TagsOf("r"), all);
  EXPECT_EQ(TagsOf("r", {-1, ""}), all);
  EXPECT_EQ(TagsOf("r", {0, ""}), Strings{});
  EXPECT_EQ(TagsOf("r", {2, ""}), (Strings{"1", "A"}));
  EXPECT_EQ(TagsOf("r", {2, "A"}), (Strings{"_x", "a"})) << "strictly after an entry";
  EXPECT_EQ(TagsOf("r", {2, "B"}), (Strings{"_x", "a"})) << "after a value between entries";
  EXPECT_EQ(TagsOf("r", {10, "a"}), (Strings{"a-b", "a.b"}));
  EXPECT_EQ(TagsOf("r", {-1, "a.b"}), Strings{}) << "after the last";
  EXPECT_EQ(TagsOf("r", {5, "zzz"}), Strings{}) << "beyond the end";
  EXPECT_EQ(meta_->Tags("r", {-2, ""}).error().code, Code::kInvalidArgument);
}

TEST_F(SqliteRegistryMetaTest, RepositoriesArePagedInByteOrder) {
  EXPECT_EQ(Repos(), Strings{});
  for (const char* repo : {"library/ubuntu", "library/alpine", "Library/x", "lib", "library-a"}) {
    Blob(repo, "layer");
  }
  const Strings all = {"Library/x", "lib", "library-a", "library/alpine", "library/ubuntu"};
  EXPECT_EQ(Repos(), all);
  EXPECT_EQ(Repos({0, ""}), Strings{});
  EXPECT_EQ(Repos({3, ""}), (Strings{"Library/x", "lib", "library-a"}));
  EXPECT_EQ(Repos({3, "library-a"}), (Strings{"library/alpine", "library/ubuntu"}));
  EXPECT_EQ(Repos({1, "library/b"}), Strings{"library/ubuntu"});
  EXPECT_EQ(Repos({-1, "m"}), Strings{});
  EXPECT_EQ(meta_->Repositories({-7, ""}).error().code, Code::kInvalidArgument);
}

TEST_F(SqliteRegistryMetaTest, ReferrersBySubjectWithAndWithoutArtifactType) {
  ManifestRecord image = Manifest("r", "image");
  ASSERT_TRUE(meta_->PutManifest("r", image, {}, "v1", kT0).ok());
  std::vector<ManifestRecord> refs;
  for (int i = 0; i < 4; ++i) {
    ManifestRecord m = Manifest("r", "referrer " + std::to_string(i));
    m.subject = image.digest;
    m.artifact_type = i % 2 ? "application/sbom" : "application/signature";
    m.annotations_json = R"({"i":")" + std::to_string(i) + R"("})";
    ASSERT_TRUE(meta_->PutManifest("r", m, {}, std::nullopt, kT0).ok());
    refs.push_back(m);
  }
  // Same subject in another repository: not a referrer here.
  ManifestRecord foreign = Manifest("r2", "foreign");
  foreign.subject = image.digest;
  ASSERT_TRUE(meta_->PutManifest("r2", foreign, {}, std::nullopt, kT0).ok());

  auto digests = [](const std::vector<ManifestRecord>& ms) {
    Strings out;
    for (const auto& m : ms) out.push_back(m.digest.ToString());
    return out;
  };
  auto sorted = [&](std::vector<ManifestRecord> ms) {
    Strings out = digests(ms);
    std::sort(out.begin(), out.end());
    return out;
  };
  auto all = meta_->Referrers("r", image.digest, std::nullopt);
  ASSERT_TRUE(all) << all.error().message;
  EXPECT_EQ(digests(*all), sorted(refs));
  for (const ManifestRecord& got : *all) {
    EXPECT_EQ(got.subject, image.digest);
    EXPECT_FALSE(got.annotations_json.empty());
  }
  auto sboms = meta_->Referrers("r", image.digest, std::string("application/sbom"));
  ASSERT_TRUE(sboms);
  EXPECT_EQ(digests(*sboms), sorted({refs[1], refs[3]}));
  EXPECT_EQ(meta_->Referrers("r", image.digest, std::string("application/none"))->size(), 0u);
  EXPECT_EQ(meta_->Referrers("r", refs[0].digest, std::nullopt)->size(), 0u);
  EXPECT_EQ(meta_->Referrers("unknown", image.digest, std::nullopt)->size(), 0u);
}

// --- uploads

TEST_F(SqliteRegistryMetaTest, UploadsAreCreatedFoundListedAndDeleted) {
  const TimePoint precise = kT0 + std::chrono::nanoseconds(123456789);
  ASSERT_TRUE(meta_->CreateUpload({"u1", "r", precise}).ok());
  ASSERT_TRUE(meta_->CreateUpload({"u2", "r2", kT0 + hours(2)}).ok());
  ASSERT_TRUE(meta_->CreateUpload({"u0", "r", kT0 - hours(1)}).ok());
  EXPECT_EQ(meta_->CreateUpload({"u1", "other", kT0}).error().code, Code::kAlreadyExists);

  auto u = meta_->GetUpload("u1");
  ASSERT_TRUE(u) << u.error().message;
  EXPECT_EQ(u->id, "u1");
  EXPECT_EQ(u->repository, "r");
  EXPECT_EQ(u->started, precise);
  EXPECT_EQ(meta_->GetUpload("nope").error().code, Code::kNotFound);
  EXPECT_EQ(Repos(), Strings{}) << "an upload alone makes no repository";

  auto old = meta_->UploadsStartedBefore(kT0 + hours(1));
  ASSERT_TRUE(old);
  ASSERT_EQ(old->size(), 2u);
  EXPECT_EQ((*old)[0].id, "u0");
  EXPECT_EQ((*old)[1].id, "u1");
  EXPECT_EQ(meta_->UploadsStartedBefore(kT0 - hours(1))->size(), 0u) << "strictly before";

  ASSERT_TRUE(meta_->DeleteUpload("u1").ok());
  EXPECT_EQ(meta_->GetUpload("u1").error().code, Code::kNotFound);
  EXPECT_EQ(meta_->DeleteUpload("u1").error().code, Code::kNotFound);
  EXPECT_EQ(meta_->UploadsStartedBefore(kT0 + hours(3))->size(), 2u);
}

// --- garbage collection

TEST_F(SqliteRegistryMetaTest, UnreferencedBlobsHonourTheGracePeriod) {
  Digest old_layer = Blob("r", "old orphan", kT0);
  Digest new_layer = Blob("r", "pushed just now", kT0 + hours(2));
  Digest used = Blob("r", "used", kT0);
  ManifestRecord m = Manifest("r", "manifest", kT0);
  ASSERT_TRUE(meta_->PutManifest("r", m, {{used}, {}}, "v1", kT0).ok());

  const TimePoint before = kT0 + hours(1);
  EXPECT_EQ(Candidates(before), std::vector<Digest>{old_layer});
  auto c = meta_->UnreferencedBlobs(before);
  ASSERT_TRUE(c);
  EXPECT_EQ((*c)[0].size, 10);
  EXPECT_EQ(Candidates(kT0), std::vector<Digest>{}) << "strictly before";
  EXPECT_EQ(Candidates(kT0 + hours(3)).size(), 2u) << "both orphans once the grace is over";
  (void)new_layer;

  // Linking again (a mount, or a re-push) restarts the grace period.
  ASSERT_TRUE(meta_->LinkBlob("r2", old_layer, kT0 + hours(2)).ok());
  EXPECT_EQ(Candidates(before), std::vector<Digest>{});
  Blob("r", "old orphan", kT0 + hours(2));
  EXPECT_EQ(Candidates(before), std::vector<Digest>{});
}

TEST_F(SqliteRegistryMetaTest, ForgetBlobRemovesTheRowAndItsLinks) {
  Digest d = Blob("r", "orphan", kT0);
  ASSERT_TRUE(meta_->LinkBlob("r2", d, kT0).ok());
  const TimePoint before = kT0 + hours(1);
  ASSERT_EQ(Candidates(before), std::vector<Digest>{d});

  auto forgot = meta_->ForgetBlobIfUnreferenced(d, before);
  ASSERT_TRUE(forgot) << forgot.error().message;
  EXPECT_TRUE(*forgot);
  EXPECT_EQ(meta_->BlobSize(d).error().code, Code::kNotFound);
  EXPECT_EQ(meta_->LinkedBlobSize("r", d).error().code, Code::kNotFound);
  EXPECT_EQ(*meta_->RepositoriesWithBlob(d), Strings{});
  EXPECT_EQ(Candidates(before), std::vector<Digest>{});
  EXPECT_FALSE(*meta_->ForgetBlobIfUnreferenced(d, before)) << "already gone";
  EXPECT_EQ(Repos(), (Strings{"r", "r2"})) << "repositories stay";

  // After a forget, the blob can be pushed again.
  Blob("r", "orphan", kT0 + hours(2));
  EXPECT_EQ(*meta_->LinkedBlobSize("r", d), 6);
}

TEST_F(SqliteRegistryMetaTest, ForgetBlobKeepsReferencedRecentAndManifestBlobs) {
  Digest layer = Blob("r", "layer", kT0);
  Digest recent = Blob("r", "recent", kT0 + hours(2));
  ManifestRecord m = Manifest("r", "manifest", kT0);
  ASSERT_TRUE(meta_->PutManifest("r", m, {{layer}, {}}, std::nullopt, kT0).ok());
  const TimePoint before = kT0 + hours(1);
  for (const Digest& d : {layer, recent, m.digest}) {
    auto forgot = meta_->ForgetBlobIfUnreferenced(d, before);
    ASSERT_TRUE(forgot);
    EXPECT_FALSE(*forgot) << d.ToString();
    EXPECT_TRUE(meta_->BlobSize(d).ok());
  }
  // A manifest's bytes stay while it is stored in any repository, even when its link to
  // the repository that first stored it is gone.
  ASSERT_TRUE(meta_->UnlinkBlob("r", m.digest).ok());
  EXPECT_FALSE(*meta_->ForgetBlobIfUnreferenced(m.digest, before));
}

TEST_F(SqliteRegistryMetaTest, AManifestPutAfterTheMarkWinsOverTheSweep) {
  Digest layer = Blob("r", "layer pushed long ago", kT0);
  const TimePoint before = kT0 + hours(1);
  ASSERT_EQ(Candidates(before), std::vector<Digest>{layer});  // mark

  // The client now pushes the manifest that references the layer (its own bytes are new).
  ManifestRecord m = Manifest("r", "manifest", kT0 + hours(2));
  ASSERT_TRUE(meta_->PutManifest("r", m, {{layer}, {}}, "v1", kT0 + hours(2)).ok());

  auto forgot = meta_->ForgetBlobIfUnreferenced(layer, before);  // sweep
  ASSERT_TRUE(forgot);
  EXPECT_FALSE(*forgot);
  EXPECT_EQ(*meta_->LinkedBlobSize("r", layer), 21);
}

TEST_F(SqliteRegistryMetaTest, AMountAfterTheMarkWinsOverTheSweep) {
  Digest layer = Blob("r", "layer", kT0);
  const TimePoint before = kT0 + hours(1);
  ASSERT_EQ(Candidates(before), std::vector<Digest>{layer});
  ASSERT_TRUE(meta_->LinkBlob("r2", layer, kT0 + hours(2)).ok());
  EXPECT_FALSE(*meta_->ForgetBlobIfUnreferenced(layer, before));
  EXPECT_TRUE(meta_->LinkedBlobSize("r2", layer).ok());
}

// --- transactions

TEST_F(SqliteRegistryMetaTest, CallsJoinTheCallersTransaction) {
  {
    auto tx = sql::Transaction::Begin(*db_);
    ASSERT_TRUE(tx);
    Digest d = Blob("r", "rolled back");
    EXPECT_EQ(*meta_->BlobSize(d), 11) << "visible inside the transaction";
    // Rolled back by the destructor, with the file operation it would have guarded.
  }
  EXPECT_EQ(meta_->BlobSize(Digest::Of("rolled back")).error().code, Code::kNotFound);
  EXPECT_EQ(Repos(), Strings{});

  {
    auto tx = sql::Transaction::Begin(*db_);
    ASSERT_TRUE(tx);
    Digest layer = Blob("r", "layer");
    ManifestRecord m = Manifest("r", "manifest");
    // A failing call inside undoes only its own changes (here: the repository row and the
    // manifest's link it had made before finding the missing blob); the caller's work stays.
    Status s = meta_->PutManifest("fresh", m, {{Digest::Of("missing")}, {}}, "v1", kT0);
    EXPECT_EQ(s.error().code, Code::kFailedPrecondition);
    ASSERT_TRUE(meta_->PutManifest("r", m, {{layer}, {}}, "v1", kT0).ok());
    ASSERT_TRUE(tx->Commit().ok());
  }
  EXPECT_EQ(meta_->GetManifest("r", std::string("v1"))->digest, Digest::Of("manifest"));
  EXPECT_EQ(Repos(), Strings{"r"});
  EXPECT_EQ(*meta_->RepositoriesWithBlob(Digest::Of("manifest")), Strings{"r"});
}

TEST_F(SqliteRegistryMetaTest, ForgetBlobRollsBackWithTheCallersTransaction) {
  // The registry deletes the file inside the same transaction; if that fails, the row must
  // come back.
  Digest d = Blob("r", "orphan", kT0);
  {
    auto tx = sql::Transaction::Begin(*db_);
    ASSERT_TRUE(tx);
    ASSERT_TRUE(*meta_->ForgetBlobIfUnreferenced(d, kT0 + hours(1)));
    EXPECT_EQ(meta_->BlobSize(d).error().code, Code::kNotFound);
  }
  EXPECT_EQ(*meta_->LinkedBlobSize("r", d), 6);
}

TEST_F(SqliteRegistryMetaTest, ReadsKeepNoSnapshotOpenBetweenCalls) {
  // The hot reads keep their prepared statements between calls. A statement left un-reset
  // after its first row would hold a read snapshot and block WAL checkpoints of every
  // other connection.
  Digest layer = Blob("r", "layer");
  ManifestRecord m = Manifest("r", "manifest");
  ASSERT_TRUE(meta_->PutManifest("r", m, {{layer}, {}}, "v1", kT0).ok());
  ASSERT_TRUE(meta_->LinkedBlobSize("r", layer).ok());
  ASSERT_TRUE(meta_->BlobSize(layer).ok());
  ASSERT_TRUE(meta_->GetManifest("r", std::string("v1")).ok());
  ASSERT_TRUE(meta_->GetManifest("r", m.digest).ok());

  auto other = sql::Database::Open(dir_ + "/registry.db");
  ASSERT_TRUE(other) << other.error().message;
  auto checkpoint = (*other)->Prepare("PRAGMA wal_checkpoint(TRUNCATE)");
  ASSERT_TRUE(checkpoint);
  auto row = checkpoint->Step();
  ASSERT_TRUE(row && *row);
  EXPECT_EQ(checkpoint->ColumnInt(0), 0) << "checkpoint blocked by a reader";
}

TEST_F(SqliteRegistryMetaTest, ConcurrentPushesAreSerialised) {
  constexpr int kThreads = 4;
  constexpr int kPushes = 25;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([this, t] {
      const std::string repo = "repo" + std::to_string(t);
      for (int i = 0; i < kPushes; ++i) {
        const std::string layer = "shared layer " + std::to_string(i);
        const std::string bytes = repo + " manifest " + std::to_string(i);
        const Digest l = Digest::Of(layer), md = Digest::Of(bytes);
        ManifestRecord m{md,
                         "application/vnd.oci.image.manifest.v1+json",
                         static_cast<int64_t>(bytes.size()),
                         std::nullopt,
                         "",
                         ""};
        Status s = meta_->AddBlob(repo, l, static_cast<int64_t>(layer.size()), kT0);
        if (s) s = meta_->AddBlob(repo, md, m.size, kT0);
        if (s) s = meta_->PutManifest(repo, m, {{l}, {}}, "t" + std::to_string(i), kT0);
        EXPECT_TRUE(s.ok()) << s.error().message;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(Repos().size(), size_t{kThreads});
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_EQ(TagsOf("repo" + std::to_string(t)).size(), size_t{kPushes});
  }
  EXPECT_EQ(*meta_->RepositoriesWithBlob(Digest::Of("shared layer 3")),
            (Strings{"repo0", "repo1", "repo2", "repo3"}));
}

TEST_F(SqliteRegistryMetaTest, EverythingSurvivesAReopen) {
  Digest layer = Blob("r", "layer");
  ManifestRecord m = Manifest("r", "manifest");
  m.subject = Digest::Of("subject");
  m.artifact_type = "application/x";
  ASSERT_TRUE(meta_->PutManifest("r", m, {{layer}, {}}, "v1", kT0).ok());
  ASSERT_TRUE(meta_->CreateUpload({"u", "r", kT0}).ok());

  Reopen();
  EXPECT_EQ(Repos(), Strings{"r"});
  EXPECT_EQ(TagsOf("r"), Strings{"v1"});
  auto got = meta_->GetManifest("r", std::string("v1"));
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(got->digest, m.digest);
  EXPECT_EQ(got->subject, m.subject);
  EXPECT_EQ(meta_->Referrers("r", *m.subject, std::string("application/x"))->size(), 1u);
  EXPECT_EQ(*meta_->LinkedBlobSize("r", layer), 5);
  EXPECT_EQ(meta_->GetUpload("u")->started, kT0);
  EXPECT_EQ(Candidates(kT0 + hours(1)), std::vector<Digest>{}) << "references survive too";
}

}  // namespace
}  // namespace berth::meta
