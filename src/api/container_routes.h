// The /containers routes of the Engine API (v1.43): create, list, inspect, start, stop,
// restart, kill, wait, remove, attach (hijacked), resize, logs, pause, unpause, rename, prune.
// Docker JSON shapes with Go's field order (nlohmann::ordered_json).
#pragma once

namespace berth::engine {
class ContainerService;
class ExecService;
}
namespace berth::image {
class ImageStore;
}

namespace berth::api {

class Router;

void RegisterContainerRoutes(Router& router, engine::ContainerService& containers,
                             image::ImageStore& images, engine::ExecService* execs = nullptr);

}  // namespace berth::api
