#include "api/internal/connection.h"

#include <poll.h>

#include <ctime>
#include <limits>
#include <utility>
#include <vector>

#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <spdlog/spdlog.h>

#include "api/errors.h"
#include "api/internal/url.h"
#include "api/request.h"
#include "api/response_writer.h"
#include "api/router.h"
#include "api/version.h"
#include "base/strings.h"

namespace berth::api::internal {
namespace {

namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace net = boost::asio;

constexpr uint32_t kMaxHeaderBytes = 1 << 20;  // Go's http.DefaultMaxHeaderBytes
constexpr size_t kMaxDrainBytes = 64 << 20;    // unread body we skip before closing

// Beast (Boost 1.74) speaks boost::string_view.
std::string_view Std(beast::string_view s) { return std::string_view(s.data(), s.size()); }
beast::string_view Bv(std::string_view s) { return beast::string_view(s.data(), s.size()); }

std::string HttpDate() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  ::gmtime_r(&now, &tm);
  char buf[64];
  size_t n = std::strftime(buf, sizeof(buf), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return std::string(buf, n);
}

Error IoError(std::string_view what, const beast::error_code& ec) {
  return MakeError(Code::kUnavailable, std::string(what) + ": " + ec.message());
}

// A malformed message, as opposed to the peer going away mid-message.
bool IsProtocolError(const beast::error_code& ec) {
  return ec.category() == http::make_error_code(http::error::bad_method).category() &&
         ec != http::error::end_of_stream && ec != http::error::partial_message;
}

constexpr size_t kBodyReadRoom = 64 << 10;

// The request body, pulled from the socket as the handler reads.
class BodyReader : public Reader {
 public:
  BodyReader(Socket& socket, beast::flat_buffer& buffer,
             http::request_parser<http::buffer_body>& parser, bool expect_continue)
      : socket_(socket), buffer_(buffer), parser_(parser), continue_pending_(expect_continue) {}

  Result<size_t> Read(char* out, size_t size) override {
    if (parser_.is_done() || size == 0) return size_t{0};
    if (continue_pending_) {
      // The client waits for this before sending a body it announced with Expect.
      static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
      beast::error_code ec;
      net::write(socket_, net::buffer(kContinue.data(), kContinue.size()), ec);
      if (ec) return IoError("write 100 Continue", ec);
      continue_pending_ = false;
    }
    // Beast reads at most the buffer's free capacity (never under 512 bytes, never over 64 KiB)
    // per recv: without room, a gigabyte upload arrives 512 bytes per syscall.
    if (buffer_.capacity() - buffer_.size() < kBodyReadRoom) {
      buffer_.reserve(buffer_.size() + kBodyReadRoom);
    }
    while (true) {
      parser_.get().body().data = out;
      parser_.get().body().size = size;
      beast::error_code ec;
      http::read_some(socket_, buffer_, parser_, ec);
      if (ec == http::error::need_buffer) ec = {};
      if (ec) {
        if (IsProtocolError(ec)) {
          return MakeError(Code::kInvalidArgument, "malformed request body: " + ec.message());
        }
        return MakeError(Code::kCancelled,
                         "read request body: the client went away: " + ec.message());
      }
      size_t n = size - parser_.get().body().size;
      if (n > 0 || parser_.is_done()) return n;
    }
  }

  bool continue_pending() const { return continue_pending_; }

 private:
  Socket& socket_;
  beast::flat_buffer& buffer_;
  http::request_parser<http::buffer_body>& parser_;
  bool continue_pending_;
};

class SocketHijackedStream : public HijackedStream {
 public:
  SocketHijackedStream(Socket& socket, beast::flat_buffer& buffer)
      : socket_(socket), buffer_(buffer) {}

  Result<size_t> Read(char* out, size_t size) override {
    if (buffer_.size() > 0) {
      size_t n = net::buffer_copy(net::buffer(out, size), buffer_.data());
      buffer_.consume(n);
      return n;
    }
    beast::error_code ec;
    size_t n = socket_.read_some(net::buffer(out, size), ec);
    if (ec == net::error::eof) return size_t{0};
    if (ec) return IoError("read hijacked connection", ec);
    return n;
  }

  Status Write(std::string_view data) override {
    beast::error_code ec;
    net::write(socket_, net::buffer(data.data(), data.size()), ec);
    if (ec) return IoError("write hijacked connection", ec);
    return Ok();
  }

  Status CloseWrite() override {
    beast::error_code ec;
    socket_.shutdown(net::socket_base::shutdown_send, ec);
    if (ec) return IoError("shutdown hijacked connection", ec);
    return Ok();
  }

  std::string TakeBuffered() override {
    std::string out(buffer_.size(), '\0');
    net::buffer_copy(net::buffer(out.data(), out.size()), buffer_.data());
    buffer_.consume(out.size());
    return out;
  }

