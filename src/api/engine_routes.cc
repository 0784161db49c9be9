#include "api/engine_routes.h"

#include "api/container_fs_routes.h"
#include "api/container_routes.h"
#include "api/exec_routes.h"
#include "api/image_routes.h"
#include "api/observe_routes.h"
#include "api/router.h"
#include "api/system_routes.h"
#include "api/volume_routes.h"

namespace berth::api {

void RegisterEngineRoutes(Router& router, engine::Daemon& daemon) {
  RegisterSystemRoutes(router, daemon.system());
  RegisterImageRoutes(router, daemon.images(), &daemon.events(), &daemon.puller(),
                      &daemon.pusher());
  RegisterContainerRoutes(router, daemon.containers(), daemon.images(), &daemon.execs());
  RegisterExecRoutes(router, daemon.execs());
  RegisterVolumeRoutes(router, daemon.volumes());
  RegisterContainerFsRoutes(router, daemon.container_fs());
  RegisterObserveRoutes(router, daemon.containers(), daemon.events(), daemon.probe());
}

}  // namespace berth::api
