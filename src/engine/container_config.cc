// The JSON adapters for Docker's Config and HostConfig, and Docker's HostConfig validation.
// BuildSpec/BuildProcess live in container_spec.cc, ResolveUser in container_user.cc.
#include "engine/container_config.h"

#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace berth::engine {
namespace {

using Json = nlohmann::json;

// Reads the fields of one JSON object; a missing field or null keeps the default. Errors name
// the field as "<prefix>.<Key>: want ...".
class FieldReader {
 public:
  FieldReader(const Json& object, std::string prefix)
      : object_(object), prefix_(std::move(prefix)) {}

  Status String(const char* key, std::string* out) const {
    const Json* v = Find(key);
    if (v == nullptr) return Ok();
    if (!v->is_string()) return Want(key, "a string");
    *out = v->get<std::string>();
    return Ok();
  }

  Status Bool(const char* key, bool* out) const {
    const Json* v = Find(key);
    if (v == nullptr) return Ok();
    if (!v->is_boolean()) return Want(key, "a boolean");
    *out = v->get<bool>();
    return Ok();
  }

  Status Int64(const char* key, int64_t* out) const {
    const Json* v = Find(key);
    if (v == nullptr) return Ok();
    return ToInt64(key, *v, out);
  }

  Status OptionalInt64(const char* key, std::optional<int64_t>* out) const {
    const Json* v = Find(key);
    if (v == nullptr) return Ok();
    int64_t n = 0;
    BERTH_RETURN_IF_ERROR(ToInt64(key, *v, &n));
    *out = n;
    return Ok();
  }

  Status OptionalInt(const char* key, std::optional<int>* out) const {
    const Json* v = Find(key);
    if (v == nullptr) return Ok();
    int64_t n = 0;
    BERTH_RETURN_IF_ERROR(ToInt64(key, *v, &n));
    if (n < std::numeric_limits<int>::min() || n > std::numeric_limits<int>::max()) {
      return Want(key, "a 32-bit integer");
    }
    *out = static_cast<int>(n);
    return Ok();
  }

  // Docker's strslice: an array of strings, or one string.
  Status StrSlice(const char* key, std::vector<std::string>* out) const {
    const Json* v = Find(key);
    if (v == nullptr) return Ok();
    if (v->is_string()) {
      *out = {v->get<std::string>()};
      return Ok();
    }
    return StringArray(key, out);
  }

  Status StringArray(const char* key, std::vector<std::string>* out) const {
    const Json* v = Find(key);
    if (v == nullptr) return Ok();
    if (!v->is_array()) return Want(key, "an array of strings");
    std::vector<std::string> values;
    for (const Json& e : *v) {
      if (!e.is_string()) return Want(key, "an array of strings");
      values.push_back(e.get<std::string>());
    }
    *out = std::move(values);
    return Ok();
  }

  Status StringMap(const char* key, std::map<std::string, std::string>* out) const {
    const Json* v = Find(key);
    if (v == nullptr) return Ok();
    if (!v->is_object()) return Want(key, "an object of strings");
    std::map<std::string, std::string> values;
    for (const auto& [k, e] : v->items()) {
      if (!e.is_string()) return Want(key, "an object of strings");
      values[k] = e.get<std::string>();
    }
    *out = std::move(values);
    return Ok();
  }

  // The keys of an object ({"/data": {}}), as Config.Volumes.
  Status ObjectKeys(const char* key, std::vector<std::string>* out) const {
    const Json* v = Find(key);
    if (v == nullptr) return Ok();
    if (!v->is_object()) return Want(key, "an object");
    std::vector<std::string> keys;
    for (const auto& item : v->items()) keys.push_back(item.key());
    *out = std::move(keys);
    return Ok();
  }

  const Json* Find(const char* key) const {
    auto it = object_.find(key);
    if (it == object_.end() || it->is_null()) return nullptr;
    return &*it;
  }

  std::string Path(const char* key) const { return prefix_ + "." + key; }

  Error Want(const char* key, const char* what) const {
    return MakeError(Code::kInvalidArgument, fmt::format("{}: want {}", Path(key), what));
  }

