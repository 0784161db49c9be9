// The container filesystem routes of the Engine API (v1.43): POST /commit,
// GET /containers/{id}/changes, GET /containers/{id}/export and GET/HEAD/PUT
// /containers/{id}/archive (docker cp). Handlers translate HTTP to engine::ContainerFs.
#pragma once

namespace berth::engine {
class ContainerFs;
}  // namespace berth::engine

namespace berth::api {

class Router;

void RegisterContainerFsRoutes(Router& router, engine::ContainerFs& fs);

}  // namespace berth::api
