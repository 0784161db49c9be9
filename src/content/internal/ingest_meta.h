// The small metadata files of a LocalStore ingest directory (layout.h), and time helpers.
// Private to content/.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "base/result.h"
#include "base/unique_fd.h"
#include "oci/digest.h"

namespace berth::content::internal {

inline int64_t ToNanos(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}
inline std::chrono::system_clock::time_point FromNanos(int64_t n) {
  return std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(std::chrono::nanoseconds(n)));
}

struct Expectation {
  std::optional<oci::Digest> digest;
  int64_t size = -1;
  friend bool operator==(const Expectation&, const Expectation&) = default;
};

std::string FormatExpectation(const Expectation& e);
Result<Expectation> ParseExpectation(const std::string& text);

// Reads a file holding one decimal integer.
Result<int64_t> ReadNanosFile(const std::string& path);

// Opens (creating if needed) an ingest's data file and takes its exclusive flock without
// waiting. Unavailable ("ref locked") if another open file description holds it; NotFound if
// the directory vanished (a concurrent Abort or GC), which callers retry.
Result<UniqueFd> OpenAndLockData(const std::string& ingest_dir, const std::string& ref,
                                 bool create);

// Renames the directory to a dot-named sibling (invisible to listings, swept at open) and
// removes it: a crash half-way through never leaves a half-deleted ingest that looks valid.
Status RemoveIngestDir(const std::string& ingest_root, const std::string& ingest_dir);

}  // namespace berth::content::internal
