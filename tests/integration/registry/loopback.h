// Loopback helpers shared by the conformance and the compatibility suites: free ports, connect
// probes, waiting for a child with a timeout, the "listening on 127.0.0.1:PORT" line
// berth-registry prints once it accepts connections, and Debian's docker-registry config.
// Stateless; safe from any thread.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>

namespace berth::registry_conformance {

// A port on 127.0.0.1 that was free a moment ago; -1 if none could be bound.
int FreePort();
// Whether a TCP connect to 127.0.0.1:`port` succeeds.
bool CanConnect(int port);
// Waits up to `timeout` for child `pid` to exit; its wait status (reaped), or nullopt if it
// still runs.
std::optional<int> WaitPid(pid_t pid, std::chrono::milliseconds timeout);

struct Listening {
  std::string host;    // "127.0.0.1:PORT"; empty when no such line came
  std::string output;  // what was read from the fd meanwhile
  std::string failure; // why no line came: "timed out" or "stdout closed"
};
// Reads `fd` (a child's stdout) until a whole line "listening on 127.0.0.1:PORT", EOF, or
// `timeout`.
Listening AwaitListening(int fd, std::chrono::milliseconds timeout);

// Writes a docker-registry config to `path`: log level warn without the access log, filesystem
// storage in `dir`/data with delete enabled, listening on 127.0.0.1:`port`.
void WriteDockerRegistryConfig(const std::string& path, const std::string& dir, int port);

}  // namespace berth::registry_conformance
