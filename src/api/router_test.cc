#include "api/router.h"

#include <gtest/gtest.h>

#include "api/request.h"
#include "api/testing/recording_response_writer.h"

namespace berth::api {
namespace {

Handler Named(int* hit, int id) {
  return [hit, id](Request&, ResponseWriter&) {
    *hit = id;
    return Ok();
  };
}

TEST(RouterTest, MatchesLiteralAndSingleSegmentParams) {
  Router r;
  int hit = 0;
  r.Handle("GET", "/containers/json", Named(&hit, 1));
  r.Handle("POST", "/containers/{id}/start", Named(&hit, 2));
  auto m = r.Find("GET", "/containers/json");
  ASSERT_TRUE(m);
  EXPECT_TRUE(m->params.empty());
  m = r.Find("POST", "/containers/abc123/start");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->params.at("id"), "abc123");
  EXPECT_FALSE(r.Find("POST", "/containers//start"));  // {id} needs a non-empty segment
  EXPECT_FALSE(r.Find("POST", "/containers/a/b/start"));
  EXPECT_FALSE(r.Find("GET", "/containers/json/"));
  EXPECT_FALSE(r.Find("GET", "/containers"));
}

TEST(RouterTest, GreedyParamTakesImageNamesWithSlashes) {
  Router r;
  int hit = 0;
  r.Handle("GET", "/images/json", Named(&hit, 1));
  r.Handle("GET", "/images/{name:.*}/json", Named(&hit, 2));
  r.Handle("POST", "/images/{name:.*}/push", Named(&hit, 3));
  r.Handle("POST", "/images/{name:.*}/tag", Named(&hit, 4));
  r.Handle("DELETE", "/images/{name:.*}", Named(&hit, 5));

  auto m = r.Find("GET", "/images/localhost:5000/me/busybox:1/json");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->params.at("name"), "localhost:5000/me/busybox:1");
  m = r.Find("GET", "/images/busybox/json");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->params.at("name"), "busybox");
  m = r.Find("POST", "/images/127.0.0.1:5055/anchor/busybox/push");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->params.at("name"), "127.0.0.1:5055/anchor/busybox");
  m = r.Find("DELETE", "/images/a/b/c:latest");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->params.at("name"), "a/b/c:latest");
  // A name that itself ends in "/json": the greedy part takes all but the last segment.
  m = r.Find("GET", "/images/me/json/json");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->params.at("name"), "me/json");
  EXPECT_FALSE(r.Find("POST", "/images/push"));
}

TEST(RouterTest, FirstRegisteredRouteWins) {
  Router r;
  int hit = 0;
  r.Handle("GET", "/images/json", Named(&hit, 1));
  r.Handle("GET", "/images/{name:.*}", Named(&hit, 2));
  auto m = r.Find("GET", "/images/json");
  ASSERT_TRUE(m);
  EXPECT_TRUE(m->params.empty());
  m = r.Find("GET", "/images/other");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->params.at("name"), "other");
}

TEST(RouterTest, MethodMustMatch) {
  Router r;
  int hit = 0;
  r.Handle("GET", "/version", Named(&hit, 1));
  EXPECT_TRUE(r.Find("GET", "/version"));
  EXPECT_FALSE(r.Find("POST", "/version"));
  EXPECT_FALSE(r.Find("HEAD", "/version"));
}

TEST(RouterTest, HandlerIsTheRegisteredOne) {
  Router r;
  int hit = 0;
  r.Handle("GET", "/a", Named(&hit, 1));
  r.Handle("GET", "/b", Named(&hit, 2));
  auto m = r.Find("GET", "/b");
  ASSERT_TRUE(m);
  StringReader body("");
  Request req("GET", "/b", "1.43", {}, {}, {}, &body);
  testing::RecordingResponseWriter w;
  EXPECT_TRUE((*m->handler)(req, w));
  EXPECT_EQ(hit, 2);
}

}  // namespace
}  // namespace berth::api
