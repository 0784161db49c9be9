// The berth-shim process (protocol.h): one per running container, outside its namespaces, the
// parent (and child subreaper) of its init. A single-threaded poll loop: container output to the
// json-file log and to attached clients (backpressure: output is not read while a client has
// more than 1 MiB queued), client input to the container's stdin, control requests, SIGCHLD.
// When the init exits, the rest of its output is drained, exit.json written, the cgroup
// removed, waiters answered, and the shim exits.
#pragma once

#include "base/unique_fd.h"
#include "shim/protocol.h"

namespace berth::shim {

// Runs the shim for `options` (already daemonised by the caller). `ready` receives one line:
// {"ok":true,"pid":<init>,"shim_pid":<self>} once the init is created and the socket listens,
// or the error. Returns the process exit status for the shim itself.
int RunShim(const ShimOptions& options, UniqueFd ready);

}  // namespace berth::shim
