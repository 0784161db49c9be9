// docker cp's X-Docker-Container-Path-Stat header: base64 (standard alphabet, padded) of
// {"name","size","mode","mtime","linkTarget"}, where mode is Go's os.FileMode (type bits at the
// top, as the docker CLI's Mode.IsDir() reads them) and mtime RFC 3339. Pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "engine/container_fs.h"

namespace berth::api::internal {

// st_mode -> Go's os.FileMode bits.
uint32_t GoFileMode(uint32_t st_mode);
std::string Base64Encode(std::string_view bytes);
// The header's value.
std::string EncodePathStat(const engine::PathStat& stat);

}  // namespace berth::api::internal
