#include "cli/client.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>

#include <curl/curl.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "base/strings.h"
#include "cli/hijack.h"

namespace berth::cli {
namespace {

bool IsUnreserved(unsigned char c) {
  return std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~';
}

std::string QueryEscape(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (IsUnreserved(c)) {
      out += static_cast<char>(c);
    } else if (c == ' ') {
      out += '+';
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

}  // namespace

std::string EncodeQuery(const Params& query) {
  Params sorted = query;
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::string out;
  for (const auto& [key, value] : sorted) {
    if (!out.empty()) out += '&';
    out += QueryEscape(key);
    out += '=';
    out += QueryEscape(value);
  }
  return out;
}

std::string EscapePath(std::string_view path) {
  static constexpr std::string_view kKeep = "/:@!$&'()*+,;=";
  std::string out;
  for (unsigned char c : path) {
    if (IsUnreserved(c) || kKeep.find(static_cast<char>(c)) != std::string_view::npos) {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

int CompareApiVersions(std::string_view a, std::string_view b) {
  std::vector<std::string> pa = Split(a, '.'), pb = Split(b, '.');
  for (size_t i = 0; i < std::max(pa.size(), pb.size()); ++i) {
    long va = i < pa.size() ? std::strtol(pa[i].c_str(), nullptr, 10) : 0;
    long vb = i < pb.size() ? std::strtol(pb[i].c_str(), nullptr, 10) : 0;
    if (va != vb) return va < vb ? -1 : 1;
  }
  return 0;
}

Result<HostSpec> ParseHost(std::string_view host) {
  HostSpec spec;
  spec.url = std::string(host);
  if (host.starts_with("unix://")) {
    spec.socket_path = std::string(host.substr(7));
    if (spec.socket_path.empty()) {
      return MakeError(Code::kInvalidArgument, fmt::format("invalid host: {}", host));
    }
    spec.base_url = "http://api.moby.localhost";
    return spec;
  }
  std::string_view rest;
  if (host.starts_with("tcp://")) {
    rest = host.substr(6);
  } else if (host.starts_with("http://")) {
    rest = host.substr(7);
  } else {
    return MakeError(Code::kInvalidArgument, fmt::format("unable to parse docker host `{}`", host));
  }
  while (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  if (rest.empty()) {
    return MakeError(Code::kInvalidArgument, fmt::format("invalid host: {}", host));
  }
  spec.base_url = fmt::format("http://{}", rest);
  return spec;
}

// ---------------------------------------------------------------------------------------------
// CurlTransport

namespace {

struct CurlEasyDeleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
struct CurlSlistDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

// State shared with the libcurl callbacks of one exchange.
struct Exchange {
  CURL* curl = nullptr;
  Reader* body_stream = nullptr;
  Writer* sink = nullptr;
  Response response;
  std::optional<Error> callback_error;  // first error raised inside a callback
};

constexpr size_t kMaxErrorBody = 1 << 20;

size_t OnHeader(char* data, size_t size, size_t count, void* user) {
  auto* ex = static_cast<Exchange*>(user);
  std::string_view line(data, size * count);
  if (line.starts_with("HTTP/")) {
    ex->response.headers.clear();  // a new status line (after 100-continue or a redirect)
    return size * count;
  }
  size_t colon = line.find(':');
  if (colon != std::string_view::npos) {
    ex->response.headers[ToLower(TrimSpace(line.substr(0, colon)))] =
        std::string(TrimSpace(line.substr(colon + 1)));
  }
  return size * count;
}

size_t OnBody(char* data, size_t size, size_t count, void* user) {
  auto* ex = static_cast<Exchange*>(user);
  size_t n = size * count;
  long code = 0;
  curl_easy_getinfo(ex->curl, CURLINFO_RESPONSE_CODE, &code);
  if (ex->sink != nullptr && code >= 200 && code < 300) {
    Status s = ex->sink->Write(std::string_view(data, n));
    if (!s) {
      ex->callback_error = std::move(s).error();
      return 0;  // aborts the transfer
    }
    return n;
  }
  if (ex->response.body.size() < kMaxErrorBody || (code >= 200 && code < 300)) {
    ex->response.body.append(data, n);
  }
  return n;
}

size_t OnRead(char* buf, size_t size, size_t count, void* user) {
  auto* ex = static_cast<Exchange*>(user);
  Result<size_t> n = ex->body_stream->Read(buf, size * count);
  if (!n) {
    ex->callback_error = std::move(n).error().WithContext("read request body");
    return CURL_READFUNC_ABORT;
  }
  return *n;
}

class CurlTransport : public Transport {
 public:
  CurlTransport(HostSpec host, std::string user_agent)
      : host_(std::move(host)), user_agent_(std::move(user_agent)) {}

  Result<Upgraded> Upgrade(const Request& request) override {
    return UpgradeOver(host_, user_agent_, request);
  }
  Result<std::unique_ptr<PendingResponse>> Send(const Request& request) override {
    return SendOver(host_, user_agent_, request);
  }

  Result<Response> RoundTrip(const Request& request, Writer* sink) override {
    std::unique_ptr<CURL, CurlEasyDeleter> curl(curl_easy_init());
    if (!curl) return MakeError(Code::kResourceExhausted, "curl_easy_init failed");
    Exchange ex;
    ex.curl = curl.get();
    ex.sink = sink;
    ex.body_stream = request.body_stream;

    std::string url = host_.base_url + EscapePath(request.path);
    if (!request.query.empty()) url += "?" + EncodeQuery(request.query);
    CURL* c = curl.get();
    curl_easy_setopt(c, CURLOPT_URL, url.c_str());
    if (!host_.socket_path.empty()) {
      curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, host_.socket_path.c_str());
    }
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 30L);
    curl_easy_setopt(c, CURLOPT_USERAGENT, user_agent_.c_str());
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, &OnHeader);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &ex);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &OnBody);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &ex);

    curl_slist* raw_headers = nullptr;
    for (const auto& [name, value] : request.headers) {
      raw_headers = curl_slist_append(raw_headers, (name + ": " + value).c_str());
    }
    raw_headers = curl_slist_append(raw_headers, "Expect:");  // no 100-continue round trip

    if (request.method == "HEAD") {
      curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    } else if (request.method == "GET") {
      curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    } else {
      curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, request.method.c_str());
    }
    if (request.body_stream != nullptr) {
      curl_easy_setopt(c, CURLOPT_POST, 1L);
      curl_easy_setopt(c, CURLOPT_READFUNCTION, &OnRead);
      curl_easy_setopt(c, CURLOPT_READDATA, &ex);
      raw_headers = curl_slist_append(raw_headers, "Transfer-Encoding: chunked");
    } else if (request.body) {
      curl_easy_setopt(c, CURLOPT_POSTFIELDS, request.body->data());
      curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
                       static_cast<curl_off_t>(request.body->size()));
    } else if (request.method == "POST" || request.method == "PUT") {
      curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
      curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(0));
    }
    std::unique_ptr<curl_slist, CurlSlistDeleter> headers(raw_headers);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());

    spdlog::debug("{} {}", request.method, url);
    CURLcode rc = curl_easy_perform(c);
    if (ex.callback_error) return *std::move(ex.callback_error);
    if (rc != CURLE_OK) {
      Code code = Code::kInternal;
      if (rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST ||
          rc == CURLE_OPERATION_TIMEDOUT) {
        code = Code::kUnavailable;
      }
      return MakeError(
          code, fmt::format("{} {}: {}", request.method, request.path, curl_easy_strerror(rc)));
    }
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    ex.response.status = static_cast<int>(status);
    return std::move(ex.response);
  }

 private:
  HostSpec host_;
  std::string user_agent_;
};

}  // namespace

