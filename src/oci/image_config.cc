#include "oci/image_config.h"

#include <initializer_list>

#include "oci/internal/json.h"

namespace berth::oci {
namespace {

using internal::Json;
using internal::OrderedJson;

bool IsKnown(std::string_view key, std::initializer_list<std::string_view> known) {
  for (std::string_view k : known) {
    if (k == key) return true;
  }
  return false;
}

ExtraFields CollectExtra(const Json& obj, std::initializer_list<std::string_view> known) {
  ExtraFields extra;
  for (const auto& [key, value] : obj.items()) {
    if (!IsKnown(key, known)) extra.emplace(key, internal::Dump(value));
  }
  return extra;
}

// Appends the extra fields that do not collide with a field already written.
void WriteExtra(const ExtraFields& extra, OrderedJson& out) {
  for (const auto& [key, text] : extra) {
    if (out.contains(key)) continue;
    OrderedJson value = OrderedJson::parse(text, nullptr, /*allow_exceptions=*/false);
    // Extra values come from a parse, so they are valid JSON; one set by hand that is not is
    // a caller bug.
    BERTH_DCHECK(!value.is_discarded());
    if (!value.is_discarded()) out[key] = std::move(value);
  }
}

Result<const Json*> GetObject(const Json& obj, const char* key, std::string_view what) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return static_cast<const Json*>(nullptr);
  if (!it->is_object()) return internal::TypeError(what, key, "an object");
  return &*it;
}

Result<std::string> GetTimestamp(const Json& obj, const char* key, std::string_view what) {
  BERTH_ASSIGN_OR_RETURN(std::optional<std::string> s, internal::GetString(obj, key, what));
  if (s && !s->empty() && !IsRfc3339(*s)) {
    return MakeError(Code::kInvalidArgument,
                     std::string(what) + "." + key + ": \"" + *s + "\" is not an RFC 3339 time");
  }
  return s.value_or("");
}

Result<HealthConfig> HealthFromJson(const Json& j) {
  constexpr std::string_view kWhat = "config.config.Healthcheck";
  HealthConfig h;
  BERTH_ASSIGN_OR_RETURN(auto test, internal::GetStringArray(j, "Test", kWhat));
  h.test = test.value_or(std::vector<std::string>());
  BERTH_ASSIGN_OR_RETURN(auto interval, internal::GetInt64(j, "Interval", kWhat));
  h.interval = interval.value_or(0);
  BERTH_ASSIGN_OR_RETURN(auto timeout, internal::GetInt64(j, "Timeout", kWhat));
  h.timeout = timeout.value_or(0);
  BERTH_ASSIGN_OR_RETURN(auto start_period, internal::GetInt64(j, "StartPeriod", kWhat));
  h.start_period = start_period.value_or(0);
  BERTH_ASSIGN_OR_RETURN(auto start_interval, internal::GetInt64(j, "StartInterval", kWhat));
  h.start_interval = start_interval.value_or(0);
  BERTH_ASSIGN_OR_RETURN(auto retries, internal::GetInt64(j, "Retries", kWhat));
  h.retries = retries.value_or(0);
  h.extra =
      CollectExtra(j, {"Test", "Interval", "Timeout", "StartPeriod", "StartInterval", "Retries"});
  return h;
}

Result<ContainerConfig> ContainerConfigFromJson(const Json& j) {
  constexpr std::string_view kWhat = "config.config";
  ContainerConfig c;
  BERTH_ASSIGN_OR_RETURN(auto user, internal::GetString(j, "User", kWhat));
  c.user = user.value_or("");
  BERTH_ASSIGN_OR_RETURN(c.exposed_ports, internal::GetKeySet(j, "ExposedPorts", kWhat));
  BERTH_ASSIGN_OR_RETURN(auto env, internal::GetStringArray(j, "Env", kWhat));
  c.env = env.value_or(std::vector<std::string>());
  BERTH_ASSIGN_OR_RETURN(c.entrypoint, internal::GetStringArray(j, "Entrypoint", kWhat));
  BERTH_ASSIGN_OR_RETURN(c.cmd, internal::GetStringArray(j, "Cmd", kWhat));
  BERTH_ASSIGN_OR_RETURN(c.volumes, internal::GetKeySet(j, "Volumes", kWhat));
  BERTH_ASSIGN_OR_RETURN(auto working_dir, internal::GetString(j, "WorkingDir", kWhat));
  c.working_dir = working_dir.value_or("");
  BERTH_ASSIGN_OR_RETURN(c.labels, internal::GetStringMap(j, "Labels", kWhat));
  BERTH_ASSIGN_OR_RETURN(auto stop_signal, internal::GetString(j, "StopSignal", kWhat));
  c.stop_signal = stop_signal.value_or("");
  BERTH_ASSIGN_OR_RETURN(auto args_escaped, internal::GetBool(j, "ArgsEscaped", kWhat));
  c.args_escaped = args_escaped.value_or(false);
  BERTH_ASSIGN_OR_RETURN(const Json* health, GetObject(j, "Healthcheck", kWhat));
  if (health) {
    BERTH_ASSIGN_OR_RETURN(HealthConfig h, HealthFromJson(*health));
    c.healthcheck = std::move(h);
  }
  BERTH_ASSIGN_OR_RETURN(auto on_build, internal::GetStringArray(j, "OnBuild", kWhat));
  c.on_build = on_build.value_or(std::vector<std::string>());
  BERTH_ASSIGN_OR_RETURN(auto shell, internal::GetStringArray(j, "Shell", kWhat));
  c.shell = shell.value_or(std::vector<std::string>());
  c.extra =
      CollectExtra(j, {"User", "ExposedPorts", "Env", "Entrypoint", "Cmd", "Volumes", "WorkingDir",
                       "Labels", "StopSignal", "ArgsEscaped", "Healthcheck", "OnBuild", "Shell"});
  return c;
}

Result<RootFs> RootFsFromJson(const Json& j) {
  constexpr std::string_view kWhat = "config.rootfs";
  RootFs r;
  BERTH_ASSIGN_OR_RETURN(r.type, internal::GetRequiredString(j, "type", kWhat));
  if (r.type != "layers") {
    return MakeError(Code::kInvalidArgument,
                     "config.rootfs.type: unsupported \"" + r.type + "\", want \"layers\"");
  }
  auto ids = j.find("diff_ids");
  if (ids != j.end() && !ids->is_null()) {
    if (!ids->is_array()) return internal::TypeError(kWhat, "diff_ids", "an array of digests");
    r.diff_ids.reserve(ids->size());
    for (size_t i = 0; i < ids->size(); ++i) {
      const Json& e = (*ids)[i];
      if (!e.is_string()) return internal::TypeError(kWhat, "diff_ids", "an array of digests");
      Result<Digest> d = Digest::Parse(e.get<std::string>());
      if (!d) {
        return std::move(d).error().WithContext("config.rootfs.diff_ids[" + std::to_string(i) +
                                                "]");
      }
      r.diff_ids.push_back(std::move(*d));
    }
  }
  r.extra = CollectExtra(j, {"type", "diff_ids"});
  return r;
}

Result<History> HistoryFromJson(const Json& j, std::string_view what) {
  if (!j.is_object())
    return MakeError(Code::kInvalidArgument, std::string(what) + ": expected an object");
  History h;
  BERTH_ASSIGN_OR_RETURN(h.created, GetTimestamp(j, "created", what));
  BERTH_ASSIGN_OR_RETURN(auto created_by, internal::GetString(j, "created_by", what));
  h.created_by = created_by.value_or("");
  BERTH_ASSIGN_OR_RETURN(auto author, internal::GetString(j, "author", what));
  h.author = author.value_or("");
  BERTH_ASSIGN_OR_RETURN(auto comment, internal::GetString(j, "comment", what));
  h.comment = comment.value_or("");
  BERTH_ASSIGN_OR_RETURN(auto empty_layer, internal::GetBool(j, "empty_layer", what));
  h.empty_layer = empty_layer.value_or(false);
  h.extra = CollectExtra(j, {"created", "created_by", "author", "comment", "empty_layer"});
  return h;
}

Result<ImageConfig> ImageConfigFromJson(const Json& j) {
  constexpr std::string_view kWhat = "config";
  ImageConfig c;
  BERTH_ASSIGN_OR_RETURN(c.created, GetTimestamp(j, "created", kWhat));
  BERTH_ASSIGN_OR_RETURN(auto author, internal::GetString(j, "author", kWhat));
  c.author = author.value_or("");
  BERTH_ASSIGN_OR_RETURN(auto architecture, internal::GetString(j, "architecture", kWhat));
  c.architecture = architecture.value_or("");
  BERTH_ASSIGN_OR_RETURN(auto os, internal::GetString(j, "os", kWhat));
  c.os = os.value_or("");
  BERTH_ASSIGN_OR_RETURN(auto os_version, internal::GetString(j, "os.version", kWhat));
  c.os_version = os_version.value_or("");
  BERTH_ASSIGN_OR_RETURN(auto os_features, internal::GetStringArray(j, "os.features", kWhat));
  c.os_features = os_features.value_or(std::vector<std::string>());
  BERTH_ASSIGN_OR_RETURN(auto variant, internal::GetString(j, "variant", kWhat));
  c.variant = variant.value_or("");

  BERTH_ASSIGN_OR_RETURN(const Json* config, GetObject(j, "config", kWhat));
  if (config) {
    BERTH_ASSIGN_OR_RETURN(c.config, ContainerConfigFromJson(*config));
  }
  BERTH_ASSIGN_OR_RETURN(const Json* rootfs, GetObject(j, "rootfs", kWhat));
  if (!rootfs) return MakeError(Code::kInvalidArgument, "config.rootfs: required");
  BERTH_ASSIGN_OR_RETURN(c.rootfs, RootFsFromJson(*rootfs));

  auto history = j.find("history");
  if (history != j.end() && !history->is_null()) {
    if (!history->is_array()) return internal::TypeError(kWhat, "history", "an array");
    c.history.reserve(history->size());
    for (size_t i = 0; i < history->size(); ++i) {
      BERTH_ASSIGN_OR_RETURN(
          History h, HistoryFromJson((*history)[i], "config.history[" + std::to_string(i) + "]"));
      c.history.push_back(std::move(h));
    }
  }
  c.extra = CollectExtra(j, {"created", "author", "architecture", "os", "os.version", "os.features",
                             "variant", "config", "rootfs", "history"});
  return c;
}

OrderedJson KeySetToJson(const std::set<std::string>& keys) {
  OrderedJson j = OrderedJson::object();
  for (const std::string& k : keys) j[k] = OrderedJson::object();
  return j;
}

OrderedJson HealthToJson(const HealthConfig& h) {
  OrderedJson j = OrderedJson::object();
  if (!h.test.empty()) j["Test"] = h.test;
  if (h.interval != 0) j["Interval"] = h.interval;
  if (h.timeout != 0) j["Timeout"] = h.timeout;
  if (h.start_period != 0) j["StartPeriod"] = h.start_period;
  if (h.start_interval != 0) j["StartInterval"] = h.start_interval;
  if (h.retries != 0) j["Retries"] = h.retries;
  WriteExtra(h.extra, j);
  return j;
}

OrderedJson ContainerConfigToJson(const ContainerConfig& c) {
  OrderedJson j = OrderedJson::object();
  if (!c.user.empty()) j["User"] = c.user;
  if (!c.exposed_ports.empty()) j["ExposedPorts"] = KeySetToJson(c.exposed_ports);
  if (!c.env.empty()) j["Env"] = c.env;
  if (c.entrypoint) j["Entrypoint"] = *c.entrypoint;
  if (c.cmd) j["Cmd"] = *c.cmd;
  if (!c.volumes.empty()) j["Volumes"] = KeySetToJson(c.volumes);
  if (!c.working_dir.empty()) j["WorkingDir"] = c.working_dir;
  if (!c.labels.empty()) j["Labels"] = c.labels;
  if (!c.stop_signal.empty()) j["StopSignal"] = c.stop_signal;
  if (c.args_escaped) j["ArgsEscaped"] = true;
  if (c.healthcheck) j["Healthcheck"] = HealthToJson(*c.healthcheck);
  if (!c.on_build.empty()) j["OnBuild"] = c.on_build;
  if (!c.shell.empty()) j["Shell"] = c.shell;
  WriteExtra(c.extra, j);
  return j;
}

bool Digits(std::string_view s, size_t pos, size_t n) {
  if (pos + n > s.size()) return false;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
  }
  return true;
}

}  // namespace

