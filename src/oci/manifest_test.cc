#include "oci/manifest.h"

#include <gtest/gtest.h>

#include "oci/media_types.h"

namespace berth::oci {
namespace {

// docker-manifest-v2-2.md's example.
constexpr std::string_view kDockerManifest = R"({
    "schemaVersion": 2,
    "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
    "config": {
        "mediaType": "application/vnd.docker.container.image.v1+json",
        "size": 7023,
        "digest": "sha256:b5b2b2c507a0944348e0303114d8d93aaaa081732b86451d9bce1f432a537bc7"
    },
    "layers": [
        {
            "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
            "size": 32654,
            "digest": "sha256:e692418e4cbaf90ca69d05a66403747baa33ee08806650b51fab815ad7fc331f"
        },
        {
            "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
            "size": 16724,
            "digest": "sha256:3c3a4604a545cdc127456d94e421cd355bca5b528f4a9c1905b15da2eb4a4c6b"
        }
    ]
})";

// manifest.md's example (OCI, with annotations).
constexpr std::string_view kOciManifest = R"({
  "schemaVersion": 2,
  "mediaType": "application/vnd.oci.image.manifest.v1+json",
  "config": {
    "mediaType": "application/vnd.oci.image.config.v1+json",
    "digest": "sha256:b5b2b2c507a0944348e0303114d8d93aaaa081732b86451d9bce1f432a537bc7",
    "size": 7023
  },
  "layers": [
    {
      "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
      "digest": "sha256:9834876dcfb05cb167a5c24953eba58c4ac89b1adf57f28f2f9d09af107ee8f0",
      "size": 32654
    }
  ],
  "subject": {
    "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "digest": "sha256:5b0bcabd1ed22e9fb1310cf6c2dec7cdef19f0ad69efa1f392e94a4333501270",
    "size": 1234
  },
  "annotations": {
    "com.example.key1": "value1"
  }
})";

TEST(ManifestTest, ParsesDockerSchema2) {
  Result<Manifest> m = ParseManifest(kDockerManifest);
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_EQ(m->schema_version, 2);
  EXPECT_EQ(m->media_type, kMediaTypeDockerManifest);
  EXPECT_EQ(m->config.media_type, kMediaTypeDockerConfig);
  EXPECT_EQ(m->config.size, 7023);
  ASSERT_EQ(m->layers.size(), 2u);
  EXPECT_EQ(m->layers[1].digest.ToString(),
            "sha256:3c3a4604a545cdc127456d94e421cd355bca5b528f4a9c1905b15da2eb4a4c6b");
  EXPECT_FALSE(m->subject);
}

TEST(ManifestTest, ParsesOciWithSubjectAndAnnotations) {
  Result<Manifest> m = ParseManifest(kOciManifest);
  ASSERT_TRUE(m) << m.error().message;
  ASSERT_TRUE(m->subject);
  EXPECT_EQ(m->subject->size, 1234);
  EXPECT_EQ(m->annotations.at("com.example.key1"), "value1");
}

TEST(ManifestTest, MediaTypeIsOptional) {
  std::string no_media_type =
      R"({"schemaVersion":2,"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:b5b2b2c507a0944348e0303114d8d93aaaa081732b86451d9bce1f432a537bc7","size":2}})";
  Result<Manifest> m = ParseManifest(no_media_type);
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_TRUE(m->media_type.empty());
  EXPECT_TRUE(m->layers.empty());
}

TEST(ManifestTest, SerializeIsCompactOrderedAndRoundTrips) {
  Result<Manifest> m = ParseManifest(kDockerManifest);
  ASSERT_TRUE(m);
  std::string out = SerializeManifest(*m);
  EXPECT_EQ(
      out,
      R"({"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json",)"
      R"("config":{"mediaType":"application/vnd.docker.container.image.v1+json",)"
      R"("digest":"sha256:b5b2b2c507a0944348e0303114d8d93aaaa081732b86451d9bce1f432a537bc7","size":7023},)"
      R"("layers":[{"mediaType":"application/vnd.docker.image.rootfs.diff.tar.gzip",)"
      R"("digest":"sha256:e692418e4cbaf90ca69d05a66403747baa33ee08806650b51fab815ad7fc331f","size":32654},)"
      R"({"mediaType":"application/vnd.docker.image.rootfs.diff.tar.gzip",)"
      R"("digest":"sha256:3c3a4604a545cdc127456d94e421cd355bca5b528f4a9c1905b15da2eb4a4c6b","size":16724}]})");
  Result<Manifest> back = ParseManifest(out);
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, *m);

  Result<Manifest> oci = ParseManifest(kOciManifest);
  ASSERT_TRUE(oci);
  Result<Manifest> oci_back = ParseManifest(SerializeManifest(*oci));
  ASSERT_TRUE(oci_back);
  EXPECT_EQ(*oci_back, *oci);
}

TEST(ManifestTest, SerializeWritesEmptyLayersArray) {
  Manifest m;
  m.media_type = kMediaTypeOciManifest;
  m.config.media_type = kMediaTypeOciConfig;
  m.config.digest = Digest::Of("{}");
  m.config.size = 2;
  std::string out = SerializeManifest(m);
  EXPECT_NE(out.find(R"("layers":[])"), std::string::npos) << out;
  EXPECT_EQ(out.find("annotations"), std::string::npos) << out;
  EXPECT_EQ(out.find("subject"), std::string::npos) << out;
}

struct BadCase {
  const char* name;
  std::string input;
};

