#include "api/internal/splice.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "base/file.h"

namespace berth::api::internal {

Status Splice(HijackedStream& client, int stream_fd, bool forward_input) {
  int cfd = client.NativeHandle();
  std::string early = client.TakeBuffered();
  if (forward_input && !early.empty()) BERTH_RETURN_IF_ERROR(WriteAll(stream_fd, early));
  bool input_open = forward_input;
  char buf[32 * 1024];
  for (;;) {
    pollfd fds[2] = {{stream_fd, POLLIN, 0}, {cfd, static_cast<short>(input_open ? POLLIN : 0), 0}};
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return ErrnoError("attach: poll");
    }
    if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t n = ::read(stream_fd, buf, sizeof(buf));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      if (auto st = WriteAll(cfd, std::string_view(buf, static_cast<size_t>(n))); !st) {
        return {};  // the client went away
      }
    }
    if (input_open && (fds[1].revents & (POLLIN | POLLHUP | POLLERR))) {
      ssize_t n = ::read(cfd, buf, sizeof(buf));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        input_open = false;
        ::shutdown(stream_fd, SHUT_WR);
        continue;
      }
      if (auto st = WriteAll(stream_fd, std::string_view(buf, static_cast<size_t>(n))); !st) {
        input_open = false;
      }
    } else if (!input_open && (fds[1].revents & (POLLHUP | POLLERR))) {
      break;
    }
  }
  (void)client.CloseWrite();
  return {};
}

}  // namespace berth::api::internal
