#include "loopback.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <fstream>
#include <regex>

namespace berth::registry_conformance {

int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  int port = -1;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  close(fd);
  return port;
}

bool CanConnect(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  bool ok = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  close(fd);
  return ok;
}

std::optional<int> WaitPid(pid_t pid, std::chrono::milliseconds timeout) {
  int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  if (pidfd >= 0) {
    pollfd p{pidfd, POLLIN, 0};
    poll(&p, 1, static_cast<int>(timeout.count()));
    close(pidfd);
  }
  int status = 0;
  if (waitpid(pid, &status, WNOHANG) == pid) return status;
  return std::nullopt;
}

Listening AwaitListening(int fd, std::chrono::milliseconds timeout) {
  static const std::regex kListening(R"(^listening on (127\.0\.0\.1:[0-9]+)$)");
  Listening result;
  std::string& out = result.output;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    size_t start = 0;
    for (size_t nl = out.find('\n'); nl != std::string::npos; nl = out.find('\n', start)) {
      std::string line = out.substr(start, nl - start);
      std::smatch m;
      if (std::regex_match(line, m, kListening)) {
        result.host = m[1].str();
        return result;
      }
      start = nl + 1;
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    pollfd p{fd, POLLIN, 0};
    if (left.count() <= 0 || poll(&p, 1, static_cast<int>(left.count())) <= 0) {
      result.failure = "timed out";
      return result;
    }
    char buf[256];
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n <= 0) {
      result.failure = "stdout closed";
      return result;
    }
    out.append(buf, static_cast<size_t>(n));
  }
}

void WriteDockerRegistryConfig(const std::string& path, const std::string& dir, int port) {
  std::ofstream(path) << "version: 0.1\n"
                         "log:\n  level: warn\n  accesslog:\n    disabled: true\n"
                         "storage:\n  filesystem:\n    rootdirectory: "
                      << dir << "/data\n  delete:\n    enabled: true\n"
                      << "http:\n  addr: 127.0.0.1:" << port << "\n";
}

}  // namespace berth::registry_conformance
