// BuildInfo: what this berthd binary is (version, commit, build time, compiler), as
// `docker version` shows it. Values are fixed at build time by CMake.
#pragma once

#include <string_view>

namespace berth::engine {

struct BuildInfo {
  std::string_view version;     // "0.1.0"
  std::string_view git_commit;  // short hash, or "" outside a git checkout
  std::string_view build_time;  // RFC 3339, like dockerd's BuildTime
  std::string_view compiler;    // shown in the GoVersion field: "g++ 12.2.0"
};

const BuildInfo& GetBuildInfo();

}  // namespace berth::engine
