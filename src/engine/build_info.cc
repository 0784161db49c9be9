#include "engine/build_info.h"

#ifndef BERTH_VERSION
#define BERTH_VERSION "0.0.0-dev"
#endif
#ifndef BERTH_GIT_COMMIT
#define BERTH_GIT_COMMIT ""
#endif
#ifndef BERTH_BUILD_TIME
#define BERTH_BUILD_TIME ""
#endif

#if defined(__clang__)
#define BERTH_COMPILER "clang " __clang_version__
#elif defined(__GNUC__)
#define BERTH_COMPILER "g++ " __VERSION__
#else
#define BERTH_COMPILER ""
#endif

namespace berth::engine {

const BuildInfo& GetBuildInfo() {
  static constexpr BuildInfo kInfo{BERTH_VERSION, BERTH_GIT_COMMIT, BERTH_BUILD_TIME,
                                   BERTH_COMPILER};
  return kInfo;
}

}  // namespace berth::engine
