// The distribution spec's error codes and their JSON body:
// {"errors":[{"code":"BLOB_UNKNOWN","message":"...","detail":...}]}. No I/O.
#pragma once

#include <string>
#include <string_view>

namespace berth::registry {

enum class ErrorCode {
  kBlobUnknown,
  kBlobUploadInvalid,
  kBlobUploadUnknown,
  kDigestInvalid,
  kManifestBlobUnknown,
  kManifestInvalid,
  kManifestUnknown,
  kNameInvalid,
  kNameUnknown,
  kSizeInvalid,
  kUnauthorized,
  kDenied,
  kUnsupported,
  kTooManyRequests,
};

std::string_view ErrorCodeName(ErrorCode code);  // "BLOB_UNKNOWN"

struct ApiError {
  int status = 400;
  ErrorCode code = ErrorCode::kUnsupported;
  std::string message;
  std::string detail_json;  // a JSON value, or "" for none
};

// The response body for `error`.
std::string ErrorBody(const ApiError& error);

}  // namespace berth::registry
