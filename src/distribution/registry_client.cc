#include "distribution/registry_client.h"

#include <dirent.h>

#include <mutex>
#include <vector>

#include <curl/curl.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "base/file.h"
#include "base/strings.h"
#include "oci/manifest.h"
#include "oci/media_types.h"

namespace berth::distribution {
namespace {

constexpr size_t kMaxManifestBytes = 4 << 20;  // the spec's suggested limit
constexpr size_t kMaxErrorBody = 64 << 10;
constexpr std::string_view kSystemCaBundle = "/etc/ssl/certs/ca-certificates.crt";

void GlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

// What one transfer's callbacks share.
struct Transfer {
  CURL* curl = nullptr;
  long status = 0;
  std::map<std::string, std::string>* headers = nullptr;
  std::string* body = nullptr;
  size_t body_limit = 0;
  BlobSink* stream = nullptr;
  int64_t range_from = 0;
  bool began = false;
  const std::atomic<bool>* cancel = nullptr;
  Reader* upload = nullptr;
  int64_t uploaded = 0;
  const std::function<void(int64_t)>* sent = nullptr;
  Status error = Ok();  // set by a callback that stopped the transfer
};

size_t OnUpload(char* buf, size_t size, size_t n, void* p) {
  auto* t = static_cast<Transfer*>(p);
  Result<size_t> got = t->upload->Read(buf, size * n);
  if (!got) {
    t->error = std::move(got).error();
    return CURL_READFUNC_ABORT;
  }
  t->uploaded += static_cast<int64_t>(*got);
  if (t->sent && *t->sent) (*t->sent)(t->uploaded);
  return *got;
}

size_t OnHeader(char* data, size_t size, size_t n, void* p) {
  auto* t = static_cast<Transfer*>(p);
  std::string_view line(data, size * n);
  line = TrimSpace(line);
  if (line.starts_with("HTTP/")) {
    // A new response (after a redirect or a 100 Continue): start over.
    t->headers->clear();
    std::vector<std::string> parts = Split(line, ' ');
    t->status = parts.size() > 1 ? std::atol(parts[1].c_str()) : 0;
  } else if (size_t colon = line.find(':'); colon != std::string_view::npos) {
    (*t->headers)[ToLower(line.substr(0, colon))] = std::string(TrimSpace(line.substr(colon + 1)));
  }
  return size * n;
}

// Content-Range: bytes <start>-<end>/<total>; -1 if absent or malformed.
int64_t RangeStart(const std::map<std::string, std::string>& headers) {
  auto it = headers.find("content-range");
  if (it == headers.end() || !it->second.starts_with("bytes ")) return -1;
  std::string rest = it->second.substr(6);
  size_t dash = rest.find('-');
  if (dash == 0 || dash == std::string::npos) return -1;
  for (size_t i = 0; i < dash; ++i) {
    if (rest[i] < '0' || rest[i] > '9') return -1;
  }
  return std::stoll(rest.substr(0, dash));
}

size_t OnBody(char* data, size_t size, size_t n, void* p) {
  auto* t = static_cast<Transfer*>(p);
  size_t total = size * n;
  std::string_view chunk(data, total);
  bool ok_status = t->status >= 200 && t->status < 300;
  if (t->stream && ok_status) {
    if (!t->began) {
      t->began = true;
      int64_t offset = 0;
      if (t->status == 206) {
        offset = RangeStart(*t->headers);
        if (offset != t->range_from) {
          t->error = MakeError(Code::kUnavailable,
                               fmt::format("the registry answered a request for bytes from {} "
                                           "with a range starting at {}",
                                           t->range_from, offset));
          return 0;
        }
      }
      t->error = t->stream->Begin(offset);
      if (!t->error) return 0;
    }
    t->error = t->stream->Write(chunk);
    return t->error ? total : 0;
  }
  size_t limit = ok_status ? t->body_limit : kMaxErrorBody;
  if (t->body->size() + total > limit) {
    if (!ok_status) return total;  // an error body: keep its start only
    t->error = MakeError(Code::kResourceExhausted,
                         fmt::format("the registry's reply is larger than {} bytes", limit));
    return 0;
  }
  t->body->append(chunk);
  return total;
}

int OnProgress(void* p, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto* t = static_cast<Transfer*>(p);
  return t->cancel && t->cancel->load() ? 1 : 0;
}

// The first error of an OCI error body ({"errors":[{"code","message","detail"}]}), as
// "message" (the code's text when there is no message); "" when the body is not one.
std::string RegistryErrorMessage(const std::string& body) {
  nlohmann::json j = nlohmann::json::parse(body, nullptr, false);
  if (!j.is_object() || !j.contains("errors") || !j["errors"].is_array() || j["errors"].empty() ||
      !j["errors"][0].is_object()) {
    return "";
  }
  const nlohmann::json& e = j["errors"][0];
  std::string message = e.value("message", "");
  std::string code = e.value("code", "");
  if (message.empty()) message = ToLower(code);
  return message;
}

std::string MediaTypeOf(const std::map<std::string, std::string>& headers) {
  auto it = headers.find("content-type");
  if (it == headers.end()) return "";
  std::string_view v = it->second;
  if (size_t semi = v.find(';'); semi != std::string_view::npos) v = v.substr(0, semi);
  return ToLower(TrimSpace(v));
}

}  // namespace

std::string_view ManifestAccept() {
  static const std::string accept =
      fmt::format("{}, {}, {}, {}", oci::kMediaTypeOciManifest, oci::kMediaTypeDockerManifest,
                  oci::kMediaTypeOciIndex, oci::kMediaTypeDockerManifestList);
  return accept;
}

RegistryClient::RegistryClient(Endpoint endpoint, std::string path, AuthConfig auth,
                               ClientOptions options)
    : endpoint_(std::move(endpoint)),
      path_(std::move(path)),
      auth_(std::move(auth)),
      options_(std::move(options)) {
  GlobalInit();
  if (!auth_.registry_token.empty()) authorization_ = "Bearer " + auth_.registry_token;
  skip_verify_ = endpoint_.insecure;
  if (endpoint_.insecure || options_.certs_dir.empty()) return;
  // <certs_dir>/<host>/: *.crt are CAs (added to the system's), <x>.cert + <x>.key a client
  // certificate, as Docker reads /etc/docker/certs.d.
  std::string dir = options_.certs_dir + "/" + endpoint_.host;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return;
  std::vector<std::string> names;
  while (dirent* e = ::readdir(d)) names.emplace_back(e->d_name);
  ::closedir(d);
  std::string extra;
  for (const std::string& name : names) {
    if (name.ends_with(".crt")) {
      Result<std::string> pem = ReadFile(dir + "/" + name);
      if (pem) {
        extra += *pem + "\n";
      } else {
        spdlog::warn("registry {}: {}", endpoint_.host, pem.error().message);
      }
    } else if (name.ends_with(".cert")) {
      std::string key = dir + "/" + name.substr(0, name.size() - 5) + ".key";
      if (PathExists(key)) {
        client_cert_ = dir + "/" + name;
        client_key_ = key;
      }
    }
  }
  if (!extra.empty()) {
    Result<std::string> system = ReadFile(std::string(kSystemCaBundle));
    ca_blob_ = (system ? *system + "\n" : std::string()) + extra;
  }
}

Result<RegistryClient::Response> RegistryClient::Perform(
    const std::string& method, const std::string& url,
    const std::map<std::string, std::string>& headers, BlobSink* stream, int64_t range_from,
    const std::atomic<bool>* cancel, size_t body_limit, Upload* upload) {
  CURL* curl = curl_easy_init();
  if (!curl) return MakeError(Code::kInternal, "cannot initialise libcurl");
  Response r;
  Transfer t;
  t.curl = curl;
  t.headers = &r.headers;
  t.body = &r.body;
  t.body_limit = body_limit;
  t.stream = stream;
  t.range_from = range_from;
  t.cancel = cancel;
  curl_slist* list = nullptr;
  for (const auto& [k, v] : headers) list = curl_slist_append(list, (k + ": " + v).c_str());
  if (range_from > 0) {
    list = curl_slist_append(list, fmt::format("Range: bytes={}-", range_from).c_str());
  }
  char err[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  if (upload) {
    t.upload = upload->data;
    t.sent = &upload->sent;
    curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(curl, CURLOPT_READFUNCTION, &OnUpload);
    curl_easy_setopt(curl, CURLOPT_READDATA, &t);
    curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(upload->size));
  }
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method.c_str());
  if (method == "HEAD") curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(curl, CURLOPT_MAXREDIRS, 10L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 30L);
  // A stalled registry: less than 1 byte/s for 60 s ends the transfer.
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, 60L);
  curl_easy_setopt(curl, CURLOPT_USERAGENT, options_.user_agent.c_str());
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, err);
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, &OnHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &t);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &OnBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &t);
  curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, &OnProgress);
  curl_easy_setopt(curl, CURLOPT_XFERINFODATA, &t);
  if (options_.max_recv_speed > 0) {
    curl_easy_setopt(curl, CURLOPT_MAX_RECV_SPEED_LARGE,
                     static_cast<curl_off_t>(options_.max_recv_speed));
  }
  if (skip_verify_ && url.starts_with("https://" + endpoint_.host + "/")) {
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 0L);
  }
  curl_blob ca{};
  if (!ca_blob_.empty()) {
    ca.data = ca_blob_.data();
    ca.len = ca_blob_.size();
    ca.flags = CURL_BLOB_NOCOPY;
    curl_easy_setopt(curl, CURLOPT_CAINFO_BLOB, &ca);
  }
  if (!client_cert_.empty()) {
    curl_easy_setopt(curl, CURLOPT_SSLCERT, client_cert_.c_str());
    curl_easy_setopt(curl, CURLOPT_SSLKEY, client_key_.c_str());
  }
  CURLcode rc = curl_easy_perform(curl);
  curl_easy_cleanup(curl);
  curl_slist_free_all(list);
  if (!t.error) return std::move(t.error).error();
  if (rc != CURLE_OK) {
    if (rc == CURLE_ABORTED_BY_CALLBACK && cancel && cancel->load()) {
      return MakeError(Code::kCancelled, method + " " + url + ": cancelled");
    }
    return MakeError(Code::kUnavailable,
                     method + " \"" + url + "\": " + (err[0] ? err : curl_easy_strerror(rc)));
  }
  r.status = t.status;
  // A stream that got a 2xx with an empty body never saw Begin: tell it now.
  if (stream && !t.began && r.status >= 200 && r.status < 300) {
    BERTH_RETURN_IF_ERROR(stream->Begin(r.status == 206 ? range_from : 0));
  }
  return r;
}

