// Server: the Engine API's HTTP/1.1 server (Boost.Beast over Boost.Asio) on unix sockets and,
// only when asked, TCP.
//
// Threading: one accept thread runs an Asio io_context that accepts on every listener; each
// accepted connection gets its own thread doing blocking reads and writes for as long as the
// connection lives (keep-alive, streams, hijacked attach sessions). Handlers may block for
// minutes (`docker load` of gigabytes, `docker attach`) without stalling anyone else, and
// handler code stays straight-line over Reader/Writer instead of callbacks. A local daemon
// serves tens of connections, not thousands, so a thread each (mostly idle stacks) costs
// little; the idle daemon has no connection threads at all.
//
// Shutdown(grace): stop accepting and remove the unix socket files; connections idle between
// requests close at once; requests in flight get `grace` to finish, then their sockets are
// shut down so blocked reads and writes fail and the handlers return. Shutdown returns when
// every connection thread has ended. Methods are called from one controlling thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace berth::api {

class Router;

struct ListenAddress {
  enum class Kind { kUnix, kTcp } kind = Kind::kUnix;
  std::string path;  // kUnix
  std::string host;  // kTcp: "127.0.0.1", "::1", "0.0.0.0"
  uint16_t port = 0;
};

// "unix:///run/berth/berth.sock" or "tcp://127.0.0.1:2375" (port 0: any free port;
// "tcp://:2375" binds all addresses). dockerd's -H syntax, without fd:// and ssh://.
Result<ListenAddress> ParseListenAddress(std::string_view address);

struct ServerOptions {
  std::string server_header;  // e.g. "Berth/0.1.0 (linux)"
  int unix_socket_mode = 0660;
};

class Server {
 public:
  // `router` is borrowed and must outlive the server.
  Server(const Router& router, ServerOptions options);
  ~Server();  // Shutdown(0) if still running
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds one listener. A unix socket's parent directory is created; a stale socket file is
  // replaced, but one a live process still accepts on is refused. Call before Start().
  Status Listen(std::string_view address);
  // Starts accepting on every listener.
  Status Start();
  void Shutdown(std::chrono::milliseconds grace);

  // Where the listeners are, with real ports: "unix:///path", "tcp://127.0.0.1:43211".
  std::vector<std::string> addresses() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace berth::api
