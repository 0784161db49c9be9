#include "engine/config.h"

#include <algorithm>
#include <map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "base/file.h"
#include "base/log.h"
#include "base/strings.h"

namespace berth::engine {
namespace {

using Json = nlohmann::json;

enum class Kind { kString, kBool, kStringList, kInt };

struct Key {
  std::string_view name;
  Kind kind;
};

// Every key berthd understands in daemon.json, with dockerd's spelling.
constexpr Key kKeys[] = {
    {"data-root", Kind::kString},
    {"exec-root", Kind::kString},
    {"hosts", Kind::kStringList},
    {"pidfile", Kind::kString},
    {"debug", Kind::kBool},
    {"log-level", Kind::kString},
    {"insecure-registries", Kind::kStringList},
    {"registry-mirrors", Kind::kStringList},
    {"cgroup-parent", Kind::kString},
    {"max-concurrent-downloads", Kind::kInt},
    {"max-download-speed", Kind::kInt},
    {"certs-dir", Kind::kString},
};

const Key* FindKey(std::string_view name) {
  for (const Key& k : kKeys) {
    if (k.name == name) return &k;
  }
  return nullptr;
}

std::string GoValue(const Config& c, std::string_view key) {
  auto list = [](const std::vector<std::string>& v) { return "[" + Join(v, " ") + "]"; };
  if (key == "data-root") return c.data_root;
  if (key == "exec-root") return c.exec_root;
  if (key == "hosts") return list(c.hosts);
  if (key == "pidfile") return c.pidfile;
  if (key == "debug") return c.debug ? "true" : "false";
  if (key == "log-level") return c.log_level;
  if (key == "insecure-registries") return list(c.insecure_registries);
  if (key == "registry-mirrors") return list(c.registry_mirrors);
  if (key == "cgroup-parent") return c.cgroup_parent;
  if (key == "max-concurrent-downloads") return std::to_string(c.max_concurrent_downloads);
  if (key == "max-download-speed") return std::to_string(c.max_download_speed);
  if (key == "certs-dir") return c.certs_dir;
  return "";
}

std::string JsonAsGoValue(const Json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_array()) {
    std::vector<std::string> parts;
    for (const Json& e : v) parts.push_back(e.is_string() ? e.get<std::string>() : e.dump());
    return "[" + Join(parts, " ") + "]";
  }
  return v.dump();
}

Status Apply(Config& c, const Key& key, const Json& v) {
  auto type_error = [&](std::string_view want) {
    return MakeError(
        Code::kInvalidArgument,
        fmt::format("invalid type for {} in the configuration file: expected {}", key.name, want));
  };
  switch (key.kind) {
    case Kind::kString: {
      if (!v.is_string()) return type_error("a string");
      std::string s = v.get<std::string>();
      if (key.name == "data-root") c.data_root = s;
      if (key.name == "exec-root") c.exec_root = s;
      if (key.name == "pidfile") c.pidfile = s;
      if (key.name == "log-level") c.log_level = s;
      if (key.name == "cgroup-parent") c.cgroup_parent = s;
      if (key.name == "certs-dir") c.certs_dir = s;
      return Ok();
    }
    case Kind::kInt: {
      if (!v.is_number_integer()) return type_error("an integer");
      auto n = v.get<int64_t>();
      if (key.name == "max-concurrent-downloads") c.max_concurrent_downloads = static_cast<int>(n);
      if (key.name == "max-download-speed") c.max_download_speed = n;
      return Ok();
    }
    case Kind::kBool:
      if (!v.is_boolean()) return type_error("a boolean");
      c.debug = v.get<bool>();
      return Ok();
    case Kind::kStringList: {
      if (!v.is_array()) return type_error("an array of strings");
      std::vector<std::string> out;
      for (const Json& e : v) {
        if (!e.is_string()) return type_error("an array of strings");
        out.push_back(e.get<std::string>());
      }
      if (key.name == "hosts") c.hosts = std::move(out);
      if (key.name == "insecure-registries") c.insecure_registries = std::move(out);
      if (key.name == "registry-mirrors") c.registry_mirrors = std::move(out);
      return Ok();
    }
  }
  return Ok();
}

// dockerd's registry.ValidateMirror: an http(s) URL with nothing after the host but "/".
Result<std::string> NormalizeMirror(const std::string& mirror) {
  auto bad = [&](std::string_view why) {
    return MakeError(Code::kInvalidArgument, fmt::format("invalid mirror: {} {}", mirror, why));
  };
  std::string_view rest = mirror;
  if (rest.starts_with("https://")) {
    rest.remove_prefix(8);
  } else if (rest.starts_with("http://")) {
    rest.remove_prefix(7);
  } else {
    return bad("unsupported scheme: must be http or https");
  }
  if (rest.find_first_of("?#@") != std::string_view::npos) {
    return bad("has credentials, a query or a fragment");
  }
  size_t slash = rest.find('/');
  if (slash != std::string_view::npos && rest.substr(slash) != "/") return bad("has a path");
  std::string_view host = rest.substr(0, slash);
  if (host.empty()) return bad("has no host");
  return std::string(mirror.substr(0, mirror.size() - rest.size())) + std::string(host) + "/";
}

}  // namespace