 private:
  Status ToInt64(const char* key, const Json& v, int64_t* out) const {
    if (v.is_number_unsigned()) {
      auto u = v.get<uint64_t>();
      if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        return Want(key, "a 64-bit integer");
      }
      *out = static_cast<int64_t>(u);
      return Ok();
    }
    if (!v.is_number_integer()) return Want(key, "a number");
    *out = v.get<int64_t>();
    return Ok();
  }

  const Json& object_;
  std::string prefix_;
};

Result<Json> ParseObject(std::string_view json, const char* what) {
  Json doc = Json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) {
    return MakeError(Code::kInvalidArgument, fmt::format("{}: invalid JSON", what));
  }
  if (doc.is_null()) return Json::object();
  if (!doc.is_object()) {
    return MakeError(Code::kInvalidArgument, fmt::format("{}: want an object", what));
  }
  return doc;
}

Result<ContainerConfig> ParseContainerConfigJson(std::string_view json) {
  BERTH_ASSIGN_OR_RETURN(Json doc, ParseObject(json, "Config"));
  FieldReader r(doc, "Config");
  ContainerConfig c;
  BERTH_RETURN_IF_ERROR(r.String("Hostname", &c.hostname));
  BERTH_RETURN_IF_ERROR(r.String("Domainname", &c.domainname));
  BERTH_RETURN_IF_ERROR(r.String("User", &c.user));
  BERTH_RETURN_IF_ERROR(r.Bool("AttachStdin", &c.attach_stdin));
  BERTH_RETURN_IF_ERROR(r.Bool("AttachStdout", &c.attach_stdout));
  BERTH_RETURN_IF_ERROR(r.Bool("AttachStderr", &c.attach_stderr));
  BERTH_RETURN_IF_ERROR(r.Bool("Tty", &c.tty));
  BERTH_RETURN_IF_ERROR(r.Bool("OpenStdin", &c.open_stdin));
  BERTH_RETURN_IF_ERROR(r.Bool("StdinOnce", &c.stdin_once));
  BERTH_RETURN_IF_ERROR(r.StringArray("Env", &c.env));
  BERTH_RETURN_IF_ERROR(r.StrSlice("Cmd", &c.cmd));
  BERTH_RETURN_IF_ERROR(r.String("Image", &c.image));
  BERTH_RETURN_IF_ERROR(r.ObjectKeys("Volumes", &c.volumes));
  BERTH_RETURN_IF_ERROR(r.String("WorkingDir", &c.working_dir));
  BERTH_RETURN_IF_ERROR(r.StrSlice("Entrypoint", &c.entrypoint));
  BERTH_RETURN_IF_ERROR(r.StringMap("Labels", &c.labels));
  BERTH_RETURN_IF_ERROR(r.String("StopSignal", &c.stop_signal));
  BERTH_RETURN_IF_ERROR(r.OptionalInt64("StopTimeout", &c.stop_timeout));
  return c;
}

Status ParseRestartPolicy(const FieldReader& parent, RestartPolicy* out) {
  const Json* v = parent.Find("RestartPolicy");
  if (v == nullptr) return Ok();
  if (!v->is_object()) return parent.Want("RestartPolicy", "an object");
  FieldReader r(*v, parent.Path("RestartPolicy"));
  BERTH_RETURN_IF_ERROR(r.String("Name", &out->name));
  return r.Int64("MaximumRetryCount", &out->maximum_retry_count);
}

Status ParseUlimits(const FieldReader& parent, std::vector<Ulimit>* out) {
  const Json* v = parent.Find("Ulimits");
  if (v == nullptr) return Ok();
  if (!v->is_array()) return parent.Want("Ulimits", "an array of objects");
  std::vector<Ulimit> ulimits;
  for (const Json& e : *v) {
    if (!e.is_object()) return parent.Want("Ulimits", "an array of objects");
    FieldReader r(e, parent.Path("Ulimits"));
    Ulimit u;
    BERTH_RETURN_IF_ERROR(r.String("Name", &u.name));
    BERTH_RETURN_IF_ERROR(r.Int64("Soft", &u.soft));
    BERTH_RETURN_IF_ERROR(r.Int64("Hard", &u.hard));
    ulimits.push_back(std::move(u));
  }
  *out = std::move(ulimits);
  return Ok();
}

