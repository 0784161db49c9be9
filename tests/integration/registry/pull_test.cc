// Pull: the upstream suite's "Pull" checks (01_pull_test.go), each test on its own repository.
#include <string>

#include <gtest/gtest.h>

#include "registry_fixture.h"

namespace berth::registry_conformance {
namespace {

// The upstream pull setup: two config blobs and a layer pushed by POST then PUT, manifest[0]
// pushed by the tag "tagtest0", manifest[1] by its digest.
class RegistryPullTest : public RegistryTest {
 protected:
  void SetUp() override {
    RegistryTest::SetUp();
    if (IsSkipped()) return;
    repo_ = Repo();
    ManifestSpec spec0 = ImageSpec();
    ManifestSpec spec1 = spec0;
    spec1.config = MakeConfig();
    configs_ = {spec0.config, spec1.config};
    layer_ = spec0.layers[0];
    manifests_ = {MakeManifest(spec0), MakeManifest(spec1)};
    ASSERT_TRUE(PushBlob(repo_, configs_[0])) << "setup: populate registry with config[0]";
    ASSERT_TRUE(PushBlob(repo_, configs_[1])) << "setup: populate registry with config[1]";
    ASSERT_TRUE(PushBlob(repo_, layer_)) << "setup: populate registry with the layer";
    ASSERT_TRUE(PushManifest(repo_, kTag, manifests_[0])) << "setup: manifest[0] by tag";
    ASSERT_TRUE(PushManifest(repo_, manifests_[1].digest, manifests_[1]))
        << "setup: manifest[1] by digest";
  }

