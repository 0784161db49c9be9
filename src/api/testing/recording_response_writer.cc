#include "api/testing/recording_response_writer.h"

namespace berth::api::testing {

void RecordingResponseWriter::SetHeader(std::string_view name, std::string_view value) {
  if (!started()) headers_[std::string(name)] = std::string(value);
}

Status RecordingResponseWriter::Begin(int status, std::string_view content_type) {
  if (started()) return MakeError(Code::kInternal, "response already started");
  status_ = status;
  content_type_ = std::string(content_type);
  return Ok();
}

Status RecordingResponseWriter::WriteBody(int status, std::string_view content_type,
                                          std::string_view body) {
  BERTH_RETURN_IF_ERROR(Begin(status, content_type));
  body_ = std::string(body);
  ended_ = true;
  return Ok();
}

Status RecordingResponseWriter::WriteEmpty(int status) {
  BERTH_RETURN_IF_ERROR(Begin(status, ""));
  ended_ = true;
  return Ok();
}

Status RecordingResponseWriter::StartStream(int status, std::string_view content_type) {
  BERTH_RETURN_IF_ERROR(Begin(status, content_type));
  streaming_ = true;
  return Ok();
}

Status RecordingResponseWriter::Write(std::string_view chunk) {
  if (!streaming_ || ended_) return MakeError(Code::kInternal, "write outside a stream");
  body_.append(chunk);
  if (!chunk.empty()) ++chunks_;
  return Ok();
}

Status RecordingResponseWriter::End() {
  if (!streaming_ || ended_) return MakeError(Code::kInternal, "end outside a stream");
  ended_ = true;
  return Ok();
}

Result<std::unique_ptr<HijackedStream>> RecordingResponseWriter::Hijack(std::string_view) {
  return MakeError(Code::kNotImplemented, "RecordingResponseWriter cannot hijack");
}

std::string RecordingResponseWriter::header(const std::string& name) const {
  auto it = headers_.find(name);
  return it == headers_.end() ? "" : it->second;
}

}  // namespace berth::api::testing
