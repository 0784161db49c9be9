#include "api/request.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "api/internal/url.h"

namespace berth::api {
namespace {

Request MakeRequest(Request::Pairs query, Request::Pairs headers, Reader* body) {
  return Request("GET", "/images/json", "1.43", {{"name", "busybox:1"}}, std::move(query),
                 std::move(headers), body);
}

TEST(UrlTest, PercentDecodes) {
  EXPECT_EQ(internal::PercentDecode("docker.io%2Flibrary%2Fbusybox", false),
            "docker.io/library/busybox");
  EXPECT_EQ(internal::PercentDecode("a+b", false), "a+b");
  EXPECT_EQ(internal::PercentDecode("a+b", true), "a b");
  EXPECT_FALSE(internal::PercentDecode("%zz", false));
  EXPECT_FALSE(internal::PercentDecode("%4", false));
}

TEST(UrlTest, ParsesQueryStringsLikeGo) {
  auto q = internal::ParseQuery(
      "fromImage=docker.io%2Flibrary%2Fbusybox&tag=anchor&all&filters=%7B%22a%22%3A1%7D&x=%zz");
  ASSERT_EQ(q.size(), 4u);
  EXPECT_EQ(q[0], (std::pair<std::string, std::string>{"fromImage", "docker.io/library/busybox"}));
  EXPECT_EQ(q[1].second, "anchor");
  EXPECT_EQ(q[2], (std::pair<std::string, std::string>{"all", ""}));
  EXPECT_EQ(q[3].second, "{\"a\":1}");
}

TEST(RequestTest, QueryBoolFollowsDockerBoolValue) {
  StringReader empty("");
  Request r = MakeRequest({{"a", "1"},
                           {"b", "true"},
                           {"c", "True"},
                           {"d", "0"},
                           {"e", "false"},
                           {"f", ""},
                           {"g", "no"},
                           {"h", "none"},
                           {"i", "yes"},
                           {"j", " FALSE "}},
                          {}, &empty);
  EXPECT_TRUE(r.QueryBool("a"));
  EXPECT_TRUE(r.QueryBool("b"));
  EXPECT_TRUE(r.QueryBool("c"));
  EXPECT_FALSE(r.QueryBool("d"));
  EXPECT_FALSE(r.QueryBool("e"));
  EXPECT_FALSE(r.QueryBool("f"));
  EXPECT_FALSE(r.QueryBool("g"));
  EXPECT_FALSE(r.QueryBool("h"));
  EXPECT_TRUE(r.QueryBool("i"));
  EXPECT_FALSE(r.QueryBool("j"));
  EXPECT_FALSE(r.QueryBool("absent"));
  EXPECT_TRUE(r.QueryBool("absent", true));
  EXPECT_FALSE(r.QueryBool("d", true));
}

TEST(RequestTest, QueryIntAndRepeatedKeys) {
  StringReader empty("");
  Request r = MakeRequest({{"t", "10"}, {"bad", "1x"}, {"k", "a"}, {"k", "b"}}, {}, &empty);
  EXPECT_EQ(*r.QueryInt("t"), 10);
  EXPECT_EQ(*r.QueryInt("absent", 7), 7);
  ASSERT_FALSE(r.QueryInt("bad"));
  EXPECT_EQ(r.QueryInt("bad").error().code, Code::kInvalidArgument);
  EXPECT_EQ(r.Query("k"), "a");
  EXPECT_EQ(r.QueryAll("k"), (std::vector<std::string>{"a", "b"}));
}

TEST(RequestTest, ParamsAndCaseInsensitiveHeaders) {
  StringReader empty("");
  Request r = MakeRequest({}, {{"X-Registry-Auth", "e30="}}, &empty);
  EXPECT_EQ(r.Param("name"), "busybox:1");
  EXPECT_EQ(r.Param("other"), "");
  EXPECT_EQ(r.Header("x-registry-auth"), "e30=");
  EXPECT_EQ(r.Header("Missing"), "");
  EXPECT_EQ(r.api_version(), "1.43");
}

TEST(RequestTest, ReadJsonParsesTheBody) {
  StringReader body(R"({"Image":"busybox","Cmd":["true"]})");
  Request r = MakeRequest({}, {{"Content-Type", "application/json; charset=utf-8"}}, &body);
  Result<nlohmann::json> j = r.ReadJson();
  ASSERT_TRUE(j) << j.error().message;
  EXPECT_EQ((*j)["Image"], "busybox");
}

TEST(RequestTest, ReadJsonRefusesBadBodiesWithInvalidArgument) {
  StringReader malformed("{\"Image\":");
  Result<nlohmann::json> j = MakeRequest({}, {}, &malformed).ReadJson();
  ASSERT_FALSE(j);
  EXPECT_EQ(j.error().code, Code::kInvalidArgument);
  EXPECT_NE(j.error().message.find("invalid JSON"), std::string::npos);

  StringReader empty("");
  j = MakeRequest({}, {}, &empty).ReadJson();
  ASSERT_FALSE(j);
  EXPECT_EQ(j.error().message, "invalid JSON: got EOF while reading request body");

  StringReader text("{}");
  j = MakeRequest({}, {{"Content-Type", "text/plain"}}, &text).ReadJson();
  ASSERT_FALSE(j);
  EXPECT_EQ(j.error().code, Code::kInvalidArgument);

  StringReader huge("[" + std::string(kMaxJsonBody, ' ') + "]");
  j = MakeRequest({}, {}, &huge).ReadJson();
  ASSERT_FALSE(j);
  EXPECT_EQ(j.error().code, Code::kInvalidArgument);
}

}  // namespace
}  // namespace berth::api
