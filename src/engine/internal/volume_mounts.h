// Private to engine/: a container's volumes and bind mounts from HostConfig.Binds and
// Config.Volumes, as dockerd's registerMountPoints reads them (`-v NAME:/dst[:ro|rw]`,
// `-v /host:/dst[:ro|rw]`, `-v /dst` and image VOLUMEs as anonymous volumes).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "engine/containers.h"

namespace berth::engine::internal {

// The mount points before any volume exists: named volumes carry their name, anonymous ones
// neither name nor source (the caller creates them), binds their host source. Bad input is
// InvalidArgument in Docker's words: "invalid volume specification: 'a:b:c:d'", "invalid
// mode: rx", "invalid mount config for type \"volume\": invalid mount path: 'x' mount path
// must be absolute", "Duplicate mount point: /data", and the volume name rules. A Config.Volumes
// path that a bind or named volume already covers gets nothing more.
Result<std::vector<MountPoint>> ParseMountPoints(const std::vector<std::string>& binds,
                                                 const std::vector<std::string>& config_volumes);

// HostConfig.Mounts (`--mount type=volume|bind,src=,dst=,readonly,volume-nocopy`), from the
// HostConfig JSON as sent. Docker's words for bad input: "invalid mount config for type
// \"bind\": field Source must not be empty", "... bind source path does not exist: /x" (unlike
// -v, a missing bind source is refused), "... mount type unknown". type=tmpfs is NotImplemented.
// Destinations already in `taken` are "Duplicate mount point: /d".
Result<std::vector<MountPoint>> ParseApiMounts(std::string_view host_config_json,
                                               const std::vector<MountPoint>& taken);

// Lexical clean of an absolute path (Go's filepath.Clean): "/a//b/../c/" -> "/a/c".
std::string CleanPath(const std::string& path);

}  // namespace berth::engine::internal