void RegistryClient::Probe() {
  std::call_once(probed_, [this] {
    if (!endpoint_.insecure) return;
    Result<Response> r = Perform("GET", "https://" + endpoint_.host + "/v2/", {}, nullptr, 0,
                                 nullptr, kMaxErrorBody);
    if (r) {
      spdlog::debug("registry {}: speaks TLS; https without verification", endpoint_.host);
      endpoint_.insecure = false;
    }
  });
}

Status RegistryClient::Authenticate(const std::string& www_authenticate) {
  std::vector<Challenge> challenges = ParseChallenges(www_authenticate);
  const Challenge* bearer = nullptr;
  const Challenge* basic = nullptr;
  for (const Challenge& c : challenges) {
    if (c.scheme == "bearer" && !bearer) bearer = &c;
    if (c.scheme == "basic" && !basic) basic = &c;
  }
  if (bearer) {
    // A login (no repository) asks for a token with no scope, as Docker does.
    std::vector<std::string> scopes;
    if (!path_.empty()) scopes.push_back(RepositoryScope(path_, options_.actions));
    BERTH_ASSIGN_OR_RETURN(std::string url, TokenUrl(*bearer, scopes));
    std::map<std::string, std::string> headers;
    if (!auth_.username.empty()) {
      headers["Authorization"] = BasicAuthorization(auth_.username, auth_.password);
    }
    BERTH_ASSIGN_OR_RETURN(Response r, Perform("GET", url, headers, nullptr, 0, nullptr, 1 << 20));
    if (r.status != 200) {
      std::string message = RegistryErrorMessage(r.body);
      return MakeError(
          r.status == 401 || r.status == 403 ? Code::kUnauthenticated : Code::kUnavailable,
          fmt::format("get a token from {}: status {}{}", bearer->params.at("realm"), r.status,
                      message.empty() ? "" : ": " + message));
    }
    BERTH_ASSIGN_OR_RETURN(std::string token, ParseTokenResponse(r.body));
    std::lock_guard lock(mu_);
    authorization_ = "Bearer " + token;
    return Ok();
  }
  if (basic) {
    if (auth_.username.empty()) {
      return MakeError(Code::kUnauthenticated,
                       "the registry " + endpoint_.host + " asks for a login (Basic auth)");
    }
    std::lock_guard lock(mu_);
    authorization_ = BasicAuthorization(auth_.username, auth_.password);
    return Ok();
  }
  return MakeError(Code::kUnauthenticated,
                   "the registry " + endpoint_.host + " refused access with no usable challenge");
}

