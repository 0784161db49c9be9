#include "registry/http_server.h"

#include <sys/sendfile.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <ctime>
#include <exception>
#include <limits>
#include <mutex>
#include <thread>
#include <type_traits>
#include <vector>

#include <boost/asio/write.hpp>
#include <fmt/format.h>

#include "base/log.h"
#include "registry/internal/asio.h"

#include <boost/asio/ssl.hpp>
#include <boost/beast/ssl.hpp>

namespace berth::registry {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
using boost::system::error_code;
using net::use_awaitable;

bool HttpExchange::HasQuery(std::string_view key) const {
  return std::any_of(query().begin(), query().end(), [&](const auto& p) { return p.first == key; });
}

std::string_view HttpExchange::Query(std::string_view key) const {
  for (const auto& [k, v] : query()) {
    if (k == key) return v;
  }
  return {};
}

namespace {

// Bodies left unread by a handler are drained (to keep the connection) up to this size.
constexpr uint64_t kMaxDrain = 64 << 10;
// The read buffer's room while a chunked body streams in.
constexpr size_t kChunkedReadRoom = 64 << 10;

std::string_view Sv(beast::string_view s) { return {s.data(), s.size()}; }

std::string_view Reason(int status) {
  switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 206: return "Partial Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 307: return "Temporary Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 411: return "Length Required";
    case 413: return "Payload Too Large";
    case 415: return "Unsupported Media Type";
    case 416: return "Range Not Satisfiable";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    default: return "Unknown";
  }
}

// RFC 7231 IMF-fixdate, formatted at most once a second per thread.
std::string_view HttpDate() {
  thread_local time_t last = 0;
  thread_local char buf[40];
  time_t now = ::time(nullptr);
  if (now != last) {
    struct tm tm {};
    ::gmtime_r(&now, &tm);
    ::strftime(buf, sizeof(buf), "%a, %d %b %Y %H:%M:%S GMT", &tm);
    last = now;
  }
  return buf;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string PercentDecode(std::string_view s, bool plus_is_space) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '%' && i + 2 < s.size()) {
      int hi = HexValue(s[i + 1]);
      int lo = HexValue(s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(plus_is_space && c == '+' ? ' ' : c);
  }
  return out;
}

HttpExchange::Pairs ParseQuery(std::string_view q) {
  HttpExchange::Pairs out;
  while (!q.empty()) {
    size_t amp = q.find('&');
    std::string_view part = q.substr(0, amp);
    q = amp == std::string_view::npos ? std::string_view() : q.substr(amp + 1);
    if (part.empty()) continue;
    size_t eq = part.find('=');
    if (eq == std::string_view::npos) {
      out.emplace_back(PercentDecode(part, true), "");
    } else {
      out.emplace_back(PercentDecode(part.substr(0, eq), true),
                       PercentDecode(part.substr(eq + 1), true));
    }
  }
  return out;
}

using Parser = http::request_parser<http::buffer_body>;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

template <class Stream>
constexpr bool kIsTls = std::is_same_v<Stream, TlsStream>;

beast::tcp_stream& Tcp(beast::tcp_stream& s) { return s; }
beast::tcp_stream& Tcp(TlsStream& s) { return s.next_layer(); }

template <class Stream>
class Exchange final : public HttpExchange {
 public:
  Exchange(Stream& stream, beast::flat_buffer& buffer, Parser& parser,
           const HttpServerOptions& options, std::string remote)
      : stream_(stream), buffer_(buffer), parser_(parser), options_(options),
        remote_(std::move(remote)) {
    const auto& req = parser_.get();
    method_ = std::string(Sv(req.method_string()));
    target_ = std::string(Sv(req.target()));
    std::string_view t = target_;
    size_t q = t.find('?');
    path_ = PercentDecode(t.substr(0, q), false);
    if (q != std::string_view::npos) query_ = ParseQuery(t.substr(q + 1));
    if (auto len = parser_.content_length()) content_length_ = *len;
    expect_continue_ = beast::iequals(req[http::field::expect], "100-continue");
    head_ = method_ == "HEAD";
  }

