#include "snapshot/mount_spec.h"

#include <unistd.h>

#include "base/strings.h"

namespace berth::snapshot {

std::string JoinOptions(const std::vector<std::string>& options) { return Join(options, ","); }

size_t PageSize() {
  long n = ::sysconf(_SC_PAGESIZE);
  return n > 0 ? static_cast<size_t>(n) : 4096;
}

bool OptionsFitInPage(const MountSpec& spec, size_t page_size) {
  return JoinOptions(spec.options).size() + 1 <= page_size;
}

Result<CompactMount> CompactLowerdirs(const MountSpec& spec) {
  constexpr std::string_view kLower = "lowerdir=";
  auto it = spec.options.begin();
  for (; it != spec.options.end(); ++it) {
    if (it->starts_with(kLower)) break;
  }
  if (it == spec.options.end()) {
    return MakeError(Code::kInvalidArgument, "mount spec has no lowerdir= option");
  }
  std::vector<std::string> dirs = Split(std::string_view(*it).substr(kLower.size()), ':');
  // Longest common prefix that ends at a '/', so it names a directory of every lowerdir.
  std::string common = dirs.front();
  for (const auto& d : dirs) {
    if (d.empty() || d[0] != '/') {
      return MakeError(Code::kInvalidArgument, "lowerdir \"" + d + "\" is not absolute");
    }
    size_t n = 0;
    while (n < common.size() && n < d.size() && common[n] == d[n]) ++n;
    common.resize(n);
  }
  common.resize(common.rfind('/') + 1);  // common[0] is '/', so rfind succeeds
  CompactMount out{common.size() > 1 ? common.substr(0, common.size() - 1) : common, spec};
  for (auto& d : dirs) d = d.substr(common.size());
  out.spec.options[static_cast<size_t>(it - spec.options.begin())] =
      std::string(kLower) + Join(dirs, ":");
  return out;
}

}  // namespace berth::snapshot
