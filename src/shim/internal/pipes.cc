#include "shim/internal/pipes.h"

#include <fcntl.h>
#include <unistd.h>

namespace berth::shim::internal {

Result<Pipe> MakePipe() {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) return ErrnoError("pipe2");
  return Pipe{UniqueFd(p[0]), UniqueFd(p[1])};
}

Status SetNonBlocking(int fd) {
  int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) return ErrnoError("fcntl");
  return {};
}

}  // namespace berth::shim::internal