  std::string_view method() const override { return method_; }
  std::string_view path() const override { return path_; }
  std::string_view target() const override { return target_; }
  std::string_view Header(std::string_view name) const override {
    auto it = parser_.get().find(beast::string_view(name.data(), name.size()));
    return it == parser_.get().end() ? std::string_view() : Sv(it->value());
  }
  bool HasHeader(std::string_view name) const override {
    return parser_.get().find(beast::string_view(name.data(), name.size())) !=
           parser_.get().end();
  }
  const Pairs& query() const override { return query_; }
  std::string_view remote() const override { return remote_; }
  std::optional<uint64_t> content_length() const override { return content_length_; }
  bool body_done() const override {
    if (content_length_ && !parser_.chunked()) return body_read_ == *content_length_;
    return parser_.is_done();
  }
  bool responded() const override { return status_ != 0; }
  int status() const override { return status_; }
  // Whether the connection must close after this exchange.
  bool close() const { return close_; }

  Awaitable<Result<size_t>> ReadBody(char* buf, size_t size) override {
    if (body_done() || size == 0) co_return size_t{0};
    if (broken_) co_return MakeError(Code::kCancelled, "request body already failed");
    if (expect_continue_ && !continue_sent_) {
      continue_sent_ = true;
      static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
      error_code ec;
      Tcp(stream_).expires_after(options_.idle_timeout);
      co_await net::async_write(stream_, net::buffer(kContinue.data(), kContinue.size()),
                                net::redirect_error(use_awaitable, ec));
      if (ec) co_return Fail(ec);
    }
    if (content_length_ && !parser_.chunked()) co_return co_await ReadFixedBody(buf, size);
    // Beast reads as much as the buffer has room for, at least 512 bytes: after a small header
    // that is about 512 bytes a read. Room for 64 KiB makes a chunked body cost a read per 64 KiB.
    if (buffer_.capacity() < kChunkedReadRoom) buffer_.reserve(kChunkedReadRoom);
    for (;;) {
      auto& body = parser_.get().body();
      body.data = buf;
      body.size = size;
      Tcp(stream_).expires_after(options_.idle_timeout);
      error_code ec;
      co_await http::async_read_some(stream_, buffer_, parser_,
                                     net::redirect_error(use_awaitable, ec));
      size_t n = size - parser_.get().body().size;
      if (ec && ec != http::error::need_buffer) co_return Fail(ec);
      body_read_ += n;
      if (n > 0 || parser_.is_done()) co_return n;
    }
  }

  // A body of known length is read straight from the socket into the caller's buffer: no
  // parser copy, no timer or epoll registration unless the socket is actually empty. Bytes
  // that arrived with the header are taken from the read buffer first.
  Awaitable<Result<size_t>> ReadFixedBody(char* buf, size_t size) {
    uint64_t left = *content_length_ - body_read_;
    if (left == 0) co_return size_t{0};
    size_t want = static_cast<size_t>(std::min<uint64_t>(left, size));
    if (buffer_.size() > 0) {
      size_t n = net::buffer_copy(net::buffer(buf, want), buffer_.data());
      buffer_.consume(n);
      co_return Took(n);
    }
    if constexpr (kIsTls<Stream>) {
      Tcp(stream_).expires_after(options_.idle_timeout);
      error_code ec;
      size_t got = co_await stream_.async_read_some(net::buffer(buf, want),
                                                    net::redirect_error(use_awaitable, ec));
      Tcp(stream_).expires_never();
      if (got > 0) co_return Took(got);
      co_return Fail(ec ? ec : error_code(net::error::eof));
    }
    auto& socket = Tcp(stream_).socket();
    for (;;) {
      ssize_t n = ::recv(socket.native_handle(), buf, want, MSG_DONTWAIT);
      if (n > 0) co_return Took(static_cast<size_t>(n));
      if (n == 0) co_return Fail(net::error::eof);
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) {
        co_return Fail(error_code(errno, boost::system::system_category()));
      }
      // Nothing yet: wait (with the idle timeout) through the stream.
      Tcp(stream_).expires_after(options_.idle_timeout);
      error_code ec;
      size_t got = co_await stream_.async_read_some(net::buffer(buf, want),
                                                    net::redirect_error(use_awaitable, ec));
      Tcp(stream_).expires_never();
      if (got > 0) co_return Took(got);
      if (ec) co_return Fail(ec);
    }
  }

