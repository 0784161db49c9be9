// HttpServer: the registry's HTTP/1.1 server: Boost.Beast on Asio with C++20 coroutines.
//
// One io_context run by `threads` threads; each accepted connection is a coroutine on its own
// strand that reads a request header, calls the handler (a coroutine too), and loops while the
// connection is kept alive. A handler reads the request body as it arrives (ReadBody) and
// answers once with Respond or RespondFile (sendfile(2) from a file descriptor). Nothing
// blocks a thread for long: handlers move blocking work (fsync, GC) to a pool with
// RunBlocking (registry/blocking.h).
//
// Limits: a request header must arrive whole within `header_timeout` (a client sending one
// byte a second is cut off), be at most `max_header_bytes`, and each body read must make
// progress within `idle_timeout`. A handler that answers without consuming the body leaves a
// connection that is closed after the response unless the rest is small enough to drain.
//
// Thread-safety: Listen and Start before serving; Stop from any thread, once.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "base/result.h"

namespace berth::registry {

template <typename T>
using Awaitable = boost::asio::awaitable<T>;

class HttpExchange {
 public:
  using Pairs = std::vector<std::pair<std::string, std::string>>;
  virtual ~HttpExchange() = default;

  virtual std::string_view method() const = 0;  // "GET", "HEAD", ...
  // The percent-decoded path, without the query.
  virtual std::string_view path() const = 0;
  // The raw request target as sent ("/v2/x/tags/list?n=1").
  virtual std::string_view target() const = 0;
  // Case-insensitive; "" when absent.
  virtual std::string_view Header(std::string_view name) const = 0;
  virtual bool HasHeader(std::string_view name) const = 0;
  // Decoded query parameters in order.
  virtual const Pairs& query() const = 0;
  bool HasQuery(std::string_view key) const;
  std::string_view Query(std::string_view key) const;  // first value, "" when absent
  // The peer, "127.0.0.1:4711".
  virtual std::string_view remote() const = 0;

  // The declared body size: a Content-Length, or nullopt for chunked or no length.
  virtual std::optional<uint64_t> content_length() const = 0;
  // Reads up to `size` body bytes (sending "100 Continue" first if the client asked for it);
  // 0 at the end of the body. An error means the client went away, timed out, or sent a
  // malformed body; the connection is closed after the response.
  virtual Awaitable<Result<size_t>> ReadBody(char* buf, size_t size) = 0;
  // Whether the whole body has been read.
  virtual bool body_done() const = 0;

  // Adds a response header (before Respond*).
  virtual void SetHeader(std::string_view name, std::string_view value) = 0;
  // The one response, with Content-Length. To HEAD the body is not sent.
  virtual Awaitable<Status> Respond(int status, std::string_view content_type,
                                    std::string_view body) = 0;
  // The one response, its body `length` bytes of `fd` from `offset`, sent with sendfile(2).
  // To HEAD only the headers go out. The fd is borrowed.
  virtual Awaitable<Status> RespondFile(int status, std::string_view content_type, int fd,
                                        int64_t offset, int64_t length) = 0;
  virtual bool responded() const = 0;
  virtual int status() const = 0;  // what was answered (0 before)
};

using HttpHandler = std::function<Awaitable<void>(HttpExchange&)>;

struct HttpServerOptions {
  int threads = 0;  // 0: one per CPU
  std::chrono::milliseconds header_timeout{30'000};
  std::chrono::milliseconds idle_timeout{60'000};
  size_t max_header_bytes = 64 << 10;
  // HTTPS when both are set (PEM files). With a client CA, clients must present a
  // certificate it signed.
  std::string tls_cert_file;
  std::string tls_key_file;
  std::string tls_client_ca_file;
  // Called after each response (access log, metrics).
  std::function<void(const HttpExchange&, std::chrono::microseconds)> on_response;
};

class HttpServer {
 public:
  HttpServer(HttpHandler handler, HttpServerOptions options);
  ~HttpServer();  // Stop()
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds "HOST:PORT" ("127.0.0.1:5000", "[::1]:0", ":5000" for all addresses). Returns the
  // bound address with the real port.
  Result<std::string> Listen(std::string_view address);
  // Loads the TLS files, if any (InvalidArgument naming a bad one), and starts serving.
  Status Start();
  // Stops accepting, closes every connection, joins the threads.
  void Stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace berth::registry
