// skopeo (Debian's 1.9) against berth-registry: copy to and from it, inspect, list-tags,
// delete; and a round trip berth-registry -> Debian's docker-registry -> berth-registry that
// must keep the manifest's bytes and every digest.
#include <filesystem>

#include <nlohmann/json.hpp>

#include "compat_fixture.h"

namespace berth::registry_compat {
namespace {

class SkopeoTest : public CompatTest {
 protected:
  void SetUp() override {
    CompatTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    if (auto why = MissingTools({"skopeo", "tar", "gzip"}); !why.empty()) GTEST_SKIP() << why;
    if (auto why = BusyboxMissing(); !why.empty()) GTEST_SKIP() << why;
    ASSERT_TRUE(StartRegistry());
    skopeo_ = std::make_unique<Skopeo>(dir_.Sub("home"));
  }
  std::unique_ptr<Skopeo> skopeo_;
};

TEST_F(SkopeoTest, CopiesToAndFromBerthRegistryInspectsListsTagsAndDeletes) {
  OciImage image;
  ASSERT_TRUE(MakeImage("image", &image));
  const std::string repo = registry_->host() + "/compat/skopeo";
  ASSERT_TRUE(skopeo_->Ok(
      {"copy", "--dest-tls-verify=false", image.Reference(), "docker://" + repo + ":v1"}));
  ASSERT_TRUE(skopeo_->Ok(
      {"copy", "--dest-tls-verify=false", image.Reference(), "docker://" + repo + ":v2"}));

  // The registry holds exactly what was pushed: the layout's manifest bytes, config and layer.
  std::string raw;
  ASSERT_TRUE(skopeo_->RawManifest(repo + ":v1", &raw));
  EXPECT_EQ(raw, image.manifest.bytes);
  EXPECT_TRUE(HasBlob("compat/skopeo", image.layer.digest));
  EXPECT_TRUE(HasBlob("compat/skopeo", image.config.digest));

  std::string out;
  ASSERT_TRUE(skopeo_->Ok({"inspect", "--tls-verify=false", "docker://" + repo + ":v1"}, &out));
  nlohmann::json inspect = nlohmann::json::parse(out, nullptr, false);
  ASSERT_FALSE(inspect.is_discarded()) << out;
  EXPECT_EQ(inspect.value("Digest", ""), image.manifest.digest);
  EXPECT_EQ(inspect["Layers"], nlohmann::json::array({image.layer.digest}));
  EXPECT_EQ(inspect.value("Architecture", ""), "amd64");
  ASSERT_TRUE(
      skopeo_->Ok({"inspect", "--tls-verify=false", "--config", "docker://" + repo + ":v1"}, &out));
  EXPECT_EQ(nlohmann::json::parse(out, nullptr, false)["rootfs"]["diff_ids"],
            nlohmann::json::array({image.diff_id}));

  ASSERT_TRUE(skopeo_->Ok({"list-tags", "--tls-verify=false", "docker://" + repo}, &out));
  nlohmann::json tags = nlohmann::json::parse(out, nullptr, false);
  EXPECT_EQ(tags["Tags"], nlohmann::json::array({"v1", "v2"})) << out;

  // Back out of the registry into a new layout: the same bytes.
  std::string pulled = dir_.Sub("pulled");
  ASSERT_TRUE(skopeo_->Ok(
      {"copy", "--src-tls-verify=false", "docker://" + repo + ":v2", "oci:" + pulled + ":latest"}));
  EXPECT_EQ(ReadFile(pulled + "/blobs/sha256/" + image.manifest.digest.substr(7)),
            image.manifest.bytes);
  EXPECT_EQ(ReadFile(pulled + "/blobs/sha256/" + image.layer.digest.substr(7)), image.layer.bytes);
  EXPECT_EQ(ReadFile(pulled + "/blobs/sha256/" + image.config.digest.substr(7)),
            image.config.bytes);

  // skopeo delete removes the manifest (by digest: both tags go with it).
  ASSERT_TRUE(skopeo_->Ok({"delete", "--tls-verify=false", "docker://" + repo + ":v1"}));
  EXPECT_EQ(Get("/v2/compat/skopeo/manifests/" + image.manifest.digest).status, 404);
  EXPECT_EQ(Get("/v2/compat/skopeo/manifests/v2").status, 404);
  CommandResult gone = skopeo_->Run({"inspect", "--tls-verify=false", "docker://" + repo + ":v1"});
  EXPECT_NE(gone.exit_code, 0) << gone.out;
  EXPECT_NE(gone.err.find("manifest unknown"), std::string::npos) << gone.err;
}

TEST_F(SkopeoTest, RoundTripThroughDockerRegistryKeepsManifestBytesAndBlobDigests) {
  if (DockerRegistry::Binary().empty()) {
    GTEST_SKIP() << "docker-registry is not installed (apt-get install docker-registry)";
  }
  DockerRegistry reference(dir_.Sub("docker-registry"));
  ASSERT_TRUE(reference.Start());
  OciImage image;
  ASSERT_TRUE(MakeImage("image", &image));
  const std::string a = registry_->host() + "/compat/interop/a:v1";
  const std::string b = reference.host() + "/compat/interop/b:v1";
  const std::string c = registry_->host() + "/compat/interop/c:v1";
  ASSERT_TRUE(skopeo_->Ok({"copy", "--dest-tls-verify=false", image.Reference(), "docker://" + a}));
  ASSERT_TRUE(skopeo_->Ok({"copy", "--src-tls-verify=false", "--dest-tls-verify=false",
                           "docker://" + a, "docker://" + b}))
      << reference.LogTail();
  ASSERT_TRUE(skopeo_->Ok({"copy", "--src-tls-verify=false", "--dest-tls-verify=false",
                           "docker://" + b, "docker://" + c}));
  for (const std::string& ref : {a, b, c}) {
    std::string raw;
    ASSERT_TRUE(skopeo_->RawManifest(ref, &raw));
    EXPECT_EQ(raw, image.manifest.bytes) << ref;
    std::string digest;
    ASSERT_TRUE(skopeo_->Ok(
        {"inspect", "--tls-verify=false", "--format", "{{.Digest}}", "docker://" + ref}, &digest));
    EXPECT_EQ(Trimmed(digest), image.manifest.digest) << ref;
  }
  // docker-registry holds the same blobs, byte for byte.
  HttpClient at_reference("http://" + reference.host());
  for (const Content* blob : {&image.layer, &image.config}) {
    HttpResponse r = at_reference.Do({"GET", "/v2/compat/interop/b/blobs/" + blob->digest, {}, ""});
    EXPECT_EQ(r.status, 200) << Describe(r);
    EXPECT_TRUE(r.body == blob->bytes) << "docker-registry's " << blob->digest << " differs";
  }
  EXPECT_TRUE(HasBlob("compat/interop/c", image.layer.digest));
  EXPECT_TRUE(HasBlob("compat/interop/c", image.config.digest));
  // The manifest under its digest, in the repository it came back to.
  HttpResponse m = Get("/v2/compat/interop/c/manifests/" + image.manifest.digest);
  EXPECT_EQ(m.status, 200) << Describe(m);
  EXPECT_EQ(m.body, image.manifest.bytes);
  EXPECT_EQ(m.Header("Docker-Content-Digest"), image.manifest.digest);
}

}  // namespace
}  // namespace berth::registry_compat