  static constexpr char kTag[] = "tagtest0";
  // The upstream suite's name for a manifest that does not exist: not even a valid tag, and
  // still a 404 (not a 400) is what it wants.
  static constexpr char kNonexistentManifest[] = ".INVALID_MANIFEST_NAME";
  std::string repo_;
  std::vector<Content> configs_;
  Content layer_;
  std::vector<Content> manifests_;
  std::string dummy_digest_ = Sha256("hello world");
};

TEST_F(RegistryPullTest, SetupStoresBlobsAndManifestsByTagAndByDigest) {
  for (const Content* c : {&configs_[0], &configs_[1], &layer_}) {
    EXPECT_TRUE(IsStatus(Do("HEAD", BlobPath(repo_, c->digest)), 200)) << c->digest;
  }
  for (const std::string& ref : {std::string(kTag), manifests_[0].digest, manifests_[1].digest}) {
    EXPECT_TRUE(IsStatus(Do("HEAD", ManifestPath(repo_, ref), {{"Accept", kOciManifest}}), 200))
        << ref;
  }
}

TEST_F(RegistryPullTest, HeadOfMissingBlobIs404) {
  EXPECT_TRUE(IsStatus(Do("HEAD", BlobPath(repo_, dummy_digest_)), 404));
}

// Upstream checks Docker-Content-Digest only if present; the spec says a HEAD MUST carry it and
// Content-Length.
TEST_F(RegistryPullTest, HeadOfBlobIs200WithDigestAndLength) {
  HttpResponse r = Do("HEAD", BlobPath(repo_, configs_[0].digest));
  ASSERT_TRUE(IsStatus(r, 200));
  EXPECT_EQ(r.Header("Docker-Content-Digest"), configs_[0].digest);
  EXPECT_EQ(r.Header("Content-Length"), std::to_string(configs_[0].size()));
  EXPECT_EQ(r.body, "");
}

TEST_F(RegistryPullTest, GetOfMissingBlobIs404) {
  EXPECT_TRUE(IsStatus(Do("GET", BlobPath(repo_, dummy_digest_)), 404));
}

TEST_F(RegistryPullTest, GetOfBlobIs200WithItsBytes) {
  HttpResponse r = Do("GET", BlobPath(repo_, configs_[0].digest));
  ASSERT_TRUE(IsStatus(r, 200));
  EXPECT_EQ(r.body, configs_[0].bytes);
  EXPECT_EQ(r.Header("Docker-Content-Digest"), configs_[0].digest);
}

TEST_F(RegistryPullTest, HeadOfMissingManifestIs404) {
  EXPECT_TRUE(IsStatus(Do("HEAD", ManifestPath(repo_, kNonexistentManifest)), 404));
}

TEST_F(RegistryPullTest, HeadOfManifestByDigestIs200) {
  for (const Content& m : manifests_) {
    HttpResponse r = Do("HEAD", ManifestPath(repo_, m.digest), {{"Accept", kOciManifest}});
    ASSERT_TRUE(IsStatus(r, 200)) << m.digest;
    EXPECT_EQ(r.Header("Docker-Content-Digest"), m.digest);
    EXPECT_EQ(r.Header("Content-Length"), std::to_string(m.size()));
  }
}

TEST_F(RegistryPullTest, HeadOfManifestByTagIs200WithItsDigest) {
  HttpResponse r = Do("HEAD", ManifestPath(repo_, kTag), {{"Accept", kOciManifest}});
  ASSERT_TRUE(IsStatus(r, 200));
  EXPECT_EQ(r.Header("Docker-Content-Digest"), manifests_[0].digest);
}

TEST_F(RegistryPullTest, GetOfMissingManifestIs404) {
  EXPECT_TRUE(IsStatus(Do("GET", ManifestPath(repo_, kNonexistentManifest)), 404));
}

TEST_F(RegistryPullTest, GetOfManifestByDigestIs200WithItsBytes) {
  for (const Content& m : manifests_) {
    HttpResponse r = Do("GET", ManifestPath(repo_, m.digest), {{"Accept", kOciManifest}});
    ASSERT_TRUE(IsStatus(r, 200)) << m.digest;
    EXPECT_EQ(r.body, m.bytes) << "a registry stores a manifest byte for byte";
    EXPECT_EQ(r.Header("Content-Type"), kOciManifest);
    EXPECT_EQ(r.Header("Docker-Content-Digest"), m.digest);
  }
}

TEST_F(RegistryPullTest, GetOfManifestByTagIs200WithItsBytes) {
  HttpResponse r = Do("GET", ManifestPath(repo_, kTag), {{"Accept", kOciManifest}});
  ASSERT_TRUE(IsStatus(r, 200));
  EXPECT_EQ(r.body, manifests_[0].bytes);
  EXPECT_EQ(r.Header("Docker-Content-Digest"), manifests_[0].digest);
}

// Upstream "Error codes": a GET of manifests/sha256:totallywrong is a 400 with an OCI error body,
// or a 404.
TEST_F(RegistryPullTest, MalformedDigestIs400WithOciErrorOr404) {
  HttpResponse r = Do("GET", ManifestPath(repo_, "sha256:totallywrong"));
  ASSERT_TRUE(IsStatusIn(r, {400, 404}));
  if (r.status == 400) {
    EXPECT_TRUE(HasError(r));
  }
}

// Upstream "Teardown": manifests deleted (2xx or 405) before or after the blobs (2xx, 404 or
// 405), as OCI_DELETE_MANIFEST_BEFORE_BLOBS says.
TEST_F(RegistryPullTest, TeardownDeletesManifestsAndBlobs) {
  auto delete_manifests = [&] {
    for (const Content& m : manifests_) {
      HttpResponse r = Do("DELETE", ManifestPath(repo_, m.digest));
      EXPECT_TRUE(r.status / 100 == 2 || r.status == 405) << m.digest << ": " << Describe(r);
    }
  };
  if (DeleteManifestBeforeBlobs()) delete_manifests();
  for (const Content* c : {&configs_[0], &configs_[1], &layer_}) {
    HttpResponse r = Do("DELETE", BlobPath(repo_, c->digest));
    EXPECT_TRUE(r.status / 100 == 2 || r.status == 404 || r.status == 405)
        << c->digest << ": " << Describe(r);
  }
  if (!DeleteManifestBeforeBlobs()) delete_manifests();
}

}  // namespace
}  // namespace berth::registry_conformance
