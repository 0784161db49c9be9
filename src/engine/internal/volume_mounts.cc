#include "engine/internal/volume_mounts.h"

#include <sys/stat.h>

#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "base/strings.h"
#include "volume/volume_store.h"

namespace berth::engine::internal {
namespace {

Error InvalidSpec(const std::string& raw) {
  return MakeError(Code::kInvalidArgument, fmt::format("invalid volume specification: '{}'", raw));
}

// Docker's ValidMountMode for Linux: ro/rw, SELinux z/Z, nocopy and the propagation modes,
// comma-separated, at most one of each kind.
bool ValidMode(const std::string& mode, bool* rw) {
  int access = 0, label = 0, propagation = 0, copy = 0;
  for (const std::string& m : Split(mode, ',')) {
    if (m == "ro" || m == "rw") {
      ++access;
      *rw = m == "rw";
    } else if (m == "z" || m == "Z") {
      ++label;
    } else if (m == "nocopy") {
      ++copy;
    } else if (m == "private" || m == "rprivate" || m == "shared" || m == "rshared" ||
               m == "slave" || m == "rslave") {
      ++propagation;
    } else {
      return false;
    }
  }
  return access <= 1 && label <= 1 && propagation <= 1 && copy <= 1;
}

Status CheckDestination(const std::string& type, const std::string& dst) {
  if (dst.empty() || dst[0] != '/') {
    return MakeError(Code::kInvalidArgument,
                     fmt::format("invalid mount config for type \"{}\": invalid mount path: '{}' "
                                 "mount path must be absolute",
                                 type, dst));
  }
  if (CleanPath(dst) == "/") {
    return MakeError(Code::kInvalidArgument,
                     fmt::format("invalid specification: destination can't be '/' in '{}'", dst));
  }
  return Ok();
}

}  // namespace

std::string CleanPath(const std::string& path) {
  std::vector<std::string> out;
  for (const std::string& part : Split(path, '/')) {
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      if (!out.empty()) out.pop_back();
      continue;
    }
    out.push_back(part);
  }
  return "/" + Join(out, "/");
}

Result<std::vector<MountPoint>> ParseMountPoints(const std::vector<std::string>& binds,
                                                 const std::vector<std::string>& config_volumes) {
  std::vector<MountPoint> out;
  std::set<std::string> destinations;
  for (const std::string& raw : binds) {
    std::vector<std::string> parts = Split(raw, ':');
    if (raw.empty() || parts.size() < 2 || parts.size() > 3) return InvalidSpec(raw);
    MountPoint m;
    m.source = parts[0];
    m.destination = parts[1];
    if (m.source.empty()) return InvalidSpec(raw);
    if (parts.size() == 3) {
      m.mode = parts[2];
      if (!ValidMode(m.mode, &m.rw)) {
        return MakeError(Code::kInvalidArgument, fmt::format("invalid mode: {}", m.mode));
      }
    }
    if (m.source[0] == '/') {
      m.type = "bind";
      m.source = CleanPath(m.source);
      m.propagation = "rprivate";
    } else {
      m.type = "volume";
      m.name = m.source;
      m.source.clear();
      m.driver = "local";
      if (m.mode.empty()) m.mode = "z";
      BERTH_RETURN_IF_ERROR(volume::ValidateVolumeName(m.name));
    }
    BERTH_RETURN_IF_ERROR(CheckDestination(m.type, m.destination));
    m.destination = CleanPath(m.destination);
    if (!destinations.insert(m.destination).second) {
      return MakeError(Code::kInvalidArgument,
                       fmt::format("Duplicate mount point: {}", m.destination));
    }
    out.push_back(std::move(m));
  }
  for (const std::string& raw : config_volumes) {
    BERTH_RETURN_IF_ERROR(CheckDestination("volume", raw));
    std::string dst = CleanPath(raw);
    if (!destinations.insert(dst).second) continue;  // a bind or named volume covers it
    MountPoint m;
    m.type = "volume";
    m.destination = dst;
    m.driver = "local";
    m.anonymous = true;
    out.push_back(std::move(m));
  }
  return out;
}

