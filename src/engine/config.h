// engine::Config: the daemon's settings, from berthd's flags and a daemon.json-shaped file.
//
// The file uses dockerd's keys ("data-root", "exec-root", "hosts", "pidfile", "debug",
// "log-level", "insecure-registries", "registry-mirrors"). As in dockerd, a setting given both
// as a flag and in the file is an error, and so is an unknown key: silently preferring one
// source hides mistakes. Plain value type; no shared state.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace berth::engine {

inline constexpr std::string_view kDefaultConfigFile = "/etc/berth/daemon.json";
inline constexpr std::string_view kDefaultHost = "unix:///run/berth/berth.sock";

struct Config {
  std::string data_root = "/var/lib/berth";
  std::string exec_root = "/run/berth";
  std::vector<std::string> hosts;  // empty: kDefaultHost
  std::string pidfile = "/run/berth/berthd.pid";
  bool debug = false;
  std::string log_level = "info";
  std::vector<std::string> insecure_registries;
  std::vector<std::string> registry_mirrors;  // normalised to "https://host/" form
  std::string cgroup_parent = "/berth";       // containers' cgroups are <parent>/<id>
  int max_concurrent_downloads = 3;           // layers a pull downloads at once
  // Bytes per second per layer download; 0: unlimited. Lets tests interrupt a pull midway.
  int64_t max_download_speed = 0;
  std::string certs_dir = "/etc/berth/certs.d";  // per-registry CAs: <certs_dir>/<host>/*.crt
};

// Applies a daemon.json document over `flags`. `flags_set` names, in the file's spelling
// ("data-root", "hosts", ...), the settings the user gave on the command line; each of them
// appearing in the file is a conflict. Fails on unknown keys, wrong types and malformed JSON.
Result<Config> MergeConfigFile(Config flags, const std::set<std::string>& flags_set,
                               std::string_view json_text);

// Reads `path` and merges it as above. A missing file is an error only when `explicit_path`
// (the user passed --config-file); the default /etc/berth/daemon.json is optional.
Result<Config> LoadConfig(Config flags, const std::set<std::string>& flags_set,
                          const std::string& path, bool explicit_path);

// Checks values that do not depend on the file system: absolute roots, a known log level,
// registry mirror URLs. Normalises mirrors (adds the trailing slash) and fills default hosts.
Result<Config> ValidateConfig(Config config);

}  // namespace berth::engine