Result<RegistryClient::Response> RegistryClient::Do(const std::string& method,
                                                    const std::string& url,
                                                    std::map<std::string, std::string> headers,
                                                    BlobSink* stream, int64_t range_from,
                                                    const std::atomic<bool>* cancel,
                                                    size_t body_limit, Upload* upload) {
  for (int attempt = 0;; ++attempt) {
    std::string used;
    {
      std::lock_guard lock(mu_);
      used = authorization_;
    }
    if (!used.empty()) headers["Authorization"] = used;
    BERTH_ASSIGN_OR_RETURN(
        Response r, Perform(method, url, headers, stream, range_from, cancel, body_limit, upload));
    // A streamed body cannot be sent twice: its 401 is final.
    if (r.status != 401 || attempt > 0 || (upload && upload->data)) return r;
    auto challenge = r.headers.find("www-authenticate");
    if (challenge == r.headers.end()) return r;
    {
      // Another request may have authenticated meanwhile: retry with its token first.
      std::lock_guard lock(mu_);
      if (authorization_ != used) continue;
    }
    Status authenticated = Authenticate(challenge->second);
    if (!authenticated) {
      // Refused (no or wrong credentials): the caller reports the 401 in its own words
      // ("pull access denied ..."); why the token was refused goes to the log.
      if (authenticated.error().code != Code::kUnauthenticated) return authenticated.error();
      spdlog::info("registry {}: {}", endpoint_.host, authenticated.error().message);
      return r;
    }
  }
}