Result<std::unique_ptr<Transport>> NewCurlTransport(const HostSpec& host, std::string user_agent) {
  static const CURLcode init = curl_global_init(CURL_GLOBAL_DEFAULT);
  if (init != CURLE_OK) return MakeError(Code::kInternal, "curl_global_init failed");
  return std::unique_ptr<Transport>(std::make_unique<CurlTransport>(host, std::move(user_agent)));
}

// ---------------------------------------------------------------------------------------------
// ApiClient

namespace {

Code CodeFromHttpStatus(int status) {
  switch (status) {
    case 400:
      return Code::kInvalidArgument;
    case 401:
      return Code::kUnauthenticated;
    case 403:
      return Code::kPermissionDenied;
    case 404:
      return Code::kNotFound;
    case 409:
      return Code::kConflict;
    case 501:
      return Code::kNotImplemented;
    case 503:
      return Code::kUnavailable;
    default:
      return Code::kInternal;
  }
}

}  // namespace

Error ErrorFromResponse(const Response& response) {
  std::string message;
  std::string_view body = TrimSpace(response.body);
  if (!body.empty()) {
    auto parsed = nlohmann::ordered_json::parse(body, nullptr, /*allow_exceptions=*/false);
    if (parsed.is_object() && parsed.contains("message") && parsed["message"].is_string()) {
      message = parsed["message"].get<std::string>();
    } else {
      message = std::string(body);
    }
  } else {
    message = fmt::format("request returned status {}", response.status);
  }
  return MakeError(CodeFromHttpStatus(response.status),
                   fmt::format("Error response from daemon: {}", message));
}

ApiClient::ApiClient(Transport& transport, std::string host_url, std::string version_override)
    : transport_(transport),
      host_url_(std::move(host_url)),
      version_(std::move(version_override)),
      negotiated_(!version_.empty()) {}