Status ParseConsoleSize(const FieldReader& parent, std::vector<uint32_t>* out) {
  const Json* v = parent.Find("ConsoleSize");
  if (v == nullptr) return Ok();
  if (!v->is_array()) return parent.Want("ConsoleSize", "an array of 2 numbers");
  std::vector<uint32_t> size;
  for (const Json& e : *v) {
    if (!e.is_number_unsigned() || e.get<uint64_t>() > std::numeric_limits<uint32_t>::max()) {
      return parent.Want("ConsoleSize", "an array of 2 numbers");
    }
    size.push_back(static_cast<uint32_t>(e.get<uint64_t>()));
  }
  if (!size.empty() && size.size() != 2) {
    return parent.Want("ConsoleSize", "an array of 2 numbers");
  }
  *out = std::move(size);
  return Ok();
}

Result<HostConfig> ParseHostConfigJson(std::string_view json) {
  BERTH_ASSIGN_OR_RETURN(Json doc, ParseObject(json, "HostConfig"));
  FieldReader r(doc, "HostConfig");
  HostConfig h;
  BERTH_RETURN_IF_ERROR(r.StringArray("Binds", &h.binds));
  BERTH_RETURN_IF_ERROR(r.String("NetworkMode", &h.network_mode));
  BERTH_RETURN_IF_ERROR(ParseRestartPolicy(r, &h.restart_policy));
  BERTH_RETURN_IF_ERROR(r.Bool("AutoRemove", &h.auto_remove));
  BERTH_RETURN_IF_ERROR(r.StringArray("VolumesFrom", &h.volumes_from));
  BERTH_RETURN_IF_ERROR(r.StringArray("CapAdd", &h.cap_add));
  BERTH_RETURN_IF_ERROR(r.StringArray("CapDrop", &h.cap_drop));
  BERTH_RETURN_IF_ERROR(r.StringArray("Dns", &h.dns));
  BERTH_RETURN_IF_ERROR(r.StringArray("DnsSearch", &h.dns_search));
  BERTH_RETURN_IF_ERROR(r.StringArray("DnsOptions", &h.dns_options));
  BERTH_RETURN_IF_ERROR(r.StringArray("ExtraHosts", &h.extra_hosts));
  BERTH_RETURN_IF_ERROR(r.Bool("Privileged", &h.privileged));
  BERTH_RETURN_IF_ERROR(r.Bool("ReadonlyRootfs", &h.readonly_rootfs));
  BERTH_RETURN_IF_ERROR(r.StringArray("SecurityOpt", &h.security_opt));
  BERTH_RETURN_IF_ERROR(r.StringMap("Tmpfs", &h.tmpfs));
  BERTH_RETURN_IF_ERROR(r.Bool("Init", &h.init));
  BERTH_RETURN_IF_ERROR(r.Int64("Memory", &h.memory));
  BERTH_RETURN_IF_ERROR(r.Int64("MemorySwap", &h.memory_swap));
  BERTH_RETURN_IF_ERROR(r.Int64("NanoCpus", &h.nano_cpus));
  BERTH_RETURN_IF_ERROR(r.Int64("CpuShares", &h.cpu_shares));
  BERTH_RETURN_IF_ERROR(r.Int64("CpuPeriod", &h.cpu_period));
  BERTH_RETURN_IF_ERROR(r.Int64("CpuQuota", &h.cpu_quota));
  BERTH_RETURN_IF_ERROR(r.String("CpusetCpus", &h.cpuset_cpus));
  BERTH_RETURN_IF_ERROR(r.String("CpusetMems", &h.cpuset_mems));
  BERTH_RETURN_IF_ERROR(r.OptionalInt64("PidsLimit", &h.pids_limit));
  BERTH_RETURN_IF_ERROR(ParseUlimits(r, &h.ulimits));
  BERTH_RETURN_IF_ERROR(r.OptionalInt("OomScoreAdj", &h.oom_score_adj));
  BERTH_RETURN_IF_ERROR(r.StringMap("Sysctls", &h.sysctls));
  BERTH_RETURN_IF_ERROR(ParseConsoleSize(r, &h.console_size));
  return h;
}

