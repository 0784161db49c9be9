// Our own checks, beyond the upstream suite: the errors a registry must give for bad manifests,
// bad digests, bad names, foreign upload ids and bad Content-Ranges, in the spec's JSON shape;
// the Docker-Content-Digest and Docker-Distribution-API-Version headers; Docker schema2
// manifests and OCI indexes stored and served as pushed.
#include <string>

#include <gtest/gtest.h>

#include "registry_fixture.h"

namespace berth::registry_conformance {
namespace {

using RegistryErrorsTest = RegistryTest;
using RegistryHeadersTest = RegistryTest;
using RegistryManifestTypesTest = RegistryTest;

// ---- Manifests ----

TEST_F(RegistryErrorsTest, ManifestThatIsNotJsonIs400ManifestInvalid) {
  HttpResponse r = PutManifest(Repo(), "latest", MakeContent("blablabla", kOciManifest));
  ASSERT_TRUE(IsStatus(r, 400));
  EXPECT_TRUE(HasError(r, "MANIFEST_INVALID"));
}

TEST_F(RegistryErrorsTest, ManifestReferencingMissingLayerIs400ManifestBlobUnknown) {
  std::string repo = Repo();
  ManifestSpec spec = ImageSpec();
  ASSERT_TRUE(PushBlob(repo, spec.config));  // the layer is never pushed
  HttpResponse r = PutManifest(repo, "latest", MakeManifest(spec));
  ASSERT_TRUE(IsStatus(r, 400));
  EXPECT_TRUE(HasError(r, "MANIFEST_BLOB_UNKNOWN"));
  EXPECT_TRUE(IsStatus(Do("GET", ManifestPath(repo, "latest")), 404));
}

TEST_F(RegistryErrorsTest, ManifestReferencingMissingConfigIs400ManifestBlobUnknown) {
  std::string repo = Repo();
  ManifestSpec spec = ImageSpec();
  ASSERT_TRUE(PushBlob(repo, spec.layers[0]));  // the config is never pushed
  HttpResponse r = PutManifest(repo, "latest", MakeManifest(spec));
  ASSERT_TRUE(IsStatus(r, 400));
  EXPECT_TRUE(HasError(r, "MANIFEST_BLOB_UNKNOWN"));
}

// A blob pushed to another repository is not this repository's.
TEST_F(RegistryErrorsTest, ManifestReferencingBlobOfAnotherRepositoryIs400ManifestBlobUnknown) {
  ManifestSpec spec = ImageSpec();
  ASSERT_TRUE(PushBlob(Repo("other"), spec.layers[0]));
  std::string repo = Repo("mine");
  ASSERT_TRUE(PushBlob(repo, spec.config));
  HttpResponse r = PutManifest(repo, "latest", MakeManifest(spec));
  ASSERT_TRUE(IsStatus(r, 400));
  EXPECT_TRUE(HasError(r, "MANIFEST_BLOB_UNKNOWN"));
}

TEST_F(RegistryErrorsTest, IndexReferencingMissingManifestIs400ManifestBlobUnknown) {
  Content missing = MakeManifest(ImageSpec());
  HttpResponse r = PutManifest(Repo(), "latest", MakeIndex({{missing}, {}, {}, {}}));
  ASSERT_TRUE(IsStatus(r, 400));
  EXPECT_TRUE(HasError(r, "MANIFEST_BLOB_UNKNOWN"));
}

// A manifest with a big annotation, `size` bytes in all.
Content ManifestOfSize(const ManifestSpec& base, size_t size) {
  ManifestSpec spec = base;
  spec.annotations["org.example.padding"] = "";
  size_t overhead = MakeManifest(spec).size();
  spec.annotations["org.example.padding"] = std::string(size - overhead, 'x');
  return MakeManifest(spec);
}

// The spec: over the registry's limit, 413 Payload Too Large; registries SHOULD take at least
// 4 megabytes. Our limit is 4 MiB.
TEST_F(RegistryErrorsTest, ManifestOver4MiBIs413AndOf4MegabytesIsAccepted) {
  std::string repo = Repo();
  ManifestSpec spec = ImageSpec();
  ASSERT_TRUE(PushBlob(repo, spec.config));
  ASSERT_TRUE(PushBlob(repo, spec.layers[0]));
  Content big = ManifestOfSize(spec, 4 * 1024 * 1024 + 1);
  ASSERT_EQ(big.size(), 4u * 1024 * 1024 + 1);
  HttpResponse r = PutManifest(repo, "big", big);
  EXPECT_TRUE(IsStatus(r, 413));
  EXPECT_TRUE(IsStatus(Do("HEAD", ManifestPath(repo, "big")), 404));
  Content fits = ManifestOfSize(spec, 4'000'000);
  EXPECT_TRUE(IsStatus(PutManifest(repo, "fits", fits), 201));
}

TEST_F(RegistryErrorsTest, ManifestPutUnderWrongDigestIs400DigestInvalid) {
  std::string repo = Repo();
  ManifestSpec spec = ImageSpec();
  ASSERT_TRUE(PushBlob(repo, spec.config));
  ASSERT_TRUE(PushBlob(repo, spec.layers[0]));
  std::string wrong = Sha256("not the manifest");
  HttpResponse r = PutManifest(repo, wrong, MakeManifest(spec));
  ASSERT_TRUE(IsStatus(r, 400));
  EXPECT_TRUE(HasError(r, "DIGEST_INVALID"));
  EXPECT_TRUE(IsStatus(Do("GET", ManifestPath(repo, wrong)), 404));
}

// Upstream's older "Error codes" check, as a PUT: a reference that is neither tag nor digest.
TEST_F(RegistryErrorsTest, ManifestPutUnderMalformedDigestIs400WithOciError) {
  HttpResponse r =
      PutManifest(Repo(), "sha256:totallywrong", MakeContent("blablabla", kOciManifest));
  ASSERT_TRUE(IsStatus(r, 400));
  EXPECT_TRUE(HasError(r));
}

// ---- Blobs ----

TEST_F(RegistryErrorsTest, BlobPutWithWrongDigestIs400DigestInvalidAndNothingIsStored) {
  std::string repo = Repo();
  Content blob = RandomBlob(100);
  std::string wrong = Sha256(blob.bytes + "x");
  HttpResponse post = StartUpload(repo);
  ASSERT_TRUE(IsStatus(post, 202));
  HttpResponse put = Do("PUT", WithQuery(post.Header("Location"), "digest", wrong),
                        {{"Content-Type", "application/octet-stream"}}, blob.bytes);
  ASSERT_TRUE(IsStatus(put, 400));
  EXPECT_TRUE(HasError(put, "DIGEST_INVALID"));
  EXPECT_TRUE(IsStatus(Do("HEAD", BlobPath(repo, wrong)), 404));
  EXPECT_TRUE(IsStatus(Do("HEAD", BlobPath(repo, blob.digest)), 404));
}

TEST_F(RegistryErrorsTest, MonolithicPostWithWrongDigestStoresNothing) {
  std::string repo = Repo();
  Content blob = RandomBlob(100);
  std::string wrong = Sha256(blob.bytes + "x");
  HttpResponse r = Do("POST", WithQuery(UploadsPath(repo), "digest", wrong),
                      {{"Content-Type", "application/octet-stream"}}, blob.bytes);
  ASSERT_TRUE(IsStatusIn(r, {400, 202})) << "400 DIGEST_INVALID, or 202 if single POST is off";
  if (r.status == 400) {
    EXPECT_TRUE(HasError(r, "DIGEST_INVALID"));
  }
  EXPECT_TRUE(IsStatus(Do("HEAD", BlobPath(repo, wrong)), 404));
  EXPECT_TRUE(IsStatus(Do("HEAD", BlobPath(repo, blob.digest)), 404));
}

// ---- Names ----

// The name is refused before anything else: a POST to start an upload is the first thing a
// push does.
TEST_F(RegistryErrorsTest, NameWithDotDotIs400NameInvalid) {
  for (const std::string& name : {Repo() + "/../escape", Repo() + "/a..b", std::string("..")}) {
    HttpResponse r = StartUpload(name);
    EXPECT_TRUE(IsStatus(r, 400)) << name;
    EXPECT_TRUE(HasError(r, "NAME_INVALID")) << name;
  }
}

TEST_F(RegistryErrorsTest, NameWithUpperCaseIs400NameInvalid) {
  HttpResponse r = StartUpload(Repo() + "/UpperCase");
  ASSERT_TRUE(IsStatus(r, 400));
  EXPECT_TRUE(HasError(r, "NAME_INVALID"));
}

TEST_F(RegistryErrorsTest, NameOver255CharactersIs400NameInvalidAnd255IsAccepted) {
  std::string base = Repo() + "/";
  std::string name255 = base + std::string(255 - base.size(), 'a');
  std::string name256 = base + std::string(256 - base.size(), 'a');
  HttpResponse too_long = StartUpload(name256);
  ASSERT_TRUE(IsStatus(too_long, 400));
  EXPECT_TRUE(HasError(too_long, "NAME_INVALID"));
  EXPECT_TRUE(IsStatus(StartUpload(name255), 202));
}

// ---- Uploads ----

TEST_F(RegistryErrorsTest, UploadIdUsedUnderAnotherRepositoryIs404BlobUploadUnknown) {
  std::string mine = Repo("mine");
  std::string other = Repo("other");
  HttpResponse post = StartUpload(mine);
  ASSERT_TRUE(IsStatus(post, 202));
  std::string location = HttpClient::RelativePath(post.Header("Location"));
  ASSERT_EQ(location.rfind(UploadsPath(mine), 0), 0u) << location;
  std::string foreign = UploadsPath(other) + location.substr(UploadsPath(mine).size());
  Content blob = RandomBlob(42);
  HttpResponse patch =
      Do("PATCH", foreign, {{"Content-Type", "application/octet-stream"}}, blob.bytes);
  EXPECT_TRUE(IsStatus(patch, 404));
  EXPECT_TRUE(HasError(patch, "BLOB_UPLOAD_UNKNOWN"));
  HttpResponse get = Do("GET", foreign);
  EXPECT_TRUE(IsStatus(get, 404));
  HttpResponse put = Do("PUT", WithQuery(foreign, "digest", blob.digest),
                        {{"Content-Type", "application/octet-stream"}}, blob.bytes);
  EXPECT_TRUE(IsStatus(put, 404));
  EXPECT_TRUE(HasError(put, "BLOB_UPLOAD_UNKNOWN"));
  EXPECT_TRUE(IsStatus(Do("HEAD", BlobPath(other, blob.digest)), 404));
}

TEST_F(RegistryErrorsTest, CancelledUploadIsUnknownAfterwards) {
  HttpResponse post = StartUpload(Repo());
  ASSERT_TRUE(IsStatus(post, 202));
  EXPECT_TRUE(IsStatus(Do("DELETE", post.Header("Location")), 204));
  HttpResponse get = Do("GET", post.Header("Location"));
  EXPECT_TRUE(IsStatus(get, 404));
  EXPECT_TRUE(HasError(get, "BLOB_UPLOAD_UNKNOWN"));
}

class RegistryContentRangeTest : public RegistryTest {
 protected:
  // A session with bytes 0-9 uploaded; its Location.
  std::string SessionWithTenBytes() {
    HttpResponse post = StartUpload(Repo());
    EXPECT_TRUE(IsStatus(post, 202));
    HttpResponse patch =
        Do("PATCH", post.Header("Location"),
           {{"Content-Type", "application/octet-stream"}, {"Content-Range", "0-9"}},
           blob_.bytes.substr(0, 10));
    EXPECT_TRUE(IsStatus(patch, 202));
    return patch.Header("Location");
  }
  HttpResponse Patch(const std::string& location, size_t first, size_t last) {
    return Do("PATCH", location,
              {{"Content-Type", "application/octet-stream"},
               {"Content-Range", std::to_string(first) + "-" + std::to_string(last)}},
              blob_.bytes.substr(first, last - first + 1));
  }
  Content blob_ = RandomBlob(40);
};

TEST_F(RegistryContentRangeTest, ChunkThatSkipsBytesIs416) {
  std::string location = SessionWithTenBytes();
  EXPECT_TRUE(IsStatus(Patch(location, 12, 19), 416));
  HttpResponse status = Do("GET", location);
  ASSERT_TRUE(IsStatus(status, 204));
  EXPECT_EQ(status.Header("Range"), "0-9") << "a refused chunk leaves the upload as it was";
}

TEST_F(RegistryContentRangeTest, ChunkThatOverlapsIs416) {
  std::string location = SessionWithTenBytes();
  EXPECT_TRUE(IsStatus(Patch(location, 5, 14), 416));
  HttpResponse status = Do("GET", location);
  ASSERT_TRUE(IsStatus(status, 204));
  EXPECT_EQ(status.Header("Range"), "0-9");
}

TEST_F(RegistryContentRangeTest, FinalChunkOutOfOrderInClosingPutIs416) {
  std::string location = SessionWithTenBytes();
  HttpResponse put = Do("PUT", WithQuery(location, "digest", blob_.digest),
                        {{"Content-Type", "application/octet-stream"}, {"Content-Range", "12-39"}},
                        blob_.bytes.substr(12));
  EXPECT_TRUE(IsStatus(put, 416));
}

// ---- Headers and error bodies ----

TEST_F(RegistryHeadersTest, BaseEndpointIs200WithApiVersionHeader) {
  HttpResponse r = Do("GET", "/v2/");
  ASSERT_TRUE(IsStatus(r, 200));
  EXPECT_EQ(r.Header("Docker-Distribution-API-Version"), "registry/2.0");
}

TEST_F(RegistryHeadersTest, ApiVersionHeaderIsOnEveryResponse) {
  std::string repo = Repo();
  Content blob = RandomBlob(42);
  for (const HttpResponse& r :
       {StartUpload(repo), Do("GET", BlobPath(repo, blob.digest)),
        Do("GET", ManifestPath(repo, "latest")), Do("GET", "/v2/" + repo + "/tags/list")}) {
    EXPECT_EQ(r.Header("Docker-Distribution-API-Version"), "registry/2.0") << Describe(r);
  }
}

TEST_F(RegistryHeadersTest, DockerContentDigestIsOnBlobAndManifestResponses) {
  std::string repo = Repo();
  ManifestSpec spec = ImageSpec();
  HttpResponse post = StartUpload(repo);
  ASSERT_TRUE(IsStatus(post, 202));
  HttpResponse blob_put =
      Do("PUT", WithQuery(post.Header("Location"), "digest", spec.config.digest),
         {{"Content-Type", "application/octet-stream"}}, spec.config.bytes);
  ASSERT_TRUE(IsStatus(blob_put, 201));
  EXPECT_EQ(blob_put.Header("Docker-Content-Digest"), spec.config.digest) << "blob PUT";
  ASSERT_TRUE(PushBlob(repo, spec.layers[0]));
  Content manifest = MakeManifest(spec);
  HttpResponse manifest_put = PutManifest(repo, "latest", manifest);
  ASSERT_TRUE(IsStatus(manifest_put, 201));
  EXPECT_EQ(manifest_put.Header("Docker-Content-Digest"), manifest.digest) << "manifest PUT";
  for (const char* method : {"GET", "HEAD"}) {
    EXPECT_EQ(Do(method, BlobPath(repo, spec.config.digest)).Header("Docker-Content-Digest"),
              spec.config.digest)
        << method << " blob";
    EXPECT_EQ(Do(method, ManifestPath(repo, "latest"), {{"Accept", kOciManifest}})
                  .Header("Docker-Content-Digest"),
              manifest.digest)
        << method << " manifest by tag";
  }
}

TEST_F(RegistryHeadersTest, ErrorBodiesHaveTheSpecShape) {
  std::string repo = Repo();
  ASSERT_TRUE(PushImage(repo, "latest", ImageSpec()));  // the repository exists
  HttpResponse blob = Do("GET", BlobPath(repo, Sha256("hello world")));
  ASSERT_TRUE(IsStatus(blob, 404));
  EXPECT_TRUE(HasError(blob, "BLOB_UNKNOWN"));
  EXPECT_EQ(blob.Header("Content-Type").rfind("application/json", 0), 0u);
  HttpResponse manifest = Do("GET", ManifestPath(repo, "nosuchtag"));
  ASSERT_TRUE(IsStatus(manifest, 404));
  EXPECT_TRUE(HasError(manifest, "MANIFEST_UNKNOWN"));
  HttpResponse by_digest = Do("GET", ManifestPath(repo, Sha256("hello world")));
  ASSERT_TRUE(IsStatus(by_digest, 404));
  EXPECT_TRUE(HasError(by_digest, "MANIFEST_UNKNOWN"));
  HttpResponse upload = Do("GET", UploadsPath(repo) + "no-such-upload");
  ASSERT_TRUE(IsStatus(upload, 404));
  EXPECT_TRUE(HasError(upload, "BLOB_UPLOAD_UNKNOWN"));
}

// ---- Manifest types ----

TEST_F(RegistryManifestTypesTest, DockerSchema2ManifestIsServedAsPushed) {
  std::string repo = Repo();
  ManifestSpec spec;
  spec.media_type = kDockerManifest;
  spec.config = MakeConfig(kDockerConfig);
  spec.layers = {RandomBlob(100, kDockerLayer), RandomBlob(150, kDockerLayer)};
  Content manifest;
  ASSERT_TRUE(PushImage(repo, "docker", spec, &manifest));
  for (const std::string& ref : {std::string("docker"), manifest.digest}) {
    HttpResponse r = Do("GET", ManifestPath(repo, ref), {{"Accept", kDockerManifest}});
    ASSERT_TRUE(IsStatus(r, 200)) << ref;
    EXPECT_EQ(r.Header("Content-Type"), kDockerManifest);
    EXPECT_EQ(r.Header("Docker-Content-Digest"), manifest.digest);
    EXPECT_EQ(r.body, manifest.bytes);
  }
}

TEST_F(RegistryManifestTypesTest, OciIndexOfTwoManifestsIsServedAsPushed) {
  std::string repo = Repo();
  Content amd64, arm64;
  ASSERT_TRUE(PushImage(repo, "amd64", ImageSpec(), &amd64));
  ASSERT_TRUE(PushImage(repo, "arm64", ImageSpec(2), &arm64));
  Content index = MakeIndex({{amd64, arm64}, {}, {}, {}});
  HttpResponse put = PutManifest(repo, "multi", index);
  ASSERT_TRUE(IsStatus(put, 201));
  EXPECT_EQ(put.Header("Docker-Content-Digest"), index.digest);
  HttpResponse r = Do("GET", ManifestPath(repo, "multi"), {{"Accept", kOciIndex}});
  ASSERT_TRUE(IsStatus(r, 200));
  EXPECT_EQ(r.Header("Content-Type"), kOciIndex);
  EXPECT_EQ(r.body, index.bytes);
}

}  // namespace
}  // namespace berth::registry_conformance