Result<Config> MergeConfigFile(Config flags, const std::set<std::string>& flags_set,
                               std::string_view json_text) {
  Json doc = Json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) {
    return MakeError(Code::kInvalidArgument, "the configuration file is not valid JSON");
  }
  if (!doc.is_object()) {
    return MakeError(Code::kInvalidArgument, "the configuration file must hold a JSON object");
  }
  std::vector<std::string> unknown;
  std::vector<std::string> conflicts;
  for (auto it = doc.begin(); it != doc.end(); ++it) {
    if (FindKey(it.key()) == nullptr) {
      unknown.push_back(it.key());
    } else if (flags_set.count(it.key()) != 0) {
      conflicts.push_back(fmt::format("{}: (from flag: {}, from file: {})", it.key(),
                                      GoValue(flags, it.key()), JsonAsGoValue(it.value())));
    }
  }
  if (!unknown.empty()) {
    std::sort(unknown.begin(), unknown.end());
    return MakeError(
        Code::kInvalidArgument,
        "the following directives don't match any configuration option: " + Join(unknown, ", "));
  }
  if (!conflicts.empty()) {
    return MakeError(Code::kInvalidArgument,
                     "the following directives are specified both as a flag and in the "
                     "configuration file: " +
                         Join(conflicts, ", "));
  }
  Config out = std::move(flags);
  for (auto it = doc.begin(); it != doc.end(); ++it) {
    BERTH_RETURN_IF_ERROR(Apply(out, *FindKey(it.key()), it.value()));
  }
  return out;
}

Result<Config> LoadConfig(Config flags, const std::set<std::string>& flags_set,
                          const std::string& path, bool explicit_path) {
  if (!explicit_path && !PathExists(path)) return flags;
  Result<std::string> text = ReadFile(path);
  if (!text) {
    return std::move(text).error().WithContext("unable to configure the daemon with file " + path);
  }
  Result<Config> merged = MergeConfigFile(std::move(flags), flags_set, *text);
  if (!merged) {
    return std::move(merged).error().WithContext("unable to configure the daemon with file " +
                                                 path);
  }
  return merged;
}

Result<Config> ValidateConfig(Config config) {
  for (const std::string* root : {&config.data_root, &config.exec_root}) {
    if (root->empty() || root->front() != '/') {
      return MakeError(Code::kInvalidArgument, "root must be an absolute path: " + *root);
    }
  }
  if (!config.pidfile.empty() && config.pidfile.front() != '/') {
    return MakeError(Code::kInvalidArgument, "pidfile must be an absolute path: " + config.pidfile);
  }
  if (config.debug) config.log_level = "debug";
  BERTH_RETURN_IF_ERROR(log::ParseLevel(config.log_level));
  if (config.cgroup_parent.empty()) config.cgroup_parent = "/berth";
  if (config.cgroup_parent.front() != '/') config.cgroup_parent = "/" + config.cgroup_parent;
  if (config.cgroup_parent.find("..") != std::string::npos) {
    return MakeError(Code::kInvalidArgument,
                     "cgroup-parent must not contain '..': " + config.cgroup_parent);
  }
  for (std::string& mirror : config.registry_mirrors) {
    BERTH_ASSIGN_OR_RETURN(mirror, NormalizeMirror(mirror));
  }
  for (const std::string& registry : config.insecure_registries) {
    if (registry.find("://") != std::string::npos || registry.empty()) {
      return MakeError(Code::kInvalidArgument,
                       "insecure registry " + registry + " should not contain '://'");
    }
  }
  if (config.max_concurrent_downloads < 1 || config.max_concurrent_downloads > 64) {
    return MakeError(Code::kInvalidArgument,
                     fmt::format("max-concurrent-downloads must be from 1 to 64, not {}",
                                 config.max_concurrent_downloads));
  }
  if (config.max_download_speed < 0) {
    return MakeError(Code::kInvalidArgument, "max-download-speed must not be negative");
  }
  if (config.hosts.empty()) config.hosts.emplace_back(kDefaultHost);
  return config;
}

}  // namespace berth::engine
