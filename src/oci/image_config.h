// ImageConfig: the image configuration blob (OCI config.md, application/vnd.oci.image.config.v1
// +json) with Docker's extra fields (application/vnd.docker.container.image.v1+json). The image
// ID is the digest of these bytes. No I/O. Thread-compatible.
//
// Fidelity: fields we do not model (Docker's container_config, docker_version, Hostname, ...,
// or anything newer) are kept in `extra` as raw JSON and written back, so Parse -> Serialize of
// an image we did not build changes key order and whitespace only, never meaning.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "oci/digest.h"
#include "oci/platform.h"

namespace berth::oci {

// Unmodelled fields of one JSON object: name -> the value as compact JSON text.
using ExtraFields = std::map<std::string, std::string>;

// Docker's HEALTHCHECK (container.HealthConfig). Durations in nanoseconds, as Docker writes them.
struct HealthConfig {
  std::vector<std::string> test;  // [] inherit, ["NONE"], ["CMD", ...], ["CMD-SHELL", "..."]
  int64_t interval = 0;
  int64_t timeout = 0;
  int64_t start_period = 0;
  int64_t start_interval = 0;
  int64_t retries = 0;
  ExtraFields extra;

  friend bool operator==(const HealthConfig&, const HealthConfig&) = default;
};

// "config": the defaults for containers run from the image.
struct ContainerConfig {
  std::string user;
  std::set<std::string> exposed_ports;  // "80/tcp", "53/udp"
  std::vector<std::string> env;         // "KEY=value"
  // null and [] differ to Docker (an explicit empty entrypoint resets the parent's), so absence
  // is kept apart from emptiness.
  std::optional<std::vector<std::string>> entrypoint;
  std::optional<std::vector<std::string>> cmd;
  std::set<std::string> volumes;
  std::string working_dir;
  std::map<std::string, std::string> labels;
  std::string stop_signal;
  bool args_escaped = false;  // Docker, Windows only; kept for round trips
  std::optional<HealthConfig> healthcheck;
  std::vector<std::string> on_build;  // Docker ONBUILD triggers
  std::vector<std::string> shell;     // Docker SHELL
  ExtraFields extra;

  friend bool operator==(const ContainerConfig&, const ContainerConfig&) = default;
};

struct RootFs {
  std::string type = "layers";  // the only value the spec allows
  std::vector<Digest> diff_ids;
  ExtraFields extra;

  friend bool operator==(const RootFs&, const RootFs&) = default;
};

struct History {
  std::string created;  // RFC 3339
  std::string created_by;
  std::string author;
  std::string comment;
  bool empty_layer = false;  // true: no entry in rootfs.diff_ids
  ExtraFields extra;

  friend bool operator==(const History&, const History&) = default;
};

struct ImageConfig {
  std::string created;  // RFC 3339, e.g. "2015-10-31T22:22:56.015925234Z"
  std::string author;
  std::string architecture;
  std::string os;
  std::string os_version;
  std::vector<std::string> os_features;
  std::string variant;
  ContainerConfig config;
  RootFs rootfs;
  std::vector<History> history;
  ExtraFields extra;

  friend bool operator==(const ImageConfig&, const ImageConfig&) = default;
};

// Parses an image config. Requires a JSON object with rootfs.type "layers" and valid diff_ids;
// known fields must have their documented types; timestamps must be RFC 3339 (Docker refuses
// others too). Unknown fields go to `extra` at the level they were found. InvalidArgument on
// any failure.
Result<ImageConfig> ParseImageConfig(std::string_view bytes);

// Compact JSON: known fields in the spec's order (empty optional ones omitted; "config" and
// "rootfs" always written), then the extra fields sorted by name.
std::string SerializeImageConfig(const ImageConfig& config);

// {architecture, os, os.version, os.features, variant} of the image.
Platform ImageConfigPlatform(const ImageConfig& config);

// True for an RFC 3339 date-time as Go's time.Time accepts: "2006-01-02T15:04:05[.frac](Z|±hh:mm)".
bool IsRfc3339(std::string_view s);

}  // namespace berth::oci
