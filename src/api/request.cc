#include "api/request.h"

#include <charconv>

#include <nlohmann/json.hpp>

#include "base/strings.h"

namespace berth::api {

Request::Request(std::string method, std::string path, std::string api_version,
                 std::map<std::string, std::string> params, Pairs query, Pairs headers,
                 Reader* body)
    : method_(std::move(method)),
      path_(std::move(path)),
      api_version_(std::move(api_version)),
      params_(std::move(params)),
      query_(std::move(query)),
      headers_(std::move(headers)),
      body_(body) {}

std::string_view Request::Param(std::string_view name) const {
  auto it = params_.find(std::string(name));
  return it == params_.end() ? std::string_view() : std::string_view(it->second);
}

bool Request::HasQuery(std::string_view key) const {
  for (const auto& [k, v] : query_) {
    if (k == key) return true;
  }
  return false;
}

std::string_view Request::Query(std::string_view key) const {
  for (const auto& [k, v] : query_) {
    if (k == key) return v;
  }
  return {};
}

std::vector<std::string> Request::QueryAll(std::string_view key) const {
  std::vector<std::string> out;
  for (const auto& [k, v] : query_) {
    if (k == key) out.push_back(v);
  }
  return out;
}

bool Request::QueryBool(std::string_view key, bool absent) const {
  if (!HasQuery(key)) return absent;
  std::string v = ToLower(TrimSpace(Query(key)));
  return !(v.empty() || v == "0" || v == "no" || v == "false" || v == "none");
}

Result<int64_t> Request::QueryInt(std::string_view key, int64_t absent) const {
  std::string_view v = Query(key);
  if (v.empty()) return absent;
  int64_t out = 0;
  auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (ec != std::errc() || ptr != v.data() + v.size()) {
    return MakeError(Code::kInvalidArgument,
                     "invalid value for " + std::string(key) + ": " + std::string(v));
  }
  return out;
}

std::string_view Request::Header(std::string_view name) const {
  std::string lower = ToLower(name);
  for (const auto& [k, v] : headers_) {
    if (ToLower(k) == lower) return v;
  }
  return {};
}

Result<nlohmann::json> Request::ReadJson() {
  std::string_view content_type = Header("Content-Type");
  if (!content_type.empty()) {
    std::string media(TrimSpace(content_type.substr(0, content_type.find(';'))));
    if (ToLower(media) != "application/json") {
      return MakeError(Code::kInvalidArgument, "unsupported Content-Type header (" +
                                                   std::string(content_type) +
                                                   "): must be 'application/json'");
    }
  }
  Result<std::string> text = ReadAll(*body_, kMaxJsonBody);
  if (!text) {
    if (text.error().code == Code::kResourceExhausted) {
      return MakeError(Code::kInvalidArgument, "invalid JSON: request body is larger than " +
                                                   std::to_string(kMaxJsonBody) + " bytes");
    }
    return std::move(text).error().WithContext("read request body");
  }
  if (TrimSpace(*text).empty()) {
    return MakeError(Code::kInvalidArgument, "invalid JSON: got EOF while reading request body");
  }
  nlohmann::json doc = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) {
    return MakeError(Code::kInvalidArgument, "invalid JSON: malformed request body");
  }
  return doc;
}

}  // namespace berth::api
