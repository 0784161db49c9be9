// Internal to runtime/: Berth's default seccomp profile in Docker's profile format, embedded as
// text and filtered per container by DockerSeccompProfile (seccomp_profile.h).
#pragma once

#include <string_view>

namespace berth::runtime::internal {

// The JSON text (static storage).
std::string_view DefaultSeccompProfileJson();

}  // namespace berth::runtime::internal
