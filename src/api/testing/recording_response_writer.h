// RecordingResponseWriter: an in-memory ResponseWriter for handler unit tests. Records the
// status, headers and body (streams concatenated) instead of writing to a socket.
// Not thread-safe.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "api/response_writer.h"

namespace berth::api::testing {

class RecordingResponseWriter : public ResponseWriter {
 public:
  explicit RecordingResponseWriter(std::string api_version = "1.43")
      : api_version_(std::move(api_version)) {}

  void SetHeader(std::string_view name, std::string_view value) override;
  Status WriteBody(int status, std::string_view content_type, std::string_view body) override;
  Status WriteEmpty(int status) override;
  Status StartStream(int status, std::string_view content_type) override;
  Status Write(std::string_view chunk) override;
  Status End() override;
  Result<std::unique_ptr<HijackedStream>> Hijack(std::string_view content_type) override;
  bool started() const override { return status_ != 0; }
  bool ClientGone() override { return false; }
  std::string_view api_version() const override { return api_version_; }

  int status() const { return status_; }
  const std::string& body() const { return body_; }
  const std::string& content_type() const { return content_type_; }
  std::string header(const std::string& name) const;
  bool ended() const { return ended_; }
  int chunks() const { return chunks_; }

 private:
  Status Begin(int status, std::string_view content_type);

  std::string api_version_;
  int status_ = 0;
  std::string content_type_;
  std::map<std::string, std::string> headers_;
  std::string body_;
  bool streaming_ = false;
  bool ended_ = false;
  int chunks_ = 0;
};

}  // namespace berth::api::testing
