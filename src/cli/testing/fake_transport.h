// FakeTransport: an in-memory Transport for unit tests of commands. It records every request
// (a streamed body is read to the end and kept) and answers from canned replies keyed by
// "METHOD /path" (the path without query). HEAD /_ping answers Api-Version 1.43 unless
// overridden; unknown routes answer 404 {"message":"page not found"}.
// Upgrade (attach, exec start) answers from the same replies: a 101 reply's body is what the
// connection yields, and what the command writes to it is kept (stdin()). Send records at once
// and answers at Await. Requests may come from several threads (the stdin copier).
#pragma once

#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "cli/client.h"

namespace berth::cli::testing {

struct RecordedRequest {
  std::string method;
  std::string path;
  Params query;
  Params headers;
  std::string body;
  bool streamed = false;

  // The value of the first query parameter `key`, or "<absent>".
  std::string Query(const std::string& key) const;
  // All values of `key`.
  std::vector<std::string> QueryAll(const std::string& key) const;
};

struct CannedReply {
  int status = 200;
  std::string body;
  std::map<std::string, std::string> headers;  // lower-case names
};

class FakeTransport : public Transport {
 public:
  FakeTransport();

  // Sets the reply for "METHOD /path", e.g. On("GET /v1.43/images/json", {200, "[]"}).
  void On(const std::string& route, CannedReply reply) { replies_[route] = std::move(reply); }
  // A one-time reply for `route`, used (in order) before the one set by On.
  void Once(const std::string& route, CannedReply reply) {
    once_[route].push_back(std::move(reply));
  }
  // Makes every exchange fail as if the daemon were not listening.
  void SetUnreachable() { unreachable_ = true; }

  Result<Response> RoundTrip(const Request& request, Writer* sink) override;
  Result<Upgraded> Upgrade(const Request& request) override;
  Result<std::unique_ptr<PendingResponse>> Send(const Request& request) override;

  std::vector<RecordedRequest> requests() const;
  // The requests other than HEAD /_ping.
  std::vector<RecordedRequest> ApiRequests() const;
  // What was written to hijacked connections, and whether one was half-closed.
  std::string stdin_data() const;
  bool stdin_closed() const;

  struct ConnState {
    std::mutex mu;
    std::string written;
    bool closed_write = false;
  };

 private:
  CannedReply Reply(const Request& request);
  void Record(const Request& request, std::string body);

  mutable std::mutex mu_;
  std::map<std::string, CannedReply> replies_;
  std::map<std::string, std::deque<CannedReply>> once_;
  std::vector<RecordedRequest> requests_;
  std::shared_ptr<ConnState> conn_ = std::make_shared<ConnState>();
  bool unreachable_ = false;
};

}  // namespace berth::cli::testing
