// Push: the upstream suite's "Push" checks (02_push_test.go): streamed, monolithic (POST with
// digest; POST then PUT) and chunked uploads, cross-repository mounts, manifest uploads.
#include <string>

#include <gtest/gtest.h>

#include "registry_fixture.h"

namespace berth::registry_conformance {
namespace {

class RegistryPushTest : public RegistryTest {
 protected:
  // Upstream's check of a mount's Location: after a 201 the blob in `target`, after a 202 an
  // upload session of `target`; the relative path.
  static std::string ExpectMountLocation(const HttpResponse& r, const std::string& target,
                                         const std::string& digest) {
    std::string location = HttpClient::RelativePath(r.Header("Location"));
    if (r.status == 201) {
      EXPECT_EQ(location, BlobPath(target, digest));
    } else if (r.status == 202) {
      EXPECT_EQ(location.rfind(UploadsPath(target), 0), 0u) << location;
    }
    return location;
  }
};

std::string Range(size_t first, size_t last) {
  return std::to_string(first) + "-" + std::to_string(last);
}

// ---- Blob upload streamed ----

TEST_F(RegistryPushTest, StreamedPatchWithoutContentRangeIs202) {
  Content blob = RandomBlob(42);
  HttpResponse post = StartUpload(Repo());
  ASSERT_FALSE(post.Header("Location").empty()) << Describe(post);
  HttpResponse patch = Do("PATCH", post.Header("Location"),
                          {{"Content-Type", "application/octet-stream"}}, blob.bytes);
  EXPECT_TRUE(IsStatus(patch, 202));
  EXPECT_FALSE(patch.Header("Location").empty());
}

TEST_F(RegistryPushTest, StreamedUploadClosedByPutWithDigestIs201) {
  std::string repo = Repo();
  Content blob = RandomBlob(42);
  HttpResponse post = StartUpload(repo);
  ASSERT_FALSE(post.Header("Location").empty()) << Describe(post);
  HttpResponse patch = Do("PATCH", post.Header("Location"),
                          {{"Content-Type", "application/octet-stream"}}, blob.bytes);
  ASSERT_TRUE(IsStatus(patch, 202));
  HttpResponse put = Do("PUT", WithQuery(patch.Header("Location"), "digest", blob.digest),
                        {{"Content-Type", "application/octet-stream"}});
  ASSERT_TRUE(IsStatus(put, 201));
  EXPECT_FALSE(put.Header("Location").empty());
  EXPECT_EQ(Do("GET", BlobPath(repo, blob.digest)).body, blob.bytes);
}

// ---- Blob upload monolithic ----

TEST_F(RegistryPushTest, GetOfMissingBlobIs404) {
  EXPECT_TRUE(IsStatus(Do("GET", BlobPath(Repo(), Sha256("hello world"))), 404));
}

TEST_F(RegistryPushTest, PostWithDigestAndBodyIs201Or202WithLocation) {
  Content config = MakeConfig();
  HttpResponse r = Do("POST", WithQuery(UploadsPath(Repo()), "digest", config.digest),
                      {{"Content-Type", "application/octet-stream"}}, config.bytes);
  EXPECT_TRUE(IsStatusIn(r, {201, 202}));
  EXPECT_FALSE(r.Header("Location").empty());
}

// 201: the blob is there; 202: the registry only opened a session, so the blob is not.
TEST_F(RegistryPushTest, BlobOfPostWithDigestIsThereIf201AndAbsentIf202) {
  std::string repo = Repo();
  Content config = MakeConfig();
  HttpResponse post = Do("POST", WithQuery(UploadsPath(repo), "digest", config.digest),
                         {{"Content-Type", "application/octet-stream"}}, config.bytes);
  ASSERT_TRUE(IsStatusIn(post, {201, 202}));
  HttpResponse get = Do("GET", BlobPath(repo, config.digest));
  if (post.status == 202) {
    EXPECT_TRUE(IsStatus(get, 404));
  } else {
    ASSERT_TRUE(IsStatus(get, 200));
    EXPECT_EQ(get.body, config.bytes);
  }
}

TEST_F(RegistryPushTest, PostOpensSessionWith202AndLocation) {
  HttpResponse r = StartUpload(Repo());
  EXPECT_TRUE(IsStatus(r, 202));
  EXPECT_FALSE(r.Header("Location").empty());
}

TEST_F(RegistryPushTest, PutOfBlobAfterPostIs201WithLocation) {
  Content config = MakeConfig();
  HttpResponse post = StartUpload(Repo());
  ASSERT_TRUE(IsStatus(post, 202));
  HttpResponse put = Do("PUT", WithQuery(post.Header("Location"), "digest", config.digest),
                        {{"Content-Type", "application/octet-stream"}}, config.bytes);
  EXPECT_TRUE(IsStatus(put, 201));
  EXPECT_FALSE(put.Header("Location").empty());
  EXPECT_EQ(put.Header("Docker-Content-Digest"), config.digest);
}

TEST_F(RegistryPushTest, GetOfBlobPushedByPostThenPutIs200) {
  std::string repo = Repo();
  Content config = MakeConfig();
  ASSERT_TRUE(PushBlob(repo, config));
  HttpResponse get = Do("GET", BlobPath(repo, config.digest));
  ASSERT_TRUE(IsStatus(get, 200));
  EXPECT_EQ(get.body, config.bytes);
}

TEST_F(RegistryPushTest, PutOfLayerBlobAfterPostIs201WithLocation) {
  Content layer = RandomBlob(200);
  HttpResponse post = StartUpload(Repo());
  ASSERT_TRUE(IsStatus(post, 202));
  HttpResponse put = Do("PUT", WithQuery(post.Header("Location"), "digest", layer.digest),
                        {{"Content-Type", "application/octet-stream"}}, layer.bytes);
  EXPECT_TRUE(IsStatus(put, 201));
  EXPECT_FALSE(put.Header("Location").empty());
}

TEST_F(RegistryPushTest, GetOfPushedLayerIs200WithItsBytes) {
  std::string repo = Repo();
  Content layer = RandomBlob(200);
  ASSERT_TRUE(PushBlob(repo, layer));
  HttpResponse get = Do("GET", BlobPath(repo, layer.digest));
  ASSERT_TRUE(IsStatus(get, 200));
  EXPECT_EQ(get.body, layer.bytes);
}

// ---- Blob upload chunked ----

// A 42-byte blob in two chunks (22 + 20 bytes) as upstream, grown when the registry announces an
// OCI-Chunk-Min-Length above the first chunk.
class RegistryChunkedPushTest : public RegistryTest {
 protected:
  // POST (Content-Length 0); sizes the blob from OCI-Chunk-Min-Length.
  HttpResponse Open() {
    HttpResponse post = StartUpload(repo_);
    size_t size = 42;
    if (std::string min = post.Header("OCI-Chunk-Min-Length"); !min.empty()) {
      size_t min_length = std::stoul(min);
      if (min_length > size / 2 + 1) size = min_length * 2 - 2;
    }
    blob_ = RandomBlob(size);
    chunk1_ = blob_.bytes.substr(0, size / 2 + 1);
    chunk2_ = blob_.bytes.substr(size / 2 + 1);
    return post;
  }
  HttpResponse Patch(const std::string& location, const std::string& chunk, size_t first) {
    return Do("PATCH", location,
              {{"Content-Type", "application/octet-stream"},
               {"Content-Range", Range(first, first + chunk.size() - 1)}},
              chunk);
  }
  std::string Range1() const { return Range(0, chunk1_.size() - 1); }

