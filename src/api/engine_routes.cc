#include "api/engine_routes.h"

#include "api/router.h"
#include "api/system_routes.h"

namespace berth::api {

void RegisterEngineRoutes(Router& router, engine::Daemon& daemon) {
  RegisterSystemRoutes(router, daemon.system());
  // TODO(image store): RegisterImageRoutes(router, daemon.images()) once src/image lands.
  // Register "/images/json", "/images/search", ... before the "/images/{name:.*}/..." routes.
}

}  // namespace berth::api
