// Container engines against berth-registry: podman (Debian's 4.3, private vfs store) and
// dockerd (Debian's docker.io 20.10, own roots and socket, driven by the docker CLI) push and
// pull; every digest they report is the one skopeo sees in the registry, and images pushed by
// one of skopeo, podman and dockerd are pulled by the others with the same digest and image ID.
#include <regex>
#include <sstream>

#include <nlohmann/json.hpp>

#include "compat_fixture.h"

namespace berth::registry_compat {
namespace {

class EnginesTest : public CompatTest {
 protected:
  void SetUp() override {
    CompatTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    if (auto why = MissingTools({"skopeo", "tar", "gzip"}); !why.empty()) GTEST_SKIP() << why;
    if (auto why = BusyboxMissing(); !why.empty()) GTEST_SKIP() << why;
    skopeo_ = std::make_unique<Skopeo>(dir_.Sub("home"));
  }

  // Skips unless podman is installed; then a podman with its own store.
  bool NeedPodman() {
    if (auto why = MissingTools({"podman"}); !why.empty()) {
      skip_ = why;
      return false;
    }
    podman_ = std::make_unique<Podman>(dir_.Sub("podman"));
    return true;
  }
  bool NeedDockerd() {
    if (Dockerd::DaemonBinary().empty() || Dockerd::CliBinary().empty()) {
      skip_ = "dockerd or the docker CLI is not installed (apt-get install docker.io)";
      return false;
    }
    dockerd_ = std::make_unique<Dockerd>(dir_.Sub("dockerd"));
    return true;
  }
  void TearDown() override {
    if (dockerd_) {
      EXPECT_TRUE(dockerd_->Stop());
    }
    dockerd_.reset();
    CompatTest::TearDown();
  }

  // The manifest digest of docker://REF as skopeo reads it from the registry.
  std::string SkopeoDigest(const std::string& ref) {
    std::string out;
    EXPECT_TRUE(skopeo_->Ok(
        {"inspect", "--tls-verify=false", "--format", "{{.Digest}}", "docker://" + ref}, &out));
    return Trimmed(out);
  }

  // podman: pull REF, then its image ID and the digest it recorded.
  ::testing::AssertionResult PodmanPull(const std::string& ref, std::string* id,
                                        std::string* digest) {
    if (auto r = podman_->Ok({"pull", "-q", "--tls-verify=false", ref}); !r) return r;
    std::string out;
    if (auto r = podman_->Ok({"image", "inspect", "--format", "{{.Id}} {{.Digest}}", ref}, &out);
        !r) {
      return r;
    }
    std::istringstream fields(out);
    fields >> *id >> *digest;
    return ::testing::AssertionSuccess();
  }

  // podman: pulls `image` from its OCI layout into the store; its image ID.
  ::testing::AssertionResult PodmanLoad(const OciImage& image, std::string* id) {
    std::string out;
    if (auto r = podman_->Ok({"pull", "-q", image.Reference()}, &out); !r) return r;
    *id = Trimmed(out);
    if ("sha256:" + *id != image.config.digest) {
      return ::testing::AssertionFailure()
             << "podman pull " << image.Reference() << " gave ID " << *id
             << ", not the config digest " << image.config.digest;
    }
    return ::testing::AssertionSuccess();
  }

  // docker: the digest `docker push` printed ("v1: digest: sha256:... size: N").
  static std::string PushedDigest(const std::string& push_output) {
    static const std::regex kDigest(R"(digest: (sha256:[0-9a-f]{64}) size:)");
    std::smatch m;
    return std::regex_search(push_output, m, kDigest) ? m[1].str() : "";
  }

  // docker: the image ID and the digest in RepoDigests for repository `repo` of image `ref`.
  ::testing::AssertionResult DockerInspect(const std::string& ref, const std::string& repo,
                                           std::string* id, std::string* digest) {
    std::string out;
    if (auto r = dockerd_->DockerOk({"image", "inspect", ref}, &out); !r) return r;
    nlohmann::json j = nlohmann::json::parse(out, nullptr, false);
    if (!j.is_array() || j.empty()) return ::testing::AssertionFailure() << out;
    *id = j[0].value("Id", "");
    digest->clear();
    for (const auto& rd : j[0]["RepoDigests"]) {
      std::string s = rd.get<std::string>();
      if (s.rfind(repo + "@", 0) == 0) *digest = s.substr(repo.size() + 1);
    }
    return ::testing::AssertionSuccess();
  }

