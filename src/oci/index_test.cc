#include "oci/index.h"

#include <gtest/gtest.h>

#include "oci/media_types.h"

namespace berth::oci {
namespace {

std::string Entry(std::string_view hex_char, std::string_view platform_json) {
  std::string hex(64, hex_char[0]);
  std::string out =
      R"({"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:)" + hex +
      R"(","size":100)";
  if (!platform_json.empty()) out += R"(,"platform":)" + std::string(platform_json);
  return out + "}";
}

std::string IndexOf(const std::vector<std::string>& entries) {
  std::string out =
      R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[)";
  for (size_t i = 0; i < entries.size(); ++i) {
    if (i) out += ",";
    out += entries[i];
  }
  return out + "]}";
}

Platform P(std::string os, std::string arch, std::string variant = "") {
  Platform p;
  p.os = std::move(os);
  p.architecture = std::move(arch);
  p.variant = std::move(variant);
  return p;
}

// A multi-arch index shaped like Docker Hub's official images, plus a BuildKit attestation.
Index HubLikeIndex() {
  Result<Index> index = ParseIndex(IndexOf({
      Entry("1", R"({"architecture":"amd64","os":"linux"})"),
      Entry("2", R"({"architecture":"arm","os":"linux","variant":"v5"})"),
      Entry("3", R"({"architecture":"arm","os":"linux","variant":"v7"})"),
      Entry("4", R"({"architecture":"arm64","os":"linux","variant":"v8"})"),
      Entry("5", R"({"architecture":"386","os":"linux"})"),
      Entry("6", R"({"architecture":"unknown","os":"unknown"})"),
      Entry("7", R"({"architecture":"amd64","os":"windows","os.version":"10.0.17763.5329"})"),
  }));
  BERTH_CHECK(index.ok());
  return *index;
}

TEST(IndexTest, ParsesAndRoundTrips) {
  Index index = HubLikeIndex();
  EXPECT_EQ(index.schema_version, 2);
  EXPECT_EQ(index.media_type, kMediaTypeOciIndex);
  ASSERT_EQ(index.manifests.size(), 7u);
  ASSERT_TRUE(index.manifests[6].platform);
  EXPECT_EQ(index.manifests[6].platform->os_version, "10.0.17763.5329");
  Result<Index> back = ParseIndex(SerializeIndex(index));
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, index);
  EXPECT_EQ(
      SerializeIndex(index),
      IndexOf({
          Entry("1", R"({"architecture":"amd64","os":"linux"})"),
          Entry("2", R"({"architecture":"arm","os":"linux","variant":"v5"})"),
          Entry("3", R"({"architecture":"arm","os":"linux","variant":"v7"})"),
          Entry("4", R"({"architecture":"arm64","os":"linux","variant":"v8"})"),
          Entry("5", R"({"architecture":"386","os":"linux"})"),
          Entry("6", R"({"architecture":"unknown","os":"unknown"})"),
          Entry("7", R"({"architecture":"amd64","os":"windows","os.version":"10.0.17763.5329"})"),
      }));
}

TEST(IndexTest, DockerManifestListAndEmptyManifests) {
  Result<Index> list = ParseIndex(
      R"({"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.list.v2+json","manifests":[]})");
  ASSERT_TRUE(list) << list.error().message;
  EXPECT_TRUE(list->manifests.empty());
  EXPECT_EQ(
      SerializeIndex(*list),
      R"({"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.list.v2+json","manifests":[]})");
}

TEST(IndexTest, UnknownEntryMediaTypesAreKept) {
  std::string entry =
      R"({"mediaType":"application/vnd.example.future+json","digest":"sha256:1111111111111111111111111111111111111111111111111111111111111111","size":3})";
  Result<Index> index = ParseIndex(R"({"schemaVersion":2,"manifests":[)" + entry + "]}");
  ASSERT_TRUE(index) << index.error().message;
  EXPECT_EQ(index->manifests[0].media_type, "application/vnd.example.future+json");
}

