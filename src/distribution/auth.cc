#include "distribution/auth.h"

#include <cctype>

#include <nlohmann/json.hpp>

#include "base/strings.h"

namespace berth::distribution {
namespace {

constexpr std::string_view kBase64Chars =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int Base64Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+' || c == '-') return 62;
  if (c == '/' || c == '_') return 63;
  return -1;
}

bool IsTokenChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

std::string JsonString(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return "";
  return it->get<std::string>();
}

}  // namespace

std::string Base64Encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    uint32_t v = (static_cast<uint32_t>(static_cast<uint8_t>(bytes[i])) << 16) |
                 (static_cast<uint32_t>(static_cast<uint8_t>(bytes[i + 1])) << 8) |
                 static_cast<uint8_t>(bytes[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out.push_back(kBase64Chars[(v >> s) & 63]);
  }
  size_t rest = bytes.size() - i;
  if (rest > 0) {
    uint32_t v = static_cast<uint32_t>(static_cast<uint8_t>(bytes[i])) << 16;
    if (rest == 2) v |= static_cast<uint32_t>(static_cast<uint8_t>(bytes[i + 1])) << 8;
    out.push_back(kBase64Chars[(v >> 18) & 63]);
    out.push_back(kBase64Chars[(v >> 12) & 63]);
    out.push_back(rest == 2 ? kBase64Chars[(v >> 6) & 63] : '=');
    out.push_back('=');
  }
  return out;
}

Result<std::string> Base64Decode(std::string_view text) {
  while (!text.empty() && text.back() == '=') text.remove_suffix(1);
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    int v = Base64Value(c);
    if (v < 0) return MakeError(Code::kInvalidArgument, "invalid base64 data");
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  if (bits >= 6) return MakeError(Code::kInvalidArgument, "invalid base64 data (truncated)");
  return out;
}

Result<AuthConfig> DecodeRegistryAuth(std::string_view header) {
  AuthConfig auth;
  header = TrimSpace(header);
  if (header.empty()) return auth;
  Result<std::string> json_text = Base64Decode(header);
  if (!json_text) return MakeError(Code::kInvalidArgument, "X-Registry-Auth: invalid base64");
  nlohmann::json j = nlohmann::json::parse(*json_text, nullptr, false);
  if (!j.is_object()) {
    return MakeError(Code::kInvalidArgument, "X-Registry-Auth: not a JSON object");
  }
  auth.username = JsonString(j, "username");
  auth.password = JsonString(j, "password");
  auth.server_address = JsonString(j, "serveraddress");
  auth.identity_token = JsonString(j, "identitytoken");
  auth.registry_token = JsonString(j, "registrytoken");
  // Docker's config.json form: "auth" = base64(user:password).
  if (std::string a = JsonString(j, "auth"); !a.empty() && auth.username.empty()) {
    Result<std::string> pair = Base64Decode(a);
    if (pair && pair->find(':') != std::string::npos) {
      auth.username = pair->substr(0, pair->find(':'));
      auth.password = pair->substr(pair->find(':') + 1);
    }
  }
  return auth;
}

std::vector<Challenge> ParseChallenges(std::string_view h) {
  std::vector<Challenge> out;
  size_t i = 0;
  auto skip_space = [&] {
    while (i < h.size() && (h[i] == ' ' || h[i] == '\t')) ++i;
  };
  auto token = [&] {
    size_t start = i;
    while (i < h.size() && IsTokenChar(h[i])) ++i;
    return std::string(h.substr(start, i - start));
  };
  while (i < h.size()) {
    skip_space();
    while (i < h.size() && h[i] == ',') {
      ++i;
      skip_space();
    }
    std::string scheme = token();
    if (scheme.empty()) break;
    Challenge c;
    c.scheme = ToLower(scheme);
    // auth-params: name=value pairs separated by commas; a token followed by anything but '='
    // starts the next challenge.
    while (true) {
      skip_space();
      size_t mark = i;
      std::string name = token();
      skip_space();
      if (name.empty() || i >= h.size() || h[i] != '=') {
        i = mark;
        break;
      }
      ++i;
      skip_space();
      std::string value;
      if (i < h.size() && h[i] == '"') {
        ++i;
        while (i < h.size() && h[i] != '"') {
          if (h[i] == '\\' && i + 1 < h.size()) ++i;
          value.push_back(h[i++]);
        }
        if (i < h.size()) ++i;  // closing quote
      } else {
        // Unquoted: a token by the RFC; taken leniently up to the next comma or space.
        while (i < h.size() && h[i] != ',' && h[i] != ' ' && h[i] != '\t') value.push_back(h[i++]);
      }
      c.params[ToLower(name)] = value;
      skip_space();
      if (i < h.size() && h[i] == ',') {
        ++i;
      } else {
        break;
      }
    }
    out.push_back(std::move(c));
  }
  return out;
}

std::string QueryEscape(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

Result<std::string> TokenUrl(const Challenge& challenge, const std::vector<std::string>& scopes) {
  auto realm = challenge.params.find("realm");
  if (realm == challenge.params.end() || realm->second.empty()) {
    return MakeError(Code::kInvalidArgument, "the registry's Bearer challenge has no realm");
  }
  std::string url = realm->second;
  char sep = url.find('?') == std::string::npos ? '?' : '&';
  if (auto service = challenge.params.find("service"); service != challenge.params.end()) {
    url += sep + std::string("service=") + QueryEscape(service->second);
    sep = '&';
  }
  for (const std::string& s : scopes) {
    url += sep + std::string("scope=") + QueryEscape(s);
    sep = '&';
  }
  return url;
}

Result<std::string> ParseTokenResponse(std::string_view body) {
  nlohmann::json j = nlohmann::json::parse(body, nullptr, false);
  if (!j.is_object()) {
    return MakeError(Code::kInvalidArgument, "the token endpoint's reply is not a JSON object");
  }
  std::string token = JsonString(j, "token");
  if (token.empty()) token = JsonString(j, "access_token");
  if (token.empty()) {
    return MakeError(Code::kInvalidArgument, "the token endpoint's reply has no token");
  }
  return token;
}

std::string RepositoryScope(std::string_view path, std::string_view actions) {
  return "repository:" + std::string(path) + ":" + std::string(actions);
}

std::string BasicAuthorization(std::string_view username, std::string_view password) {
  return "Basic " + Base64Encode(std::string(username) + ":" + std::string(password));
}

}  // namespace berth::distribution
