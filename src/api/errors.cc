#include "api/errors.h"

#include <nlohmann/json.hpp>

namespace berth::api {

int HttpStatusFor(Code code) {
  switch (code) {
    case Code::kOk:
      return 200;
    case Code::kInvalidArgument:
      return 400;
    case Code::kNotFound:
      return 404;
    case Code::kAlreadyExists:
      return 409;
    case Code::kConflict:
      return 409;
    case Code::kFailedPrecondition:
      return 409;
    case Code::kPermissionDenied:
      return 403;
    case Code::kUnauthenticated:
      return 401;
    case Code::kUnavailable:
      return 503;
    case Code::kNotImplemented:
      return 501;
    case Code::kDataLoss:
      return 500;
    case Code::kCancelled:
      return 500;
    case Code::kResourceExhausted:
      return 500;
    case Code::kInternal:
      return 500;
  }
  return 500;
}

std::string ErrorJson(std::string_view message) {
  nlohmann::json body = {{"message", message}};
  // Invalid UTF-8 in a message (a path from a tar, say) must not abort the response.
  return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

}  // namespace berth::api