  int NativeHandle() override { return socket_.native_handle(); }

 private:
  Socket& socket_;
  beast::flat_buffer& buffer_;
};

class SocketResponseWriter : public ResponseWriter {
 public:
  enum class State { kNone, kStreaming, kDone, kHijacked, kBroken };

  SocketResponseWriter(Socket& socket, beast::flat_buffer& buffer, const ConnectionContext& ctx,
                       std::string method, std::string api_version, bool keep_alive,
                       bool upgrade_requested)
      : socket_(socket),
        buffer_(buffer),
        ctx_(ctx),
        method_(std::move(method)),
        api_version_(std::move(api_version)),
        keep_alive_(keep_alive),
        upgrade_requested_(upgrade_requested) {}

  void SetHeader(std::string_view name, std::string_view value) override {
    if (state_ == State::kNone) extra_.emplace_back(std::string(name), std::string(value));
  }

  Status WriteBody(int status, std::string_view content_type, std::string_view body) override {
    BERTH_RETURN_IF_ERROR(CheckNotStarted());
    beast::error_code ec;
    if (method_ == "HEAD") {
      http::response<http::empty_body> res;
      Prepare(res, status, content_type);
      res.content_length(body.size());
      http::response_serializer<http::empty_body> sr{res};
      http::write_header(socket_, sr, ec);
    } else {
      http::response<http::string_body> res;
      Prepare(res, status, content_type);
      res.body() = std::string(body);
      res.content_length(body.size());
      http::write(socket_, res, ec);
    }
    return Finish(ec, State::kDone);
  }

  Status WriteEmpty(int status) override {
    BERTH_RETURN_IF_ERROR(CheckNotStarted());
    http::response<http::empty_body> res;
    Prepare(res, status, "");
    if (status >= 200 && status != 204 && status != 304) res.content_length(0);
    beast::error_code ec;
    http::response_serializer<http::empty_body> sr{res};
    http::write_header(socket_, sr, ec);
    return Finish(ec, State::kDone);
  }

  Status StartStream(int status, std::string_view content_type) override {
    BERTH_RETURN_IF_ERROR(CheckNotStarted());
    http::response<http::empty_body> res;
    Prepare(res, status, content_type);
    res.chunked(true);
    beast::error_code ec;
    http::response_serializer<http::empty_body> sr{res};
    http::write_header(socket_, sr, ec);
    return Finish(ec, State::kStreaming);
  }

  Status Write(std::string_view chunk) override {
    if (state_ != State::kStreaming) {
      return MakeError(Code::kInternal, "response stream write without StartStream");
    }
    if (chunk.empty()) return Ok();  // an empty chunk would end the stream
    beast::error_code ec;
    net::write(socket_, http::make_chunk(net::const_buffer(chunk.data(), chunk.size())), ec);
    return Finish(ec, State::kStreaming);
  }

  Status End() override {
    if (state_ != State::kStreaming) {
      return MakeError(Code::kInternal, "response stream end without StartStream");
    }
    beast::error_code ec;
    net::write(socket_, http::make_chunk_last(), ec);
    return Finish(ec, State::kDone);
  }

  Result<std::unique_ptr<HijackedStream>> Hijack(std::string_view content_type) override {
    BERTH_RETURN_IF_ERROR(CheckNotStarted());
    std::string head = upgrade_requested_ ? "HTTP/1.1 101 UPGRADED\r\n" : "HTTP/1.1 200 OK\r\n";
    head += "Content-Type: " + std::string(content_type) + "\r\n";
    if (upgrade_requested_) head += "Connection: Upgrade\r\nUpgrade: tcp\r\n";
    head += "\r\n";
    beast::error_code ec;
    net::write(socket_, net::buffer(head), ec);
    BERTH_RETURN_IF_ERROR(Finish(ec, State::kHijacked));
    return std::unique_ptr<HijackedStream>(new SocketHijackedStream(socket_, buffer_));
  }

  bool started() const override { return state_ != State::kNone; }
  std::string_view api_version() const override { return api_version_; }
  State state() const { return state_; }

  bool ClientGone() override {
    pollfd p{socket_.native_handle(), POLLRDHUP, 0};
    return ::poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0;
  }

 private:
  Status CheckNotStarted() const {
    if (state_ != State::kNone) return MakeError(Code::kInternal, "response already started");
    return Ok();
  }

  template <typename Body>
  void Prepare(http::response<Body>& res, int status, std::string_view content_type) {
    res.version(11);
    res.result(static_cast<unsigned>(status));
    res.set("Api-Version", Bv(kDefaultApiVersion));
    res.set("Docker-Experimental", "false");
    res.set("Ostype", "linux");
    res.set(http::field::server, ctx_.server_header);
    res.set(http::field::date, HttpDate());
    if (!content_type.empty()) res.set(http::field::content_type, Bv(content_type));
    for (const auto& [name, value] : extra_) res.set(name, value);
    res.keep_alive(keep_alive_);
  }