Result<std::vector<MountPoint>> ParseApiMounts(std::string_view host_config_json,
                                               const std::vector<MountPoint>& taken) {
  using Json = nlohmann::json;
  std::vector<MountPoint> out;
  Json host = Json::parse(host_config_json, nullptr, /*allow_exceptions=*/false);
  if (!host.is_object()) return out;
  auto list = host.find("Mounts");
  if (list == host.end() || list->is_null()) return out;
  if (!list->is_array()) {
    return MakeError(Code::kInvalidArgument, "HostConfig.Mounts: want an array");
  }
  std::set<std::string> destinations;
  for (const MountPoint& m : taken) destinations.insert(m.destination);
  for (const Json& e : *list) {
    if (!e.is_object()) return MakeError(Code::kInvalidArgument, "HostConfig.Mounts: want objects");
    auto str = [&](const char* key) {
      auto it = e.find(key);
      return it != e.end() && it->is_string() ? it->get<std::string>() : std::string();
    };
    std::string type = str("Type");
    std::string target = str("Target");
    auto invalid = [&](const std::string& why) {
      return MakeError(Code::kInvalidArgument,
                       fmt::format("invalid mount config for type \"{}\": {}", type, why));
    };
    if (type != "bind" && type != "volume" && type != "tmpfs") return invalid("mount type unknown");
    if (target.empty()) return invalid("field Target must not be empty");
    BERTH_RETURN_IF_ERROR(CheckDestination(type, target));
    MountPoint m;
    m.type = type;
    m.destination = CleanPath(target);
    auto ro = e.find("ReadOnly");
    m.rw = !(ro != e.end() && ro->is_boolean() && ro->get<bool>());
    std::string source = str("Source");
    if (type == "tmpfs") {
      // As moby's ConvertTmpfsOptions: the same options --tmpfs takes, in m.mode.
      if (!source.empty()) return invalid("field Source must not be specified");
      std::vector<std::string> options;
      if (!m.rw) options.push_back("ro");
      auto to = e.find("TmpfsOptions");
      if (to != e.end() && to->is_object()) {
        auto mode = to->find("Mode");
        if (mode != to->end() && mode->is_number_unsigned() && mode->get<uint32_t>() != 0) {
          options.push_back(fmt::format("mode={:o}", mode->get<uint32_t>()));
        }
        auto size = to->find("SizeBytes");
        if (size != to->end() && size->is_number_integer() && size->get<int64_t>() != 0) {
          int64_t n = size->get<int64_t>();
          if (n < 0) return invalid("size must not be negative");
          std::string suffix;
          for (const char* unit : {"k", "m", "g"}) {
            if (n % 1024 != 0) break;
            n /= 1024;
            suffix = unit;
          }
          options.push_back(fmt::format("size={}{}", n, suffix));
        }
      }
      m.mode = Join(options, ",");
    } else if (type == "bind") {
      if (source.empty()) return invalid("field Source must not be empty");
      if (source[0] != '/') {
        return invalid(fmt::format("invalid mount path: '{}' mount path must be absolute", source));
      }
      struct stat st {};
      if (::stat(source.c_str(), &st) != 0) {
        return invalid(fmt::format("bind source path does not exist: {}", source));
      }
      m.source = CleanPath(source);
      m.propagation = "rprivate";
    } else {
      m.driver = "local";
      if (source.empty()) {
        m.anonymous = true;
      } else {
        BERTH_RETURN_IF_ERROR(volume::ValidateVolumeName(source));
        m.name = source;
      }
      auto vo = e.find("VolumeOptions");
      if (vo != e.end() && vo->is_object()) {
        auto nocopy = vo->find("NoCopy");
        if (nocopy != vo->end() && nocopy->is_boolean() && nocopy->get<bool>()) m.mode = "nocopy";
      }
    }
    if (!destinations.insert(m.destination).second) {
      return MakeError(Code::kInvalidArgument,
                       fmt::format("Duplicate mount point: {}", m.destination));
    }
    out.push_back(std::move(m));
  }
  return out;
}

}  // namespace berth::engine::internal
