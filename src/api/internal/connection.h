// One HTTP/1.1 connection of the Engine API server: reads requests (keep-alive), routes
// them, and writes responses, on the calling thread with blocking I/O. Private to api/.
#pragma once

#include <cstdint>
#include <string>

#include <boost/asio/generic/stream_protocol.hpp>

namespace berth::api {
class Router;
}  // namespace berth::api

namespace berth::api::internal {

using Socket = boost::asio::generic::stream_protocol::socket;

struct ConnectionContext {
  const Router* router = nullptr;
  std::string server_header;  // "Berth/0.1.0 (linux)"
};

// Lets the server stop a connection between requests without cutting one in flight.
class ConnectionTracker {
 public:
  virtual ~ConnectionTracker() = default;
  // Called before waiting for the next request; false means the server is stopping.
  virtual bool EnterIdle(uint64_t id) = 0;
  // Called once a request's headers have arrived (or the read failed).
  virtual void LeaveIdle(uint64_t id) = 0;
};

// Serves requests until the client closes, an I/O or protocol error, a hijack, or shutdown.
void ServeConnection(Socket& socket, const ConnectionContext& context, ConnectionTracker& tracker,
                     uint64_t id);

}  // namespace berth::api::internal