  Status Finish(const beast::error_code& ec, State next) {
    if (ec) {
      state_ = State::kBroken;
      return IoError("write response", ec);
    }
    state_ = next;
    return Ok();
  }

  Socket& socket_;
  beast::flat_buffer& buffer_;
  const ConnectionContext& ctx_;
  std::string method_;
  std::string api_version_;
  bool keep_alive_;
  bool upgrade_requested_;
  State state_ = State::kNone;
  std::vector<std::pair<std::string, std::string>> extra_;
};

// Serves one request whose headers `parser` holds. Returns whether the connection can carry
// another request.
bool ServeRequest(Socket& socket, beast::flat_buffer& buffer,
                  http::request_parser<http::buffer_body>& parser, const ConnectionContext& ctx) {
  const auto& req = parser.get();
  std::string method(req.method_string());
  std::string_view target = Std(req.target());
  size_t qmark = target.find('?');
  std::string_view raw_path = target.substr(0, qmark);
  std::string_view query = qmark == std::string_view::npos ? "" : target.substr(qmark + 1);
  std::string path = PercentDecode(raw_path, false).value_or(std::string(raw_path));
  VersionedPath vp = SplitVersionPrefix(path);

  bool keep_alive = req.keep_alive();
  bool expect_continue = ToLower(Std(req[http::field::expect])) == "100-continue";
  bool upgrade = !req[http::field::upgrade].empty();
  SocketResponseWriter w(socket, buffer, ctx, method, vp.version, keep_alive, upgrade);
  BodyReader body(socket, buffer, parser, expect_continue);
  spdlog::debug("API request {} {}", method, target);

  std::optional<Router::Match> match = ctx.router->Find(method, vp.path);
  Result<std::string> version = NegotiateVersion(vp.version);
  Status st;
  if (!match) {
    st = w.WriteBody(404, "application/json", ErrorJson("page not found"));
  } else if (!version) {
    st = w.WriteError(version.error());
  } else {
    Request::Pairs headers;
    for (const auto& field : req) {
      headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    }
    Request r(method, vp.path, *version, std::move(match->params), ParseQuery(query),
              std::move(headers), &body);
    st = (*match->handler)(r, w);
    if (!st) {
      const Error& e = st.error();
      if (!w.started()) {
        if (HttpStatusFor(e.code) >= 500) spdlog::error("{} {}: {}", method, target, e.message);
        st = w.WriteError(e);
      } else {
        // The status line is out; the only honest signal left is a truncated response.
        spdlog::error("{} {} failed mid-response: {}", method, target, e.message);
        return false;
      }
    } else if (w.state() == SocketResponseWriter::State::kStreaming) {
      st = w.End();
    } else if (!w.started()) {
      st = w.WriteEmpty(200);
    }
  }
  if (!st || w.state() != SocketResponseWriter::State::kDone) return false;

  // Skip an unread body (a request refused before its upload was read) so the client, still
  // writing, reads our answer instead of a reset: closing a socket with unread data sends RST,
  // which can destroy the response in flight. Past kMaxDrainBytes, close anyway.
  if (!parser.is_done()) {
    if (body.continue_pending()) return false;
    char sink[16384];
    size_t drained = 0;
    while (!parser.is_done() && drained < kMaxDrainBytes) {
      Result<size_t> n = body.Read(sink, sizeof(sink));
      if (!n) return false;
      drained += *n;
    }
    if (!parser.is_done()) return false;
  }
  return keep_alive;
}

void WriteBadRequest(Socket& socket, const beast::error_code& parse_error) {
  http::response<http::string_body> res{http::status::bad_request, 11};
  res.set(http::field::content_type, "text/plain; charset=utf-8");
  res.set(http::field::connection, "close");
  res.body() = "400 Bad Request: " + parse_error.message();
  res.prepare_payload();
  beast::error_code ec;
  http::write(socket, res, ec);
}

}  // namespace

void ServeConnection(Socket& socket, const ConnectionContext& context, ConnectionTracker& tracker,
                     uint64_t id) {
  beast::flat_buffer buffer;
  while (tracker.EnterIdle(id)) {
    http::request_parser<http::buffer_body> parser;
    parser.header_limit(kMaxHeaderBytes);
    // Bodies stream, so no limit here (JSON bodies are capped by ReadJson). Not boost::none:
    // Boost 1.74 compares a Content-Length against an empty optional and refuses every body.
    parser.body_limit(std::numeric_limits<std::uint64_t>::max());
    beast::error_code ec;
    http::read_header(socket, buffer, parser, ec);
    tracker.LeaveIdle(id);
    if (ec) {
      if (IsProtocolError(ec)) WriteBadRequest(socket, ec);
      return;
    }
    if (!ServeRequest(socket, buffer, parser, context)) return;
  }
}

}  // namespace berth::api::internal
