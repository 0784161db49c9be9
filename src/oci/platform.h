// Platform: the os/architecture/variant an image runs on (image-index.md "platform"), and how to
// pick one: parse "linux/arm64/v8", name the host, and rank candidates as containerd's
// platforms.Only matcher does (arm64 also runs arm/v8..v5, arm/v7 runs v6 and v5, amd64/v3
// runs v2, v1 and 386). No I/O. Thread-safe (values and pure functions).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace berth::oci {

struct Platform {
  std::string architecture;  // GOARCH names: amd64, arm64, arm, 386, ppc64le, s390x, riscv64
  std::string os;            // GOOS names: linux, windows
  std::string os_version;    // "os.version", Windows only in practice
  std::vector<std::string> os_features;  // "os.features"
  std::string variant;                   // v7 (arm), v8 (arm64), v3 (amd64)

  friend bool operator==(const Platform&, const Platform&) = default;
};

// The platform of this build of Berth: os "linux" and the GOARCH name of the CPU it was compiled
// for, with the variant containerd reports (arm64 -> "v8", arm -> "v6"/"v7").
Platform HostPlatform();

// Parses a platform specifier as containerd's platforms.Parse: "linux", "amd64" (a lone OS or
// architecture is completed from the host), "linux/amd64", "linux/arm/v7", "linux/arm64/v8".
// Values are normalised (aarch64 -> arm64, x86_64 -> amd64, armhf -> arm/v7, ...).
Result<Platform> ParsePlatform(std::string_view specifier);

// "os/arch[/variant]"; "unknown" when os is empty.
std::string FormatPlatform(const Platform& p);

// Lower-cases and maps the aliases containerd knows (macos -> darwin, i386 -> 386,
// aarch64 -> arm64 with "v8" dropped, arm with no variant -> arm/v7, amd64/v1 -> amd64).
// An empty os becomes "linux".
Platform NormalizePlatform(Platform p);

// Matches and orders candidate platforms for one target (containerd's platforms.Only, or
// OnlyStrict when built with Strict()). Candidates are normalised before comparison; os.version
// is compared only when both sides have one and the os is windows.
class PlatformMatcher {
 public:
  explicit PlatformMatcher(const Platform& target);
  // Exactly the target (after normalisation): no compatible older variants or 386 for amd64.
  static PlatformMatcher Strict(const Platform& target);

  bool Match(const Platform& candidate) const { return Rank(candidate).has_value(); }
  // Position of the first entry of the preference list the candidate matches; 0 is the target
  // itself. nullopt when it does not match at all.
  std::optional<size_t> Rank(const Platform& candidate) const;
  // True when `a` is preferred over `b` (containerd's MatchComparer.Less).
  bool Less(const Platform& a, const Platform& b) const;
  // The ordered list of platforms this matcher accepts.
  const std::vector<Platform>& preferences() const { return preferences_; }

 private:
  PlatformMatcher() = default;
  std::vector<Platform> preferences_;
};

}  // namespace berth::oci
