#include "base/log.h"

#include <spdlog/sinks/stdout_sinks.h>

namespace berth::log {

Result<spdlog::level::level_enum> ParseLevel(std::string_view name) {
  if (name == "trace") return spdlog::level::trace;
  if (name == "debug") return spdlog::level::debug;
  if (name == "info") return spdlog::level::info;
  if (name == "warn" || name == "warning") return spdlog::level::warn;
  if (name == "error") return spdlog::level::err;
  if (name == "fatal" || name == "panic") return spdlog::level::critical;
  return MakeError(Code::kInvalidArgument, "unable to parse logging level: " + std::string(name));
}

void Init(spdlog::level::level_enum level) {
  auto logger = spdlog::stderr_logger_mt("berth");
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%fZ %^%l%$ %v", spdlog::pattern_time_type::utc);
  spdlog::set_default_logger(logger);
  spdlog::set_level(level);
  spdlog::flush_on(spdlog::level::warn);
}

}  // namespace berth::log
