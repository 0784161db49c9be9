#include "distribution/endpoint.h"

#include <gtest/gtest.h>

namespace berth::distribution {
namespace {

oci::Reference Ref(std::string_view s) { return *oci::ParseDockerRef(s); }

TEST(EndpointTest, DockerHubGoesToRegistryOneOverHttps) {
  Endpoint e = ResolveEndpoint(Ref("busybox"), {});
  EXPECT_EQ(e.host, "registry-1.docker.io");
  EXPECT_FALSE(e.insecure);
  EXPECT_EQ(ManifestUrl(e, Ref("busybox").path(), "latest"),
            "https://registry-1.docker.io/v2/library/busybox/manifests/latest");
}

TEST(EndpointTest, LoopbackIsPlainHttp) {
  for (std::string_view host : {"127.0.0.1:5000", "localhost:5000", "127.9.9.9", "[::1]:5000"}) {
    EXPECT_TRUE(IsInsecureRegistry(host, {})) << host;
  }
  oci::Reference r = Ref("127.0.0.1:5000/me/busybox:1");
  Endpoint e = ResolveEndpoint(r, {});
  EXPECT_EQ(e.BaseUrl(), "http://127.0.0.1:5000");
  EXPECT_EQ(ManifestUrl(e, r.path(), "1"), "http://127.0.0.1:5000/v2/me/busybox/manifests/1");
  auto d = *oci::Digest::Parse("sha256:" + std::string(64, 'a'));
  EXPECT_EQ(BlobUrl(e, r.path(), d),
            "http://127.0.0.1:5000/v2/me/busybox/blobs/sha256:" + std::string(64, 'a'));
  EXPECT_EQ(PingUrl(e), "http://127.0.0.1:5000/v2/");
}

TEST(EndpointTest, OtherHostsAreHttpsUnlessListedInsecure) {
  EXPECT_FALSE(IsInsecureRegistry("reg.example:5000", {}));
  EXPECT_FALSE(IsInsecureRegistry("10.1.2.3:5000", {}));
  EXPECT_TRUE(IsInsecureRegistry("reg.example:5000", {"reg.example:5000"}));
  EXPECT_TRUE(IsInsecureRegistry("reg.example:5000", {"reg.example"}));
  EXPECT_FALSE(IsInsecureRegistry("reg.example:5000", {"other.example"}));
  EXPECT_TRUE(IsInsecureRegistry("10.1.2.3:5000", {"10.0.0.0/8"}));
  EXPECT_FALSE(IsInsecureRegistry("11.1.2.3:5000", {"10.0.0.0/8"}));
  EXPECT_FALSE(IsInsecureRegistry("10.1.2.3", {"10.0.0.0/99"}));
  EXPECT_TRUE(ResolveEndpoint(Ref("reg.example:5000/x"), {"reg.example:5000"}).insecure);
}

}  // namespace
}  // namespace berth::distribution