bool IsRfc3339(std::string_view s) {
  // 2006-01-02T15:04:05
  if (!Digits(s, 0, 4) || s.size() < 20 || s[4] != '-' || !Digits(s, 5, 2) || s[7] != '-' ||
      !Digits(s, 8, 2) || (s[10] != 'T' && s[10] != 't') || !Digits(s, 11, 2) || s[13] != ':' ||
      !Digits(s, 14, 2) || s[16] != ':' || !Digits(s, 17, 2)) {
    return false;
  }
  auto num = [&](size_t pos) { return (s[pos] - '0') * 10 + (s[pos + 1] - '0'); };
  if (num(5) < 1 || num(5) > 12 || num(8) < 1 || num(8) > 31 || num(11) > 23 || num(14) > 59 ||
      num(17) > 60) {
    return false;
  }
  size_t pos = 19;
  if (s[pos] == '.') {
    size_t start = ++pos;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') ++pos;
    if (pos == start) return false;
  }
  if (pos >= s.size()) return false;
  if (s[pos] == 'Z' || s[pos] == 'z') return pos + 1 == s.size();
  if (s[pos] != '+' && s[pos] != '-') return false;
  return pos + 6 == s.size() && Digits(s, pos + 1, 2) && s[pos + 3] == ':' &&
         Digits(s, pos + 4, 2) && num(pos + 1) <= 23 && num(pos + 4) <= 59;
}

