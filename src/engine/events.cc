#include "engine/events.h"

#include <algorithm>
#include <string_view>
#include <utility>

#include "base/strings.h"

namespace berth::engine {
namespace {

bool Has(const EventFilters& f, const std::string& key) {
  auto it = f.find(key);
  return it != f.end() && !it->second.empty();
}

// filters.Args.ExactMatch: true without values for `key`.
bool ExactMatch(const EventFilters& f, const std::string& key, std::string_view source) {
  if (!Has(f, key)) return true;
  const auto& values = f.at(key);
  return std::find(values.begin(), values.end(), source) != values.end();
}

// filters.Args.FuzzyMatch: exact, or a value is a prefix of `source`.
bool FuzzyMatch(const EventFilters& f, const std::string& key, std::string_view source) {
  if (!Has(f, key)) return true;
  for (const auto& v : f.at(key)) {
    if (source.substr(0, v.size()) == v) return true;
  }
  return false;
}

// The image name without tag or digest ("busybox:latest" -> "busybox"), as dockerd's stripTag
// (reference.FamiliarName) does for the names it is given.
std::string StripTag(std::string_view image) {
  std::string s(image);
  if (auto at = s.find('@'); at != std::string::npos) s.resize(at);
  auto slash = s.rfind('/');
  auto colon = s.rfind(':');
  if (colon != std::string::npos && (slash == std::string::npos || colon > slash)) s.resize(colon);
  return s;
}

std::string Attribute(const Event& e, const std::string& key) {
  auto it = e.attributes.find(key);
  return it == e.attributes.end() ? std::string() : it->second;
}

}  // namespace

bool EventMatches(const Event& e, const EventFilters& f) {
  if (!ExactMatch(f, "scope", "local") || !ExactMatch(f, "type", e.type)) return false;
  std::string_view action = e.action;
  std::string_view action_prefix = action.substr(0, action.find(':'));  // "exec_start: sh"
  if (!ExactMatch(f, "event", action) && !ExactMatch(f, "event", action_prefix)) return false;
  if (Has(f, "container") && !(FuzzyMatch(f, "container", e.actor_id) ||
                               FuzzyMatch(f, "container", Attribute(e, "name")))) {
    return false;
  }
  if (Has(f, "image")) {
    std::string name = Attribute(e, e.type == "image" ? "name" : "image");
    if (!ExactMatch(f, "image", e.actor_id) && !ExactMatch(f, "image", name) &&
        !ExactMatch(f, "image", StripTag(e.actor_id)) && !ExactMatch(f, "image", StripTag(name))) {
      return false;
    }
  }
  if (Has(f, "label")) {
    // filters.Args.MatchKVList: every label value must match.
    for (const auto& v : f.at("label")) {
      auto eq = v.find('=');
      auto it = e.attributes.find(v.substr(0, eq));
      if (it == e.attributes.end()) return false;
      if (eq != std::string::npos && it->second != v.substr(eq + 1)) return false;
    }
  }
  return true;
}

Subscription::~Subscription() {
  if (bus_ != nullptr) bus_->Unsubscribe(this);
}

void Subscription::Push(const Event& e, size_t limit) {
  {
    std::lock_guard lock(mu_);
    queue_.push_back(e);
    while (queue_.size() > limit) queue_.pop_front();
  }
  cv_.notify_one();
}

std::optional<Event> Subscription::Next(std::chrono::milliseconds wait) {
  std::unique_lock lock(mu_);
  if (!cv_.wait_for(lock, wait, [&] { return !queue_.empty(); })) return std::nullopt;
  Event e = std::move(queue_.front());
  queue_.pop_front();
  return e;
}

EventBus::EventBus(size_t capacity, std::function<int64_t()> clock)
    : capacity_(std::max<size_t>(1, capacity)),
      clock_(clock ? std::move(clock) : std::function<int64_t()>(NowUnixNanos)) {}

EventBus::~EventBus() {
  std::lock_guard lock(mu_);
  for (Subscription* s : subscribers_) s->bus_ = nullptr;
}

void EventBus::Publish(Event e) {
  std::lock_guard lock(mu_);
  if (e.time_nano == 0) e.time_nano = clock_();
  // Times never go backwards in the ring, so `since` finds a contiguous tail.
  if (!ring_.empty() && e.time_nano < ring_.back().time_nano) e.time_nano = ring_.back().time_nano;
  for (Subscription* s : subscribers_) s->Push(e, capacity_);
  ring_.push_back(std::move(e));
  while (ring_.size() > capacity_) ring_.pop_front();
}

EventBus::Subscribed EventBus::Subscribe(int64_t since, int64_t until) {
  Subscribed out;
  std::lock_guard lock(mu_);
  if (since != 0 || until != 0) {
    for (const Event& e : ring_) {
      if (e.time_nano < since) continue;
      if (until != 0 && e.time_nano > until) break;
      out.past.push_back(e);
    }
  }
  out.live.reset(new Subscription(this));
  subscribers_.push_back(out.live.get());
  return out;
}

void EventBus::Unsubscribe(Subscription* s) {
  std::lock_guard lock(mu_);
  subscribers_.erase(std::remove(subscribers_.begin(), subscribers_.end(), s), subscribers_.end());
}

}  // namespace berth::engine
