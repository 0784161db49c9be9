// A Reader over the body of an http(s) URL (docker import's fromSrc=URL). libcurl runs in its
// own thread and feeds a pipe; a non-2xx status or transfer error is returned from Read().
#pragma once

#include <memory>
#include <string>

#include "base/io.h"
#include "base/result.h"

namespace berth::api::internal {

Result<std::unique_ptr<Reader>> OpenUrl(const std::string& url);

}  // namespace berth::api::internal
