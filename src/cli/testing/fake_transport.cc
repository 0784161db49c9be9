#include "cli/testing/fake_transport.h"

#include <algorithm>
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

CannedReply FakeTransport::Reply(const Request& request) {
  std::lock_guard<std::mutex> lock(mu_);
  std::string route = request.method + " " + request.path;
  auto once = once_.find(route);
  if (once != once_.end() && !once->second.empty()) {
    CannedReply reply = std::move(once->second.front());
    once->second.pop_front();
    return reply;
  }
  auto it = replies_.find(route);
  return it != replies_.end() ? it->second
                              : CannedReply{404, "{\"message\":\"page not found\"}", {}};
}

void FakeTransport::Record(const Request& request, std::string body) {
  std::lock_guard<std::mutex> lock(mu_);
  requests_.push_back(RecordedRequest{request.method, request.path, request.query, request.headers,
                                      std::move(body), request.body_stream != nullptr});
}

Result<Response> FakeTransport::RoundTrip(const Request& request, Writer* sink) {
  if (unreachable_) {
    return MakeError(Code::kUnavailable, "connect: no such file or directory");
  }
  std::string body = request.body.value_or("");
  if (request.body_stream != nullptr) {
    std::vector<char> buf(1 << 16);
    while (true) {
      BERTH_ASSIGN_OR_RETURN(size_t n, request.body_stream->Read(buf.data(), buf.size()));
      if (n == 0) break;
      body.append(buf.data(), n);
    }
  }
  Record(request, std::move(body));
  CannedReply reply = Reply(request);
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

namespace {

// A hijacked connection that yields a canned stream and keeps what is written to it.
class FakeConn : public HijackedConn {
 public:
  FakeConn(std::string output, std::shared_ptr<FakeTransport::ConnState> state)
      : output_(std::move(output)), state_(std::move(state)) {}
  Result<size_t> Read(char* buf, size_t size) override {
    // Small reads, so that demultiplexing is exercised across frame boundaries.
    size_t n = std::min({size, output_.size() - pos_, size_t{5}});
    std::copy_n(output_.data() + pos_, n, buf);
    pos_ += n;
    return n;
  }
  Status Write(std::string_view data) override {
    std::lock_guard<std::mutex> lock(state_->mu);
    if (state_->closed_write) return MakeError(Code::kFailedPrecondition, "write after close");
    state_->written.append(data);
    return Ok();
  }
  Status CloseWrite() override {
    std::lock_guard<std::mutex> lock(state_->mu);
    state_->closed_write = true;
    return Ok();
  }
  void Shutdown() override {}

 private:
  std::string output_;
  size_t pos_ = 0;
  std::shared_ptr<FakeTransport::ConnState> state_;
};

class FakePending : public PendingResponse {
 public:
  explicit FakePending(CannedReply reply) : reply_(std::move(reply)) {}
  Result<Response> Await() override {
    Response response;
    response.status = reply_.status;
    response.headers = reply_.headers;
    response.body = reply_.body;
    return response;
  }

 private:
  CannedReply reply_;
};

}  // namespace

Result<Upgraded> FakeTransport::Upgrade(const Request& request) {
  if (unreachable_) return MakeError(Code::kUnavailable, "connect: no such file or directory");
  Record(request, request.body.value_or(""));
  CannedReply reply = Reply(request);
  Upgraded out;
  out.response.status = reply.status;
  out.response.headers = reply.headers;
  if (reply.status == 101) {
    out.conn = std::make_unique<FakeConn>(reply.body, conn_);
  } else {
    out.response.body = reply.body;
  }
  return out;
}

Result<std::unique_ptr<PendingResponse>> FakeTransport::Send(const Request& request) {
  if (unreachable_) return MakeError(Code::kUnavailable, "connect: no such file or directory");
  Record(request, request.body.value_or(""));
  return std::unique_ptr<PendingResponse>(std::make_unique<FakePending>(Reply(request)));
}

std::vector<RecordedRequest> FakeTransport::requests() const {
  std::lock_guard<std::mutex> lock(mu_);
  return requests_;
}

std::string FakeTransport::stdin_data() const {
  std::lock_guard<std::mutex> lock(conn_->mu);
  return conn_->written;
}

bool FakeTransport::stdin_closed() const {
  std::lock_guard<std::mutex> lock(conn_->mu);
  return conn_->closed_write;
}

std::vector<RecordedRequest> FakeTransport::ApiRequests() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<RecordedRequest> out;
  for (const RecordedRequest& r : requests_) {
    if (r.path != "/_ping") out.push_back(r);
  }
  return out;
}

}  // namespace berth::cli::testing