TEST(IndexTest, RejectsBadInput) {
  const std::pair<const char*, std::string> cases[] = {
      {"empty", ""},
      {"not json", "{"},
      {"array", "[]"},
      {"no schemaVersion", R"({"manifests":[]})"},
      {"schemaVersion 1", R"({"schemaVersion":1,"manifests":[]})"},
      {"schemaVersion huge", R"({"schemaVersion":18446744073709551615,"manifests":[]})"},
      {"no manifests", R"({"schemaVersion":2})"},
      {"manifests null", R"({"schemaVersion":2,"manifests":null})"},
      {"manifests object", R"({"schemaVersion":2,"manifests":{}})"},
      {"entry bad digest",
       R"({"schemaVersion":2,"manifests":[{"mediaType":"x","digest":"sha256:zz","size":1}]})"},
      {"entry huge size", R"({"schemaVersion":2,"manifests":[)" +
                              Entry("1", "").replace(Entry("1", "").find("100"), 3, "1e300") +
                              "]}"},
      {"platform without os",
       R"({"schemaVersion":2,"manifests":[)" + Entry("1", R"({"architecture":"amd64"})") + "]}"},
      {"platform os number", R"({"schemaVersion":2,"manifests":[)" +
                                 Entry("1", R"({"architecture":"amd64","os":1})") + "]}"},
      {"manifest mediaType",
       R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","manifests":[]})"},
      {"a manifest", R"({"schemaVersion":2,"config":{},"layers":[]})"},
  };
  for (const auto& [name, input] : cases) {
    Result<Index> r = ParseIndex(input);
    EXPECT_FALSE(r) << name;
    if (!r) {
      EXPECT_EQ(r.error().code, Code::kInvalidArgument) << name;
    }
  }
}

TEST(IndexTest, SelectsExactPlatform) {
  Index index = HubLikeIndex();
  Result<Descriptor> amd64 = SelectManifest(index, P("linux", "amd64"));
  ASSERT_TRUE(amd64);
  EXPECT_EQ(amd64->digest.hex()[0], '1');
  Result<Descriptor> arm64 = SelectManifest(index, P("linux", "arm64"));
  ASSERT_TRUE(arm64);
  EXPECT_EQ(arm64->digest.hex()[0], '4');
  Result<Descriptor> armv7 = SelectManifest(index, *ParsePlatform("linux/arm/v7"));
  ASSERT_TRUE(armv7);
  EXPECT_EQ(armv7->digest.hex()[0], '3');
}

TEST(IndexTest, ArmVariantsFallBackToOlder) {
  Index index = HubLikeIndex();
  // arm/v6 is not in the list: v5 is the best it can run.
  Result<Descriptor> armv6 = SelectManifest(index, P("linux", "arm", "v6"));
  ASSERT_TRUE(armv6);
  EXPECT_EQ(armv6->digest.hex()[0], '2');
  // An arm64 host with no arm64 image runs arm/v7 before arm/v5.
  index.manifests.erase(index.manifests.begin() + 3);
  Result<Descriptor> arm64 = SelectManifest(index, P("linux", "arm64", "v8"));
  ASSERT_TRUE(arm64);
  EXPECT_EQ(arm64->digest.hex()[0], '3');
  std::vector<Descriptor> all = MatchManifests(index, PlatformMatcher(P("linux", "arm64")));
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[1].digest.hex()[0], '2');
}

TEST(IndexTest, Amd64FallsBackTo386) {
  Result<Index> index = ParseIndex(IndexOf({Entry("5", R"({"architecture":"386","os":"linux"})")}));
  ASSERT_TRUE(index);
  EXPECT_TRUE(SelectManifest(*index, P("linux", "amd64")));
}

TEST(IndexTest, NoMatchIsNotFoundWithDockersMessage) {
  Index index = HubLikeIndex();
  Result<Descriptor> r = SelectManifest(index, *ParsePlatform("linux/s390x"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Code::kNotFound);
  EXPECT_EQ(r.error().message, "no matching manifest for linux/s390x in the manifest list entries");
}

TEST(IndexTest, EntriesWithoutPlatformMatchLast) {
  Result<Index> index =
      ParseIndex(IndexOf({Entry("a", ""), Entry("1", R"({"architecture":"386","os":"linux"})"),
                          Entry("b", R"({"architecture":"amd64","os":"linux"})")}));
  ASSERT_TRUE(index);
  std::vector<Descriptor> m = MatchManifests(*index, PlatformMatcher(P("linux", "amd64")));
  ASSERT_EQ(m.size(), 3u);
  EXPECT_EQ(m[0].digest.hex()[0], 'b');
  EXPECT_EQ(m[1].digest.hex()[0], '1');
  EXPECT_EQ(m[2].digest.hex()[0], 'a');
  EXPECT_EQ(SelectManifest(*index, P("linux", "s390x"))->digest.hex()[0], 'a');
}

TEST(IndexTest, FirstOfEqualEntriesWins) {
  Result<Index> index =
      ParseIndex(IndexOf({Entry("c", R"({"architecture":"amd64","os":"linux"})"),
                          Entry("d", R"({"architecture":"amd64","os":"linux"})")}));
  ASSERT_TRUE(index);
  EXPECT_EQ(SelectManifest(*index, P("linux", "amd64"))->digest.hex()[0], 'c');
}

}  // namespace
}  // namespace berth::oci
