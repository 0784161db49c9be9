// Garbage collection with --gc-grace 0: a blob no manifest references is removed, a referenced
// one stays until its manifest is deleted. `berth-registry gc` beside a running `serve` asks it
// to collect (SIGUSR1, the pid in the data root's lock) and prints its report; on a stopped
// registry it collects itself (stop -> gc -> start); serve also collects every --gc-interval.
#include <sys/stat.h>

#include <chrono>
#include <thread>

#include "compat_fixture.h"

namespace berth::registry_compat {
namespace {

using registry_conformance::Content;
using registry_conformance::ManifestSpec;
using registry_conformance::WithQuery;

class GcTest : public CompatTest {
 protected:
  ::testing::AssertionResult Push(const std::string& repo, const Content& blob) {
    HttpResponse r =
        Client()->Do({"POST",
                      WithQuery("/v2/" + repo + "/blobs/uploads/", "digest", blob.digest),
                      {{"Content-Type", "application/octet-stream"}},
                      blob.bytes});
    if (r.status != 201) return ::testing::AssertionFailure() << "push blob: " << Describe(r);
    return ::testing::AssertionSuccess();
  }
  // The blob's file in the data root (docs/design/registry.md, blob store layout).
  bool BlobFileExists(const std::string& digest) const {
    std::string hex = digest.substr(7);
    struct stat st {};
    return stat((registry_->data_root() + "/blobs/sha256/" + hex.substr(0, 2) + "/" + hex).c_str(),
                &st) == 0;
  }
  // Stops the registry, runs gc, starts it again.
  ::testing::AssertionResult CollectOffline() {
    if (auto r = registry_->Stop(); !r) return r;
    CommandResult gc = registry_->Gc({"--gc-grace", "0"});
    if (!gc.ok()) {
      return ::testing::AssertionFailure()
             << "berth-registry gc: exit " << gc.exit_code << ": " << gc.err;
    }
    return registry_->Start();
  }
};

TEST_F(GcTest, RemovesUnreferencedBlobsKeepsReferencedOnesUntilTheirManifestGoes) {
  ASSERT_TRUE(StartRegistry({"--gc-grace", "0"}));
  const std::string repo = "compat/gc";
  Content orphan = registry_conformance::RandomBlob(4096);
  Content layer = registry_conformance::RandomBlob(4096);
  Content config = registry_conformance::MakeConfig();
  ASSERT_TRUE(Push(repo, orphan));
  ASSERT_TRUE(Push(repo, layer));
  ASSERT_TRUE(Push(repo, config));
  ManifestSpec spec;
  spec.config = config;
  spec.layers = {layer};
  Content manifest = registry_conformance::MakeManifest(spec);
  HttpResponse put = Client()->Do({"PUT",
                                   "/v2/" + repo + "/manifests/v1",
                                   {{"Content-Type", manifest.media_type}},
                                   manifest.bytes});
  ASSERT_EQ(put.status, 201) << Describe(put);

  // While serve runs, `gc` asks it to collect (SIGUSR1) and prints the server's report.
  CommandResult online = registry_->Gc({"--gc-grace", "0"});
  EXPECT_EQ(online.exit_code, 0) << online.err;
  EXPECT_NE(online.out.find("removed 1 blobs (4096 bytes)"), std::string::npos) << online.out;
  EXPECT_EQ(Get("/v2/" + repo + "/blobs/" + orphan.digest).status, 404);
  EXPECT_FALSE(BlobFileExists(orphan.digest)) << "the orphan blob's file is still on disk";
  EXPECT_TRUE(HasBlob(repo, layer.digest));
  EXPECT_TRUE(HasBlob(repo, config.digest));
  HttpResponse m = Get("/v2/" + repo + "/manifests/v1");
  EXPECT_EQ(m.status, 200) << Describe(m);
  EXPECT_EQ(m.body, manifest.bytes);

  HttpResponse del =
      Client()->Do({"DELETE", "/v2/" + repo + "/manifests/" + manifest.digest, {}, ""});
  ASSERT_EQ(del.status, 202) << Describe(del);
  // Deleting the manifest alone leaves the blobs until a collection.
  EXPECT_TRUE(BlobFileExists(layer.digest));
  ASSERT_TRUE(CollectOffline());
  for (const Content* c : {&layer, &config}) {
    EXPECT_EQ(Get("/v2/" + repo + "/blobs/" + c->digest).status, 404) << c->digest;
    EXPECT_FALSE(BlobFileExists(c->digest)) << c->digest << "'s file is still on disk";
  }
  EXPECT_EQ(Get("/v2/" + repo + "/manifests/" + manifest.digest).status, 404);
  ASSERT_TRUE(registry_->Stop());
}

// Online: serve's own schedule (--gc-interval 1) collects while it serves. An orphan blob goes
// within a few intervals; the image stays; after the manifest's delete its blobs go too.
TEST_F(GcTest, ServeCollectsOnItsScheduleWhileServing) {
  ASSERT_TRUE(StartRegistry({"--gc-grace", "0", "--gc-interval", "1"}));
  const std::string repo = "compat/gc-online";
  Content orphan = registry_conformance::RandomBlob(4096);
  Content layer = registry_conformance::RandomBlob(4096);
  Content config = registry_conformance::MakeConfig();
  ManifestSpec spec;
  spec.config = config;
  spec.layers = {layer};
  Content manifest = registry_conformance::MakeManifest(spec);
  ASSERT_TRUE(Push(repo, orphan));
  // A collection may fall between the blobs and the manifest (grace 0): the manifest is then
  // MANIFEST_BLOB_UNKNOWN and a client pushes the blobs again (docs/design/registry.md).
  HttpResponse put;
  for (int attempt = 0; attempt < 5; ++attempt) {
    ASSERT_TRUE(Push(repo, layer));
    ASSERT_TRUE(Push(repo, config));
    put = Client()->Do({"PUT",
                        "/v2/" + repo + "/manifests/v1",
                        {{"Content-Type", manifest.media_type}},
                        manifest.bytes});
    if (put.status != 400 || put.body.find("MANIFEST_BLOB_UNKNOWN") == std::string::npos) break;
  }
  ASSERT_EQ(put.status, 201) << Describe(put);

  // Polls (the schedule is the server's) until `digest` is gone, for at most 10 s.
  auto gone = [&](const std::string& digest) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
      if (Get("/v2/" + repo + "/blobs/" + digest).status == 404) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return false;
  };
  EXPECT_TRUE(gone(orphan.digest)) << "the orphan blob is still served after 10 s";
  EXPECT_FALSE(BlobFileExists(orphan.digest));
  EXPECT_TRUE(HasBlob(repo, layer.digest));
  EXPECT_TRUE(HasBlob(repo, config.digest));
  EXPECT_EQ(Get("/v2/" + repo + "/manifests/v1").body, manifest.bytes);

  HttpResponse del =
      Client()->Do({"DELETE", "/v2/" + repo + "/manifests/" + manifest.digest, {}, ""});
  ASSERT_EQ(del.status, 202) << Describe(del);
  EXPECT_TRUE(gone(layer.digest)) << "the layer is still served 10 s after its manifest's delete";
  EXPECT_TRUE(gone(config.digest));
  EXPECT_FALSE(BlobFileExists(layer.digest));
  ASSERT_TRUE(registry_->Stop());
}

}  // namespace
}  // namespace berth::registry_compat
