#include "api/observe_routes.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "api/request.h"
#include "api/router.h"
#include "api/testing/recording_response_writer.h"
#include "base/io.h"
#include "base/strings.h"
#include "engine/events.h"

namespace berth::api {
namespace {

TEST(ParseEventTimeTest, SecondsWithAnOptionalFraction) {
  EXPECT_EQ(*ParseEventTime("12"), 12000000000);
  EXPECT_EQ(*ParseEventTime("12.5"), 12500000000);
  EXPECT_EQ(*ParseEventTime("1700000000.000000123"), 1700000000000000123);
  EXPECT_FALSE(ParseEventTime("x"));
  EXPECT_FALSE(ParseEventTime("1."));
  EXPECT_FALSE(ParseEventTime("1.0000000001"));
}

TEST(EventJsonTest, DockerdsShapeWithTheOldFields) {
  engine::Event e{
      "container", "die", "abc", {{"exitCode", "0"}, {"image", "busybox"}}, 1700000000123456789};
  EXPECT_EQ(EventJson(e).dump(),
            R"({"status":"die","id":"abc","from":"busybox","Type":"container","Action":"die",)"
            R"("Actor":{"ID":"abc","Attributes":{"exitCode":"0","image":"busybox"}},)"
            R"("scope":"local","time":1700000000,"timeNano":1700000000123456789})");
  engine::Event n{"network", "connect", "n1", {}, 5};
  EXPECT_FALSE(EventJson(n).contains("status"));
}

class EventRoutesTest : public ::testing::Test {
 protected:
  EventRoutesTest() : bus_(16, [this] { return now_; }) { RegisterEventRoutes(router_, bus_); }

  Status Get(Request::Pairs query, testing::RecordingResponseWriter& w) {
    auto m = router_.Find("GET", "/events");
    if (!m) return MakeError(Code::kNotFound, "no route");
    StringReader body("");
    Request req("GET", "/events", "1.43", m->params, std::move(query), {}, &body);
    return (*m->handler)(req, w);
  }

  int64_t now_ = 1000000000000;
  engine::EventBus bus_;
  Router router_;
};

TEST_F(EventRoutesTest, PastWindowIsStreamedAndEnds) {
  const int64_t s = 1000000000;
  bus_.Publish({"container", "create", "c1", {{"name", "a"}}, 10 * s});
  bus_.Publish({"container", "start", "c1", {{"name", "a"}}, 11 * s});
  bus_.Publish({"image", "tag", "sha256:x", {{"name", "b:1"}}, 12 * s});
  bus_.Publish({"container", "die", "c1", {{"name", "a"}}, 20 * s});
  testing::RecordingResponseWriter w;
  // until is in the past of the injected clock: the stream ends after the past events.
  ASSERT_TRUE(Get({{"since", "10.5"}, {"until", "19"}}, w));
  EXPECT_EQ(w.status(), 200);
  EXPECT_TRUE(w.ended());
  auto lines = Split(w.body(), '\n');
  ASSERT_EQ(lines.size(), 3u);  // two events and the empty tail after the last newline
  EXPECT_EQ(nlohmann::json::parse(lines[0])["Action"], "start");
  EXPECT_EQ(nlohmann::json::parse(lines[1])["Action"], "tag");
}

TEST_F(EventRoutesTest, FiltersApply) {
  const int64_t s = 1000000000;
  bus_.Publish({"container", "create", "c1", {{"name", "a"}}, 10 * s});
  bus_.Publish({"image", "tag", "sha256:x", {{"name", "b:1"}}, 12 * s});
  testing::RecordingResponseWriter w;
  ASSERT_TRUE(
      Get({{"since", "0"}, {"until", "100"}, {"filters", R"({"type":{"image":true}})"}}, w));
  auto lines = Split(w.body(), '\n');
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(nlohmann::json::parse(lines[0])["Action"], "tag");
}

TEST_F(EventRoutesTest, UnknownFilterOrBadTimeIsRefused) {
  testing::RecordingResponseWriter w;
  auto st = Get({{"filters", R"({"colour":{"red":true}})"}}, w);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, Code::kInvalidArgument);
  testing::RecordingResponseWriter w2;
  EXPECT_FALSE(Get({{"since", "yesterday"}}, w2));
}

}  // namespace
}  // namespace berth::api
