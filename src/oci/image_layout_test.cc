#include "oci/image_layout.h"

#include <gtest/gtest.h>

namespace berth::oci {
namespace {

const std::string kHex = "5b0bcabd1ed22e9fb1310cf6c2dec7cdef19f0ad69efa1f392e94a4333501270";

TEST(ImageLayoutTest, BlobPath) {
  EXPECT_EQ(BlobPath(*Digest::Parse("sha256:" + kHex)), "blobs/sha256/" + kHex);
  Digest d512 = Digest::Of("x", Algorithm::kSha512);
  EXPECT_EQ(BlobPath(d512), "blobs/sha512/" + d512.hex());
  EXPECT_TRUE(ValidateArchivePath(BlobPath(d512)));
}

TEST(ImageLayoutTest, OciLayoutFile) {
  EXPECT_EQ(SerializeOciLayout(), R"({"imageLayoutVersion":"1.0.0"})");
  EXPECT_TRUE(ParseOciLayout(SerializeOciLayout()));
  EXPECT_TRUE(ParseOciLayout(R"({"imageLayoutVersion":"1.0.0","extra":true})"));
  Status s = ParseOciLayout(R"({"imageLayoutVersion":"2.0.0"})");
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, Code::kNotImplemented);
  for (std::string_view bad : {"", "{", "[]", "{}", R"({"imageLayoutVersion":1})"}) {
    Status r = ParseOciLayout(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code, Code::kInvalidArgument) << bad;
  }
}

// What `docker save busybox` (Docker 25+) writes.
const std::string kDockerSaveManifest =
    R"([{"Config":"blobs/sha256/)" + kHex +
    R"(","RepoTags":["busybox:latest"],"Layers":["blobs/sha256/)" + kHex +
    R"("],"LayerSources":{"sha256:)" + kHex +
    R"(":{"mediaType":"application/vnd.docker.image.rootfs.foreign.diff.tar","digest":"sha256:)" +
    kHex + R"(","size":5,"urls":["https://mcr.microsoft.com/x"]}}}])";

TEST(ImageLayoutTest, ParsesDockerSaveManifest) {
  Result<std::vector<DockerArchiveEntry>> m = ParseDockerArchiveManifest(kDockerSaveManifest);
  ASSERT_TRUE(m) << m.error().message;
  ASSERT_EQ(m->size(), 1u);
  const DockerArchiveEntry& e = (*m)[0];
  EXPECT_EQ(e.config, "blobs/sha256/" + kHex);
  EXPECT_EQ(e.repo_tags, std::vector<std::string>{"busybox:latest"});
  EXPECT_EQ(e.layers.size(), 1u);
  ASSERT_EQ(e.layer_sources.size(), 1u);
  EXPECT_EQ(e.layer_sources.begin()->second.urls.size(), 1u);
  EXPECT_EQ(SerializeDockerArchiveManifest(*m), kDockerSaveManifest);
}

TEST(ImageLayoutTest, LegacyLayoutAndNullRepoTags) {
  std::string legacy = R"([{"Config":")" + kHex + R"(.json","RepoTags":null,"Layers":[")" + kHex +
                       R"(/layer.tar"],"Parent":"sha256:)" + kHex + R"("}])";
  Result<std::vector<DockerArchiveEntry>> m = ParseDockerArchiveManifest(legacy);
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_TRUE((*m)[0].repo_tags.empty());
  EXPECT_EQ((*m)[0].parent, "sha256:" + kHex);
  Result<std::vector<DockerArchiveEntry>> back =
      ParseDockerArchiveManifest(SerializeDockerArchiveManifest(*m));
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, *m);
  EXPECT_EQ(SerializeDockerArchiveManifest({}), "[]");
}

TEST(ImageLayoutTest, RejectsBadManifests) {
  auto entry = [](std::string_view config, std::string_view tags, std::string_view layers) {
    return "[{\"Config\":" + std::string(config) + ",\"RepoTags\":" + std::string(tags) +
           ",\"Layers\":" + std::string(layers) + "}]";
  };
  const std::pair<const char*, std::string> cases[] = {
      {"empty", ""},
      {"not json", "manifest"},
      {"object", "{}"},
      {"entry not object", "[1]"},
      {"no config", R"([{"RepoTags":[],"Layers":[]}])"},
      {"config number", entry("1", "[]", "[]")},
      {"config absolute", entry(R"("/etc/passwd")", "[]", "[]")},
      {"config dotdot", entry(R"("../x.json")", "[]", "[]")},
      {"config inner dotdot", entry(R"("a/../../x.json")", "[]", "[]")},
      {"config empty", entry(R"("")", "[]", "[]")},
      {"layer absolute", entry(R"("c.json")", "[]", R"(["/a/layer.tar"])")},
      {"layer dotdot", entry(R"("c.json")", "[]", R"(["a/../../../layer.tar"])")},
      {"layer unclean", entry(R"("c.json")", "[]", R"(["a//layer.tar"])")},
      {"layer dot", entry(R"("c.json")", "[]", R"(["./layer.tar"])")},
      {"layer trailing slash", entry(R"("c.json")", "[]", R"(["a/"])")},
      {"layer backslash", entry(R"("c.json")", "[]", R"(["..\\x"])")},
      {"layer nul", entry(R"("c.json")", "[]", R"(["a\u0000b"])")},
      {"layers string", entry(R"("c.json")", "[]", R"("layer.tar")")},
      {"repotag no tag", entry(R"("c.json")", R"(["busybox@sha256:)" + kHex + R"("])", "[]")},
      {"repotag bad", entry(R"("c.json")", R"(["Busybox:latest"])", "[]")},
      {"repotags number", entry(R"("c.json")", "[1]", "[]")},
      {"layer source bad key",
       R"([{"Config":"c.json","Layers":[],"LayerSources":{"nope":{"mediaType":"x","digest":"sha256:)" +
           kHex + R"(","size":1}}}])"},
      {"layer source bad descriptor",
       R"([{"Config":"c.json","Layers":[],"LayerSources":{"sha256:)" + kHex +
           R"(":{"mediaType":"x","size":1}}}])"},
  };
  for (const auto& [name, input] : cases) {
    Result<std::vector<DockerArchiveEntry>> r = ParseDockerArchiveManifest(input);
    EXPECT_FALSE(r) << name;
    if (!r) {
      EXPECT_EQ(r.error().code, Code::kInvalidArgument) << name;
    }
  }
}

TEST(ImageLayoutTest, ValidateArchivePath) {
  for (std::string_view good :
       {"manifest.json", "blobs/sha256/abc", "a/b/c.tar", "..a", "a..", "a/..b/c", ".hidden"}) {
    EXPECT_TRUE(ValidateArchivePath(good)) << good;
  }
  for (std::string_view bad : std::initializer_list<std::string_view>{
           "", "/", "/abs", "..", "../x", "x/..", "x/../y", ".", "./x", "x/.", "x//y", "x/",
           std::string_view("a\0b", 3), "a\\b"}) {
    Status s = ValidateArchivePath(bad);
    EXPECT_FALSE(s) << bad;
    if (!s) {
      EXPECT_EQ(s.error().code, Code::kInvalidArgument);
    }
  }
}

}  // namespace
}  // namespace berth::oci
