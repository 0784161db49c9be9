#include "oci/platform.h"

#include <charconv>

#include "base/strings.h"

namespace berth::oci {
namespace {

bool IsKnownOs(std::string_view os) {
  for (std::string_view k :
       {"aix", "android", "darwin", "dragonfly", "freebsd", "hurd", "illumos", "ios", "js", "linux",
        "nacl", "netbsd", "openbsd", "plan9", "solaris", "wasip1", "windows", "zos"}) {
    if (os == k) return true;
  }
  return false;
}

bool IsKnownArch(std::string_view arch) {
  for (std::string_view k :
       {"386",   "amd64",   "amd64p32", "arm",    "armbe",  "arm64",    "arm64be",   "loong64",
        "ppc64", "ppc64le", "mips",     "mipsle", "mips64", "mips64le", "mips64p32", "mips64p32le",
        "ppc",   "riscv",   "riscv64",  "s390",   "s390x",  "sparc",    "sparc64",   "wasm"}) {
    if (arch == k) return true;
  }
  return false;
}

std::string NormalizeOs(std::string_view os) {
  if (os.empty()) return "linux";
  std::string out = ToLower(os);
  if (out == "macos") out = "darwin";
  return out;
}

// containerd's normalizeArch: (arch, variant) -> canonical pair.
void NormalizeArch(std::string& arch, std::string& variant) {
  arch = ToLower(arch);
  variant = ToLower(variant);
  if (arch == "i386") {
    arch = "386";
    variant.clear();
  } else if (arch == "x86_64" || arch == "x86-64" || arch == "amd64") {
    arch = "amd64";
    if (variant == "v1") variant.clear();
  } else if (arch == "aarch64" || arch == "arm64") {
    arch = "arm64";
    if (variant == "8" || variant == "v8" || variant == "v8.0") {
      variant.clear();
    } else if (variant == "9" || variant == "9.0" || variant == "v9.0") {
      variant = "v9";
    }
  } else if (arch == "armhf") {
    arch = "arm";
    variant = "v7";
  } else if (arch == "armel") {
    arch = "arm";
    variant = "v6";
  } else if (arch == "arm") {
    if (variant.empty() || variant == "7") {
      variant = "v7";
    } else if (variant == "5" || variant == "6" || variant == "8") {
      variant = "v" + variant;
    }
  }
}

bool IsSpecifierComponent(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == '-';
    if (!ok) return false;
  }
  return true;
}

// "v7" -> 7; nullopt when not "v<digits>".
std::optional<int> VariantNumber(std::string_view variant) {
  if (variant.starts_with("v")) variant.remove_prefix(1);
  if (variant.empty()) return std::nullopt;
  int n = 0;
  auto [ptr, ec] = std::from_chars(variant.data(), variant.data() + variant.size(), n);
  if (ec != std::errc() || ptr != variant.data() + variant.size()) return std::nullopt;
  return n;
}

Platform WithVariant(const Platform& base, std::string arch, std::string variant) {
  Platform p;
  p.os = base.os;
  p.os_version = base.os_version;
  p.os_features = base.os_features;
  p.architecture = std::move(arch);
  p.variant = std::move(variant);
  return p;
}

// containerd's platformVector: the target first, then what it can also run, best first.
void AppendCompatible(const Platform& p, std::vector<Platform>& out) {
  out.push_back(p);
  if (p.architecture == "amd64") {
    std::optional<int> level = VariantNumber(p.variant);
    if (level && *level > 1) {
      for (int v = *level - 1; v >= 1; --v) {
        out.push_back(WithVariant(p, "amd64", "v" + std::to_string(v)));
      }
    }
    out.push_back(WithVariant(p, "386", ""));
  } else if (p.architecture == "arm") {
    std::optional<int> version = VariantNumber(p.variant);
    if (version && *version > 5) {
      for (int v = *version - 1; v >= 5; --v) {
        out.push_back(WithVariant(p, "arm", "v" + std::to_string(v)));
      }
    }
  } else if (p.architecture == "arm64") {
    std::string variant = p.variant.empty() ? "v8" : p.variant;
    std::string_view major_part = variant;
    std::string_view minor_part;
    bool has_minor = false;
    if (size_t dot = major_part.find('.'); dot != std::string_view::npos) {
      minor_part = major_part.substr(dot + 1);
      major_part = major_part.substr(0, dot);
      has_minor = true;
    }
    std::optional<int> major = VariantNumber(major_part);
    if (major && *major >= 8) {
      int minor = 0;
      if (variant.size() == 4 && has_minor) {
        std::optional<int> m = VariantNumber(minor_part);
        if (m) minor = *m;
      }
      int maj = *major;
      auto name = [](int mj, int mn) {
        return mn == 0 ? "v" + std::to_string(mj)
                       : "v" + std::to_string(mj) + "." + std::to_string(mn);
      };
      if (maj == 9) {
        for (int m = minor - 1; m >= 0; --m) out.push_back(WithVariant(p, "arm64", name(9, m)));
        // v9.0 diverged from v8.5: v9.x runs v8.{x+5} and below, up to v8.9.
        minor = std::min(minor + 5, 9);
        maj = 8;
        out.push_back(WithVariant(p, "arm64", "v8." + std::to_string(minor)));
      }
      for (int m = minor - 1; m >= 0; --m) out.push_back(WithVariant(p, "arm64", name(maj, m)));
    }
    // Every arm64 runs 32-bit arm/v8 and below.
    if (variant.starts_with("v8.") || variant.starts_with("v9.")) variant = "v8";
    AppendCompatible(WithVariant(p, "arm", variant), out);
  }
}

bool OsVersionMatches(const Platform& want, const Platform& have) {
  if (want.os != "windows" || want.os_version.empty() || have.os_version.empty()) return true;
  // Windows: major.minor.build must agree; the revision may differ.
  std::vector<std::string> a = SplitN(want.os_version, '.', 4);
  std::vector<std::string> b = SplitN(have.os_version, '.', 4);
  for (size_t i = 0; i < 3; ++i) {
    std::string x = i < a.size() ? a[i] : "";
    std::string y = i < b.size() ? b[i] : "";
    if (x != y) return false;
  }
  return true;
}

}  // namespace