  void SetHeader(std::string_view name, std::string_view value) override {
    headers_ += name;
    headers_ += ": ";
    headers_ += value;
    headers_ += "\r\n";
  }

  Awaitable<Status> Respond(int status, std::string_view content_type,
                            std::string_view body) override {
    std::string head = Head(status, content_type, body.size());
    error_code ec;
    Tcp(stream_).expires_after(options_.idle_timeout);
    if (head_ || body.empty()) {
      co_await net::async_write(stream_, net::buffer(head), net::redirect_error(use_awaitable, ec));
    } else {
      std::array<net::const_buffer, 2> bufs{net::buffer(head), net::buffer(body.data(), body.size())};
      co_await net::async_write(stream_, bufs, net::redirect_error(use_awaitable, ec));
    }
    Tcp(stream_).expires_never();
    if (ec) {
      close_ = true;
      co_return MakeError(Code::kCancelled, "writing the response: " + ec.message());
    }
    co_return Ok();
  }

  Awaitable<Status> RespondFile(int status, std::string_view content_type, int fd, int64_t offset,
                                int64_t length) override {
    std::string head = Head(status, content_type, static_cast<uint64_t>(length));
    error_code ec;
    Tcp(stream_).expires_after(options_.idle_timeout);
    co_await net::async_write(stream_, net::buffer(head), net::redirect_error(use_awaitable, ec));
    Tcp(stream_).expires_never();
    if (ec) {
      close_ = true;
      co_return MakeError(Code::kCancelled, "writing the response: " + ec.message());
    }
    if (head_) co_return Ok();
    if constexpr (kIsTls<Stream>) {
      // No sendfile through TLS: read and encrypt in user space.
      std::vector<char> buf(256 << 10);
      int64_t pos = offset, end = offset + length;
      while (pos < end) {
        ssize_t n = ::pread(fd, buf.data(), static_cast<size_t>(std::min<int64_t>(end - pos, static_cast<int64_t>(buf.size()))), pos);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        Tcp(stream_).expires_after(options_.idle_timeout);
        co_await net::async_write(stream_, net::buffer(buf.data(), static_cast<size_t>(n)),
                                  net::redirect_error(use_awaitable, ec));
        if (ec) break;
        pos += n;
      }
      Tcp(stream_).expires_never();
      if (pos < end) {
        close_ = true;
        co_return MakeError(Code::kCancelled, "sending the body: connection closed or short file");
      }
      co_return Ok();
    }
    auto& socket = Tcp(stream_).socket();
    socket.native_non_blocking(true, ec);
    off_t off = static_cast<off_t>(offset);
    int64_t left = length;
    while (left > 0) {
      size_t want = static_cast<size_t>(std::min<int64_t>(left, int64_t{1} << 30));
      ssize_t n = ::sendfile(socket.native_handle(), fd, &off, want);
      if (n > 0) {
        left -= n;
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        co_await socket.async_wait(tcp::socket::wait_write, net::redirect_error(use_awaitable, ec));
        if (ec) break;
        continue;
      }
      break;  // error, or the file is shorter than promised: cut the connection
    }
    if (left > 0) {
      close_ = true;
      co_return MakeError(Code::kCancelled, "sending the body: connection closed or short file");
    }
    co_return Ok();
  }

 private:
  size_t Took(size_t n) {
    body_read_ += n;
    return n;
  }

  Error Fail(const error_code& ec) {
    broken_ = true;
    close_ = true;
    Code code = ec == beast::error::timeout ? Code::kCancelled : Code::kInvalidArgument;
    return Error{code, "reading the request body: " + ec.message(), 0};
  }

