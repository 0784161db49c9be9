#include "cli/transport.h"

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <limits>
#include <optional>
#include <vector>

#include <boost/asio/buffer.hpp>
#include <boost/asio/generic/stream_protocol.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/chunk_encode.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "base/strings.h"
#include "base/unique_fd.h"

namespace berth::cli {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using Socket = asio::generic::stream_protocol::socket;

Error Unavailable(const std::string& what, int err) {
  Error e = ErrnoError(what, err);
  e.code = Code::kUnavailable;
  return e;
}

// A connected socket fd for `host`, as CLOEXEC.
Result<UniqueFd> Connect(const HostSpec& host) {
  if (!host.socket_path.empty()) {
    UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd.valid()) return ErrnoError("socket");
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (host.socket_path.size() >= sizeof(addr.sun_path)) {
      return MakeError(Code::kInvalidArgument, "socket path too long: " + host.socket_path);
    }
    std::memcpy(addr.sun_path, host.socket_path.data(), host.socket_path.size());
    if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      return Unavailable("connect " + host.socket_path, errno);
    }
    return fd;
  }
  std::string hostport = host.base_url.substr(host.base_url.find("://") + 3);
  size_t colon = hostport.rfind(':');
  std::string name = colon == std::string::npos ? hostport : hostport.substr(0, colon);
  std::string port = colon == std::string::npos ? "2375" : hostport.substr(colon + 1);
  if (name.size() > 2 && name.front() == '[') name = name.substr(1, name.size() - 2);
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  int rc = ::getaddrinfo(name.c_str(), port.c_str(), &hints, &res);
  if (rc != 0) {
    return MakeError(Code::kUnavailable,
                     fmt::format("resolve {}: {}", hostport, ::gai_strerror(rc)));
  }
  int last = ECONNREFUSED;
  for (addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
    UniqueFd fd(::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol));
    if (!fd.valid()) continue;
    if (::connect(fd.get(), ai->ai_addr, ai->ai_addrlen) == 0) {
      ::freeaddrinfo(res);
      return fd;
    }
    last = errno;
  }
  ::freeaddrinfo(res);
  return Unavailable("connect " + hostport, last);
}

std::string HostHeader(const HostSpec& host) {
  std::string_view base = host.base_url;
  size_t scheme = base.find("://");
  return std::string(scheme == std::string_view::npos ? base : base.substr(scheme + 3));
}

http::request<http::string_body> BuildRequest(const HostSpec& host, const std::string& user_agent,
                                              const Request& request, bool upgrade) {
  std::string target = EscapePath(request.path);
  if (!request.query.empty()) target += "?" + EncodeQuery(request.query);
  http::request<http::string_body> req;
  req.method_string(request.method);
  req.target(target);
  req.version(11);
  req.set(http::field::host, HostHeader(host));
  req.set(http::field::user_agent, user_agent);
  for (const auto& [name, value] : request.headers) req.set(name, value);
  if (upgrade) {
    req.set(http::field::connection, "Upgrade");
    req.set(http::field::upgrade, "tcp");
    if (!request.body) req.set(http::field::content_type, "text/plain");
  }
  req.body() = request.body.value_or("");
  req.prepare_payload();
  if (request.method == "POST" && !request.body) req.content_length(0);
  return req;
}

// Owns an io_context and a socket over a connected fd; Beast reads and writes it synchronously.
struct Connection {
  asio::io_context io;
  Socket socket{io};
  beast::flat_buffer buffer;

  Status Open(UniqueFd fd, const HostSpec& host) {
    boost::system::error_code ec;
    int family = host.socket_path.empty() ? AF_INET : AF_UNIX;
    sockaddr_storage ss{};
    socklen_t len = sizeof(ss);
    if (::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&ss), &len) == 0) family = ss.ss_family;
    socket.assign(asio::generic::stream_protocol(family, SOCK_STREAM), fd.release(), ec);
    if (ec) return MakeError(Code::kInternal, "assign socket: " + ec.message());
    return Ok();
  }
};

Error IoError(const Request& request, const boost::system::error_code& ec) {
  return MakeError(Code::kUnavailable,
                   fmt::format("{} {}: {}", request.method, request.path, ec.message()));
}

Response ToResponse(const http::response_header<>& header) {
  Response response;
  response.status = static_cast<int>(header.result_int());
  for (const auto& field : header) {
    response.headers[ToLower(std::string(field.name_string()))] = std::string(field.value());
  }
  return response;
}

// The socket after 101: first the bytes Beast read past the header, then the socket itself.
class SocketConn : public HijackedConn {
 public:
  SocketConn(std::unique_ptr<Connection> conn, std::string leftover)
      : conn_(std::move(conn)), leftover_(std::move(leftover)) {}

