#include "oci/internal/json.h"

#include <limits>

namespace berth::oci::internal {

bool IsBase64(std::string_view s) {
  if (s.size() % 4 != 0) return false;
  size_t pad = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    bool alpha = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                 c == '+' || c == '/';
    if (c == '=') {
      if (i + 2 < s.size()) return false;  // padding only at the very end
      ++pad;
    } else if (!alpha || pad > 0) {
      return false;
    }
  }
  return pad <= 2;
}

namespace {

std::string Field(std::string_view what, std::string_view key) {
  return std::string(what) + "." + std::string(key);
}

}  // namespace

Result<Json> ParseJson(std::string_view bytes, std::string_view what) {
  // nlohmann parses iteratively but dumps recursively: bound the nesting first so a hostile
  // blob cannot exhaust the stack when its unknown fields are written back.
  size_t depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (char c : bytes) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxJsonDepth) {
        return MakeError(Code::kInvalidArgument, std::string(what) + ": JSON nested deeper than " +
                                                     std::to_string(kMaxJsonDepth) + " levels");
      }
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  try {
    return Json::parse(bytes.begin(), bytes.end());
  } catch (const Json::exception& e) {
    return MakeError(Code::kInvalidArgument, std::string(what) + ": invalid JSON: " + e.what());
  }
}

Result<Json> ParseJsonObject(std::string_view bytes, std::string_view what) {
  BERTH_ASSIGN_OR_RETURN(Json j, ParseJson(bytes, what));
  if (!j.is_object()) {
    return MakeError(Code::kInvalidArgument,
                     std::string(what) + ": expected a JSON object, got " + j.type_name());
  }
  return j;
}

std::string Dump(const OrderedJson& j) {
  return j.dump(-1, ' ', false, OrderedJson::error_handler_t::replace);
}

std::string Dump(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }

Error TypeError(std::string_view what, std::string_view key, std::string_view want) {
  return MakeError(Code::kInvalidArgument, Field(what, key) + ": expected " + std::string(want));
}

Result<std::optional<std::string>> GetString(const Json& obj, const char* key,
                                             std::string_view what) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return std::optional<std::string>();
  if (!it->is_string()) return TypeError(what, key, "a string");
  return std::optional<std::string>(it->get<std::string>());
}

Result<std::string> GetRequiredString(const Json& obj, const char* key, std::string_view what) {
  BERTH_ASSIGN_OR_RETURN(std::optional<std::string> s, GetString(obj, key, what));
  if (!s) return MakeError(Code::kInvalidArgument, Field(what, key) + ": required");
  return std::move(*s);
}

Result<std::optional<bool>> GetBool(const Json& obj, const char* key, std::string_view what) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return std::optional<bool>();
  if (!it->is_boolean()) return TypeError(what, key, "a boolean");
  return std::optional<bool>(it->get<bool>());
}

Result<std::optional<int64_t>> GetInt64(const Json& obj, const char* key, std::string_view what) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return std::optional<int64_t>();
  if (it->is_number_unsigned()) {
    uint64_t u = it->get<uint64_t>();
    if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return MakeError(Code::kInvalidArgument, Field(what, key) + ": out of range");
    }
    return std::optional<int64_t>(static_cast<int64_t>(u));
  }
  if (it->is_number_integer()) return std::optional<int64_t>(it->get<int64_t>());
  if (it->is_number_float()) {
    return MakeError(Code::kInvalidArgument, Field(what, key) + ": expected an integer");
  }
  return TypeError(what, key, "an integer");
}

Result<std::optional<std::vector<std::string>>> GetStringArray(const Json& obj, const char* key,
                                                               std::string_view what) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return std::optional<std::vector<std::string>>();
  if (!it->is_array()) return TypeError(what, key, "an array of strings");
  std::vector<std::string> out;
  out.reserve(it->size());
  for (const Json& e : *it) {
    if (!e.is_string()) return TypeError(what, key, "an array of strings");
    out.push_back(e.get<std::string>());
  }
  return std::optional<std::vector<std::string>>(std::move(out));
}

Result<std::map<std::string, std::string>> GetStringMap(const Json& obj, const char* key,
                                                        std::string_view what) {
  std::map<std::string, std::string> out;
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return out;
  if (!it->is_object()) return TypeError(what, key, "an object of strings");
  for (const auto& [k, v] : it->items()) {
    if (!v.is_string()) return TypeError(what, key, "an object of strings");
    out.emplace(k, v.get<std::string>());
  }
  return out;
}

Result<std::set<std::string>> GetKeySet(const Json& obj, const char* key, std::string_view what) {
  std::set<std::string> out;
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return out;
  if (!it->is_object()) return TypeError(what, key, "an object");
  for (const auto& [k, v] : it->items()) {
    (void)v;  // Docker writes {} for each key; the value carries nothing
    out.insert(k);
  }
  return out;
}

