#include "oci/media_types.h"

#include <gtest/gtest.h>

namespace berth::oci {
namespace {

TEST(MediaTypesTest, ClassifiesManifestsAndIndexes) {
  EXPECT_TRUE(IsManifest(kMediaTypeOciManifest));
  EXPECT_TRUE(IsManifest(kMediaTypeDockerManifest));
  EXPECT_FALSE(IsManifest(kMediaTypeOciIndex));
  EXPECT_FALSE(IsManifest(kMediaTypeDockerManifestSchema1));
  EXPECT_TRUE(IsIndex(kMediaTypeOciIndex));
  EXPECT_TRUE(IsIndex(kMediaTypeDockerManifestList));
  EXPECT_FALSE(IsIndex(kMediaTypeDockerManifest));
  EXPECT_TRUE(IsConfig(kMediaTypeOciConfig));
  EXPECT_TRUE(IsConfig(kMediaTypeDockerConfig));
  EXPECT_FALSE(IsConfig(kMediaTypeOciLayer));
}

TEST(MediaTypesTest, ClassifiesLayers) {
  for (std::string_view mt :
       {kMediaTypeOciLayer, kMediaTypeOciLayerGzip, kMediaTypeOciLayerZstd,
        kMediaTypeOciLayerNonDistributable, kMediaTypeOciLayerNonDistributableGzip,
        kMediaTypeDockerLayer, kMediaTypeDockerLayerGzip, kMediaTypeDockerLayerZstd,
        kMediaTypeDockerForeignLayer, kMediaTypeDockerForeignLayerGzip}) {
    EXPECT_TRUE(IsLayer(mt)) << mt;
  }
  EXPECT_TRUE(IsLayer("application/vnd.oci.image.layer.v1.tar+gzip+encrypted"));
  EXPECT_FALSE(IsLayer(kMediaTypeOciConfig));
  EXPECT_FALSE(IsLayer("application/octet-stream"));
  EXPECT_TRUE(IsNonDistributableLayer(kMediaTypeDockerForeignLayerGzip));
  EXPECT_TRUE(IsNonDistributableLayer(kMediaTypeOciLayerNonDistributableZstd));
  EXPECT_FALSE(IsNonDistributableLayer(kMediaTypeOciLayerGzip));
}

TEST(MediaTypesTest, LayerCompression) {
  struct Case {
    std::string_view media_type;
    Compression want;
  } cases[] = {
      {kMediaTypeOciLayer, Compression::kNone},
      {kMediaTypeOciLayerGzip, Compression::kGzip},
      {kMediaTypeOciLayerZstd, Compression::kZstd},
      {kMediaTypeOciLayerNonDistributableGzip, Compression::kGzip},
      {kMediaTypeDockerLayer, Compression::kNone},
      {kMediaTypeDockerLayerGzip, Compression::kGzip},
      {kMediaTypeDockerLayerZstd, Compression::kZstd},
      {kMediaTypeDockerForeignLayerGzip, Compression::kGzip},
  };
  for (const Case& c : cases) {
    Result<Compression> got = LayerCompression(c.media_type);
    ASSERT_TRUE(got) << c.media_type;
    EXPECT_EQ(*got, c.want) << c.media_type;
  }
}

TEST(MediaTypesTest, LayerCompressionRejectsOthers) {
  Result<Compression> r = LayerCompression(kMediaTypeOciConfig);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Code::kInvalidArgument);
  r = LayerCompression("application/vnd.oci.image.layer.v1.tar+gzip+encrypted");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Code::kNotImplemented);
}

TEST(MediaTypesTest, LayerMediaTypeRoundTrips) {
  for (Compression c : {Compression::kNone, Compression::kGzip, Compression::kZstd}) {
    for (bool docker : {false, true}) {
      std::string_view mt = LayerMediaType(c, docker);
      EXPECT_EQ(IsDockerMediaType(mt), docker);
      Result<Compression> back = LayerCompression(mt);
      ASSERT_TRUE(back);
      EXPECT_EQ(*back, c);
    }
  }
  EXPECT_EQ(LayerMediaType(Compression::kGzip, true), kMediaTypeDockerLayerGzip);
  EXPECT_EQ(CompressionName(Compression::kZstd), "zstd");
}

}  // namespace
}  // namespace berth::oci
