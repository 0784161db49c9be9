// Small string helpers with no domain knowledge.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace berth {

std::vector<std::string> Split(std::string_view s, char sep);
std::vector<std::string> SplitN(std::string_view s, char sep, int n);  // at most n parts
std::string Join(const std::vector<std::string>& parts, std::string_view sep);
std::string_view TrimSpace(std::string_view s);
std::string ToLower(std::string_view s);
bool IsHexLower(std::string_view s);
// Go's strconv.Quote for the cases Docker's messages meet: quotes, backslashes and control
// characters escaped (\n \t \r, else \xNN); other bytes, UTF-8 included, kept as they are.
std::string GoQuote(std::string_view s);

// Docker's units.HumanSize: decimal (kB, MB, GB), 3 significant digits: "1.23MB", "4.1kB".
std::string HumanSize(double bytes);
// Docker's units.HumanDuration as used by "Created 2 hours ago" ("About a minute", "3 days").
std::string HumanDuration(int64_t seconds);
// Parses "10", "10b", "1k", "64m", "1g" (binary units, Docker's RAMInBytes).
bool ParseRamInBytes(std::string_view s, int64_t* out);

// RFC 3339 with nanoseconds in UTC, as Docker prints times: 2024-01-02T03:04:05.123456789Z.
std::string FormatRfc3339Nano(int64_t unix_nanos);
int64_t NowUnixNanos();
// Parses RFC 3339 ("2024-01-02T03:04:05Z", "...05.123+02:00") to Unix nanoseconds.
bool ParseRfc3339(std::string_view s, int64_t* unix_nanos);

// Random lower-case hex of `bytes` bytes (64 hex chars for 32), from the kernel's CSPRNG.
std::string RandomHex(size_t bytes);

}  // namespace berth