Error Invalid(std::string message) { return MakeError(Code::kInvalidArgument, std::move(message)); }

// Docker's validateHostConfig: AutoRemove and the restart policy (daemon/container.go, v24).
Status ValidateRestartPolicy(const HostConfig& h) {
  const RestartPolicy& p = h.restart_policy;
  if (h.auto_remove && !p.name.empty() && p.name != "no") {
    return Invalid("can't create 'AutoRemove' container with restart policy");
  }
  if (p.name == "always" || p.name == "unless-stopped" || p.name == "no") {
    if (p.maximum_retry_count != 0) {
      return Invalid(
          fmt::format("maximum retry count cannot be used with restart policy '{}'", p.name));
    }
  } else if (p.name == "on-failure") {
    if (p.maximum_retry_count < 0) return Invalid("maximum retry count cannot be negative");
  } else if (!p.name.empty()) {
    return Invalid(fmt::format("invalid restart policy '{}'", p.name));
  }
  return Ok();
}

constexpr int64_t kMinMemory = 6 * 1024 * 1024;  // Docker's linuxMinMemory

// Docker's verifyPlatformContainerResources and verifyPlatformContainerSettings
// (daemon/daemon_unix.go), the checks that do not depend on the host's cgroup features.
Status ValidateResources(const HostConfig& h, int host_cpus) {
  if (h.memory != 0 && h.memory < kMinMemory) {
    return Invalid("Minimum memory limit allowed is 6MB");
  }
  if (h.memory > 0 && h.memory_swap > 0 && h.memory_swap < h.memory) {
    return Invalid("Minimum memoryswap limit should be larger than memory limit, see usage");
  }
  if (h.memory == 0 && h.memory_swap > 0) {
    return Invalid("You should always set the Memory limit when using Memoryswap limit, see usage");
  }
  if (h.nano_cpus > 0 && h.cpu_period > 0) {
    return Invalid("Conflicting options: Nano CPUs and CPU Period cannot both be set");
  }
  if (h.nano_cpus > 0 && h.cpu_quota > 0) {
    return Invalid("Conflicting options: Nano CPUs and CPU Quota cannot both be set");
  }
  if (h.nano_cpus < 0 || h.nano_cpus > int64_t{host_cpus} * 1'000'000'000) {
    return Invalid(fmt::format(
        "Range of CPUs is from 0.01 to {0}.00, as there are only {0} CPUs available", host_cpus));
  }
  if (h.cpu_period != 0 && (h.cpu_period < 1000 || h.cpu_period > 1000000)) {
    return Invalid(
        "CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)");
  }
  if (h.cpu_quota > 0 && h.cpu_quota < 1000) {
    return Invalid("CPU cfs quota can not be less than 1ms (i.e. 1000)");
  }
  if (h.oom_score_adj && (*h.oom_score_adj < -1000 || *h.oom_score_adj > 1000)) {
    return Invalid(fmt::format("Invalid value {}, range for oom score adj is [-1000, 1000]",
                               *h.oom_score_adj));
  }
  return Ok();
}

}  // namespace

Result<ContainerConfig> ParseContainerConfig(std::string_view json) {
  try {
    return ParseContainerConfigJson(json);
  } catch (const nlohmann::json::exception& e) {
    return MakeError(Code::kInvalidArgument, fmt::format("Config: {}", e.what()));
  }
}

Result<HostConfig> ParseHostConfig(std::string_view json) {
  try {
    return ParseHostConfigJson(json);
  } catch (const nlohmann::json::exception& e) {
    return MakeError(Code::kInvalidArgument, fmt::format("HostConfig: {}", e.what()));
  }
}

Status ValidateHostConfig(const HostConfig& host_config, int host_cpus) {
  // Docker's order: validateHostConfig, then the platform's resource checks.
  BERTH_RETURN_IF_ERROR(ValidateRestartPolicy(host_config));
  return ValidateResources(host_config, host_cpus);
}

}  // namespace berth::engine
