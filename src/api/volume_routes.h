// Engine API routes for volumes (/volumes...): create, list (with filters), inspect, remove,
// prune. JSON shapes are Docker's v1.43 Volume, VolumeListResponse and VolumePruneResponse,
// keys in its Go structs' field order.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include "volume/volume_store.h"

namespace berth::api {

class Router;

void RegisterVolumeRoutes(Router& router, volume::VolumeStore& volumes);

// The Volume object of GET /volumes/{name}.
nlohmann::ordered_json VolumeJson(const volume::Volume& v);

}  // namespace berth::api