Error RegistryClient::ErrorFor(const Response& r, const std::string& what) {
  std::string message = RegistryErrorMessage(r.body);
  if (message.empty()) message = fmt::format("unexpected status {}", r.status);
  Code code = Code::kInternal;
  switch (r.status) {
    case 401:
      code = Code::kUnauthenticated;
      break;
    case 403:
      code = Code::kPermissionDenied;
      break;
    case 404:
      code = Code::kNotFound;
      break;
    case 429:
    case 500:
    case 502:
    case 503:
    case 504:
      code = Code::kUnavailable;
      break;
    default:
      break;
  }
  return MakeError(code, what + ": " + message);
}

Status RegistryClient::Ping() {
  Probe();
  BERTH_ASSIGN_OR_RETURN(Response r,
                         Do("GET", PingUrl(endpoint_), {}, nullptr, 0, nullptr, kMaxErrorBody));
  if (r.status == 200) return Ok();
  if (r.status == 401) {
    // Docker's wording, which `docker login` shows.
    return MakeError(Code::kUnauthenticated, "login attempt to " + PingUrl(endpoint_) +
                                                 " failed with status: 401 Unauthorized");
  }
  return MakeError(Code::kUnavailable,
                   fmt::format("{} is not an OCI registry: GET {} returned status {}",
                               endpoint_.host, PingUrl(endpoint_), r.status));
}

