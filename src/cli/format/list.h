// List output the way docker's formatter.Context writes it: a `--format` string (docker's
// shorthands "table", "json", "table <template>", and literal \t \n escapes) applied to each
// row; table formats get a header row and TabWriter(10, 3) alignment.
// Rows are JSON objects whose keys are the field names of docker's formatter contexts.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/result.h"

namespace berth::cli::format {

struct ListFormat {
  std::string default_table;       // e.g. "table {{.Repository}}\t{{.Tag}}\t..."
  std::string quiet;               // e.g. "{{.ID}}"
  nlohmann::ordered_json headers;  // field -> header text: {"ID": "IMAGE ID", ...}
};

// Picks the template docker would use for `user_format` ("" and "table" mean the default; -q
// wins over those).
std::string ResolveFormat(std::string_view user_format, const ListFormat& list, bool quiet);

// Renders `rows` with `format` (already resolved). Errors read "template parsing error: ...".
Result<std::string> RenderList(std::string_view format,
                               const std::vector<nlohmann::ordered_json>& rows,
                               const nlohmann::ordered_json& headers);

// Renders one value with a user template (`inspect --format`, `version --format`): escapes
// expanded, "json" shorthand, missing fields give "<no value>" when `lenient`.
Result<std::string> RenderOne(std::string_view format, const nlohmann::ordered_json& value,
                              bool lenient);

// True when `format` mentions `.field` (decides e.g. whether to ask for shared sizes).
bool FormatMentions(std::string_view format, std::string_view field);

}  // namespace berth::cli::format
