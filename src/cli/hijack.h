// Hijacked connections to the daemon, the way the docker CLI makes them for attach and exec
// start: a plain socket (unix or tcp) per request, the HTTP exchange written and read with
// Boost.Beast, then, after "101 UPGRADED", the socket itself as a byte stream. Also the
// "send now, read the reply later" request run uses for wait. Each connection is owned by
// the object returned; nothing is shared between them.
#pragma once

#include <memory>
#include <string>

#include "base/result.h"
#include "cli/client.h"

namespace berth::cli {

// Sends `request` (path already versioned) with Connection: Upgrade / Upgrade: tcp. On 101 the
// socket, with any bytes read past the reply's header, becomes Upgraded::conn.
Result<Upgraded> UpgradeOver(const HostSpec& host, const std::string& user_agent,
                             const Request& request);

// Writes `request` on a new connection; the reply (chunked or not) is read by Await().
Result<std::unique_ptr<PendingResponse>> SendOver(const HostSpec& host,
                                                  const std::string& user_agent,
                                                  const Request& request);

}  // namespace berth::cli
