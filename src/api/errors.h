// The one table from berth::Code to the Engine API's HTTP status (STYLE.md §4: each boundary
// maps codes in one place). Follows moby's httpstatus.FromError: NotFound 404, invalid input
// 400, conflicts 409, auth 401/403, Unavailable 503, NotImplemented 501, and 500 for
// DataLoss, Cancelled, ResourceExhausted and Internal. FailedPrecondition is 409 (the state
// of an object forbids the request, e.g. removing a running container).
// Error bodies are {"message": "..."} with Content-Type application/json.
#pragma once

#include <string>
#include <string_view>

#include "base/result.h"

namespace berth::api {

int HttpStatusFor(Code code);

// {"message":"..."} plus the newline Go's json.Encoder writes.
std::string ErrorJson(std::string_view message);

}  // namespace berth::api
