// RegistryClient: one repository of one registry, over the OCI distribution API
// (specs/oci-distribution/spec.md) with libcurl: ping, manifests with content negotiation, blobs
// streamed (resumable with Range). Authentication is handled here: a 401 with a Bearer
// challenge sends the client to the token endpoint (with Basic credentials if it has any) and
// the request is retried once with the token; a Basic challenge is answered with the
// credentials. The token is then reused for every request of this client.
//
// TLS: https. An insecure endpoint (loopback, --insecure-registry) is probed once, as Docker
// does: https without certificate verification if the registry speaks TLS, else plain http.
// Extra CA certificates for a host are
// the *.crt files in <certs_dir>/<host>/ (Docker's /etc/docker/certs.d layout), added to the
// system's; a <name>.cert + <name>.key pair there is the client certificate.
//
// Thread-safety: safe for concurrent use (each request has its own curl handle; the token is
// guarded).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "base/io.h"
#include "base/result.h"
#include "distribution/auth.h"
#include "distribution/endpoint.h"
#include "oci/digest.h"

namespace berth::distribution {

struct ClientOptions {
  std::string certs_dir = "/etc/berth/certs.d";
  std::string user_agent = "berth";
  // Bytes per second per transfer; 0: unlimited (a test knob for interrupting a pull).
  int64_t max_recv_speed = 0;
  // The actions a token is asked for: "pull", or "pull,push" for a push.
  std::string actions = "pull";
};

struct FetchedManifest {
  std::string bytes;
  std::string media_type;  // from Content-Type, or detected from the bytes when that is vague
  oci::Digest digest;      // of the bytes (checked against Docker-Content-Digest when sent)
};

// Receives a blob as it streams.
class BlobSink {
 public:
  virtual ~BlobSink() = default;
  // Called once before the first byte with where the data starts: the requested offset when
  // the registry honoured the Range, 0 when it sent the whole blob.
  virtual Status Begin(int64_t offset) = 0;
  virtual Status Write(std::string_view data) = 0;
};

// The Accept header of a manifest request: OCI and Docker manifests and indexes.
std::string_view ManifestAccept();

class RegistryClient {
 public:
  RegistryClient(Endpoint endpoint, std::string path, AuthConfig auth, ClientOptions options);

  // After the first request: https for an insecure registry that speaks TLS.
  const Endpoint& endpoint() const { return endpoint_; }
  const std::string& path() const { return path_; }

  // GET /v2/, authenticating if asked (a login check). Unauthenticated "login attempt to
  // <url> failed with status: 401 Unauthorized" when the credentials are refused; Unavailable
  // when the registry cannot be reached or is not a v2 registry.
  Status Ping();
  // GET the manifest (or index) by tag or digest. NotFound "manifest unknown" for a missing
  // tag or repository; Unauthenticated when access is denied.
  Result<FetchedManifest> GetManifest(std::string_view reference);
  // A small blob (config) whole, verified against `digest`; ResourceExhausted past `limit`.
  Result<std::string> GetBlob(const oci::Digest& digest, size_t limit);
  // Streams a blob from `offset` into `sink`. The digest is not checked here (the sink's
  // ingest does that). `cancel` (if given) aborts the transfer when it becomes true.
  Status FetchBlob(const oci::Digest& digest, int64_t offset, BlobSink& sink,
                   const std::atomic<bool>* cancel = nullptr);

  // GET /v2/<path>/tags/list, following the Link header's pages. NotFound for an unknown
  // repository.
  Result<std::vector<std::string>> ListTags();

  // Push. HEAD of a blob: true when the repository has it.
  Result<bool> HasBlob(const oci::Digest& digest);
  // A monolithic upload: POST /blobs/uploads/, then PUT <Location>?digest= with the `size`
  // bytes of `data` (streamed). `sent` (if given) is called with the bytes sent so far.
  Status PushBlob(const oci::Digest& digest, int64_t size, Reader& data,
                  const std::function<void(int64_t)>& sent = {});
  // Cross-repository mount: POST /blobs/uploads/?mount=<digest>&from=<repository>. True when
  // the registry mounted it (201); false when it opened an upload session instead (202: it
  // has no such blob there, or does not mount), which is cancelled.
  Result<bool> MountBlob(const oci::Digest& digest, const std::string& from);
  // PUT the manifest under `tag`; returns its digest (checked against Docker-Content-Digest).
  Result<oci::Digest> PutManifest(std::string_view tag, const std::string& bytes,
                                  const std::string& media_type);

 private:
  // A request body streamed from a Reader.
  struct Upload {
    Reader* data = nullptr;
    int64_t size = 0;
    std::function<void(int64_t)> sent;
  };
  struct Response {
    long status = 0;
    std::map<std::string, std::string> headers;  // names lower case; last value wins
    std::string body;                            // error bodies and small replies
  };
  // One request with the current Authorization; a 401 triggers one authentication and retry.
  // `stream` receives a 2xx body instead of Response::body.
  Result<Response> Do(const std::string& method, const std::string& url,
                      std::map<std::string, std::string> headers, BlobSink* stream,
                      int64_t range_from, const std::atomic<bool>* cancel, size_t body_limit,
                      Upload* upload = nullptr);
  Result<Response> Perform(const std::string& method, const std::string& url,
                           const std::map<std::string, std::string>& headers, BlobSink* stream,
                           int64_t range_from, const std::atomic<bool>* cancel, size_t body_limit,
                           Upload* upload = nullptr);
  Status Authenticate(const std::string& www_authenticate);
  // Once, before the first request: an insecure endpoint that answers TLS is used over https
  // (unverified) from then on.
  void Probe();
  Error ErrorFor(const Response& r, const std::string& what);
  Error PushDenied() const;

  Endpoint endpoint_;
  std::string path_;
  AuthConfig auth_;
  ClientOptions options_;
  std::string ca_blob_;  // system CAs + <certs_dir>/<host>/*.crt; empty: curl's default
  std::string client_cert_, client_key_;
  bool skip_verify_ = false;  // https to an insecure endpoint: no certificate verification
  std::once_flag probed_;
  std::mutex mu_;
  std::string authorization_;  // guarded by mu_
};

}  // namespace berth::distribution
