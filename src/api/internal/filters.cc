#include "api/internal/filters.h"

#include <nlohmann/json.hpp>

namespace berth::api::internal {

Result<std::map<std::string, std::vector<std::string>>> ParseFilters(std::string_view text) {
  using Json = nlohmann::json;
  std::map<std::string, std::vector<std::string>> out;
  if (text.empty()) return out;
  Json j = Json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return MakeError(Code::kInvalidArgument, "invalid filter: " + std::string(text));
  }
  for (auto& [key, value] : j.items()) {
    std::vector<std::string>& values = out[key];
    if (value.is_object()) {
      for (auto& [v, on] : value.items()) {
        if (on.is_boolean() && on.get<bool>()) values.push_back(v);
      }
    } else if (value.is_array()) {
      for (const Json& v : value) {
        if (v.is_string()) values.push_back(v.get<std::string>());
      }
    } else {
      return MakeError(Code::kInvalidArgument, "invalid filter: " + std::string(text));
    }
  }
  return out;
}

}  // namespace berth::api::internal
