#include "engine/events.h"

#include <gtest/gtest.h>

namespace berth::engine {
namespace {

Event Ev(std::string type, std::string action, std::string id,
         std::map<std::string, std::string> attrs = {}, int64_t t = 0) {
  return Event{std::move(type), std::move(action), std::move(id), std::move(attrs), t};
}

TEST(EventBusTest, SubscriberGetsEventsPublishedAfterInOrder) {
  int64_t now = 100;
  EventBus bus(16, [&] { return now; });
  bus.Publish(Ev("container", "create", "a"));  // before: not delivered live
  auto sub = bus.Subscribe(0, 0);
  EXPECT_TRUE(sub.past.empty());
  now = 200;
  bus.Publish(Ev("container", "start", "a"));
  bus.Publish(Ev("container", "die", "a"));
  auto first = sub.live->Next(std::chrono::milliseconds(0));
  ASSERT_TRUE(first);
  EXPECT_EQ(first->action, "start");
  EXPECT_EQ(first->time_nano, 200);
  auto second = sub.live->Next(std::chrono::milliseconds(0));
  ASSERT_TRUE(second);
  EXPECT_EQ(second->action, "die");
  EXPECT_FALSE(sub.live->Next(std::chrono::milliseconds(0)));
}

TEST(EventBusTest, SinceAndUntilSelectFromTheRing) {
  EventBus bus(3);
  for (int64_t t = 1; t <= 5; ++t) bus.Publish(Ev("image", "tag", std::to_string(t), {}, t * 10));
  // Capacity 3: events at 30, 40, 50 are kept.
  auto all = bus.Subscribe(1, 0);
  ASSERT_EQ(all.past.size(), 3u);
  EXPECT_EQ(all.past[0].time_nano, 30);
  auto window = bus.Subscribe(35, 45);
  ASSERT_EQ(window.past.size(), 1u);
  EXPECT_EQ(window.past[0].actor_id, "4");
}

TEST(EventBusTest, SlowSubscriberKeepsTheNewest) {
  EventBus bus(2);
  auto sub = bus.Subscribe(0, 0);
  for (int i = 0; i < 5; ++i) bus.Publish(Ev("image", "tag", std::to_string(i)));
  EXPECT_EQ(sub.live->Next(std::chrono::milliseconds(0))->actor_id, "3");
  EXPECT_EQ(sub.live->Next(std::chrono::milliseconds(0))->actor_id, "4");
}

TEST(EventBusTest, SubscriptionOutlivingTheBusIsSafe) {
  auto bus = std::make_unique<EventBus>();
  auto sub = bus->Subscribe(0, 0);
  bus->Publish(Ev("image", "tag", "x"));
  bus.reset();
  EXPECT_TRUE(sub.live->Next(std::chrono::milliseconds(0)));
}

TEST(EventFilterTest, KeysAndValuesAsDockerd) {
  Event e = Ev("container", "die", "abcdef",
               {{"name", "web"}, {"image", "busybox:latest"}, {"com.x", "1"}, {"exitCode", "0"}});
  EXPECT_TRUE(EventMatches(e, {}));
  EXPECT_TRUE(EventMatches(e, {{"type", {"container"}}}));
  EXPECT_FALSE(EventMatches(e, {{"type", {"image"}}}));
  EXPECT_TRUE(EventMatches(e, {{"event", {"start", "die"}}}));
  EXPECT_FALSE(EventMatches(e, {{"event", {"start"}}}));
  EXPECT_TRUE(EventMatches(e, {{"container", {"abc"}}}));  // id prefix
  EXPECT_TRUE(EventMatches(e, {{"container", {"web"}}}));  // name
  EXPECT_FALSE(EventMatches(e, {{"container", {"db"}}}));
  EXPECT_TRUE(EventMatches(e, {{"image", {"busybox"}}}));  // tag stripped
  EXPECT_TRUE(EventMatches(e, {{"image", {"busybox:latest"}}}));
  EXPECT_FALSE(EventMatches(e, {{"image", {"alpine"}}}));
  EXPECT_TRUE(EventMatches(e, {{"label", {"com.x"}}}));
  EXPECT_TRUE(EventMatches(e, {{"label", {"com.x=1"}}}));
  EXPECT_FALSE(EventMatches(e, {{"label", {"com.x=1", "other"}}}));  // all labels must match
  EXPECT_FALSE(EventMatches(e, {{"type", {"container"}}, {"event", {"start"}}}));  // keys AND
  Event exec = Ev("container", "exec_start: sh -c true", "abcdef");
  EXPECT_TRUE(EventMatches(exec, {{"event", {"exec_start"}}}));
}

TEST(EventFilterTest, ImageEventsMatchTheirName) {
  Event e = Ev("image", "tag", "sha256:1234", {{"name", "web:v1"}});
  EXPECT_TRUE(EventMatches(e, {{"image", {"web"}}}));
  EXPECT_TRUE(EventMatches(e, {{"image", {"sha256:1234"}}}));
  // dockerd's container filter also prefix-matches the name attribute, whatever the type.
  EXPECT_TRUE(EventMatches(e, {{"container", {"web"}}}));
  EXPECT_FALSE(EventMatches(e, {{"container", {"db"}}}));
}

}  // namespace
}  // namespace berth::engine