  std::string Head(int status, std::string_view content_type, uint64_t length) {
    status_ = status;
    // Keep the connection only if the client wants it and the rest of the body (if any)
    // can be drained cheaply afterwards.
    if (!parser_.get().keep_alive()) close_ = true;
    if (!body_done()) {
      if (!content_length_ || (expect_continue_ && !continue_sent_) ||
          *content_length_ - body_read_ > kMaxDrain) {
        close_ = true;
      }
    }
    std::string h;
    h.reserve(192 + headers_.size());
    fmt::format_to(std::back_inserter(h), "HTTP/1.1 {} {}\r\n", status, Reason(status));
    h += headers_;
    if (!content_type.empty()) fmt::format_to(std::back_inserter(h), "Content-Type: {}\r\n", content_type);
    if (status != 204 && !(status >= 100 && status < 200)) {
      fmt::format_to(std::back_inserter(h), "Content-Length: {}\r\n", length);
    }
    fmt::format_to(std::back_inserter(h), "Date: {}\r\n", HttpDate());
    if (close_) {
      h += "Connection: close\r\n";
    } else if (parser_.get().version() < 11) {
      h += "Connection: keep-alive\r\n";  // HTTP/1.0 closes unless told otherwise
    }
    h += "\r\n";
    return h;
  }

  Stream& stream_;
  beast::flat_buffer& buffer_;
  Parser& parser_;
  const HttpServerOptions& options_;
  std::string remote_;
  std::string method_, target_, path_;
  Pairs query_;
  std::optional<uint64_t> content_length_;
  bool expect_continue_ = false;
  bool continue_sent_ = false;
  bool head_ = false;
  bool broken_ = false;
  bool close_ = false;
  uint64_t body_read_ = 0;
  int status_ = 0;
  std::string headers_;
};

template <class Stream>
Awaitable<void> WriteSimple(Stream& stream, int status, std::string_view message) {
  std::string r = fmt::format(
      "HTTP/1.1 {} {}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}",
      status, Reason(status), message.size(), message);
  error_code ec;
  Tcp(stream).expires_after(std::chrono::seconds(5));
  co_await net::async_write(stream, net::buffer(r), net::redirect_error(use_awaitable, ec));
}

}  // namespace

struct HttpServer::Impl {
  HttpHandler handler;
  HttpServerOptions options;
  net::io_context io;
  std::vector<std::unique_ptr<tcp::acceptor>> acceptors;
  std::vector<std::thread> threads;
  std::atomic<bool> stopped{false};
  std::unique_ptr<net::ssl::context> tls;  // set when serving HTTPS

  Impl(HttpHandler h, HttpServerOptions o)
      : handler(std::move(h)), options(std::move(o)),
        io(options.threads > 0 ? options.threads : 2) {}

  Awaitable<void> Accept(tcp::acceptor& acceptor) {
    for (;;) {
      error_code ec;
      tcp::socket socket = co_await acceptor.async_accept(net::make_strand(io),
                                                          net::redirect_error(use_awaitable, ec));
      if (ec) {
        if (ec == net::error::operation_aborted || !acceptor.is_open()) co_return;
        // Out of descriptors or the like: back off a little instead of spinning.
        net::steady_timer timer(co_await net::this_coro::executor);
        timer.expires_after(std::chrono::milliseconds(50));
        co_await timer.async_wait(net::redirect_error(use_awaitable, ec));
        continue;
      }
      socket.set_option(tcp::no_delay(true), ec);
      auto executor = socket.get_executor();
      net::co_spawn(executor, Session(std::move(socket)), net::detached);
    }
  }

