#include "api/server.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <condition_variable>
#include <filesystem>
#include <map>
#include <mutex>
#include <thread>

#include <boost/asio/generic/stream_protocol.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "api/internal/connection.h"
#include "base/file.h"
#include "base/unique_fd.h"

namespace berth::api {
namespace {

namespace net = boost::asio;
using boost::system::error_code;

Error NetError(std::string_view what, const error_code& ec) {
  return Error{ec.value() == EADDRINUSE ? Code::kAlreadyExists : CodeFromErrno(ec.value()),
               std::string(what) + ": " + ec.message(), ec.value()};
}

// Whether some process accepts connections on the unix socket at `path`.
bool UnixSocketLive(const std::string& path) {
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return false;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof(addr.sun_path)) return false;
  path.copy(addr.sun_path, path.size());
  return ::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) == 0;
}

}  // namespace

Result<ListenAddress> ParseListenAddress(std::string_view address) {
  ListenAddress out;
  if (address.starts_with("unix://")) {
    out.kind = ListenAddress::Kind::kUnix;
    out.path = std::string(address.substr(7));
    if (out.path.empty()) out.path = "/run/berth/berth.sock";
    if (out.path.front() != '/') {
      return MakeError(
          Code::kInvalidArgument,
          "invalid unix socket address " + std::string(address) + ": the path must be absolute");
    }
    if (out.path.size() >= sizeof(sockaddr_un::sun_path)) {
      return MakeError(Code::kInvalidArgument,
                       "invalid unix socket address " + std::string(address) + ": path too long");
    }
    return out;
  }
  if (address.starts_with("tcp://")) {
    out.kind = ListenAddress::Kind::kTcp;
    std::string_view rest = address.substr(6);
    if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
    size_t colon = rest.rfind(':');
    if (colon == std::string_view::npos) {
      return MakeError(Code::kInvalidArgument,
                       "invalid tcp address " + std::string(address) + ": want tcp://HOST:PORT");
    }
    std::string_view host = rest.substr(0, colon);
    if (host.starts_with('[') && host.ends_with(']')) host = host.substr(1, host.size() - 2);
    out.host = host.empty() ? "0.0.0.0" : std::string(host);
    std::string_view port = rest.substr(colon + 1);
    unsigned value = 0;
    if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != port.npos ||
        (value = static_cast<unsigned>(std::stoul(std::string(port)))) > 65535) {
      return MakeError(Code::kInvalidArgument,
                       "invalid tcp address " + std::string(address) + ": bad port");
    }
    out.port = static_cast<uint16_t>(value);
    return out;
  }
  return MakeError(Code::kInvalidArgument, "invalid listen address " + std::string(address) +
                                               ": want unix:///path or tcp://HOST:PORT");
}

struct Server::Impl : internal::ConnectionTracker {
  struct Conn {
    int fd;
    bool idle;
  };

  Impl(const Router& router, ServerOptions opts) : options(std::move(opts)) {
    context.router = &router;
    context.server_header = options.server_header;
  }

  bool EnterIdle(uint64_t id) override {
    std::lock_guard lock(mu);
    if (stopping) return false;
    conns[id].idle = true;
    return true;
  }
  void LeaveIdle(uint64_t id) override {
    std::lock_guard lock(mu);
    conns[id].idle = false;
  }

  template <typename Acceptor>
  void Accept(Acceptor& acceptor, int family, int protocol) {
    using PeerSocket = typename Acceptor::protocol_type::socket;
    acceptor.async_accept(
        [this, &acceptor, family, protocol](const error_code& ec, PeerSocket peer) {
          if (ec == net::error::operation_aborted || !acceptor.is_open()) return;
          if (ec) {
            // Usually EMFILE: wait a little instead of spinning on a listener that stays ready.
            spdlog::warn("API accept: {}", ec.message());
            auto timer = std::make_shared<net::steady_timer>(io, std::chrono::milliseconds(100));
            timer->async_wait([this, &acceptor, family, protocol, timer](const error_code&) {
              if (acceptor.is_open()) Accept(acceptor, family, protocol);
            });
            return;
          }
          error_code rec;
          int fd = peer.release(rec);
          if (!rec) Spawn(fd, family, protocol);
          Accept(acceptor, family, protocol);
        });
  }

  void Spawn(int fd, int family, int protocol) {
    uint64_t id;
    {
      std::lock_guard lock(mu);
      if (stopping) {
        ::close(fd);
        return;
      }
      id = next_id++;
      conns[id] = Conn{fd, false};
      ++live_threads;
    }
    std::thread([this, id, fd, family, protocol] {
      {
        internal::Socket socket(io);
        error_code ec;
        socket.assign(net::generic::stream_protocol(family, protocol), fd, ec);
        if (!ec) {
          internal::ServeConnection(socket, context, *this, id);
        } else {
          ::close(fd);
        }
        // Forget the fd before closing it, so Shutdown never touches a reused number.
        {
          std::lock_guard lock(mu);
          conns.erase(id);
        }
        socket.close(ec);
      }
      std::lock_guard lock(mu);
      --live_threads;
      done.notify_all();
    }).detach();
  }

  ServerOptions options;
  internal::ConnectionContext context;
  net::io_context io;
  std::vector<std::unique_ptr<net::local::stream_protocol::acceptor>> unix_acceptors;
  std::vector<std::unique_ptr<net::ip::tcp::acceptor>> tcp_acceptors;
  std::vector<std::string> unix_paths;
  std::vector<std::string> bound;
  std::thread accept_thread;
  bool started = false;
  bool shut_down = false;

