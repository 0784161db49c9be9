// Private to oci/: the nlohmann-json adapter shared by the parsers. Every nlohmann exception is
// caught here or in the .cc that includes this; none leaves the module (STYLE.md §4).
// Readers take the parsed `nlohmann::json` (keys sorted, used only to read); writers build
// `nlohmann::ordered_json` so fields come out in the spec's order.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/result.h"
#include "oci/descriptor.h"

namespace berth::oci::internal {

using Json = nlohmann::json;
using OrderedJson = nlohmann::ordered_json;

// Deepest nesting of arrays and objects accepted; real documents stay under 10.
inline constexpr size_t kMaxJsonDepth = 512;

// Parses `bytes` as JSON; InvalidArgument "<what>: invalid JSON: ..." on failure, or when nested
// deeper than kMaxJsonDepth.
Result<Json> ParseJson(std::string_view bytes, std::string_view what);
// Parses and requires a JSON object.
Result<Json> ParseJsonObject(std::string_view bytes, std::string_view what);
// Compact dump; invalid UTF-8 in strings is replaced rather than thrown about.
std::string Dump(const OrderedJson& j);
std::string Dump(const Json& j);

// Standard base64 with padding, as Go encodes []byte.
bool IsBase64(std::string_view s);

Error TypeError(std::string_view what, std::string_view key, std::string_view want);

// Field readers. A missing key or JSON null reads as absent (the spec: "set to null, which is
// equivalent to being absent"); a value of the wrong type is InvalidArgument. `what` names the
// object in error messages ("manifest", "config.config").
Result<std::optional<std::string>> GetString(const Json& obj, const char* key,
                                             std::string_view what);
Result<std::string> GetRequiredString(const Json& obj, const char* key, std::string_view what);
Result<std::optional<bool>> GetBool(const Json& obj, const char* key, std::string_view what);
Result<std::optional<int64_t>> GetInt64(const Json& obj, const char* key, std::string_view what);
Result<std::optional<std::vector<std::string>>> GetStringArray(const Json& obj, const char* key,
                                                               std::string_view what);
Result<std::map<std::string, std::string>> GetStringMap(const Json& obj, const char* key,
                                                        std::string_view what);
// Go's map[string]struct{} as a set of its keys ({"80/tcp": {}}).
Result<std::set<std::string>> GetKeySet(const Json& obj, const char* key, std::string_view what);
Result<std::optional<Digest>> GetDigest(const Json& obj, const char* key, std::string_view what);

Result<Platform> PlatformFromJson(const Json& j, std::string_view what);
OrderedJson PlatformToJson(const Platform& p);
Result<Descriptor> DescriptorFromJson(const Json& j, std::string_view what);
OrderedJson DescriptorToJson(const Descriptor& d);

// Reads schemaVersion and requires it to be the integer 2.
Status CheckSchemaVersion2(const Json& obj, std::string_view what);

}  // namespace berth::oci::internal
