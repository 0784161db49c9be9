// Version facts of this build, set by src/cli/CMakeLists.txt at configure time.
#pragma once

#include <string_view>

#ifndef BERTH_CLI_VERSION
#define BERTH_CLI_VERSION "dev"
#endif
#ifndef BERTH_CLI_GIT_COMMIT
#define BERTH_CLI_GIT_COMMIT "unknown"
#endif
#ifndef BERTH_CLI_BUILD_TIME
#define BERTH_CLI_BUILD_TIME ""
#endif

namespace berth::cli::internal {

inline constexpr std::string_view kVersion = BERTH_CLI_VERSION;
inline constexpr std::string_view kGitCommit = BERTH_CLI_GIT_COMMIT;
inline constexpr std::string_view kBuildTime = BERTH_CLI_BUILD_TIME;

}  // namespace berth::cli::internal
