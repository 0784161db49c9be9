// FakeTransport: an in-memory Transport for unit tests of commands. It records every request
// (a streamed body is read to the end and kept) and answers from canned replies keyed by
// "METHOD /path" (the path without query). HEAD /_ping answers Api-Version 1.43 unless
// overridden; unknown routes answer 404 {"message":"page not found"}. Not thread-safe.
#pragma once

#include <map>
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
  // Makes every exchange fail as if the daemon were not listening.
  void SetUnreachable() { unreachable_ = true; }

  Result<Response> RoundTrip(const Request& request, Writer* sink) override;

  const std::vector<RecordedRequest>& requests() const { return requests_; }
  // The requests other than HEAD /_ping.
  std::vector<RecordedRequest> ApiRequests() const;

 private:
  std::map<std::string, CannedReply> replies_;
  std::vector<RecordedRequest> requests_;
  bool unreachable_ = false;
};

}  // namespace berth::cli::testing
