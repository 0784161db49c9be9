// The Engine API's observation routes: GET /events (the daemon's event stream, JSON lines),
// GET /containers/{id}/top (ps filtered to the container's cgroup) and
// GET /containers/{id}/stats (Docker's stats JSON from the container's cgroup, once or every
// second). Streams end when the client goes away (ResponseWriter::ClientGone).
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "base/result.h"

namespace berth::engine {
class ContainerProbe;
class ContainerService;
class EventBus;
struct Event;
}  // namespace berth::engine

namespace berth::api {

class Router;

void RegisterObserveRoutes(Router& router, engine::ContainerService& containers,
                           engine::EventBus& events, engine::ContainerProbe& probe);
// GET /events only (part of the above).
void RegisterEventRoutes(Router& router, engine::EventBus& events);

// events.Message as dockerd writes it (the old status/id/from fields for containers and
// images first).
nlohmann::ordered_json EventJson(const engine::Event& e);

// dockerd's timetypes.ParseTimestamps: "SECONDS[.FRACTION]" -> unix nanos.
Result<int64_t> ParseEventTime(std::string_view value);

}  // namespace berth::api
