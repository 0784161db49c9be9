// URL pieces of a request target: percent-decoding and query strings, as Go's net/url does
// (dockerd's handlers see r.URL.Path decoded and r.Form parsed). Private to api/.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace berth::api::internal {

// "%2F" -> "/"; with `plus_is_space`, '+' -> ' ' (query strings). nullopt on a bad escape.
std::optional<std::string> PercentDecode(std::string_view s, bool plus_is_space);

// "a=1&b=x%20y&c" -> {("a","1"), ("b","x y"), ("c","")}, in order; pairs with bad escapes
// are skipped, as Go's url.ParseQuery does.
std::vector<std::pair<std::string, std::string>> ParseQuery(std::string_view query);

}  // namespace berth::api::internal
