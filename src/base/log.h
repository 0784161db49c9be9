// Logging: spdlog behind a tiny facade so the level and sink are set in one place.
// Never log secrets (credentials, tokens, X-Registry-Auth): callers redact first.
// Thread-safe (spdlog's default logger is).
#pragma once

#include <string_view>

#include <spdlog/spdlog.h>

#include "base/result.h"

namespace berth::log {

// Parses "debug", "info", "warn", "error", "fatal" (dockerd's names) or "trace".
Result<spdlog::level::level_enum> ParseLevel(std::string_view name);

// Sets the process-wide level; logs go to stderr with timestamps.
void Init(spdlog::level::level_enum level);

}  // namespace berth::log
