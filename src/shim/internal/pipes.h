// Private to shim/: the pipes the shim gives a container's init and its exec processes as
// stdio, and the non-blocking mode its poll loop reads them in. Thread-safety: plain functions.
#pragma once

#include "base/result.h"
#include "base/unique_fd.h"

namespace berth::shim::internal {

struct Pipe {
  UniqueFd read;
  UniqueFd write;
};

// pipe2(O_CLOEXEC).
Result<Pipe> MakePipe();
// Adds O_NONBLOCK to the fd's status flags.
Status SetNonBlocking(int fd);

}  // namespace berth::shim::internal
