#include "oci/descriptor.h"

#include <gtest/gtest.h>

namespace berth::oci {
namespace {

constexpr std::string_view kDigest =
    "sha256:5b0bcabd1ed22e9fb1310cf6c2dec7cdef19f0ad69efa1f392e94a4333501270";

std::string WithField(std::string_view field) {
  return std::string(R"({"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":")") +
         std::string(kDigest) + "\"," + std::string(field) + "}";
}

TEST(DescriptorTest, ParsesEveryField) {
  Result<Descriptor> d = ParseDescriptor(R"({
    "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "digest": "sha256:5b0bcabd1ed22e9fb1310cf6c2dec7cdef19f0ad69efa1f392e94a4333501270",
    "size": 7682,
    "urls": ["https://example.com/blob"],
    "annotations": {"org.opencontainers.image.ref.name": "v1"},
    "data": "e30=",
    "platform": {"architecture": "arm64", "os": "linux", "os.version": "1",
                 "os.features": ["f"], "variant": "v8"},
    "artifactType": "application/vnd.example+type",
    "unknown": {"ignored": true}
  })");
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_EQ(d->media_type, "application/vnd.oci.image.manifest.v1+json");
  EXPECT_EQ(d->digest.ToString(), kDigest);
  EXPECT_EQ(d->size, 7682);
  EXPECT_EQ(d->urls, std::vector<std::string>{"https://example.com/blob"});
  EXPECT_EQ(d->annotations.at("org.opencontainers.image.ref.name"), "v1");
  EXPECT_EQ(d->data, "e30=");
  ASSERT_TRUE(d->platform);
  EXPECT_EQ(d->platform->architecture, "arm64");
  EXPECT_EQ(d->platform->os_version, "1");
  EXPECT_EQ(d->platform->os_features, std::vector<std::string>{"f"});
  EXPECT_EQ(d->platform->variant, "v8");
  EXPECT_EQ(d->artifact_type, "application/vnd.example+type");
}

TEST(DescriptorTest, SerializesInSpecOrderAndRoundTrips) {
  Descriptor d;
  d.media_type = "application/vnd.oci.image.layer.v1.tar+gzip";
  d.digest = *Digest::Parse(kDigest);
  d.size = 32654;
  std::string json = SerializeDescriptor(d);
  EXPECT_EQ(json, std::string(R"({"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip",)") +
                      R"("digest":")" + std::string(kDigest) + R"(","size":32654})");
  d.platform = Platform{"amd64", "linux", "", {}, ""};
  d.annotations["a"] = "b";
  Result<Descriptor> back = ParseDescriptor(SerializeDescriptor(d));
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, d);
}

TEST(DescriptorTest, RejectsBadInput) {
  const std::string_view bad[] = {
      "",
      "not json",
      "[]",
      "\"string\"",
      R"({"mediaType":"x","size":1})",  // no digest
      R"({"digest":"sha256:5b0bcabd1ed22e9fb1310cf6c2dec7cdef19f0ad69efa1f392e94a4333501270","size":1})",
  };
  for (std::string_view input : bad) {
    Result<Descriptor> r = ParseDescriptor(input);
    EXPECT_FALSE(r) << input;
    if (!r) {
      EXPECT_EQ(r.error().code, Code::kInvalidArgument) << input;
    }
  }
  const std::string fields[] = {
      R"("size":-1)",
      R"("size":"12")",
      R"("size":1.5)",
      R"("size":1e3)",
      R"("size":9223372036854775808)",   // int64 max + 1
      R"("size":18446744073709551616)",  // past uint64: a double
      R"("size":1,"urls":"x")",
      R"("size":1,"urls":[1])",
      R"("size":1,"annotations":{"a":1})",
      R"("size":1,"annotations":[])",
      R"("size":1,"platform":{"os":"linux"})",
      R"("size":1,"platform":"linux/amd64")",
      R"("size":1,"data":"not base64!")",
      R"("size":1,"artifactType":7)",
      R"("size":1,"mediaType":null)",
  };
  for (const std::string& f : fields) {
    std::string input = WithField(f);
    Result<Descriptor> r = ParseDescriptor(input);
    EXPECT_FALSE(r) << input;
  }
  EXPECT_TRUE(ParseDescriptor(WithField(R"("size":9223372036854775807)")));
  EXPECT_TRUE(ParseDescriptor(WithField(R"("size":1)"))) << "control";
}

TEST(DescriptorTest, RejectsBadDigests) {
  for (std::string_view digest :
       {"", "sha256", "sha256:", "sha256:abc", "md5:d41d8cd98f00b204e9800998ecf8427e",
        "SHA256:5b0bcabd1ed22e9fb1310cf6c2dec7cdef19f0ad69efa1f392e94a4333501270",
        "sha256:5B0BCABD1ED22E9FB1310CF6C2DEC7CDEF19F0AD69EFA1F392E94A4333501270",
        "sha256:5b0bcabd1ed22e9fb1310cf6c2dec7cdef19f0ad69efa1f392e94a4333501270a"}) {
    std::string input = R"({"mediaType":"x","size":1,"digest":")" + std::string(digest) + "\"}";
    EXPECT_FALSE(ParseDescriptor(input)) << digest;
  }
}

TEST(DescriptorTest, ValidateCatchesBuiltInCode) {
  Descriptor d;
  EXPECT_FALSE(ValidateDescriptor(d));
  d.media_type = "x";
  d.digest = Digest::Of("x");
  EXPECT_TRUE(ValidateDescriptor(d));
  d.size = -5;
  EXPECT_FALSE(ValidateDescriptor(d));
}

}  // namespace
}  // namespace berth::oci
