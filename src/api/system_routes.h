// The system routes of the Engine API: GET/HEAD /_ping, GET /version, GET /info, in the
// shapes dockerd answers (v1.43 SystemVersion and SystemInfo). The backend gives plain
// engine structs; this file only turns them into Docker's JSON.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include "engine/system.h"

namespace berth::api {

class Router;

// `backend` is borrowed and must outlive the router.
void RegisterSystemRoutes(Router& router, engine::SystemBackend& backend);

// The JSON bodies, exposed for tests.
nlohmann::ordered_json VersionJson(const engine::VersionInfo& version);
nlohmann::ordered_json InfoJson(const engine::SystemInfo& info);

}  // namespace berth::api