  Awaitable<void> Session(tcp::socket socket) {
    std::string remote;
    {
      error_code ec;
      auto ep = socket.remote_endpoint(ec);
      if (!ec) remote = fmt::format("{}:{}", ep.address().to_string(), ep.port());
    }
    if (!tls) {
      beast::tcp_stream stream(std::move(socket));
      co_await Serve(stream, remote);
      error_code ec;
      stream.socket().shutdown(tcp::socket::shutdown_both, ec);
      stream.socket().close(ec);
      co_return;
    }
    TlsStream stream(beast::tcp_stream(std::move(socket)), *tls);
    error_code ec;
    stream.next_layer().expires_after(options.header_timeout);
    co_await stream.async_handshake(net::ssl::stream_base::server,
                                    net::redirect_error(use_awaitable, ec));
    if (ec) {
      spdlog::debug("registry: TLS handshake with {} failed: {}", remote, ec.message());
    } else {
      co_await Serve(stream, remote);
      stream.next_layer().expires_after(std::chrono::seconds(2));
      co_await stream.async_shutdown(net::redirect_error(use_awaitable, ec));
    }
    stream.next_layer().socket().shutdown(tcp::socket::shutdown_both, ec);
    stream.next_layer().socket().close(ec);
  }

  // Requests on one connection until it closes.
  template <class Stream>
  Awaitable<void> Serve(Stream& stream, const std::string& remote) {
    beast::flat_buffer buffer;
    try {
      for (;;) {
        Parser parser;
        parser.header_limit(static_cast<uint32_t>(options.max_header_bytes));
        parser.body_limit(std::numeric_limits<uint64_t>::max());
        Tcp(stream).expires_after(options.header_timeout);
        error_code ec;
        co_await http::async_read_header(stream, buffer, parser,
                                         net::redirect_error(use_awaitable, ec));
        if (ec) {
          if (ec == http::error::header_limit) {
            co_await WriteSimple(stream, 431, "request header too large\n");
          } else if (ec == beast::error::timeout) {
            if (buffer.size() > 0) co_await WriteSimple(stream, 408, "request header timed out\n");
          } else if (ec != http::error::end_of_stream && ec != net::error::eof &&
                     ec != net::error::connection_reset && ec != net::error::operation_aborted &&
                     ec != net::ssl::error::stream_truncated) {
            co_await WriteSimple(stream, 400, "malformed request: " + ec.message() + "\n");
          }
          break;
        }
        Tcp(stream).expires_never();
        auto start = std::chrono::steady_clock::now();
        Exchange<Stream> exchange(stream, buffer, parser, options, remote);
        try {
          co_await handler(exchange);
        } catch (const std::exception& e) {
          spdlog::error("registry: handler for {} {} threw: {}", exchange.method(), exchange.target(),
                        e.what());
        }
        if (!exchange.responded()) {
          (void)co_await exchange.Respond(500, "text/plain", "internal error\n");
        }
        if (options.on_response) {
          options.on_response(exchange, std::chrono::duration_cast<std::chrono::microseconds>(
                                            std::chrono::steady_clock::now() - start));
        }
        if (exchange.close()) break;
        // Drain what the handler left of a small body.
        char scratch[16 << 10];
        bool drained = true;
        while (!exchange.body_done()) {
          auto n = co_await exchange.ReadBody(scratch, sizeof(scratch));
          if (!n.ok() || *n == 0) {
            drained = exchange.body_done();
            break;
          }
        }
        if (!drained) break;
      }
    } catch (const std::exception& e) {
      spdlog::debug("registry: connection from {} ended: {}", remote, e.what());
    }
  }