TEST(ManifestTest, RejectsBadInput) {
  const std::string config =
      R"({"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:b5b2b2c507a0944348e0303114d8d93aaaa081732b86451d9bce1f432a537bc7","size":7023})";
  const std::string layer =
      R"({"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:9834876dcfb05cb167a5c24953eba58c4ac89b1adf57f28f2f9d09af107ee8f0","size":32654})";
  const BadCase cases[] = {
      {"empty", ""},
      {"not json", "schemaVersion: 2"},
      {"truncated", R"({"schemaVersion":2,"config":)"},
      {"array", "[]"},
      {"null", "null"},
      {"no schemaVersion", R"({"config":)" + config + "}"},
      {"schemaVersion 3", R"({"schemaVersion":3,"config":)" + config + "}"},
      {"schemaVersion string", R"({"schemaVersion":"2","config":)" + config + "}"},
      {"schemaVersion float", R"({"schemaVersion":2.5,"config":)" + config + "}"},
      {"no config", R"({"schemaVersion":2,"layers":[]})"},
      {"config null", R"({"schemaVersion":2,"config":null})"},
      {"config not object", R"({"schemaVersion":2,"config":"sha256:x"})"},
      {"config bad digest",
       R"({"schemaVersion":2,"config":{"mediaType":"x","digest":"sha256:1234","size":1}})"},
      {"config negative size",
       R"({"schemaVersion":2,"config":{"mediaType":"x","digest":"sha256:b5b2b2c507a0944348e0303114d8d93aaaa081732b86451d9bce1f432a537bc7","size":-1}})"},
      {"config huge size",
       R"({"schemaVersion":2,"config":{"mediaType":"x","digest":"sha256:b5b2b2c507a0944348e0303114d8d93aaaa081732b86451d9bce1f432a537bc7","size":99999999999999999999}})"},
      {"layers not array", R"({"schemaVersion":2,"config":)" + config + R"(,"layers":{}})"},
      {"layer not object", R"({"schemaVersion":2,"config":)" + config + R"(,"layers":["x"]})"},
      {"layer without digest",
       R"({"schemaVersion":2,"config":)" + config + R"(,"layers":[{"mediaType":"x","size":1}]})"},
      {"wrong mediaType",
       R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","config":)" +
           config + "}"},
      {"mediaType not string", R"({"schemaVersion":2,"mediaType":5,"config":)" + config + "}"},
      {"annotations not strings",
       R"({"schemaVersion":2,"config":)" + config + R"(,"annotations":{"a":["b"]}})"},
      {"subject bad", R"({"schemaVersion":2,"config":)" + config + R"(,"subject":{"size":1}})"},
      {"index", R"({"schemaVersion":2,"manifests":[]})"},
      {"empty config without artifactType",
       R"({"schemaVersion":2,"config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},"layers":[)" +
           layer + "]}"},
  };
  for (const BadCase& c : cases) {
    Result<Manifest> r = ParseManifest(c.input);
    EXPECT_FALSE(r) << c.name;
    if (!r) {
      EXPECT_EQ(r.error().code, Code::kInvalidArgument) << c.name << ": " << r.error().message;
    }
  }
}

TEST(ManifestTest, ArtifactWithEmptyConfig) {
  std::string input =
      R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","artifactType":"application/vnd.example.sbom","config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2,"data":"e30="},"layers":[]})";
  Result<Manifest> m = ParseManifest(input);
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_EQ(m->artifact_type, "application/vnd.example.sbom");
  EXPECT_EQ(m->config.data, "e30=");
  EXPECT_EQ(SerializeManifest(*m), input);
}

TEST(ManifestTest, RefusesSchema1AsNotImplemented) {
  Result<Manifest> r = ParseManifest(R"({"schemaVersion":1,"name":"x","tag":"y","fsLayers":[]})");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Code::kNotImplemented);
}

TEST(ManifestTest, DetectsMediaType) {
  EXPECT_EQ(*DetectManifestMediaType(kDockerManifest), kMediaTypeDockerManifest);
  EXPECT_EQ(*DetectManifestMediaType(R"({"schemaVersion":2,"config":{}})"), kMediaTypeOciManifest);
  EXPECT_EQ(*DetectManifestMediaType(R"({"schemaVersion":2,"manifests":[]})"), kMediaTypeOciIndex);
  EXPECT_EQ(*DetectManifestMediaType(R"({"schemaVersion":1,"signatures":[]})"),
            kMediaTypeDockerManifestSchema1Signed);
  EXPECT_EQ(*DetectManifestMediaType(R"({"schemaVersion":1})"), kMediaTypeDockerManifestSchema1);
  EXPECT_FALSE(DetectManifestMediaType(R"({"schemaVersion":2})"));
  EXPECT_FALSE(DetectManifestMediaType("nope"));
  EXPECT_FALSE(DetectManifestMediaType(R"({"mediaType":1})"));
}

}  // namespace
}  // namespace berth::oci

namespace berth::oci {
namespace {

TEST(ManifestTest, RefusesDeepNestingAndDuplicateKeysKeepTheLast) {
  EXPECT_FALSE(ParseManifest(std::string(200000, '[') + std::string(200000, ']')));
  // Go's encoding/json keeps the last of duplicate keys; so do we.
  Result<Manifest> m = ParseManifest(
      R"({"schemaVersion":1,"schemaVersion":2,"config":{"mediaType":"a","digest":"sha256:b5b2b2c507a0944348e0303114d8d93aaaa081732b86451d9bce1f432a537bc7","size":1}})");
  ASSERT_TRUE(m) << m.error().message;
}

}  // namespace
}  // namespace berth::oci
