// The Engine API client of `berth`: HTTP over a unix socket (or tcp) to berthd, the way the
// docker CLI talks to dockerd (docs: specs/docker-engine-api/docker-cli-wire-notes.md).
//
// Two layers:
//  - Transport: one HTTP exchange, nothing else. The real one (cli/transport.h) speaks HTTP/1.1
//    with Boost.Beast on a kept-alive socket; unit tests use a fake that records requests
//    (cli/testing/fake_transport.h).
//  - ApiClient: negotiates the API version from HEAD /_ping, prefixes paths with /v1.NN,
//    turns non-2xx replies into berth::Error ("Error response from daemon: <message>").
// Request bodies may be streamed from a Reader and response bodies into a Writer, so `load`,
// `import` and `save` never hold an image in memory. Not thread-safe; one client per command.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/io.h"
#include "base/result.h"

namespace berth::cli {

// The newest Engine API version berth speaks (Docker Engine 24).
inline constexpr std::string_view kMaxApiVersion = "1.43";
// What the docker CLI assumes when /_ping carries no Api-Version header.
inline constexpr std::string_view kFallbackApiVersion = "1.24";
inline constexpr std::string_view kDefaultHost = "unix:///run/berth/berth.sock";

// Ordered key/value pairs; a key may repeat (changes=..&changes=..).
using Params = std::vector<std::pair<std::string, std::string>>;

struct Request {
  std::string method = "GET";
  std::string path;  // as sent, e.g. "/v1.43/images/json" (ApiClient adds the prefix)
  Params query;
  Params headers;
  std::optional<std::string> body;  // a small body (JSON)
  Reader* body_stream = nullptr;    // a streamed body, sent chunked; wins over `body`
};

struct Response {
  int status = 0;
  std::map<std::string, std::string> headers;  // names in lower case
  std::string body;                            // unless streamed into a sink
};

// A connection taken over from HTTP after a 101 reply (attach, exec start): raw bytes both ways.
// Read, Write and CloseWrite may be called from different threads; Shutdown from any thread
// makes a blocked Read return end of stream.
class HijackedConn : public Reader, public Writer {
 public:
  // Half-close: the daemon sees end of stdin; reading goes on.
  virtual Status CloseWrite() = 0;
  virtual void Shutdown() = 0;
};

// The reply to an Upgrade request: `conn` is set on 101, otherwise `response` holds the reply.
struct Upgraded {
  Response response;
  std::unique_ptr<HijackedConn> conn;
};

// A request already sent on its own connection whose reply is read later (run's wait, sent
// before start so that no exit is missed).
class PendingResponse {
 public:
  virtual ~PendingResponse() = default;
  // Blocks until the reply's status line and headers are in (berthd sends them once a wait is
  // in place, before the exit it waits for). Await() then reads the rest.
  virtual Status AwaitHeader() { return Ok(); }
  // Blocks until the whole reply is in.
  virtual Result<Response> Await() = 0;
};

class Transport {
 public:
  virtual ~Transport() = default;
  // One HTTP exchange. A 2xx body goes to `sink` when one is given, any other body into
  // Response::body. Fails only when no HTTP response was had (connect, I/O, sink errors).
  virtual Result<Response> RoundTrip(const Request& request, Writer* sink) = 0;
  // Sends `request` with "Connection: Upgrade" and "Upgrade: tcp" on a new connection.
  virtual Result<Upgraded> Upgrade(const Request& request) = 0;
  // Sends `request` on a new connection and returns without reading the reply.
  virtual Result<std::unique_ptr<PendingResponse>> Send(const Request& request) = 0;
};

// Parses -H / BERTH_HOST: "unix:///path", "tcp://host:port", "http://host:port".
struct HostSpec {
  std::string url;          // as given, for messages
  std::string socket_path;  // set for unix://
  std::string base_url;     // "http://api.moby.localhost" for unix, "http://host:port" for tcp
};
Result<HostSpec> ParseHost(std::string_view host);

// The real transport (cli/transport.cc): Boost.Beast over a plain socket, unix or tcp.
// RoundTrip keeps one connection alive across calls, as the docker CLI's http.Client does;
// Upgrade and Send each take a connection of their own.
Result<std::unique_ptr<Transport>> NewTransport(const HostSpec& host, std::string user_agent);

// Go's url.Values.Encode: keys sorted (stable for repeats), QueryEscape ("a b" -> "a+b").
std::string EncodeQuery(const Params& query);
// Escapes a path the way Go's URL.EscapedPath does (keeps "/", ":", "@").
std::string EscapePath(std::string_view path);
// Compares "1.41" with "1.43" numerically: <0, 0, >0.
int CompareApiVersions(std::string_view a, std::string_view b);

class ApiClient {
 public:
  // `version_override` (BERTH_API_VERSION) skips negotiation, as DOCKER_API_VERSION does.
  ApiClient(Transport& transport, std::string host_url, std::string version_override = "");

  // The version in use; negotiates on first use.
  Result<std::string> Version();
  const std::string& host_url() const { return host_url_; }

  // Sends `request` with the version prefix added to its path. Non-2xx -> Error.
  Result<Response> Do(Request request, Writer* sink = nullptr);
  // GET path -> parsed JSON body.
  Result<nlohmann::ordered_json> GetJson(const std::string& path, Params query = {});
  // POSTs `request` as an upgrade and returns the raw connection after 101. Other replies are
  // errors ("Error response from daemon: ...").
  Result<std::unique_ptr<HijackedConn>> Hijack(Request request);
  // Sends `request` on its own connection; Await() turns a non-2xx reply into an error.
  Result<std::unique_ptr<PendingResponse>> Send(Request request);
  // Sends `request`, splitting the 2xx body into lines for `on_line` as it arrives.
  Status StreamLines(Request request, const std::function<Status(std::string_view)>& on_line);

 private:
  Status Negotiate();
  Error ConnectError(const Error& cause) const;

  Transport& transport_;
  std::string host_url_;
  std::string version_;
  bool negotiated_ = false;
};

// Turns a non-2xx reply into the error docker shows: "Error response from daemon: <message>".
Error ErrorFromResponse(const Response& response);

// A Writer that hands complete lines (without '\n') to a callback; Finish() flushes the rest.
class LineWriter : public Writer {
 public:
  explicit LineWriter(std::function<Status(std::string_view)> on_line)
      : on_line_(std::move(on_line)) {}
  Status Write(std::string_view data) override;
  Status Finish();

 private:
  std::function<Status(std::string_view)> on_line_;
  std::string pending_;
};

}  // namespace berth::cli