  Status SetUpTls() {
    if (options.tls_cert_file.empty() && options.tls_key_file.empty()) {
      if (!options.tls_client_ca_file.empty()) {
        return MakeError(Code::kInvalidArgument, "a client CA needs --tls-cert and --tls-key");
      }
      return Ok();
    }
    if (options.tls_cert_file.empty() || options.tls_key_file.empty()) {
      return MakeError(Code::kInvalidArgument, "TLS needs both a certificate and a key");
    }
    auto ctx = std::make_unique<net::ssl::context>(net::ssl::context::tls_server);
    error_code ec;
    ctx->set_options(net::ssl::context::default_workarounds | net::ssl::context::no_sslv2 |
                         net::ssl::context::no_sslv3 | net::ssl::context::no_tlsv1 |
                         net::ssl::context::no_tlsv1_1 | net::ssl::context::single_dh_use,
                     ec);
    ctx->use_certificate_chain_file(options.tls_cert_file, ec);
    if (ec) return MakeError(Code::kInvalidArgument, "TLS certificate " + options.tls_cert_file + ": " + ec.message());
    ctx->use_private_key_file(options.tls_key_file, net::ssl::context::pem, ec);
    if (ec) return MakeError(Code::kInvalidArgument, "TLS key " + options.tls_key_file + ": " + ec.message());
    if (!options.tls_client_ca_file.empty()) {
      ctx->load_verify_file(options.tls_client_ca_file, ec);
      if (ec) {
        return MakeError(Code::kInvalidArgument,
                         "TLS client CA " + options.tls_client_ca_file + ": " + ec.message());
      }
      ctx->set_verify_mode(net::ssl::verify_peer | net::ssl::verify_fail_if_no_peer_cert, ec);
    }
    tls = std::move(ctx);
    return Ok();
  }
};

HttpServer::HttpServer(HttpHandler handler, HttpServerOptions options)
    : impl_(std::make_unique<Impl>(std::move(handler), std::move(options))) {}

HttpServer::~HttpServer() { Stop(); }

Result<std::string> HttpServer::Listen(std::string_view address) {
  size_t colon = address.rfind(':');
  if (colon == std::string_view::npos) {
    return MakeError(Code::kInvalidArgument,
                     fmt::format("invalid listen address \"{}\": want HOST:PORT", std::string(address)));
  }
  std::string host(address.substr(0, colon));
  std::string port_text(address.substr(colon + 1));
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (host.empty()) host = "0.0.0.0";
  char* end = nullptr;
  unsigned long port = std::strtoul(port_text.c_str(), &end, 10);
  if (port_text.empty() || *end != '\0' || port > 65535) {
    return MakeError(Code::kInvalidArgument,
                     fmt::format("invalid listen address {}: bad port", std::string(address)));
  }
  error_code ec;
  auto ip = net::ip::make_address(host, ec);
  if (ec) {
    return MakeError(Code::kInvalidArgument,
                     fmt::format("invalid listen address {}: {}", std::string(address), ec.message()));
  }
  tcp::endpoint endpoint(ip, static_cast<uint16_t>(port));
  auto acceptor = std::make_unique<tcp::acceptor>(impl_->io);
  acceptor->open(endpoint.protocol(), ec);
  if (!ec) acceptor->set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor->bind(endpoint, ec);
  if (!ec) acceptor->listen(1024, ec);
  if (ec) {
    return Error{ec.value() == EADDRINUSE ? Code::kAlreadyExists : Code::kUnavailable,
                 fmt::format("listen on {}: {}", std::string(address), ec.message()), ec.value()};
  }
  auto local = acceptor->local_endpoint(ec);
  std::string bound = local.address().is_v6()
                          ? fmt::format("[{}]:{}", local.address().to_string(), local.port())
                          : fmt::format("{}:{}", local.address().to_string(), local.port());
  impl_->acceptors.push_back(std::move(acceptor));
  return bound;
}

Status HttpServer::Start() {
  if (impl_->acceptors.empty()) return MakeError(Code::kFailedPrecondition, "no listener");
  if (Status st = impl_->SetUpTls(); !st) return st;
  for (auto& acceptor : impl_->acceptors) {
    net::co_spawn(impl_->io, impl_->Accept(*acceptor), net::detached);
  }
  int n = impl_->options.threads > 0
              ? impl_->options.threads
              : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  for (int i = 0; i < n; ++i) {
    impl_->threads.emplace_back([this] { impl_->io.run(); });
  }
  return Ok();
}

void HttpServer::Stop() {
  if (impl_->stopped.exchange(true)) return;
  for (auto& acceptor : impl_->acceptors) {
    error_code ec;
    acceptor->close(ec);
  }
  impl_->io.stop();
  for (auto& t : impl_->threads) t.join();
  impl_->threads.clear();
}

}  // namespace berth::registry
