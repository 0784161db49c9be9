// RegisterEngineRoutes: every route set berthd serves, wired explicitly from the Daemon's
// backends. This is the one place a new module's routes are added (no static registration).
#pragma once

#include "engine/daemon.h"

namespace berth::api {

class Router;

// `daemon` is borrowed and must outlive the router.
void RegisterEngineRoutes(Router& router, engine::Daemon& daemon);

}  // namespace berth::api
