#include "api/version.h"

#include <fmt/format.h>

#include "base/strings.h"

namespace berth::api {
namespace {

int64_t PartValue(const std::string& part) {
  int64_t v = 0;
  for (char c : part) {
    if (c < '0' || c > '9') return 0;  // Go's strconv.Atoi error, ignored by moby
    v = v * 10 + (c - '0');
    if (v > 1'000'000'000) return v;
  }
  return v;
}

}  // namespace

int CompareVersions(std::string_view a, std::string_view b) {
  std::vector<std::string> pa = Split(a, '.');
  std::vector<std::string> pb = Split(b, '.');
  size_t n = std::max(pa.size(), pb.size());
  for (size_t i = 0; i < n; ++i) {
    int64_t va = i < pa.size() ? PartValue(pa[i]) : 0;
    int64_t vb = i < pb.size() ? PartValue(pb[i]) : 0;
    if (va != vb) return va < vb ? -1 : 1;
  }
  return 0;
}

VersionedPath SplitVersionPrefix(std::string_view path) {
  if (path.starts_with("/v")) {
    size_t end = path.find('/', 2);
    if (end != std::string_view::npos && end > 2) {
      std::string_view version = path.substr(2, end - 2);
      if (version.find_first_not_of("0123456789.") == std::string_view::npos) {
        return VersionedPath{std::string(version), std::string(path.substr(end))};
      }
    }
  }
  return VersionedPath{"", std::string(path)};
}

Result<std::string> NegotiateVersion(std::string_view requested) {
  std::string version(requested.empty() ? kDefaultApiVersion : requested);
  if (CompareVersions(version, kMinApiVersion) < 0) {
    return MakeError(Code::kInvalidArgument,
                     fmt::format("client version {} is too old. Minimum supported API version "
                                 "is {}, please upgrade your client to a newer version",
                                 version, kMinApiVersion));
  }
  if (CompareVersions(version, kDefaultApiVersion) > 0) {
    return MakeError(Code::kInvalidArgument,
                     fmt::format("client version {} is too new. Maximum supported API version "
                                 "is {}",
                                 version, kDefaultApiVersion));
  }
  return version;
}

bool SupportsJsonErrors(std::string_view requested) {
  return requested.empty() || CompareVersions(requested, "1.23") > 0;
}

}  // namespace berth::api
