#include "shim/protocol.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace berth::shim {
namespace {

using Json = nlohmann::ordered_json;

Result<Json> ParseObject(std::string_view text, std::string_view what) {
  Json j = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) {
    return MakeError(Code::kInvalidArgument, fmt::format("{}: not a JSON object", what));
  }
  return j;
}

// Reads j[key] into out when present and of type T; a wrong type is InvalidArgument.
template <typename T>
Status Get(const Json& j, const char* key, T& out, std::string_view what) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return {};
  try {
    out = it->get<T>();
  } catch (const nlohmann::json::exception& e) {
    return MakeError(Code::kInvalidArgument, fmt::format("{}: {}: {}", what, key, e.what()));
  }
  return {};
}

}  // namespace

std::string SerializeOptions(const ShimOptions& o) {
  Json mounts = Json::array();
  for (const auto& m : o.rootfs_mounts) {
    mounts.push_back(
        {{"type", m.type}, {"source", m.source}, {"target", m.target}, {"options", m.options}});
  }
  Json j = {{"id", o.id},
            {"bundle", o.bundle},
            {"run_dir", o.run_dir},
            {"rootfs_mounts", mounts},
            {"log_path", o.log_path},
            {"log_max_size", o.log_max_size},
            {"log_max_file", o.log_max_file},
            {"open_stdin", o.open_stdin},
            {"stdin_once", o.stdin_once},
            {"cgroup_root", o.cgroup_root},
            {"seccomp_cache_dir", o.seccomp_cache_dir}};
  return j.dump();
}

Result<ShimOptions> ParseOptions(std::string_view text) {
  BERTH_ASSIGN_OR_RETURN(Json j, ParseObject(text, "shim.json"));
  ShimOptions o;
  BERTH_RETURN_IF_ERROR(Get(j, "id", o.id, "shim.json"));
  BERTH_RETURN_IF_ERROR(Get(j, "bundle", o.bundle, "shim.json"));
  BERTH_RETURN_IF_ERROR(Get(j, "run_dir", o.run_dir, "shim.json"));
  BERTH_RETURN_IF_ERROR(Get(j, "log_path", o.log_path, "shim.json"));
  BERTH_RETURN_IF_ERROR(Get(j, "log_max_size", o.log_max_size, "shim.json"));
  BERTH_RETURN_IF_ERROR(Get(j, "log_max_file", o.log_max_file, "shim.json"));
  BERTH_RETURN_IF_ERROR(Get(j, "open_stdin", o.open_stdin, "shim.json"));
  BERTH_RETURN_IF_ERROR(Get(j, "stdin_once", o.stdin_once, "shim.json"));
  BERTH_RETURN_IF_ERROR(Get(j, "cgroup_root", o.cgroup_root, "shim.json"));
  if (auto it = j.find("seccomp_cache_dir"); it != j.end() && it->is_string()) {
    o.seccomp_cache_dir = it->get<std::string>();
  }
  auto it = j.find("rootfs_mounts");
  if (it != j.end() && it->is_array()) {
    for (const auto& m : *it) {
      if (!m.is_object()) {
        return MakeError(Code::kInvalidArgument, "shim.json: rootfs_mounts: not an object");
      }
      snapshot::MountSpec spec;
      BERTH_RETURN_IF_ERROR(Get(m, "type", spec.type, "shim.json rootfs_mounts"));
      BERTH_RETURN_IF_ERROR(Get(m, "source", spec.source, "shim.json rootfs_mounts"));
      BERTH_RETURN_IF_ERROR(Get(m, "target", spec.target, "shim.json rootfs_mounts"));
      BERTH_RETURN_IF_ERROR(Get(m, "options", spec.options, "shim.json rootfs_mounts"));
      o.rootfs_mounts.push_back(std::move(spec));
    }
  }
  if (o.id.empty() || o.bundle.empty() || o.run_dir.empty()) {
    return MakeError(Code::kInvalidArgument, "shim.json: id, bundle and run_dir are required");
  }
  return o;
}

std::string SerializeExit(const ExitStatus& s) {
  Json j = {{"exit_code", s.exit_code},
            {"oom_killed", s.oom_killed},
            {"finished_at", s.finished_at},
            {"error", s.error}};
  return j.dump();
}

Result<ExitStatus> ParseExit(std::string_view text) {
  BERTH_ASSIGN_OR_RETURN(Json j, ParseObject(text, "exit status"));
  ExitStatus s;
  BERTH_RETURN_IF_ERROR(Get(j, "exit_code", s.exit_code, "exit status"));
  BERTH_RETURN_IF_ERROR(Get(j, "oom_killed", s.oom_killed, "exit status"));
  BERTH_RETURN_IF_ERROR(Get(j, "finished_at", s.finished_at, "exit status"));
  BERTH_RETURN_IF_ERROR(Get(j, "error", s.error, "exit status"));
  return s;
}

std::string FrameHeader(StreamType stream, uint32_t size) {
  std::string h(8, '\0');
  h[0] = static_cast<char>(stream);
  h[4] = static_cast<char>((size >> 24) & 0xff);
  h[5] = static_cast<char>((size >> 16) & 0xff);
  h[6] = static_cast<char>((size >> 8) & 0xff);
  h[7] = static_cast<char>(size & 0xff);
  return h;
}

}  // namespace berth::shim

namespace berth::shim {

std::string EncodeError(const Error& error) {
  nlohmann::ordered_json j = {{"error", error.message},
                              {"code", static_cast<int>(error.code)},
                              {"errno", error.sys_errno}};
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Status DecodeError(std::string_view line) {
  auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) {
    return MakeError(Code::kInternal, fmt::format("shim: bad response: {}", line.substr(0, 200)));
  }
  auto it = j.find("error");
  if (it == j.end() || !it->is_string()) return {};
  int code = j.value("code", static_cast<int>(Code::kInternal));
  if (code <= 0 || code > static_cast<int>(Code::kInternal)) code = static_cast<int>(Code::kInternal);
  return Error{static_cast<Code>(code), it->get<std::string>(), j.value("errno", 0)};
}

}  // namespace berth::shim
