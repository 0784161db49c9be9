// Engine API routes for images (/images/...): list, inspect, history, tag, remove, import
// (POST /images/create?fromSrc=), save (GET /images/get, /images/{name}/get), load, prune.
// JSON shapes are those of the Docker Engine API v1.43 (ImageSummary, ImageInspect, ...).
#pragma once

#include <nlohmann/json_fwd.hpp>

#include "image/image_store.h"

namespace berth::api {

class Router;

// Registers the image routes. Call before any route with a greedy "/images/{name:.*}" pattern
// of another set, since the first match wins.
void RegisterImageRoutes(Router& router, image::ImageStore& images);

nlohmann::json ImageSummaryJson(const image::Image& image);
nlohmann::json ImageInspectJson(const image::Image& image);

}  // namespace berth::api
