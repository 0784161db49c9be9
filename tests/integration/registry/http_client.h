// HttpClient: a small blocking HTTP/1.1 client over libcurl for the registry conformance tests.
// One keep-alive connection per client; requests go to `base_url` + path, or to an absolute URL
// (a registry may answer with either in Location). Paths are sent as given (no "/../" folding),
// so tests can send names a registry must refuse. Not thread-safe: one client per thread.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace berth::registry_conformance {

struct HttpResponse {
  long status = 0;  // 0: no response (connection failed); `error` says why
  std::string error;
  // Header names lower-cased; a header sent several times has several values.
  std::map<std::string, std::vector<std::string>> headers;
  std::string body;

  // The first value of a header (case-insensitive name), "" if absent.
  std::string Header(std::string_view name) const;
  bool HasHeader(std::string_view name) const;
};

struct HttpRequest {
  std::string method = "GET";
  std::string url;  // "/v2/..." (joined to the base URL) or "http://..."
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

class HttpClient {
 public:
  explicit HttpClient(std::string base_url);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  HttpResponse Do(const HttpRequest& request);
  // Path of a Location-style URL: "http://h:p/v2/x?y" -> "/v2/x?y"; a path is returned as is.
  static std::string RelativePath(const std::string& url);
  const std::string& base_url() const { return base_url_; }

 private:
  std::string base_url_;
  void* curl_;  // CURL*; void* keeps <curl/curl.h> out of the header
};

// "url" + "?k=v" or "&k=v" (v percent-encoded except for the characters digests and media types
// use).
std::string WithQuery(const std::string& url, std::string_view key, std::string_view value);

}  // namespace berth::registry_conformance
