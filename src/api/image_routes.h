// Engine API routes for images (/images/...): list, inspect, history, tag, remove, import
// (POST /images/create?fromSrc=), pull (?fromImage=), save (GET /images/get, /images/{name}/get), load, prune.
// JSON shapes are those of the Docker Engine API v1.43 (ImageSummary, ImageInspect, ...), keys
// in the order dockerd writes them (its Go structs' field order).
#pragma once

#include <nlohmann/json_fwd.hpp>

#include "image/image_store.h"

namespace berth::distribution {
class Puller;
class Pusher;
}
namespace berth::engine {
class EventBus;
}

namespace berth::api {

class Router;

// Registers the image routes. Call before any route with a greedy "/images/{name:.*}" pattern
// of another set, since the first match wins. With `events`, import, pull, tag, untag, delete,
// load and save publish image events there. Without `puller` / `pusher`, pulls / pushes are
// refused (501).
void RegisterImageRoutes(Router& router, image::ImageStore& images,
                         engine::EventBus* events = nullptr,
                         distribution::Puller* puller = nullptr,
                         distribution::Pusher* pusher = nullptr);

nlohmann::ordered_json ImageSummaryJson(const image::Image& image);
nlohmann::ordered_json ImageInspectJson(const image::Image& image);
nlohmann::ordered_json HistoryItemJson(const image::HistoryItem& item);

}  // namespace berth::api
