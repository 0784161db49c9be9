#include "volume/internal/mount_options.h"

#include <sys/mount.h>

#include <map>
#include <utility>

#include "base/strings.h"

namespace berth::volume::internal {

MountOptions ParseMountOptions(std::string_view o) {
  // option -> (clear?, flag)
  static const std::map<std::string, std::pair<bool, unsigned long>, std::less<>> kFlags = {  // NOLINT
      {"ro", {false, MS_RDONLY}},       {"rw", {true, MS_RDONLY}},
      {"nosuid", {false, MS_NOSUID}},   {"suid", {true, MS_NOSUID}},
      {"nodev", {false, MS_NODEV}},     {"dev", {true, MS_NODEV}},
      {"noexec", {false, MS_NOEXEC}},   {"exec", {true, MS_NOEXEC}},
      {"sync", {false, MS_SYNCHRONOUS}}, {"async", {true, MS_SYNCHRONOUS}},
      {"noatime", {false, MS_NOATIME}}, {"atime", {true, MS_NOATIME}},
      {"nodiratime", {false, MS_NODIRATIME}}, {"diratime", {true, MS_NODIRATIME}},
      {"relatime", {false, MS_RELATIME}}, {"norelatime", {true, MS_RELATIME}},
      {"strictatime", {false, MS_STRICTATIME}}, {"dirsync", {false, MS_DIRSYNC}},
      {"bind", {false, MS_BIND}},       {"rbind", {false, MS_BIND | MS_REC}},
      {"defaults", {false, 0}},
  };
  MountOptions out;
  std::string data;
  for (const std::string& raw : Split(o, ',')) {
    std::string_view opt = TrimSpace(raw);
    if (opt.empty()) continue;
    auto it = kFlags.find(opt);
    if (it == kFlags.end()) {
      if (!data.empty()) data += ',';
      data += opt;
      continue;
    }
    if (it->second.first) {
      out.flags &= ~it->second.second;
    } else {
      out.flags |= it->second.second;
    }
  }
  out.data = std::move(data);
  return out;
}

}  // namespace berth::volume::internal
