// Private to engine/: a container's volumes and bind mounts from HostConfig.Binds and
// Config.Volumes, as dockerd's registerMountPoints reads them (`-v NAME:/dst[:ro|rw]`,
// `-v /host:/dst[:ro|rw]`, `-v /dst` and image VOLUMEs as anonymous volumes).
#pragma once

#include <string>
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

// Lexical clean of an absolute path (Go's filepath.Clean): "/a//b/../c/" -> "/a/c".
std::string CleanPath(const std::string& path);

}  // namespace berth::engine::internal
