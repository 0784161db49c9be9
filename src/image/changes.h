// Dockerfile instructions applied to an image's container config, as `docker import --change`
// and `docker commit --change` take them: CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, ONBUILD, USER,
// VOLUME, WORKDIR, STOPSIGNAL. Pure; no I/O.
#pragma once

#include <string>
#include <vector>

#include "base/result.h"
#include "oci/image_config.h"

namespace berth::image {

// Applies each change in order. InvalidArgument with Docker's wording for an unknown or
// malformed instruction ("FOO is not a valid change command").
Status ApplyChanges(const std::vector<std::string>& changes, oci::ContainerConfig& config);

}  // namespace berth::image
