#include "registry/errors.h"

#include <nlohmann/json.hpp>

namespace berth::registry {

std::string_view ErrorCodeName(ErrorCode code) {
  switch (code) {
    case ErrorCode::kBlobUnknown: return "BLOB_UNKNOWN";
    case ErrorCode::kBlobUploadInvalid: return "BLOB_UPLOAD_INVALID";
    case ErrorCode::kBlobUploadUnknown: return "BLOB_UPLOAD_UNKNOWN";
    case ErrorCode::kDigestInvalid: return "DIGEST_INVALID";
    case ErrorCode::kManifestBlobUnknown: return "MANIFEST_BLOB_UNKNOWN";
    case ErrorCode::kManifestInvalid: return "MANIFEST_INVALID";
    case ErrorCode::kManifestUnknown: return "MANIFEST_UNKNOWN";
    case ErrorCode::kNameInvalid: return "NAME_INVALID";
    case ErrorCode::kNameUnknown: return "NAME_UNKNOWN";
    case ErrorCode::kSizeInvalid: return "SIZE_INVALID";
    case ErrorCode::kUnauthorized: return "UNAUTHORIZED";
    case ErrorCode::kDenied: return "DENIED";
    case ErrorCode::kUnsupported: return "UNSUPPORTED";
    case ErrorCode::kTooManyRequests: return "TOOMANYREQUESTS";
  }
  return "UNSUPPORTED";
}

std::string ErrorBody(const ApiError& error) {
  nlohmann::ordered_json e;
  e["code"] = ErrorCodeName(error.code);
  e["message"] = error.message;
  if (!error.detail_json.empty()) {
    auto detail = nlohmann::json::parse(error.detail_json, nullptr, /*allow_exceptions=*/false);
    e["detail"] = detail.is_discarded() ? nlohmann::json(error.detail_json) : detail;
  }
  nlohmann::ordered_json body;
  body["errors"] = nlohmann::ordered_json::array({e});
  return body.dump() + "\n";
}

}  // namespace berth::registry
