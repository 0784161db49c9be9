// Engine API versions: the "/v1.NN" path prefix and dockerd's negotiation rules.
//
// berthd speaks API 1.43 and accepts 1.24 and later, like dockerd's version middleware
// (moby api/server/middleware/version.go): an unprefixed path means the default version; an
// older one gets 400 "client version X is too old...", a newer one 400 "client version X is
// too new...". Versions compare numerically part by part (moby api/types/versions).
// Stateless functions; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "base/result.h"

namespace berth::api {

inline constexpr std::string_view kDefaultApiVersion = "1.43";
inline constexpr std::string_view kMinApiVersion = "1.24";

// <0, 0, >0 as a is older than, equal to, newer than b. Missing parts count as 0 and
// non-numeric parts as 0, as in moby's versions.compare.
int CompareVersions(std::string_view a, std::string_view b);

struct VersionedPath {
  std::string version;  // "" when the path had no prefix
  std::string path;     // the rest, starting with '/'
};

// "/v1.43/images/json" -> {"1.43", "/images/json"}. Only "/v" + [0-9.]+ + "/" is a prefix,
// as in moby's route matcher; anything else ("/vabc/version") is returned whole, to 404.
VersionedPath SplitVersionPrefix(std::string_view path);

// The version a request is served at, or InvalidArgument with dockerd's message.
Result<std::string> NegotiateVersion(std::string_view requested);

// dockerd answers errors as {"message": ...} JSON for unprefixed paths and versions newer
// than 1.23, and as text/plain below (moby httputils.MakeErrorHandler).
bool SupportsJsonErrors(std::string_view requested);

}  // namespace berth::api
