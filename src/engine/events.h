// Events: the daemon's in-memory event bus behind GET /events (Docker's daemon/events).
// Services publish what happened (container create/start/die..., image import/tag...); each
// subscriber gets every event published after it subscribed, in order, and the last
// `capacity` events are kept in a ring so a subscriber can ask for the recent past (`since`).
// Nothing is persisted: a daemon restart forgets the past, as with dockerd.
//
// Filters follow dockerd's daemon/events/filter.go: keys AND, the values of a key OR, except
// `label` values, which must all match.
// Thread-safety: all methods may be called from any thread. A Subscription is read by one
// thread; it stays valid after the bus is gone only if the bus outlives it (the bus owns no
// subscriber: a Subscription unregisters itself when destroyed).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace berth::engine {

struct Event {
  std::string type;    // "container", "image"
  std::string action;  // "create", "start", "die", "tag", ...
  std::string actor_id;
  std::map<std::string, std::string> attributes;  // name, image, exitCode, signal, labels...
  int64_t time_nano = 0;                          // unix nanos; set by Publish when 0
};

// Docker's event filters: container, image, event, type, label (other keys are refused by
// the API layer before). Keys map to their values.
using EventFilters = std::map<std::string, std::vector<std::string>>;
bool EventMatches(const Event& e, const EventFilters& filters);

class EventBus;

// Events published after Subscribe, in order. If the reader falls more than the bus's capacity
// behind, the oldest are dropped (as dockerd's buffered pub/sub drops for a slow reader).
class Subscription {
 public:
  ~Subscription();
  Subscription(const Subscription&) = delete;
  Subscription& operator=(const Subscription&) = delete;

  // The next event, or nullopt once `wait` has passed without one.
  std::optional<Event> Next(std::chrono::milliseconds wait);

 private:
  friend class EventBus;
  explicit Subscription(EventBus* bus) : bus_(bus) {}
  void Push(const Event& e, size_t limit);

  EventBus* bus_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Event> queue_;
};

class EventBus {
 public:
  // `clock` gives unix nanos (injected in tests).
  explicit EventBus(size_t capacity = 1024, std::function<int64_t()> clock = nullptr);
  ~EventBus();

  // Stamps the event with the clock when its time is 0, keeps it in the ring and hands it to
  // every subscriber.
  void Publish(Event e);

  struct Subscribed {
    std::vector<Event> past;  // kept events with since <= time (<= until when until != 0)
    std::unique_ptr<Subscription> live;
  };
  // The past and the future with no gap and no duplicate: both are taken under one lock.
  // since == 0 and until == 0: no past.
  Subscribed Subscribe(int64_t since, int64_t until);

  int64_t Now() const { return clock_(); }

 private:
  friend class Subscription;
  void Unsubscribe(Subscription* s);

  size_t capacity_;
  std::function<int64_t()> clock_;
  std::mutex mu_;
  std::deque<Event> ring_;
  std::vector<Subscription*> subscribers_;
};

}  // namespace berth::engine