Error ApiClient::ConnectError(const Error& cause) const {
  if (cause.code != Code::kUnavailable) return cause;
  spdlog::debug("connect: {}", cause.message);
  return MakeError(Code::kUnavailable,
                   fmt::format("Cannot connect to the Berth daemon at {}. Is the berth daemon "
                               "running?",
                               host_url_));
}

Status ApiClient::Negotiate() {
  Request ping;
  ping.method = "HEAD";
  ping.path = "/_ping";
  Result<Response> response = transport_.RoundTrip(ping, nullptr);
  if (!response) return ConnectError(response.error());
  auto it = response->headers.find("api-version");
  if (response->status >= 200 && response->status < 300) {
    version_ = std::string(it == response->headers.end() ? kFallbackApiVersion : it->second);
  } else {
    // Like the docker CLI: a daemon without /_ping gets our own version.
    version_ = std::string(it == response->headers.end() ? kMaxApiVersion : it->second);
  }
  if (CompareApiVersions(version_, kMaxApiVersion) > 0) version_ = std::string(kMaxApiVersion);
  negotiated_ = true;
  spdlog::debug("API version {}", version_);
  return Ok();
}

Result<std::string> ApiClient::Version() {
  if (!negotiated_) BERTH_RETURN_IF_ERROR(Negotiate());
  return version_;
}

Result<Response> ApiClient::Do(Request request, Writer* sink) {
  BERTH_ASSIGN_OR_RETURN(std::string version, Version());
  request.path = "/v" + version + request.path;
  Result<Response> response = transport_.RoundTrip(request, sink);
  if (!response) return ConnectError(response.error());
  if (response->status < 200 || response->status >= 300) return ErrorFromResponse(*response);
  return response;
}

Result<nlohmann::ordered_json> ApiClient::GetJson(const std::string& path, Params query) {
  Request request;
  request.path = path;
  request.query = std::move(query);
  BERTH_ASSIGN_OR_RETURN(Response response, Do(std::move(request)));
  auto parsed = nlohmann::ordered_json::parse(response.body, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) {
    return MakeError(Code::kDataLoss, fmt::format("GET {}: the daemon sent invalid JSON", path));
  }
  return parsed;
}

namespace {

// Turns a non-2xx reply of a pending request into the daemon's error.
class CheckedPending : public PendingResponse {
 public:
  explicit CheckedPending(std::unique_ptr<PendingResponse> inner) : inner_(std::move(inner)) {}
  Result<Response> Await() override {
    BERTH_ASSIGN_OR_RETURN(Response response, inner_->Await());
    if (response.status < 200 || response.status >= 300) return ErrorFromResponse(response);
    return response;
  }

 private:
  std::unique_ptr<PendingResponse> inner_;
};

}  // namespace

Result<std::unique_ptr<HijackedConn>> ApiClient::Hijack(Request request) {
  BERTH_ASSIGN_OR_RETURN(std::string version, Version());
  request.path = "/v" + version + request.path;
  Result<Upgraded> upgraded = transport_.Upgrade(request);
  if (!upgraded) return ConnectError(upgraded.error());
  if (!upgraded->conn) {
    if (upgraded->response.status >= 200 && upgraded->response.status < 300) {
      return MakeError(Code::kInternal,
                       fmt::format("{} {}: the daemon did not upgrade the connection (status {})",
                                   request.method, request.path, upgraded->response.status));
    }
    return ErrorFromResponse(upgraded->response);
  }
  return std::move(upgraded->conn);
}

Result<std::unique_ptr<PendingResponse>> ApiClient::Send(Request request) {
  BERTH_ASSIGN_OR_RETURN(std::string version, Version());
  request.path = "/v" + version + request.path;
  Result<std::unique_ptr<PendingResponse>> pending = transport_.Send(request);
  if (!pending) return ConnectError(pending.error());
  return std::unique_ptr<PendingResponse>(std::make_unique<CheckedPending>(std::move(*pending)));
}

Status ApiClient::StreamLines(Request request,
                              const std::function<Status(std::string_view)>& on_line) {
  LineWriter lines(on_line);
  BERTH_ASSIGN_OR_RETURN(Response response, Do(std::move(request), &lines));
  (void)response;
  return lines.Finish();
}

Status LineWriter::Write(std::string_view data) {
  while (!data.empty()) {
    size_t nl = data.find('\n');
    if (nl == std::string_view::npos) {
      pending_.append(data);
      return Ok();
    }
    pending_.append(data.substr(0, nl));
    data.remove_prefix(nl + 1);
    std::string line = std::move(pending_);
    pending_.clear();
    if (!line.empty() && line.back() == '\r') line.pop_back();
    BERTH_RETURN_IF_ERROR(on_line_(line));
  }
  return Ok();
}

Status LineWriter::Finish() {
  if (pending_.empty()) return Ok();
  std::string line = std::move(pending_);
  pending_.clear();
  return on_line_(line);
}

}  // namespace berth::cli
