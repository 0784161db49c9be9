#include "cli/jsonmessage.h"

#include <gtest/gtest.h>

namespace berth::cli {
namespace {

TEST(JsonMessageTest, ParsesAllFields) {
  Result<JsonMessage> m = ParseJsonMessage(
      R"({"status":"Downloading","id":"abc","progress":"[=>]","progressDetail":{"current":5,"total":10},"aux":{"ID":"sha256:x"}})");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->status, "Downloading");
  EXPECT_EQ(m->id, "abc");
  EXPECT_TRUE(m->has_progress);
  EXPECT_EQ(m->current, 5);
  EXPECT_EQ(m->total, 10);
  EXPECT_EQ(m->aux["ID"], "sha256:x");
  EXPECT_FALSE(ParseJsonMessage("not json").ok());
}

TEST(JsonMessageTest, ProgressStringLikeDocker) {
  JsonMessage m;
  m.has_progress = true;
  m.current = 1500000;
  m.total = 3000000;
  EXPECT_EQ(ProgressString(m, 80), "   1.5MB/3MB");
  EXPECT_EQ(ProgressString(m, 200),
            "[=========================>                         ]    1.5MB/3MB");
  m.total = 0;
  EXPECT_EQ(ProgressString(m, 80), "   1.5MB");
  m.units = "items";
  m.current = 3;
  m.total = 7;
  EXPECT_EQ(ProgressString(m, 80), "3/7 items");
  m.current = m.total = 0;
  EXPECT_EQ(ProgressString(m, 80), "");
}

struct Shown {
  std::string out;
  Status status;
};

Shown Show(const std::vector<std::string>& lines, bool terminal) {
  StringWriter out;
  JsonMessageDisplay display(out, terminal, 80);
  Shown shown;
  for (const std::string& line : lines) {
    shown.status = display.Handle(line);
    if (!shown.status) break;
  }
  shown.out = out.str();
  return shown;
}

TEST(JsonMessageDisplayTest, OffTerminalPrintsStatusAndStreamDropsProgress) {
  Shown s =
      Show({R"({"status":"Loading layer","id":"abc","progressDetail":{"current":1,"total":2}})",
            R"({"stream":"Loaded image: busybox:latest\n"})", R"({"status":"sha256:0123"})",
            R"({"status":"Pull complete","id":"abc","progressDetail":{}})", ""},
           false);
  ASSERT_TRUE(s.status.ok());
  EXPECT_EQ(s.out, "Loaded image: busybox:latest\nsha256:0123\nabc: Pull complete\n");
}

TEST(JsonMessageDisplayTest, OnTerminalRedrawsProgressPerId) {
  Shown s =
      Show({R"({"status":"Downloading","id":"a","progressDetail":{"current":1000,"total":2000}})",
            R"({"status":"Downloading","id":"b","progressDetail":{"current":1,"total":2}})",
            R"({"status":"Done","id":"a","progressDetail":{}})"},
           true);
  ASSERT_TRUE(s.status.ok());
  EXPECT_EQ(s.out,
            "\n\x1b[1A\x1b[2K\ra: Downloading      1kB/2kB\r\x1b[1B"
            "\n\x1b[1A\x1b[2K\rb: Downloading       1B/2B\r\x1b[1B"
            "\x1b[2A\x1b[2K\ra: Done \r\x1b[2B");
}

TEST(JsonMessageDisplayTest, ErrorInStreamStopsWithItsMessage) {
  Shown s = Show({R"({"status":"Loading"})",
                  R"({"errorDetail":{"message":"unexpected EOF"},"error":"unexpected EOF"})",
                  R"({"status":"never shown"})"},
                 false);
  ASSERT_FALSE(s.status.ok());
  EXPECT_EQ(s.status.error().message, "unexpected EOF");
  EXPECT_EQ(s.out, "Loading\n");
  Shown legacy = Show({R"({"error":"only the old field"})"}, false);
  EXPECT_EQ(legacy.status.error().message, "only the old field");
  Shown auth = Show({R"({"errorDetail":{"code":401,"message":"x"}})"}, false);
  EXPECT_EQ(auth.status.error().message, "authentication is required");
}

TEST(JsonMessageDisplayTest, AuxGoesToTheCallbackNotTheOutput) {
  StringWriter out;
  nlohmann::ordered_json seen;
  JsonMessageDisplay display(out, false, 0, [&](const nlohmann::ordered_json& aux) { seen = aux; });
  ASSERT_TRUE(display.Handle(R"({"aux":{"ID":"sha256:abc"}})").ok());
  EXPECT_EQ(out.str(), "");
  EXPECT_EQ(seen["ID"], "sha256:abc");
}

}  // namespace
}  // namespace berth::cli