  std::string repo_ = Repo();
  Content blob_;
  std::string chunk1_, chunk2_;
};

TEST_F(RegistryChunkedPushTest, OutOfOrderChunkIs416) {
  HttpResponse post = Open();
  ASSERT_FALSE(post.Header("Location").empty()) << Describe(post);
  EXPECT_TRUE(IsStatus(Patch(post.Header("Location"), chunk2_, chunk1_.size()), 416));
}

TEST_F(RegistryChunkedPushTest, FirstChunkIs202WithItsRange) {
  HttpResponse post = Open();
  ASSERT_FALSE(post.Header("Location").empty()) << Describe(post);
  HttpResponse patch = Patch(post.Header("Location"), chunk1_, 0);
  ASSERT_TRUE(IsStatus(patch, 202));
  EXPECT_EQ(patch.Header("Range"), Range1());
  EXPECT_FALSE(patch.Header("Location").empty());
}

// The first chunk sent again to the session's first Location: its range starts before the end.
TEST_F(RegistryChunkedPushTest, RetriedFirstChunkIs416) {
  HttpResponse post = Open();
  ASSERT_FALSE(post.Header("Location").empty()) << Describe(post);
  ASSERT_TRUE(IsStatus(Patch(post.Header("Location"), chunk1_, 0), 202));
  EXPECT_TRUE(IsStatus(Patch(post.Header("Location"), chunk1_, 0), 416));
}

// Upstream "Get on stale blob upload should return 204 with a range and location": the status
// GET goes to the POST's Location, which the spec says stays valid ("any preceding POST or
// PATCH").
TEST_F(RegistryChunkedPushTest, UploadStatusAfter416Is204WithRangeAndLocation) {
  HttpResponse post = Open();
  ASSERT_FALSE(post.Header("Location").empty()) << Describe(post);
  ASSERT_TRUE(IsStatus(Patch(post.Header("Location"), chunk1_, 0), 202));
  Patch(post.Header("Location"), chunk1_, 0);  // the retry, whatever its answer
  HttpResponse status = Do("GET", post.Header("Location"));
  ASSERT_TRUE(IsStatus(status, 204));
  EXPECT_FALSE(status.Header("Location").empty());
  EXPECT_EQ(status.Header("Range"), Range1());
}

// The second chunk goes to the Location of a status GET (at the first PATCH's Location), then a
// PUT with no body closes the session.
TEST_F(RegistryChunkedPushTest, SecondChunkIs202AndClosingPutWithDigestIs201) {
  HttpResponse post = Open();
  ASSERT_FALSE(post.Header("Location").empty()) << Describe(post);
  HttpResponse first = Patch(post.Header("Location"), chunk1_, 0);
  ASSERT_TRUE(IsStatus(first, 202));
  HttpResponse status = Do("GET", first.Header("Location"));
  ASSERT_TRUE(IsStatus(status, 204));
  EXPECT_EQ(status.Header("Range"), Range1());
  HttpResponse patch = Patch(status.Header("Location"), chunk2_, chunk1_.size());
  ASSERT_TRUE(IsStatus(patch, 202)) << "PATCH request with second chunk";
  EXPECT_FALSE(patch.Header("Location").empty());
  EXPECT_EQ(patch.Header("Range"), Range(0, blob_.size() - 1));
  HttpResponse put = Do("PUT", WithQuery(patch.Header("Location"), "digest", blob_.digest),
                        {{"Content-Type", "application/octet-stream"}});
  ASSERT_TRUE(IsStatus(put, 201)) << "PUT request with digest";
  EXPECT_FALSE(put.Header("Location").empty());
  EXPECT_EQ(Do("GET", BlobPath(repo_, blob_.digest)).body, blob_.bytes);
}

// The spec lets the final chunk come with the closing PUT, with its Content-Range.
TEST_F(RegistryChunkedPushTest, FinalChunkInClosingPutIs201) {
  HttpResponse post = Open();
  ASSERT_FALSE(post.Header("Location").empty()) << Describe(post);
  HttpResponse patch = Patch(post.Header("Location"), chunk1_, 0);
  ASSERT_TRUE(IsStatus(patch, 202));
  HttpResponse put = Do("PUT", WithQuery(patch.Header("Location"), "digest", blob_.digest),
                        {{"Content-Type", "application/octet-stream"},
                         {"Content-Range", Range(chunk1_.size(), blob_.size() - 1)}},
                        chunk2_);
  ASSERT_TRUE(IsStatus(put, 201));
  EXPECT_EQ(Do("GET", BlobPath(repo_, blob_.digest)).body, blob_.bytes);
}

// ---- Cross-repository blob mount ----

TEST_F(RegistryPushTest, MountOfUnknownBlobWithoutFromOpensSession) {
  std::string target = Repo("crossmount");
  HttpResponse r = Do("POST", WithQuery(UploadsPath(target), "mount", Sha256("hello world")));
  ASSERT_TRUE(IsStatus(r, 202));
  EXPECT_FALSE(r.Header("Location").empty());
}

TEST_F(RegistryPushTest, MountFromAnotherRepositoryIs201Or202) {
  std::string source = Repo("source");
  Content blob = RandomBlob(42);
  ASSERT_TRUE(PushBlob(source, blob));
  HttpResponse r = Do(
      "POST",
      WithQuery(WithQuery(UploadsPath(Repo("crossmount")), "mount", blob.digest), "from", source));
  EXPECT_TRUE(IsStatusIn(r, {201, 202}));
}

// Upstream's two conditional checks: after a 201 the blob is at Location in the target
// repository; after a 202 Location is an upload session of the target repository.
TEST_F(RegistryPushTest, MountedBlobIsPullableIf201ElseSessionIsOpen) {
  std::string source = Repo("source");
  std::string target = Repo("crossmount");
  Content blob = RandomBlob(42);
  ASSERT_TRUE(PushBlob(source, blob));
  HttpResponse r =
      Do("POST", WithQuery(WithQuery(UploadsPath(target), "mount", blob.digest), "from", source));
  ASSERT_TRUE(IsStatusIn(r, {201, 202}));
  std::string location = ExpectMountLocation(r, target, blob.digest);
  if (r.status == 201) {
    HttpResponse get = Do("GET", location);
    ASSERT_TRUE(IsStatus(get, 200));
    EXPECT_EQ(get.body, blob.bytes);
  }
}

// After a mount with from= gave 201, a mount of the same blob into the same repository without
// from=: 201 with OCI_AUTOMATIC_CROSSMOUNT=true, 202 with =false (upstream); unset, either, as
// long as the answer holds (201: the blob is at Location; 202: Location is a session).
TEST_F(RegistryPushTest, MountWithoutFromFollowsAutomaticCrossmountSetting) {
  std::string source = Repo("source");
  std::string target = Repo("crossmount");
  Content blob = RandomBlob(42);
  ASSERT_TRUE(PushBlob(source, blob));
  HttpResponse first =
      Do("POST", WithQuery(WithQuery(UploadsPath(target), "mount", blob.digest), "from", source));
  if (first.status != 201) GTEST_SKIP() << "the mount with from= was not a 201 (upstream skips)";
  HttpResponse r = Do("POST", WithQuery(UploadsPath(target), "mount", blob.digest));
  if (auto automatic = AutomaticCrossmount()) {
    EXPECT_TRUE(IsStatus(r, *automatic ? 201 : 202));
  } else {
    ASSERT_TRUE(IsStatusIn(r, {201, 202}));
  }
  ExpectMountLocation(r, target, blob.digest);
}

// Ours: the same into a repository that never saw the blob.
TEST_F(RegistryPushTest, MountWithoutFromIntoNewRepositoryIs201WithBlobOr202WithSession) {
  std::string source = Repo("source");
  std::string target = Repo("fresh");
  Content blob = RandomBlob(42);
  ASSERT_TRUE(PushBlob(source, blob));
  HttpResponse r = Do("POST", WithQuery(UploadsPath(target), "mount", blob.digest));
  if (auto automatic = AutomaticCrossmount()) {
    ASSERT_TRUE(IsStatus(r, *automatic ? 201 : 202));
  } else {
    ASSERT_TRUE(IsStatusIn(r, {201, 202}));
  }
  ExpectMountLocation(r, target, blob.digest);
  EXPECT_TRUE(IsStatus(Do("GET", BlobPath(target, blob.digest)), r.status == 201 ? 200 : 404));
}

// ---- Manifest upload ----

TEST_F(RegistryPushTest, GetOfMissingManifestIs404) {
  EXPECT_TRUE(IsStatus(Do("GET", ManifestPath(Repo(), ".INVALID_MANIFEST_NAME")), 404));
}

TEST_F(RegistryPushTest, ManifestPutUnderFourTagsIs201WithLocationAndDigest) {
  std::string repo = Repo();
  ManifestSpec spec = ImageSpec();
  ASSERT_TRUE(PushBlob(repo, spec.config));
  ASSERT_TRUE(PushBlob(repo, spec.layers[0]));
  Content manifest = MakeManifest(spec);
  for (int i = 0; i < 4; ++i) {
    HttpResponse r = PutManifest(repo, "test" + std::to_string(i), manifest);
    ASSERT_TRUE(IsStatus(r, 201)) << "tag test" << i;
    EXPECT_FALSE(r.Header("Location").empty());
    EXPECT_EQ(r.Header("Docker-Content-Digest"), manifest.digest);
  }
}

// Upstream only warns when this fails; the spec says the list of blobs MAY be empty, so we
// require it. The manifest has no mediaType field either (as upstream's).
TEST_F(RegistryPushTest, ManifestWithNoLayersIs201) {
  std::string repo = Repo();
  ManifestSpec spec = ImageSpec(0);
  spec.media_type.reset();
  ASSERT_TRUE(PushBlob(repo, spec.config));
  Content manifest = MakeManifest(spec);
  manifest.media_type = kOciManifest;
  HttpResponse r = PutManifest(repo, "emptylayer", manifest);
  ASSERT_TRUE(IsStatus(r, 201));
  EXPECT_FALSE(r.Header("Location").empty());
}

TEST_F(RegistryPushTest, GetOfPushedManifestByDigestIs200) {
  std::string repo = Repo();
  Content manifest;
  ASSERT_TRUE(PushImage(repo, "test0", ImageSpec(), &manifest));
  HttpResponse r = Do("GET", ManifestPath(repo, manifest.digest), {{"Accept", kOciManifest}});
  ASSERT_TRUE(IsStatus(r, 200));
  EXPECT_EQ(r.body, manifest.bytes);
}

// Upstream "Teardown" of the push checks.
TEST_F(RegistryPushTest, TeardownDeletesManifestsAndBlobs) {
  std::string repo = Repo();
  ManifestSpec spec = ImageSpec();
  Content manifest;
  ASSERT_TRUE(PushImage(repo, "test0", spec, &manifest));
  ManifestSpec empty = spec;
  empty.layers.clear();
  empty.media_type.reset();
  Content empty_manifest = MakeManifest(empty);
  empty_manifest.media_type = kOciManifest;
  ASSERT_TRUE(PushManifest(repo, "emptylayer", empty_manifest));
  auto delete_manifests = [&] {
    for (const Content* m : {&manifest, &empty_manifest}) {
      HttpResponse r = Do("DELETE", ManifestPath(repo, m->digest));
      EXPECT_TRUE(r.status / 100 == 2 || r.status == 405) << Describe(r);
    }
  };
  if (DeleteManifestBeforeBlobs()) delete_manifests();
  for (const Content* c : {&spec.config, &spec.layers[0]}) {
    HttpResponse r = Do("DELETE", BlobPath(repo, c->digest));
    EXPECT_TRUE(r.status / 100 == 2 || r.status == 404 || r.status == 405) << Describe(r);
  }
  if (!DeleteManifestBeforeBlobs()) delete_manifests();
}

}  // namespace
}  // namespace berth::registry_conformance
