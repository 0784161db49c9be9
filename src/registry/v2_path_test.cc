#include "registry/v2_path.h"

#include <string>

#include <gtest/gtest.h>

namespace berth::registry {
namespace {

TEST(RepositoryNameTest, AcceptsTheSpecGrammar) {
  for (const char* ok : {"a", "busybox", "me/busybox", "a/b/c/d", "a.b", "a_b", "a__b", "a-b",
                         "a---b", "library/ubuntu-22.04", "0/1"}) {
    EXPECT_TRUE(IsValidRepositoryName(ok)) << ok;
  }
}

TEST(RepositoryNameTest, RefusesUpperCaseDotsSeparatorsAndLength) {
  for (const char* bad : {"", "A", "me/Busybox", "..", "a/../b", "a/./b", "a..b", "a___b", "-a",
                          "a-", "a/", "/a", "a//b", "a b", "a:b", "a.-b", "_a"}) {
    EXPECT_FALSE(IsValidRepositoryName(bad)) << bad;
  }
  EXPECT_TRUE(IsValidRepositoryName(std::string(255, 'a')));
  EXPECT_FALSE(IsValidRepositoryName(std::string(256, 'a')));
}

TEST(TagNameTest, Grammar) {
  EXPECT_TRUE(IsValidTagName("latest"));
  EXPECT_TRUE(IsValidTagName("_x.Y-1"));
  EXPECT_TRUE(IsValidTagName(std::string(128, 'a')));
  EXPECT_FALSE(IsValidTagName(std::string(129, 'a')));
  EXPECT_FALSE(IsValidTagName(""));
  EXPECT_FALSE(IsValidTagName(".x"));
  EXPECT_FALSE(IsValidTagName("-x"));
  EXPECT_FALSE(IsValidTagName("a:b"));
}

TEST(V2PathTest, Endpoints) {
  using K = V2Path::Kind;
  struct Case {
    const char* path;
    K kind;
    const char* name;
    const char* ref;
  } cases[] = {
      {"/v2/", K::kBase, "", ""},
      {"/v2", K::kBase, "", ""},
      {"/v2/_catalog", K::kCatalog, "", ""},
      {"/v2/me/busybox/tags/list", K::kTags, "me/busybox", ""},
      {"/v2/me/busybox/manifests/latest", K::kManifest, "me/busybox", "latest"},
      {"/v2/a/manifests/sha256:abc", K::kManifest, "a", "sha256:abc"},
      {"/v2/a/b/blobs/sha256:abc", K::kBlob, "a/b", "sha256:abc"},
      {"/v2/a/blobs/uploads/", K::kUploads, "a", ""},
      {"/v2/a/blobs/uploads", K::kUploads, "a", ""},
      {"/v2/a/blobs/uploads/1234-5", K::kUpload, "a", "1234-5"},
      {"/v2/a/referrers/sha256:abc", K::kReferrers, "a", "sha256:abc"},
      // Components named like endpoint words are part of the name.
      {"/v2/blobs/manifests/x/manifests/latest", K::kManifest, "blobs/manifests/x", "latest"},
      {"/v2/tags/list/tags/list", K::kTags, "tags/list", ""},
  };
  for (const Case& c : cases) {
    auto p = ParseV2Path(c.path);
    ASSERT_TRUE(p.has_value()) << c.path;
    EXPECT_EQ(p->kind, c.kind) << c.path;
    EXPECT_EQ(p->name, c.name) << c.path;
    EXPECT_EQ(p->reference, c.ref) << c.path;
  }
}

TEST(V2PathTest, OtherPathsAreNotEndpoints) {
  for (const char* p : {"/", "/v1/search", "/v2x/", "/v2/a", "/v2/a/b", "/v2/a/manifests",
                        "/v2/manifests/x", "/v2/a/tags", "/v2/a/blobs/uploads/x/"}) {
    EXPECT_FALSE(ParseV2Path(p).has_value()) << p;
  }
}

}  // namespace
}  // namespace berth::registry
