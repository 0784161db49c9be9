// The CLI's HTTP/1.1 transport to the daemon, written and read with Boost.Beast over a plain
// socket (unix or tcp). NewTransport (cli/client.h) is the Transport: ordinary requests on one
// kept-alive connection, request bodies streamed chunked, reply bodies streamed to the sink as
// they arrive (logs -f, events). Below it, two kinds of connection of their own, the way the
// docker CLI makes them: hijacked ones for attach and exec start (after "101 UPGRADED" the
// socket itself is a byte stream), and "send now, read the reply later" for run's wait.
// (libcurl was the transport before; its load time alone, some 9 ms of each command's start
// with its 30 libraries, was the largest part of `berth ps`.)
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
