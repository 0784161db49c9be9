#include "cli/testing/fake_transport.h"

#include <vector>

namespace berth::cli::testing {

std::string RecordedRequest::Query(const std::string& key) const {
  for (const auto& [k, v] : query) {
    if (k == key) return v;
  }
  return "<absent>";
}

std::vector<std::string> RecordedRequest::QueryAll(const std::string& key) const {
  std::vector<std::string> out;
  for (const auto& [k, v] : query) {
    if (k == key) out.push_back(v);
  }
  return out;
}

FakeTransport::FakeTransport() { On("HEAD /_ping", {200, "", {{"api-version", "1.43"}}}); }

Result<Response> FakeTransport::RoundTrip(const Request& request, Writer* sink) {
  if (unreachable_) {
    return MakeError(Code::kUnavailable, "connect: no such file or directory");
  }
  RecordedRequest recorded{request.method,
                           request.path,
                           request.query,
                           request.headers,
                           request.body.value_or(""),
                           request.body_stream != nullptr};
  if (request.body_stream != nullptr) {
    std::vector<char> buf(1 << 16);
    while (true) {
      BERTH_ASSIGN_OR_RETURN(size_t n, request.body_stream->Read(buf.data(), buf.size()));
      if (n == 0) break;
      recorded.body.append(buf.data(), n);
    }
  }
  requests_.push_back(std::move(recorded));
  auto it = replies_.find(request.method + " " + request.path);
  CannedReply reply =
      it != replies_.end() ? it->second : CannedReply{404, "{\"message\":\"page not found\"}", {}};
  Response response;
  response.status = reply.status;
  response.headers = reply.headers;
  if (sink != nullptr && reply.status >= 200 && reply.status < 300) {
    BERTH_RETURN_IF_ERROR(sink->Write(reply.body));
  } else {
    response.body = reply.body;
  }
  return response;
}

std::vector<RecordedRequest> FakeTransport::ApiRequests() const {
  std::vector<RecordedRequest> out;
  for (const RecordedRequest& r : requests_) {
    if (r.path != "/_ping") out.push_back(r);
  }
  return out;
}

}  // namespace berth::cli::testing