  // docker: pull REF (REPO:TAG) afresh and read its ID and digest.
  ::testing::AssertionResult DockerPull(const std::string& repo, const std::string& tag,
                                        std::string* id, std::string* digest) {
    if (auto r = dockerd_->DockerOk({"pull", "-q", repo + ":" + tag}); !r) return r;
    return DockerInspect(repo + ":" + tag, repo, id, digest);
  }

  // Loads `image` into dockerd as `name` (through a docker-archive made by skopeo).
  ::testing::AssertionResult DockerLoad(const OciImage& image, const std::string& name) {
    std::string archive = dir_.Sub("archive-" + image.config.digest.substr(7, 12) + ".tar");
    if (auto r = skopeo_->Ok({"copy", image.Reference(), "docker-archive:" + archive + ":" + name});
        !r) {
      return r;
    }
    return dockerd_->DockerOk({"load", "-i", archive});
  }

  std::string skip_;
  std::unique_ptr<Skopeo> skopeo_;
  std::unique_ptr<Podman> podman_;
  std::unique_ptr<Dockerd> dockerd_;
};

TEST_F(EnginesTest, PodmanPushesAndPullsWithTheDigestAndImageIdSkopeoSees) {
  if (!NeedPodman()) GTEST_SKIP() << skip_;
  ASSERT_TRUE(StartRegistry());
  OciImage image;
  ASSERT_TRUE(MakeImage("image", &image));
  std::string loaded;
  ASSERT_TRUE(PodmanLoad(image, &loaded));
  const std::string ref = registry_->host() + "/compat/podman:v1";
  std::string digest_file = dir_.Sub("podman.digest");
  ASSERT_TRUE(
      podman_->Ok({"push", "-q", "--tls-verify=false", "--digestfile", digest_file, loaded, ref}));
  const std::string pushed = Trimmed(ReadFile(digest_file));
  ASSERT_EQ(pushed.rfind("sha256:", 0), 0u) << pushed;
  EXPECT_EQ(SkopeoDigest(ref), pushed);
  std::string raw;
  ASSERT_TRUE(skopeo_->RawManifest(ref, &raw));
  EXPECT_EQ(registry_conformance::Sha256(raw), pushed);
  nlohmann::json manifest = nlohmann::json::parse(raw, nullptr, false);
  ASSERT_FALSE(manifest.is_discarded()) << raw;
  EXPECT_EQ(manifest["config"].value("digest", ""), image.config.digest);
  for (const auto& layer : manifest["layers"]) {
    EXPECT_TRUE(HasBlob("compat/podman", layer.value("digest", "")));
  }

  // A pull into an empty store: the same image ID (its config digest) and manifest digest.
  ASSERT_TRUE(podman_->Ok({"rmi", "-a", "-f"}));
  std::string id;
  std::string digest;
  ASSERT_TRUE(PodmanPull(ref, &id, &digest));
  EXPECT_EQ("sha256:" + id, image.config.digest);
  EXPECT_EQ(digest, pushed);
  ASSERT_TRUE(podman_->Ok({"rmi", "-a", "-f"}));
}

TEST_F(EnginesTest, DockerdLoadsPushesRemovesAndPullsWithTheDigestSkopeoSees) {
  if (!NeedDockerd()) GTEST_SKIP() << skip_;
  ASSERT_TRUE(StartRegistry());
  ASSERT_TRUE(dockerd_->Start());
  OciImage image;
  ASSERT_TRUE(MakeImage("image", &image));
  ASSERT_TRUE(DockerLoad(image, "compat/loaded:v1"));
  const std::string repo = registry_->host() + "/compat/docker";
  ASSERT_TRUE(dockerd_->DockerOk({"tag", "compat/loaded:v1", repo + ":v1"}));
  std::string out;
  ASSERT_TRUE(dockerd_->DockerOk({"push", repo + ":v1"}, &out));
  const std::string pushed = PushedDigest(out);
  ASSERT_FALSE(pushed.empty()) << "no digest in docker push's output: " << out;
  EXPECT_EQ(SkopeoDigest(repo + ":v1"), pushed);
  std::string id;
  std::string digest;
  ASSERT_TRUE(DockerInspect(repo + ":v1", repo, &id, &digest));
  EXPECT_EQ(digest, pushed);
  EXPECT_EQ(id, image.config.digest);

  ASSERT_TRUE(dockerd_->DockerOk({"rmi", "compat/loaded:v1", repo + ":v1"}));
  CommandResult gone = dockerd_->Docker({"image", "inspect", repo + ":v1"});
  ASSERT_NE(gone.exit_code, 0) << "the image is still there after docker rmi";
  ASSERT_TRUE(DockerPull(repo, "v1", &id, &digest));
  EXPECT_EQ(digest, pushed);
  EXPECT_EQ(id, image.config.digest);
  // What dockerd pushed (a Docker schema2 manifest) is whole in the registry.
  std::string raw;
  ASSERT_TRUE(skopeo_->RawManifest(repo + ":v1", &raw));
  nlohmann::json manifest = nlohmann::json::parse(raw, nullptr, false);
  EXPECT_EQ(manifest.value("mediaType", ""), registry_conformance::kDockerManifest);
  EXPECT_TRUE(HasBlob("compat/docker", manifest["config"].value("digest", "")));
  for (const auto& layer : manifest["layers"]) {
    EXPECT_TRUE(HasBlob("compat/docker", layer.value("digest", "")));
  }
}

// One image pushed by each of skopeo, podman and dockerd; each pulled (or inspected) by the
// two others: the same manifest digest everywhere, the same image ID in both engines.
TEST_F(EnginesTest, EachToolPullsWhatTheOthersPushedWithTheSameDigest) {
  if (!NeedPodman() || !NeedDockerd()) GTEST_SKIP() << skip_;
  ASSERT_TRUE(StartRegistry());
  ASSERT_TRUE(dockerd_->Start());
  OciImage by_skopeo;
  OciImage by_podman;
  OciImage by_docker;
  ASSERT_TRUE(MakeImage("skopeo-image", &by_skopeo));
  ASSERT_TRUE(MakeImage("podman-image", &by_podman));
  ASSERT_TRUE(MakeImage("docker-image", &by_docker));
  const std::string host = registry_->host();
  struct Pushed {
    std::string pusher;
    std::string repo;  // HOST/compat/cross/<pusher>
    std::string digest;
    std::string config;
  };
  std::vector<Pushed> pushed;

  std::string repo = host + "/compat/cross/skopeo";
  ASSERT_TRUE(skopeo_->Ok(
      {"copy", "--dest-tls-verify=false", by_skopeo.Reference(), "docker://" + repo + ":v1"}));
  pushed.push_back({"skopeo", repo, by_skopeo.manifest.digest, by_skopeo.config.digest});

  repo = host + "/compat/cross/podman";
  std::string digest_file = dir_.Sub("podman.digest");
  std::string loaded;
  ASSERT_TRUE(PodmanLoad(by_podman, &loaded));
  ASSERT_TRUE(podman_->Ok(
      {"push", "-q", "--tls-verify=false", "--digestfile", digest_file, loaded, repo + ":v1"}));
  ASSERT_TRUE(podman_->Ok({"rmi", "-a", "-f"}));
  pushed.push_back({"podman", repo, Trimmed(ReadFile(digest_file)), by_podman.config.digest});

  repo = host + "/compat/cross/docker";
  ASSERT_TRUE(DockerLoad(by_docker, repo + ":v1"));
  std::string out;
  ASSERT_TRUE(dockerd_->DockerOk({"push", repo + ":v1"}, &out));
  pushed.push_back({"docker", repo, PushedDigest(out), by_docker.config.digest});
  ASSERT_TRUE(dockerd_->DockerOk({"rmi", repo + ":v1"}));

  for (const Pushed& p : pushed) {
    SCOPED_TRACE("pushed by " + p.pusher + " to " + p.repo);
    ASSERT_EQ(p.digest.rfind("sha256:", 0), 0u) << p.digest;
    if (p.pusher != "skopeo") {
      EXPECT_EQ(SkopeoDigest(p.repo + ":v1"), p.digest);
    }
    std::string id;
    std::string digest;
    if (p.pusher != "podman") {
      ASSERT_TRUE(PodmanPull(p.repo + ":v1", &id, &digest));
      EXPECT_EQ(digest, p.digest);
      EXPECT_EQ("sha256:" + id, p.config);
    }
    if (p.pusher != "docker") {
      ASSERT_TRUE(DockerPull(p.repo, "v1", &id, &digest));
      EXPECT_EQ(digest, p.digest);
      EXPECT_EQ(id, p.config);
    }
  }
  EXPECT_TRUE(podman_->Ok({"rmi", "-a", "-f"}));
}

}  // namespace
}  // namespace berth::registry_compat