Result<FetchedManifest> RegistryClient::GetManifest(std::string_view reference) {
  Probe();
  std::string url = ManifestUrl(endpoint_, path_, reference);
  BERTH_ASSIGN_OR_RETURN(Response r, Do("GET", url, {{"Accept", std::string(ManifestAccept())}},
                                        nullptr, 0, nullptr, kMaxManifestBytes));
  std::string name = endpoint_.host + "/" + path_ +
                     (reference.find(':') == std::string_view::npos ? ":" : "@") +
                     std::string(reference);
  if (r.status == 404) {
    return ErrorFor(r, "manifest for " + name + " not found");
  }
  if (r.status == 401) {
    Error e = ErrorFor(r, "pull access denied for " + endpoint_.host + "/" + path_ +
                              ", repository does not exist or may require 'docker login'");
    return e;
  }
  if (r.status != 200) return ErrorFor(r, "get manifest " + name);
  FetchedManifest m;
  m.bytes = std::move(r.body);
  m.media_type = MediaTypeOf(r.headers);
  if (!oci::IsManifest(m.media_type) && !oci::IsIndex(m.media_type)) {
    // application/json, text/plain or nothing: trust the document's own shape.
    Result<std::string> detected = oci::DetectManifestMediaType(m.bytes);
    if (!detected) {
      return std::move(detected).error().WithContext("manifest for " + name);
    }
    m.media_type = *detected;
  }
  oci::Algorithm alg = oci::Algorithm::kSha256;
  std::optional<oci::Digest> said;
  if (auto h = r.headers.find("docker-content-digest"); h != r.headers.end()) {
    if (Result<oci::Digest> d = oci::Digest::Parse(h->second)) {
      said = *d;
      alg = d->algorithm();
    }
  }
  m.digest = oci::Digest::Of(m.bytes, alg);
  if (said && *said != m.digest) {
    return MakeError(Code::kDataLoss, "manifest for " + name +
                                          ": the registry says its digest is " + said->ToString() +
                                          ", its content has " + m.digest.ToString());
  }
  return m;
}

Result<std::string> RegistryClient::GetBlob(const oci::Digest& digest, size_t limit) {
  Probe();
  BERTH_ASSIGN_OR_RETURN(
      Response r, Do("GET", BlobUrl(endpoint_, path_, digest), {}, nullptr, 0, nullptr, limit));
  if (r.status != 200) return ErrorFor(r, "get blob " + digest.ToString());
  oci::Digest got = oci::Digest::Of(r.body, digest.algorithm());
  if (got != digest) {
    return MakeError(Code::kDataLoss, "blob " + digest.ToString() +
                                          ": digest mismatch: its content has " + got.ToString());
  }
  return std::move(r.body);
}

Status RegistryClient::FetchBlob(const oci::Digest& digest, int64_t offset, BlobSink& sink,
                                 const std::atomic<bool>* cancel) {
  Probe();
  BERTH_ASSIGN_OR_RETURN(
      Response r, Do("GET", BlobUrl(endpoint_, path_, digest), {}, &sink, offset, cancel, 0));
  if (r.status == 200 || r.status == 206) return Ok();
  if (r.status == 416) {
    return MakeError(Code::kFailedPrecondition,
                     fmt::format("blob {}: the registry refused the range from byte {}",
                                 digest.ToString(), offset));
  }
  return ErrorFor(r, "get blob " + digest.ToString());
}

Result<std::vector<std::string>> RegistryClient::ListTags() {
  Probe();
  std::vector<std::string> tags;
  std::string url = endpoint_.BaseUrl() + "/v2/" + path_ + "/tags/list";
  for (int page = 0; page < 1000 && !url.empty(); ++page) {
    BERTH_ASSIGN_OR_RETURN(Response r, Do("GET", url, {}, nullptr, 0, nullptr, 16 << 20));
    if (r.status == 401) {
      return MakeError(Code::kUnauthenticated,
                       "pull access denied for " + endpoint_.host + "/" + path_ +
                           ", repository does not exist or may require 'docker login'");
    }
    if (r.status != 200) return ErrorFor(r, "list the tags of " + endpoint_.host + "/" + path_);
    nlohmann::json j = nlohmann::json::parse(r.body, nullptr, false);
    if (!j.is_object()) {
      return MakeError(Code::kInvalidArgument, "tags of " + path_ + ": the reply is not JSON");
    }
    if (auto it = j.find("tags"); it != j.end() && it->is_array()) {
      for (const nlohmann::json& t : *it) {
        if (t.is_string()) tags.push_back(t.get<std::string>());
      }
    }
    // Link: </v2/<path>/tags/list?last=x&n=y>; rel="next"
    url.clear();
    if (auto link = r.headers.find("link"); link != r.headers.end()) {
      size_t open = link->second.find('<'), close = link->second.find('>');
      if (open != std::string::npos && close != std::string::npos && close > open) {
        url = link->second.substr(open + 1, close - open - 1);
        if (url.starts_with("/")) url = endpoint_.BaseUrl() + url;
      }
    }
  }
  return tags;
}

