#include "cli/client.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "base/strings.h"

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