  std::mutex mu;
  std::condition_variable done;
  bool stopping = false;
  uint64_t next_id = 1;
  size_t live_threads = 0;
  std::map<uint64_t, Conn> conns;
};

Server::Server(const Router& router, ServerOptions options)
    : impl_(std::make_unique<Impl>(router, std::move(options))) {}

Server::~Server() { Shutdown(std::chrono::milliseconds(0)); }

Status Server::Listen(std::string_view address) {
  if (impl_->started) return MakeError(Code::kFailedPrecondition, "server already started");
  BERTH_ASSIGN_OR_RETURN(ListenAddress addr, ParseListenAddress(address));
  error_code ec;
  if (addr.kind == ListenAddress::Kind::kUnix) {
    const std::string& path = addr.path;
    std::string dir = std::filesystem::path(path).parent_path().string();
    BERTH_RETURN_IF_ERROR(MakeDirs(dir, 0755));
    if (PathExists(path)) {
      if (UnixSocketLive(path)) {
        return MakeError(Code::kAlreadyExists,
                         "listen on " + path + ": another process is serving this socket");
      }
      if (::unlink(path.c_str()) != 0) return ErrnoError("remove stale socket " + path);
    }
    auto acceptor = std::make_unique<net::local::stream_protocol::acceptor>(impl_->io);
    net::local::stream_protocol::endpoint endpoint(path);
    acceptor->open(endpoint.protocol(), ec);
    if (!ec) acceptor->bind(endpoint, ec);
    if (ec) return NetError("listen on " + path, ec);
    // Before listen(): nobody outside the group can connect in the meantime.
    if (::chmod(path.c_str(), static_cast<mode_t>(impl_->options.unix_socket_mode)) != 0) {
      Error e = ErrnoError("chmod " + path);
      ::unlink(path.c_str());
      return e;
    }
    acceptor->listen(net::socket_base::max_listen_connections, ec);
    if (ec) {
      ::unlink(path.c_str());
      return NetError("listen on " + path, ec);
    }
    impl_->unix_paths.push_back(path);
    impl_->bound.push_back("unix://" + path);
    impl_->unix_acceptors.push_back(std::move(acceptor));
    return Ok();
  }
  net::ip::address ip = net::ip::make_address(addr.host, ec);
  if (ec) return NetError("listen on " + std::string(address) + ": bad address", ec);
  net::ip::tcp::endpoint endpoint(ip, addr.port);
  auto acceptor = std::make_unique<net::ip::tcp::acceptor>(impl_->io);
  acceptor->open(endpoint.protocol(), ec);
  if (!ec) acceptor->set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) acceptor->bind(endpoint, ec);
  if (!ec) acceptor->listen(net::socket_base::max_listen_connections, ec);
  if (ec) return NetError("listen on " + std::string(address), ec);
  net::ip::tcp::endpoint local = acceptor->local_endpoint(ec);
  std::string host = local.address().is_v6() ? "[" + local.address().to_string() + "]"
                                             : local.address().to_string();
  impl_->bound.push_back(fmt::format("tcp://{}:{}", host, local.port()));
  spdlog::warn(
      "API listening on {} without TLS or authentication: anyone who can reach it "
      "controls this host",
      impl_->bound.back());
  impl_->tcp_acceptors.push_back(std::move(acceptor));
  return Ok();
}

Status Server::Start() {
  if (impl_->started) return MakeError(Code::kFailedPrecondition, "server already started");
  if (impl_->unix_acceptors.empty() && impl_->tcp_acceptors.empty()) {
    return MakeError(Code::kFailedPrecondition, "no listen address");
  }
  impl_->started = true;
  for (auto& a : impl_->unix_acceptors) impl_->Accept(*a, AF_UNIX, 0);
  for (auto& a : impl_->tcp_acceptors) {
    impl_->Accept(*a, a->local_endpoint().protocol().family(), IPPROTO_TCP);
  }
  impl_->accept_thread = std::thread([this] { impl_->io.run(); });
  return Ok();
}

void Server::Shutdown(std::chrono::milliseconds grace) {
  Impl& s = *impl_;
  if (s.shut_down) return;
  s.shut_down = true;
  // 1. Stop accepting. Closing the acceptors on their own thread ends io.run().
  if (s.accept_thread.joinable()) {
    net::post(s.io, [&s] {
      error_code ec;
      for (auto& a : s.unix_acceptors) a->close(ec);
      for (auto& a : s.tcp_acceptors) a->close(ec);
    });
    s.accept_thread.join();
  }
  s.unix_acceptors.clear();
  s.tcp_acceptors.clear();
  for (const std::string& path : s.unix_paths) ::unlink(path.c_str());

  // 2. Close idle connections; let busy ones finish within the grace period.
  std::unique_lock lock(s.mu);
  s.stopping = true;
  for (const auto& [id, conn] : s.conns) {
    if (conn.idle) ::shutdown(conn.fd, SHUT_RD);
  }
  if (!s.done.wait_for(lock, grace, [&s] { return s.live_threads == 0; })) {
    // 3. Cut what is left: blocked reads and writes fail and the handlers return.
    spdlog::warn("API shutdown: cutting {} connection(s) still busy after {} ms", s.conns.size(),
                 grace.count());
    for (const auto& [id, conn] : s.conns) ::shutdown(conn.fd, SHUT_RDWR);
    s.done.wait(lock, [&s] { return s.live_threads == 0; });
  }
}

std::vector<std::string> Server::addresses() const { return impl_->bound; }

}  // namespace berth::api