Error RegistryClient::PushDenied() const {
  return MakeError(Code::kUnauthenticated, "push access denied to " + endpoint_.host + "/" + path_ +
                                               ": authentication required (log in first)");
}

Result<bool> RegistryClient::HasBlob(const oci::Digest& digest) {
  Probe();
  BERTH_ASSIGN_OR_RETURN(Response r, Do("HEAD", BlobUrl(endpoint_, path_, digest), {}, nullptr, 0,
                                        nullptr, kMaxErrorBody));
  if (r.status == 200) return true;
  if (r.status == 404) return false;
  if (r.status == 401) return PushDenied();
  return ErrorFor(r, "check blob " + digest.ToString());
}

Status RegistryClient::PushBlob(const oci::Digest& digest, int64_t size, Reader& data,
                                const std::function<void(int64_t)>& sent) {
  Probe();
  std::string what = "upload blob " + digest.ToString();
  BERTH_ASSIGN_OR_RETURN(Response started,
                         Do("POST", endpoint_.BaseUrl() + "/v2/" + path_ + "/blobs/uploads/",
                            {{"Content-Length", "0"}}, nullptr, 0, nullptr, kMaxErrorBody));
  if (started.status == 401) return PushDenied();
  if (started.status != 202) return ErrorFor(started, what);
  auto location = started.headers.find("location");
  if (location == started.headers.end() || location->second.empty()) {
    return MakeError(Code::kUnavailable, what + ": the registry sent no upload Location");
  }
  std::string url = location->second;
  if (url.starts_with("/")) url = endpoint_.BaseUrl() + url;
  url += (url.find('?') == std::string::npos ? "?" : "&") + std::string("digest=") +
         QueryEscape(digest.ToString());
  Upload upload{&data, size, sent};
  BERTH_ASSIGN_OR_RETURN(Response done,
                         Do("PUT", url, {{"Content-Type", "application/octet-stream"}}, nullptr, 0,
                            nullptr, kMaxErrorBody, &upload));
  if (done.status != 201) return ErrorFor(done, what);
  return Ok();
}

Result<bool> RegistryClient::MountBlob(const oci::Digest& digest, const std::string& from) {
  Probe();
  std::string url = endpoint_.BaseUrl() + "/v2/" + path_ + "/blobs/uploads/?mount=" +
                    QueryEscape(digest.ToString()) + "&from=" + QueryEscape(from);
  BERTH_ASSIGN_OR_RETURN(Response r,
                         Do("POST", url, {{"Content-Length", "0"}}, nullptr, 0, nullptr, kMaxErrorBody));
  if (r.status == 201) return true;
  if (r.status == 401) return PushDenied();
  if (r.status != 202) return ErrorFor(r, "mount blob " + digest.ToString() + " from " + from);
  // An upload session we do not want: give it back (failures do not matter, it expires).
  if (auto location = r.headers.find("location"); location != r.headers.end() && !location->second.empty()) {
    std::string cancel = location->second;
    if (cancel.starts_with("/")) cancel = endpoint_.BaseUrl() + cancel;
    (void)Do("DELETE", cancel, {}, nullptr, 0, nullptr, kMaxErrorBody);
  }
  return false;
}

Result<oci::Digest> RegistryClient::PutManifest(std::string_view tag, const std::string& bytes,
                                                const std::string& media_type) {
  Probe();
  StringReader body(bytes);
  Upload upload{&body, static_cast<int64_t>(bytes.size()), {}};
  BERTH_ASSIGN_OR_RETURN(
      Response r, Do("PUT", ManifestUrl(endpoint_, path_, tag), {{"Content-Type", media_type}},
                     nullptr, 0, nullptr, kMaxErrorBody, &upload));
  if (r.status != 201) return ErrorFor(r, "put manifest " + std::string(tag));
  oci::Digest digest = oci::Digest::Of(bytes);
  if (auto h = r.headers.find("docker-content-digest"); h != r.headers.end()) {
    Result<oci::Digest> said = oci::Digest::Parse(h->second);
    if (said && *said != digest) {
      return MakeError(Code::kDataLoss, "put manifest " + std::string(tag) +
                                            ": the registry stored it as " + said->ToString() +
                                            ", not " + digest.ToString());
    }
  }
  return digest;
}

}  // namespace berth::distribution
