// Registry authentication, the parts that are plain data: the credentials a client hands the
// engine (X-Registry-Auth), the server's WWW-Authenticate challenges, and Docker's token flow
// (specs/registry-auth/token.md): a 401 with a Bearer challenge names a token endpoint (realm,
// service); a GET there with the scope (and Basic credentials, if any) returns a token that the
// retried request carries. No I/O. Thread-compatible.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace berth::distribution {

// Docker's registry.AuthConfig, as the CLI sends it base64url-encoded in X-Registry-Auth.
struct AuthConfig {
  std::string username;
  std::string password;
  std::string server_address;
  std::string identity_token;  // OAuth refresh token from a login; used instead of a password
  std::string registry_token;  // a bearer token to send as is

  bool empty() const {
    return username.empty() && password.empty() && identity_token.empty() && registry_token.empty();
  }
};

// Decodes X-Registry-Auth: base64 (URL-safe or standard, padding optional) of a JSON object
// with username, password, serveraddress, identitytoken, registrytoken. Empty input or "{}"
// gives empty credentials. InvalidArgument for anything else that does not decode.
Result<AuthConfig> DecodeRegistryAuth(std::string_view header);

struct Challenge {
  std::string scheme;                         // lower case: "bearer", "basic"
  std::map<std::string, std::string> params;  // keys lower case: realm, service, scope, error
};

// Parses one WWW-Authenticate value (RFC 7235): `Bearer realm="https://a/token",service="reg",
// scope="repository:x:pull"`, possibly several challenges separated by commas. Quoted values
// may contain commas and backslash escapes. Unparseable trailing text is ignored.
std::vector<Challenge> ParseChallenges(std::string_view header);

// The token endpoint's URL for `challenge` (a Bearer one with a realm): realm?service=..&scope=..
// (one scope parameter each, as the spec's example). InvalidArgument without a realm.
Result<std::string> TokenUrl(const Challenge& challenge, const std::vector<std::string>& scopes);

// The token from a token endpoint's JSON reply: "token", or "access_token" (OAuth 2 form).
// InvalidArgument when neither is a non-empty string.
Result<std::string> ParseTokenResponse(std::string_view body);

// "repository:<path>:pull" (or "pull,push").
std::string RepositoryScope(std::string_view path, std::string_view actions);

// "Basic base64(user:password)".
std::string BasicAuthorization(std::string_view username, std::string_view password);

std::string Base64Encode(std::string_view bytes);
// Standard or URL-safe alphabet, padding optional. nullopt-like: InvalidArgument on bad input.
Result<std::string> Base64Decode(std::string_view text);

// Percent-encodes a URL query value (RFC 3986 unreserved characters kept).
std::string QueryEscape(std::string_view s);

}  // namespace berth::distribution
