// Private to api/: copies a hijacked client connection to and from a container's stream (a
// shim connection), in one thread with poll(2). Output (shim -> client) ends the splice when
// the shim closes; input (client -> shim) is forwarded when `forward_input`, and the client's
// half-close becomes a half-close towards the shim (the container's stdin EOF).
#pragma once

#include "api/response_writer.h"
#include "base/result.h"

namespace berth::api::internal {

Status Splice(HijackedStream& client, int stream_fd, bool forward_input);

}  // namespace berth::api::internal