  Result<size_t> Read(char* buf, size_t size) override {
    if (!leftover_.empty()) {
      size_t n = std::min(size, leftover_.size());
      std::memcpy(buf, leftover_.data(), n);
      leftover_.erase(0, n);
      return n;
    }
    while (true) {
      ssize_t n = ::read(fd(), buf, size);
      if (n >= 0) return static_cast<size_t>(n);
      if (errno == EINTR) continue;
      // After Shutdown() a read may fail with ECONNRESET/ENOTCONN: that is the end.
      if (errno == ECONNRESET || errno == ENOTCONN) return size_t{0};
      return ErrnoError("read attach stream");
    }
  }

  Status Write(std::string_view data) override {
    while (!data.empty()) {
      ssize_t n = ::send(fd(), data.data(), data.size(), MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EINTR) continue;
        return ErrnoError("write attach stream");
      }
      data.remove_prefix(static_cast<size_t>(n));
    }
    return Ok();
  }

  Status CloseWrite() override {
    if (::shutdown(fd(), SHUT_WR) != 0 && errno != ENOTCONN) return ErrnoError("shutdown");
    return Ok();
  }

  void Shutdown() override { (void)::shutdown(fd(), SHUT_RDWR); }

 private:
  int fd() { return conn_->socket.native_handle(); }

  std::unique_ptr<Connection> conn_;
  std::string leftover_;
};

class SocketPending : public PendingResponse {
 public:
  SocketPending(std::unique_ptr<Connection> conn, Request request)
      : conn_(std::move(conn)), request_(std::move(request)) {}

  Status AwaitHeader() override {
    if (parser_) return Ok();
    parser_.emplace();
    parser_->body_limit(1 << 20);
    boost::system::error_code ec;
    http::read_header(conn_->socket, conn_->buffer, *parser_, ec);
    if (ec) return IoError(request_, ec);
    return Ok();
  }

  Result<Response> Await() override {
    BERTH_RETURN_IF_ERROR(AwaitHeader());
    boost::system::error_code ec;
    if (!parser_->is_done()) http::read(conn_->socket, conn_->buffer, *parser_, ec);
    if (ec) return IoError(request_, ec);
    Response response = ToResponse(parser_->get().base());
    response.body = std::move(parser_->get().body());
    return response;
  }

 private:
  std::unique_ptr<Connection> conn_;
  Request request_;
  std::optional<http::response_parser<http::string_body>> parser_;
};

Result<std::unique_ptr<Connection>> Open(const HostSpec& host) {
  BERTH_ASSIGN_OR_RETURN(UniqueFd fd, Connect(host));
  auto conn = std::make_unique<Connection>();
  BERTH_RETURN_IF_ERROR(conn->Open(std::move(fd), host));
  return conn;
}

// A new connection with `request` written on it.
Result<std::unique_ptr<Connection>> OpenAndSend(const HostSpec& host,
                                                const std::string& user_agent,
                                                const Request& request, bool upgrade) {
  BERTH_ASSIGN_OR_RETURN(std::unique_ptr<Connection> conn, Open(host));
  spdlog::debug("{} {} ({})", request.method, request.path, upgrade ? "upgrade" : "pending");
  http::request<http::string_body> req = BuildRequest(host, user_agent, request, upgrade);
  boost::system::error_code ec;
  http::write(conn->socket, req, ec);
  if (ec) return IoError(request, ec);
  return conn;
}

}  // namespace

Result<Upgraded> UpgradeOver(const HostSpec& host, const std::string& user_agent,
                             const Request& request) {
  BERTH_ASSIGN_OR_RETURN(std::unique_ptr<Connection> conn,
                         OpenAndSend(host, user_agent, request, true));
  boost::system::error_code ec;
  http::response_parser<http::string_body> parser;
  parser.body_limit(1 << 20);
  http::read_header(conn->socket, conn->buffer, parser, ec);
  if (ec) return IoError(request, ec);
  Upgraded out;
  if (parser.get().result_int() == 101) {
    out.response = ToResponse(parser.get().base());
    auto data = conn->buffer.data();
    std::string leftover(static_cast<const char*>(data.data()), data.size());
    out.conn = std::make_unique<SocketConn>(std::move(conn), std::move(leftover));
    return out;
  }
  // Not upgraded: read the whole (error) reply.
  if (!parser.is_done()) http::read(conn->socket, conn->buffer, parser, ec);
  if (ec && ec != http::error::end_of_stream) return IoError(request, ec);
  out.response = ToResponse(parser.get().base());
  out.response.body = parser.get().body();
  return out;
}

namespace {

constexpr size_t kMaxErrorBody = 1 << 20;
constexpr size_t kChunk = 64 << 10;

bool IsOk(int status) { return status >= 200 && status < 300; }

// An error where nothing of a reply was read on a kept-alive connection: the daemon may have
// closed it while idle, so the request is sent again on a new one (when it can be).
bool StaleConnection(const boost::system::error_code& ec) {
  return ec == http::error::end_of_stream || ec == asio::error::eof ||
         ec == asio::error::connection_reset || ec == asio::error::broken_pipe ||
         ec == asio::error::connection_aborted;
}

class BeastTransport : public Transport {
 public:
  BeastTransport(HostSpec host, std::string user_agent)
      : host_(std::move(host)), user_agent_(std::move(user_agent)), chunk_(kChunk) {}

