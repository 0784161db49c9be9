// Private to api/: Docker's `filters` query parameter.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace berth::api::internal {

// {"key":{"value":true}} or the legacy {"key":["value"]} -> key -> values.
Result<std::map<std::string, std::vector<std::string>>> ParseFilters(std::string_view text);

}  // namespace berth::api::internal