Result<std::optional<Digest>> GetDigest(const Json& obj, const char* key, std::string_view what) {
  BERTH_ASSIGN_OR_RETURN(std::optional<std::string> s, GetString(obj, key, what));
  if (!s) return std::optional<Digest>();
  Result<Digest> d = Digest::Parse(*s);
  if (!d) return std::move(d).error().WithContext(Field(what, key));
  return std::optional<Digest>(std::move(*d));
}

Result<Platform> PlatformFromJson(const Json& j, std::string_view what) {
  if (!j.is_object())
    return MakeError(Code::kInvalidArgument, std::string(what) + ": expected an object");
  Platform p;
  BERTH_ASSIGN_OR_RETURN(p.architecture, GetRequiredString(j, "architecture", what));
  BERTH_ASSIGN_OR_RETURN(p.os, GetRequiredString(j, "os", what));
  BERTH_ASSIGN_OR_RETURN(std::optional<std::string> os_version, GetString(j, "os.version", what));
  p.os_version = os_version.value_or("");
  BERTH_ASSIGN_OR_RETURN(std::optional<std::vector<std::string>> features,
                         GetStringArray(j, "os.features", what));
  p.os_features = features.value_or(std::vector<std::string>());
  BERTH_ASSIGN_OR_RETURN(std::optional<std::string> variant, GetString(j, "variant", what));
  p.variant = variant.value_or("");
  return p;
}

OrderedJson PlatformToJson(const Platform& p) {
  OrderedJson j = OrderedJson::object();
  j["architecture"] = p.architecture;
  j["os"] = p.os;
  if (!p.os_version.empty()) j["os.version"] = p.os_version;
  if (!p.os_features.empty()) j["os.features"] = p.os_features;
  if (!p.variant.empty()) j["variant"] = p.variant;
  return j;
}

Result<Descriptor> DescriptorFromJson(const Json& j, std::string_view what) {
  if (!j.is_object())
    return MakeError(Code::kInvalidArgument, std::string(what) + ": expected an object");
  Descriptor d;
  BERTH_ASSIGN_OR_RETURN(d.media_type, GetRequiredString(j, "mediaType", what));
  BERTH_ASSIGN_OR_RETURN(std::optional<Digest> digest, GetDigest(j, "digest", what));
  if (!digest) return MakeError(Code::kInvalidArgument, Field(what, "digest") + ": required");
  d.digest = std::move(*digest);
  BERTH_ASSIGN_OR_RETURN(std::optional<int64_t> size, GetInt64(j, "size", what));
  if (!size) return MakeError(Code::kInvalidArgument, Field(what, "size") + ": required");
  d.size = *size;
  BERTH_ASSIGN_OR_RETURN(std::optional<std::vector<std::string>> urls,
                         GetStringArray(j, "urls", what));
  d.urls = urls.value_or(std::vector<std::string>());
  BERTH_ASSIGN_OR_RETURN(d.annotations, GetStringMap(j, "annotations", what));
  BERTH_ASSIGN_OR_RETURN(std::optional<std::string> data, GetString(j, "data", what));
  d.data = data.value_or("");
  if (auto it = j.find("platform"); it != j.end() && !it->is_null()) {
    BERTH_ASSIGN_OR_RETURN(Platform p, PlatformFromJson(*it, Field(what, "platform")));
    d.platform = std::move(p);
  }
  BERTH_ASSIGN_OR_RETURN(std::optional<std::string> artifact_type,
                         GetString(j, "artifactType", what));
  d.artifact_type = artifact_type.value_or("");
  Status valid = ValidateDescriptor(d);
  if (!valid) return std::move(valid).error().WithContext(what);
  return d;
}

OrderedJson DescriptorToJson(const Descriptor& d) {
  OrderedJson j = OrderedJson::object();
  j["mediaType"] = d.media_type;
  j["digest"] = d.digest.ToString();
  j["size"] = d.size;
  if (!d.urls.empty()) j["urls"] = d.urls;
  if (!d.annotations.empty()) j["annotations"] = d.annotations;
  if (!d.data.empty()) j["data"] = d.data;
  if (d.platform) j["platform"] = PlatformToJson(*d.platform);
  if (!d.artifact_type.empty()) j["artifactType"] = d.artifact_type;
  return j;
}

Status CheckSchemaVersion2(const Json& obj, std::string_view what) {
  BERTH_ASSIGN_OR_RETURN(std::optional<int64_t> v, GetInt64(obj, "schemaVersion", what));
  if (!v) return MakeError(Code::kInvalidArgument, std::string(what) + ".schemaVersion: required");
  if (*v != 2) {
    return MakeError(Code::kInvalidArgument, std::string(what) + ".schemaVersion: unsupported " +
                                                 std::to_string(*v) + ", want 2");
  }
  return Ok();
}

}  // namespace berth::oci::internal