  Result<Upgraded> Upgrade(const Request& request) override {
    return UpgradeOver(host_, user_agent_, request);
  }
  Result<std::unique_ptr<PendingResponse>> Send(const Request& request) override {
    return SendOver(host_, user_agent_, request);
  }

  Result<Response> RoundTrip(const Request& request, Writer* sink) override {
    spdlog::debug("{} {}", request.method, request.path);
    bool reused = conn_ != nullptr;
    if (!conn_) {
      BERTH_ASSIGN_OR_RETURN(conn_, Open(host_));
    }
    bool stale = false;
    Result<Response> out = Exchange(request, sink, &stale);
    if (!out && stale && reused && request.body_stream == nullptr) {
      BERTH_ASSIGN_OR_RETURN(conn_, Open(host_));
      out = Exchange(request, sink, &stale);
    }
    if (!out) conn_.reset();
    return out;
  }

 private:
  // One request and its reply on conn_. Sets *stale when the connection failed before any of
  // the reply was read. Drops conn_ when the reply says the connection ends.
  Result<Response> Exchange(const Request& request, Writer* sink, bool* stale) {
    *stale = false;
    boost::system::error_code ec;
    std::optional<Error> write_error;
    if (request.body_stream != nullptr) {
      write_error = WriteStreamed(request, &ec);
    } else {
      http::request<http::string_body> req = BuildRequest(host_, user_agent_, request, false);
      http::write(conn_->socket, req, ec);
      if (ec) write_error = IoError(request, ec);
    }
    if (write_error && !StaleConnection(ec)) return *std::move(write_error);

    // Read the reply even after a failed upload: the daemon may have answered early (400) and
    // closed; its message is worth more than EPIPE.
    http::response_parser<http::buffer_body> parser;
    parser.body_limit(std::numeric_limits<std::uint64_t>::max());
    if (request.method == "HEAD") parser.skip(true);
    boost::system::error_code read_ec;
    http::read_header(conn_->socket, conn_->buffer, parser, read_ec);
    if (read_ec) {
      *stale = StaleConnection(read_ec);
      if (write_error) return *std::move(write_error);
      return IoError(request, read_ec);
    }
    Response response = ToResponse(parser.get().base());
    bool to_sink = sink != nullptr && IsOk(response.status);
    while (!parser.is_done()) {
      parser.get().body().data = chunk_.data();
      parser.get().body().size = chunk_.size();
      http::read_some(conn_->socket, conn_->buffer, parser, read_ec);
      if (read_ec == http::error::need_buffer) read_ec = {};
      if (read_ec) return IoError(request, read_ec);
      size_t n = chunk_.size() - parser.get().body().size;
      std::string_view data(chunk_.data(), n);
      if (to_sink) {
        BERTH_RETURN_IF_ERROR(sink->Write(data));
      } else if (IsOk(response.status) || response.body.size() < kMaxErrorBody) {
        response.body.append(data);
      }
    }
    if (write_error || !parser.keep_alive()) conn_.reset();
    return response;
  }

  // Writes the header with "Transfer-Encoding: chunked", then the body as it is read.
  std::optional<Error> WriteStreamed(const Request& request, boost::system::error_code* ec) {
    http::request<http::string_body> built = BuildRequest(host_, user_agent_, request, false);
    http::request<http::empty_body> req(built.base());
    req.erase(http::field::content_length);
    req.chunked(true);
    http::request_serializer<http::empty_body> sr(req);
    http::write_header(conn_->socket, sr, *ec);
    if (*ec) return IoError(request, *ec);
    while (true) {
      Result<size_t> n = request.body_stream->Read(chunk_.data(), chunk_.size());
      if (!n) return std::move(n).error().WithContext("read request body");
      if (*n == 0) break;
      asio::write(conn_->socket, http::make_chunk(asio::buffer(chunk_.data(), *n)), *ec);
      if (*ec) return IoError(request, *ec);
    }
    asio::write(conn_->socket, http::make_chunk_last(), *ec);
    if (*ec) return IoError(request, *ec);
    return std::nullopt;
  }

  HostSpec host_;
  std::string user_agent_;
  std::vector<char> chunk_;
  std::unique_ptr<Connection> conn_;
};

}  // namespace

Result<std::unique_ptr<Transport>> NewTransport(const HostSpec& host, std::string user_agent) {
  return std::unique_ptr<Transport>(std::make_unique<BeastTransport>(host, std::move(user_agent)));
}

Result<std::unique_ptr<PendingResponse>> SendOver(const HostSpec& host,
                                                  const std::string& user_agent,
                                                  const Request& request) {
  BERTH_ASSIGN_OR_RETURN(std::unique_ptr<Connection> conn,
                         OpenAndSend(host, user_agent, request, false));
  return std::unique_ptr<PendingResponse>(
      std::make_unique<SocketPending>(std::move(conn), request));
}

}  // namespace berth::cli