Platform HostPlatform() {
  Platform p;
  p.os = "linux";
#if defined(__x86_64__)
  p.architecture = "amd64";
#elif defined(__aarch64__)
  p.architecture = "arm64";
  p.variant = "v8";
#elif defined(__arm__)
  p.architecture = "arm";
#if defined(__ARM_ARCH) && __ARM_ARCH >= 7
  p.variant = "v7";
#elif defined(__ARM_ARCH) && __ARM_ARCH == 6
  p.variant = "v6";
#else
  p.variant = "v5";
#endif
#elif defined(__i386__)
  p.architecture = "386";
#elif defined(__powerpc64__) && defined(__LITTLE_ENDIAN__)
  p.architecture = "ppc64le";
#elif defined(__powerpc64__)
  p.architecture = "ppc64";
#elif defined(__s390x__)
  p.architecture = "s390x";
#elif defined(__riscv) && defined(__riscv_xlen) && __riscv_xlen == 64
  p.architecture = "riscv64";
#elif defined(__loongarch64)
  p.architecture = "loong64";
#elif defined(__mips64) && defined(__MIPSEL__)
  p.architecture = "mips64le";
#elif defined(__mips64)
  p.architecture = "mips64";
#else
#error "unknown CPU architecture: add its GOARCH name to HostPlatform()"
#endif
  return p;
}

Result<Platform> ParsePlatform(std::string_view specifier) {
  auto bad = [&](std::string_view why) {
    return MakeError(Code::kInvalidArgument,
                     "\"" + std::string(specifier) + "\": " + std::string(why));
  };
  if (specifier.find('*') != std::string_view::npos) return bad("wildcards not yet supported");
  std::vector<std::string> parts = SplitN(specifier, '/', 4);
  for (const std::string& part : parts) {
    if (!IsSpecifierComponent(part)) {
      return bad("\"" + part +
                 "\" is an invalid component: platform specifier component must match "
                 "^[A-Za-z0-9_.-]+$");
    }
  }
  Platform host = HostPlatform();
  Platform p;
  switch (parts.size()) {
    case 1: {
      p.os = NormalizeOs(parts[0]);
      if (IsKnownOs(p.os)) {
        p.architecture = host.architecture;
        if (host.architecture == "arm" && host.variant != "v7") p.variant = host.variant;
        return p;
      }
      p.os.clear();
      p.architecture = parts[0];
      NormalizeArch(p.architecture, p.variant);
      if (p.architecture == "arm" && p.variant == "v7") p.variant.clear();
      if (IsKnownArch(p.architecture)) {
        p.os = host.os;
        return p;
      }
      return bad("unknown operating system or architecture");
    }
    case 2:
      p.os = NormalizeOs(parts[0]);
      p.architecture = parts[1];
      NormalizeArch(p.architecture, p.variant);
      if (p.architecture == "arm" && p.variant == "v7") p.variant.clear();
      return p;
    case 3:
      p.os = NormalizeOs(parts[0]);
      p.architecture = parts[1];
      p.variant = parts[2];
      NormalizeArch(p.architecture, p.variant);
      if (p.architecture == "arm64" && p.variant.empty()) p.variant = "v8";
      return p;
    default:
      return bad("cannot parse platform specifier");
  }
}

std::string FormatPlatform(const Platform& p) {
  if (p.os.empty()) return "unknown";
  std::string out = p.os + "/" + p.architecture;
  if (!p.variant.empty()) out += "/" + p.variant;
  return out;
}

Platform NormalizePlatform(Platform p) {
  p.os = NormalizeOs(p.os);
  NormalizeArch(p.architecture, p.variant);
  return p;
}

PlatformMatcher::PlatformMatcher(const Platform& target) {
  std::vector<Platform> raw;
  AppendCompatible(NormalizePlatform(target), raw);
  for (Platform& p : raw) preferences_.push_back(NormalizePlatform(std::move(p)));
}

PlatformMatcher PlatformMatcher::Strict(const Platform& target) {
  PlatformMatcher m;
  m.preferences_.push_back(NormalizePlatform(target));
  return m;
}

std::optional<size_t> PlatformMatcher::Rank(const Platform& candidate) const {
  Platform c = NormalizePlatform(candidate);
  for (size_t i = 0; i < preferences_.size(); ++i) {
    const Platform& want = preferences_[i];
    if (want.os == c.os && want.architecture == c.architecture && want.variant == c.variant &&
        OsVersionMatches(want, candidate)) {
      return i;
    }
  }
  return std::nullopt;
}

bool PlatformMatcher::Less(const Platform& a, const Platform& b) const {
  std::optional<size_t> ra = Rank(a);
  std::optional<size_t> rb = Rank(b);
  if (!ra) return false;
  return !rb || *ra < *rb;
}

}  // namespace berth::oci
