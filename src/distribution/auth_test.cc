#include "distribution/auth.h"

#include <gtest/gtest.h>

namespace berth::distribution {
namespace {

TEST(ChallengeTest, ParsesDockerHubBearerChallenge) {
  auto c = ParseChallenges(
      R"(Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull")");
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].scheme, "bearer");
  EXPECT_EQ(c[0].params["realm"], "https://auth.docker.io/token");
  EXPECT_EQ(c[0].params["service"], "registry.docker.io");
  EXPECT_EQ(c[0].params["scope"], "repository:library/busybox:pull");
}

TEST(ChallengeTest, ParsesSeveralChallengesQuotedCommasAndEscapes) {
  auto c = ParseChallenges(
      R"(Basic realm="a, \"b\"", Bearer realm=https://t/x,service=svc, error="insufficient_scope")");
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(c[0].scheme, "basic");
  EXPECT_EQ(c[0].params["realm"], "a, \"b\"");
  EXPECT_EQ(c[1].scheme, "bearer");
  EXPECT_EQ(c[1].params["realm"], "https://t/x");
  EXPECT_EQ(c[1].params["service"], "svc");
  EXPECT_EQ(c[1].params["error"], "insufficient_scope");
}

TEST(ChallengeTest, SchemeAndParamNamesAreCaseInsensitive) {
  auto c = ParseChallenges(R"(BASIC Realm="Registry Realm")");
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].scheme, "basic");
  EXPECT_EQ(c[0].params["realm"], "Registry Realm");
}

TEST(ChallengeTest, EmptyHeaderHasNoChallenge) { EXPECT_TRUE(ParseChallenges("  ").empty()); }

TEST(TokenTest, UrlCarriesServiceAndScopeEscaped) {
  Challenge c{"bearer", {{"realm", "https://auth.example/token"}, {"service", "reg one"}}};
  auto url = TokenUrl(c, {"repository:me/busybox:pull"});
  ASSERT_TRUE(url) << url.error().message;
  EXPECT_EQ(*url,
            "https://auth.example/token?service=reg%20one&scope=repository%3Ame%2Fbusybox%3Apull");
  Challenge q{"bearer", {{"realm", "https://a/token?x=1"}}};
  EXPECT_EQ(*TokenUrl(q, {"s"}), "https://a/token?x=1&scope=s");
}

TEST(TokenTest, UrlNeedsARealm) {
  auto url = TokenUrl(Challenge{"bearer", {{"service", "x"}}}, {});
  ASSERT_FALSE(url);
  EXPECT_EQ(url.error().code, Code::kInvalidArgument);
}

TEST(TokenTest, ResponseGivesTokenOrAccessToken) {
  EXPECT_EQ(*ParseTokenResponse(R"({"token":"abc","expires_in":300})"), "abc");
  EXPECT_EQ(*ParseTokenResponse(R"({"access_token":"xyz"})"), "xyz");
  EXPECT_FALSE(ParseTokenResponse(R"({"token":""})"));
  EXPECT_FALSE(ParseTokenResponse("not json"));
}

TEST(RegistryAuthTest, DecodesWhatTheDockerCliSends) {
  // From the capture: {"username":"anchor","password":"anchorpw","serveraddress":"127.0.0.1:5055"}
  auto a = DecodeRegistryAuth(
      "eyJ1c2VybmFtZSI6ImFuY2hvciIsInBhc3N3b3JkIjoiYW5jaG9ycHciLCJzZXJ2ZXJhZGRyZXNzIjoiMTI3LjAuMC4x"
      "OjUwNTUifQ==");
  ASSERT_TRUE(a) << a.error().message;
  EXPECT_EQ(a->username, "anchor");
  EXPECT_EQ(a->password, "anchorpw");
  EXPECT_EQ(a->server_address, "127.0.0.1:5055");
}

TEST(RegistryAuthTest, EmptyObjectAndEmptyHeaderAreAnonymous) {
  EXPECT_TRUE(DecodeRegistryAuth("e30=")->empty());
  EXPECT_TRUE(DecodeRegistryAuth("")->empty());
}

TEST(RegistryAuthTest, UrlSafeAlphabetWithoutPaddingDecodes) {
  std::string json = R"({"username":"u","password":"p>?~"})";
  std::string b64 = Base64Encode(json);
  for (char& c : b64) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  while (!b64.empty() && b64.back() == '=') b64.pop_back();
  auto a = DecodeRegistryAuth(b64);
  ASSERT_TRUE(a) << a.error().message;
  EXPECT_EQ(a->password, "p>?~");
}

TEST(RegistryAuthTest, GarbageIsInvalidArgument) {
  auto a = DecodeRegistryAuth("!!!");
  ASSERT_FALSE(a);
  EXPECT_EQ(a.error().code, Code::kInvalidArgument);
  EXPECT_FALSE(DecodeRegistryAuth(Base64Encode("[1]")));
}

TEST(RegistryAuthTest, BasicAuthorizationIsBase64OfUserColonPassword) {
  EXPECT_EQ(BasicAuthorization("Aladdin", "open sesame"), "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
  EXPECT_EQ(*Base64Decode("QWxhZGRpbjpvcGVuIHNlc2FtZQ"), "Aladdin:open sesame");
}

}  // namespace
}  // namespace berth::distribution