Result<ImageConfig> ParseImageConfig(std::string_view bytes) {
  BERTH_ASSIGN_OR_RETURN(Json j, internal::ParseJsonObject(bytes, "config"));
  try {
    return ImageConfigFromJson(j);
  } catch (const Json::exception& e) {
    return MakeError(Code::kInvalidArgument, std::string("config: ") + e.what());
  }
}

std::string SerializeImageConfig(const ImageConfig& c) {
  OrderedJson j = OrderedJson::object();
  if (!c.created.empty()) j["created"] = c.created;
  if (!c.author.empty()) j["author"] = c.author;
  j["architecture"] = c.architecture;
  j["os"] = c.os;
  if (!c.os_version.empty()) j["os.version"] = c.os_version;
  if (!c.os_features.empty()) j["os.features"] = c.os_features;
  if (!c.variant.empty()) j["variant"] = c.variant;
  j["config"] = ContainerConfigToJson(c.config);

  OrderedJson rootfs = OrderedJson::object();
  rootfs["type"] = c.rootfs.type;
  OrderedJson diff_ids = OrderedJson::array();
  for (const Digest& d : c.rootfs.diff_ids) diff_ids.push_back(d.ToString());
  rootfs["diff_ids"] = std::move(diff_ids);
  WriteExtra(c.rootfs.extra, rootfs);
  j["rootfs"] = std::move(rootfs);

  if (!c.history.empty()) {
    OrderedJson history = OrderedJson::array();
    for (const History& h : c.history) {
      OrderedJson e = OrderedJson::object();
      if (!h.created.empty()) e["created"] = h.created;
      if (!h.created_by.empty()) e["created_by"] = h.created_by;
      if (!h.author.empty()) e["author"] = h.author;
      if (!h.comment.empty()) e["comment"] = h.comment;
      if (h.empty_layer) e["empty_layer"] = true;
      WriteExtra(h.extra, e);
      history.push_back(std::move(e));
    }
    j["history"] = std::move(history);
  }
  WriteExtra(c.extra, j);
  return internal::Dump(j);
}

Platform ImageConfigPlatform(const ImageConfig& c) {
  Platform p;
  p.architecture = c.architecture;
  p.os = c.os;
  p.os_version = c.os_version;
  p.os_features = c.os_features;
  p.variant = c.variant;
  return p;
}

}  // namespace berth::oci
