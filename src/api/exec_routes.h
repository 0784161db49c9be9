// The exec routes of the Engine API (v1.43): POST /containers/{id}/exec, POST /exec/{id}/start
// (hijacked, or 200 when Detach), GET /exec/{id}/json, POST /exec/{id}/resize.
#pragma once

namespace berth::engine {
class ExecService;
}

namespace berth::api {

class Router;

void RegisterExecRoutes(Router& router, engine::ExecService& execs);

}  // namespace berth::api
