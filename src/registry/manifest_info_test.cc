#include "registry/manifest_info.h"

#include <string>

#include <gtest/gtest.h>

namespace berth::registry {
namespace {

const std::string kA = "sha256:" + std::string(64, 'a');
const std::string kB = "sha256:" + std::string(64, 'b');
const std::string kC = "sha256:" + std::string(64, 'c');

std::string Manifest(const std::string& extra = "") {
  return R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",)"
         R"("config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":")" + kA +
         R"(","size":2},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":")" +
         kB + R"(","size":3}])" + extra + "}";
}

TEST(ManifestInfoTest, ImageManifestReferencesConfigAndLayers) {
  auto info = AnalyzeManifest(Manifest(), "application/vnd.oci.image.manifest.v1+json");
  ASSERT_TRUE(info.ok()) << info.error().message;
  EXPECT_EQ(info->media_type, "application/vnd.oci.image.manifest.v1+json");
  ASSERT_EQ(info->blobs.size(), 2u);
  EXPECT_EQ(info->blobs[0].ToString(), kA);
  EXPECT_EQ(info->blobs[1].ToString(), kB);
  EXPECT_TRUE(info->manifests.empty());
  EXPECT_FALSE(info->subject.has_value());
  EXPECT_EQ(info->artifact_type, "application/vnd.oci.image.config.v1+json");
}

TEST(ManifestInfoTest, SubjectArtifactTypeAndAnnotations) {
  auto info = AnalyzeManifest(
      Manifest(R"(,"artifactType":"application/x-sig","subject":{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":")" +
               kC + R"(","size":7},"annotations":{"k":"v"})"),
      "");
  ASSERT_TRUE(info.ok()) << info.error().message;
  ASSERT_TRUE(info->subject.has_value());
  EXPECT_EQ(info->subject->ToString(), kC);
  EXPECT_EQ(info->artifact_type, "application/x-sig");
  EXPECT_EQ(info->annotations_json, R"({"k":"v"})");
}

TEST(ManifestInfoTest, IndexReferencesManifests) {
  std::string index = R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":")" +
                      kA + R"(","size":1}]})";
  auto info = AnalyzeManifest(index, "application/vnd.oci.image.index.v1+json");
  ASSERT_TRUE(info.ok()) << info.error().message;
  EXPECT_TRUE(info->blobs.empty());
  ASSERT_EQ(info->manifests.size(), 1u);
  EXPECT_EQ(info->manifests[0].ToString(), kA);
}

TEST(ManifestInfoTest, DockerSchema2ByContentType) {
  std::string m = R"({"schemaVersion":2,"config":{"mediaType":"application/vnd.docker.container.image.v1+json","digest":")" +
                  kA + R"(","size":1},"layers":[]})";
  auto info = AnalyzeManifest(m, "application/vnd.docker.distribution.manifest.v2+json");
  ASSERT_TRUE(info.ok()) << info.error().message;
  EXPECT_EQ(info->media_type, "application/vnd.docker.distribution.manifest.v2+json");
}

TEST(ManifestInfoTest, ForeignLayersAreNotRequired) {
  std::string m = R"({"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":{"mediaType":"application/vnd.docker.container.image.v1+json","digest":")" +
                  kA + R"(","size":1},"layers":[{"mediaType":"application/vnd.docker.image.rootfs.foreign.diff.tar.gzip","digest":")" +
                  kB + R"(","size":1,"urls":["https://example.com/x"]}]})";
  auto info = AnalyzeManifest(m, "");
  ASSERT_TRUE(info.ok()) << info.error().message;
  ASSERT_EQ(info->blobs.size(), 1u);
}

TEST(ManifestInfoTest, RefusesWhatIsNotAManifest) {
  EXPECT_EQ(AnalyzeManifest("not json", "").error().code, Code::kInvalidArgument);
  EXPECT_EQ(AnalyzeManifest("[1]", "").error().code, Code::kInvalidArgument);
  EXPECT_EQ(AnalyzeManifest(R"({"schemaVersion":2,"layers":[]})", "").error().code,
            Code::kInvalidArgument);  // no config
  EXPECT_EQ(AnalyzeManifest(R"({"schemaVersion":1,"name":"x"})",
                            "application/vnd.docker.distribution.manifest.v1+prettyjws")
                .error()
                .code,
            Code::kInvalidArgument);
  // A Content-Type that is no manifest type says nothing.
  EXPECT_TRUE(AnalyzeManifest(Manifest(), "application/x-www-form-urlencoded").ok());
  // A mediaType that contradicts the Content-Type.
  EXPECT_FALSE(AnalyzeManifest(Manifest(), "application/vnd.oci.image.index.v1+json").ok());
  // A malformed digest.
  std::string bad = Manifest();
  bad.replace(bad.find(kB), kB.size(), "sha256:XYZ");
  EXPECT_FALSE(AnalyzeManifest(bad, "").ok());
}

}  // namespace
}  // namespace berth::registry
