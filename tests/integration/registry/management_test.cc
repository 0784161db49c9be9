// Content management: the upstream suite's checks (04_management_test.go): delete by tag, by
// digest, the 404s and the tag list after, blob deletes.
#include <algorithm>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "registry_fixture.h"

namespace berth::registry_conformance {
namespace {

// Upstream setup: a config, a layer, a manifest under "tagtest0". Upstream shares its repository
// with the other categories, so tags remain after the delete; here a second image under
// "tagtest1" plays that part.
class RegistryManagementTest : public RegistryTest {
 protected:
  void SetUp() override {
    RegistryTest::SetUp();
    if (IsSkipped()) return;
    repo_ = Repo();
    spec_ = ImageSpec();
    ASSERT_TRUE(PushBlob(repo_, spec_.config)) << "setup: populate registry with config";
    ASSERT_TRUE(PushBlob(repo_, spec_.layers[0])) << "setup: populate registry with layer";
    manifest_ = MakeManifest(spec_);
    ASSERT_TRUE(PushManifest(repo_, "tagtest0", manifest_)) << "setup: populate with tag";
    ASSERT_TRUE(PushImage(repo_, "tagtest1", ImageSpec()));
    tags_before_ = Tags();
  }

  std::vector<std::string> Tags() {
    std::vector<std::string> tags;
    HttpResponse r = Do("GET", "/v2/" + repo_ + "/tags/list");
    EXPECT_TRUE(IsStatus(r, 200));
    nlohmann::json j = nlohmann::json::parse(r.body, nullptr, false);
    EXPECT_TRUE(j.is_object() && j.contains("tags")) << r.body;
    if (j.is_object() && j.contains("tags") && j["tags"].is_array()) {
      for (const auto& t : j["tags"]) tags.push_back(t.get<std::string>());
    }
    return tags;
  }

  // Upstream's delete sequence: the tag, then the manifest by digest.
  HttpResponse DeleteTagThenManifest() {
    tag_delete_ = Do("DELETE", ManifestPath(repo_, "tagtest0"));
    return Do("DELETE", ManifestPath(repo_, manifest_.digest));
  }

  std::string repo_;
  ManifestSpec spec_;
  Content manifest_;
  std::vector<std::string> tags_before_;
  HttpResponse tag_delete_;
};

TEST_F(RegistryManagementTest, SetupListsBothTagsBeforeDeleting) {
  std::sort(tags_before_.begin(), tags_before_.end());
  EXPECT_EQ(tags_before_, (std::vector<std::string>{"tagtest0", "tagtest1"}));
}

// 202, or 400 UNSUPPORTED / 405 if tag deletion is disabled. Once deleted, the tag is a 404 (the
// spec). Whether the manifest goes with it is left open, as upstream does.
TEST_F(RegistryManagementTest, DeleteOfTagIs202Or400UnsupportedOr405) {
  HttpResponse r = Do("DELETE", ManifestPath(repo_, "tagtest0"));
  ASSERT_TRUE(IsStatusIn(r, {202, 400, 405}));
  if (r.status == 400) {
    nlohmann::json j = nlohmann::json::parse(r.body, nullptr, false);
    ASSERT_TRUE(HasError(r));
    EXPECT_EQ(j["errors"][0].value("code", ""), "UNSUPPORTED") << r.body;
  }
  if (r.status == 202) {
    EXPECT_TRUE(IsStatus(Do("GET", ManifestPath(repo_, "tagtest0")), 404));
  }
}

TEST_F(RegistryManagementTest, DeleteOfManifestByDigestIs202UnlessAlreadyDeleted) {
  EXPECT_TRUE(IsStatusIn(DeleteTagThenManifest(), {202, 404}));
}

// Upstream accepts 404 or 200 ("unless delete is disallowed"); after a 202 it must be 404.
TEST_F(RegistryManagementTest, GetOfDeletedManifestIs404) {
  HttpResponse deleted = DeleteTagThenManifest();
  HttpResponse r = Do("GET", ManifestPath(repo_, manifest_.digest));
  ASSERT_TRUE(IsStatusIn(r, {404, 200}));
  if (deleted.status == 202 || (tag_delete_.status == 202 && deleted.status == 404)) {
    EXPECT_TRUE(IsStatus(r, 404)) << "after a delete that was accepted";
  }
}

TEST_F(RegistryManagementTest, TagListReflectsManifestDeletion) {
  DeleteTagThenManifest();
  std::vector<std::string> after = Tags();
  EXPECT_LT(after.size(), tags_before_.size());
  EXPECT_EQ(after, (std::vector<std::string>{"tagtest1"}));
}

TEST_F(RegistryManagementTest, DeleteOfBlobsIs202Or404Or405) {
  DeleteTagThenManifest();
  for (const Content* c : {&spec_.config, &spec_.layers[0]}) {
    EXPECT_TRUE(IsStatusIn(Do("DELETE", BlobPath(repo_, c->digest)), {202, 404, 405})) << c->digest;
  }
}

TEST_F(RegistryManagementTest, GetOfDeletedBlobIs404) {
  DeleteTagThenManifest();
  HttpResponse config_delete = Do("DELETE", BlobPath(repo_, spec_.config.digest));
  HttpResponse layer_delete = Do("DELETE", BlobPath(repo_, spec_.layers[0].digest));
  if (layer_delete.status == 405) GTEST_SKIP() << "blob deletion is disabled (upstream skips)";
  EXPECT_TRUE(IsStatus(Do("GET", BlobPath(repo_, spec_.config.digest)), 404))
      << "config delete was " << Describe(config_delete);
}

}  // namespace
}  // namespace berth::registry_conformance
