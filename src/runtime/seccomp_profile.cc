#include "runtime/seccomp_profile.h"

#include <algorithm>
#include <cctype>
#include <optional>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "runtime/internal/default_seccomp_profile.h"

namespace berth::runtime {
namespace {

using Json = nlohmann::json;

// The architecture this binary runs as: its libseccomp name (archMap key), and the names
// includes/excludes "arches" use for it (Go's GOARCH, as Docker compares, and uname -m).
struct NativeArch {
  std::string_view scmp;
  std::string_view go;
  std::string_view machine;
};

constexpr NativeArch kNative =
#if defined(__x86_64__)
    {"SCMP_ARCH_X86_64", "amd64", "x86_64"};
#elif defined(__aarch64__)
    {"SCMP_ARCH_AARCH64", "arm64", "aarch64"};
#elif defined(__i386__)
    {"SCMP_ARCH_X86", "386", "i686"};
#elif defined(__arm__)
    {"SCMP_ARCH_ARM", "arm", "armv7l"};
#elif defined(__powerpc64__) && defined(__LITTLE_ENDIAN__)
    {"SCMP_ARCH_PPC64LE", "ppc64le", "ppc64le"};
#elif defined(__s390x__)
    {"SCMP_ARCH_S390X", "s390x", "s390x"};
#elif defined(__riscv) && __riscv_xlen == 64
    {"SCMP_ARCH_RISCV64", "riscv64", "riscv64"};
#else
    {"", "", ""};
#endif

Error Malformed(std::string_view where, std::string_view what) {
  return MakeError(Code::kInvalidArgument,
                   where.empty() ? fmt::format("seccomp profile: {}", what)
                                 : fmt::format("seccomp profile: {}: {}", where, what));
}

std::string Field(std::string_view where, std::string_view key) {
  return where.empty() ? std::string(key) : fmt::format("{}.{}", where, key);
}

// A member that is absent or null reads as "not set", as Go's encoding/json does.
const Json* Member(const Json& obj, std::string_view key) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return nullptr;
  return &*it;
}

Result<std::optional<std::string>> OptString(const Json& obj, std::string_view key,
                                             std::string_view where) {
  const Json* v = Member(obj, key);
  if (v == nullptr) return std::optional<std::string>();
  if (!v->is_string()) return Malformed(Field(where, key), "want a string");
  return std::optional<std::string>(v->get<std::string>());
}

Result<std::string> ReqString(const Json& obj, std::string_view key, std::string_view where) {
  BERTH_ASSIGN_OR_RETURN(std::optional<std::string> s, OptString(obj, key, where));
  if (!s || s->empty()) return Malformed(Field(where, key), "required");
  return *s;
}

Result<std::vector<std::string>> Strings(const Json& obj, std::string_view key,
                                         std::string_view where) {
  std::vector<std::string> out;
  const Json* v = Member(obj, key);
  if (v == nullptr) return out;
  if (!v->is_array()) return Malformed(Field(where, key), "want an array of strings");
  for (const Json& e : *v) {
    if (!e.is_string()) return Malformed(Field(where, key), "want an array of strings");
    out.push_back(e.get<std::string>());
  }
  return out;
}

Result<std::optional<uint64_t>> OptUint(const Json& obj, std::string_view key,
                                        std::string_view where, uint64_t max) {
  const Json* v = Member(obj, key);
  if (v == nullptr) return std::optional<uint64_t>();
  if (!v->is_number_unsigned()) return Malformed(Field(where, key), "want an unsigned integer");
  const uint64_t n = v->get<uint64_t>();
  if (n > max) return Malformed(Field(where, key), fmt::format("{} is out of range", n));
  return std::optional<uint64_t>(n);
}

Result<const Json*> OptObject(const Json& obj, std::string_view key, std::string_view where) {
  const Json* v = Member(obj, key);
  if (v != nullptr && !v->is_object()) return Malformed(Field(where, key), "want an object");
  return v;
}

struct KernelVersion {
  int major = 0;
  int minor = 0;
  friend auto operator<=>(const KernelVersion&, const KernelVersion&) = default;
};

// "4.8", or a release ("6.1.0-13-amd64"): major.minor, the rest ignored.
std::optional<KernelVersion> ParseKernelVersion(std::string_view s, bool release) {
  KernelVersion v;
  size_t i = 0;
  auto number = [&](int& out) {
    const size_t start = i;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i])) && i - start < 6) {
      out = out * 10 + (s[i] - '0');
      ++i;
    }
    return i > start;
  };
  if (!number(v.major) || i >= s.size() || s[i] != '.') return std::nullopt;
  ++i;
  if (!number(v.minor)) return std::nullopt;
  if (!release && i != s.size()) return std::nullopt;
  return v;
}

// includes/excludes: {"caps": [...], "arches": [...], "minKernel": "4.8"}.
struct Filter {
  std::vector<std::string> caps;
  std::vector<std::string> arches;
  std::optional<KernelVersion> min_kernel;
  bool empty() const { return caps.empty() && arches.empty() && !min_kernel; }
};

Result<Filter> ParseFilter(const Json& obj, std::string_view key, std::string_view where) {
  Filter f;
  BERTH_ASSIGN_OR_RETURN(const Json* v, OptObject(obj, key, where));
  if (v == nullptr) return f;
  const std::string here = Field(where, key);
  BERTH_ASSIGN_OR_RETURN(f.caps, Strings(*v, "caps", here));
  BERTH_ASSIGN_OR_RETURN(f.arches, Strings(*v, "arches", here));
  BERTH_ASSIGN_OR_RETURN(std::optional<std::string> min_kernel, OptString(*v, "minKernel", here));
  if (min_kernel) {
    f.min_kernel = ParseKernelVersion(*min_kernel, /*release=*/false);
    if (!f.min_kernel) {
      return Malformed(
          Field(here, "minKernel"),
          fmt::format("invalid kernel version \"{}\", want \"<major>.<minor>\"", *min_kernel));
    }
  }
  return f;
}

std::string Upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

bool HasCap(const std::vector<std::string>& caps, std::string_view cap) {
  const std::string want = Upper(cap);
  return std::any_of(caps.begin(), caps.end(),
                     [&](const std::string& c) { return Upper(c) == want; });
}

bool IsNativeArch(const std::vector<std::string>& arches) {
  return std::any_of(arches.begin(), arches.end(), [](const std::string& a) {
    return !kNative.go.empty() && (a == kNative.go || a == kNative.machine);
  });
}

// What decides whether a rule applies to this container; kernel version parsed on first use.
struct Context {
  const std::vector<std::string>& caps;
  std::string_view kernel_release;
  std::optional<KernelVersion> kernel;

  Result<KernelVersion> Kernel() {
    if (!kernel) {
      kernel = ParseKernelVersion(kernel_release, /*release=*/true);
      if (!kernel) {
        return MakeError(Code::kInvalidArgument,
                         fmt::format("seccomp profile: minKernel: cannot read kernel release "
                                     "\"{}\"",
                                     kernel_release));
      }
    }
    return *kernel;
  }
};

// Docker's rule: skipped if any exclude matches (an arch, any cap held, kernel >= minKernel), or
// any include does not (arch, every cap held, kernel >= minKernel).
Result<bool> Applies(const Filter& includes, const Filter& excludes, Context& ctx) {
  if (!excludes.arches.empty() && IsNativeArch(excludes.arches)) return false;
  for (const std::string& c : excludes.caps) {
    if (HasCap(ctx.caps, c)) return false;
  }
  if (excludes.min_kernel) {
    BERTH_ASSIGN_OR_RETURN(KernelVersion k, ctx.Kernel());
    if (k >= *excludes.min_kernel) return false;
  }
  if (!includes.arches.empty() && !IsNativeArch(includes.arches)) return false;
  for (const std::string& c : includes.caps) {
    if (!HasCap(ctx.caps, c)) return false;
  }
  if (includes.min_kernel) {
    BERTH_ASSIGN_OR_RETURN(KernelVersion k, ctx.Kernel());
    if (k < *includes.min_kernel) return false;
  }
  return true;
}

Result<oci::LinuxSeccompArg> ParseArg(const Json& v, std::string_view where) {
  if (!v.is_object()) return Malformed(where, "want an object");
  oci::LinuxSeccompArg arg;
  BERTH_ASSIGN_OR_RETURN(std::optional<uint64_t> index, OptUint(v, "index", where, 5));
  BERTH_ASSIGN_OR_RETURN(std::optional<uint64_t> value, OptUint(v, "value", where, UINT64_MAX));
  BERTH_ASSIGN_OR_RETURN(std::optional<uint64_t> value_two,
                         OptUint(v, "valueTwo", where, UINT64_MAX));
  if (!index) return Malformed(Field(where, "index"), "required");
  if (!value) return Malformed(Field(where, "value"), "required");
  arg.index = static_cast<uint32_t>(*index);
  arg.value = *value;
  arg.value_two = value_two.value_or(0);
  BERTH_ASSIGN_OR_RETURN(arg.op, ReqString(v, "op", where));
  return arg;
}

// One syscalls[] entry; nullopt when its includes/excludes leave it out.
Result<std::optional<oci::LinuxSyscall>> ParseSyscall(const Json& v, std::string_view where,
                                                      Context& ctx) {
  if (!v.is_object()) return Malformed(where, "want an object");
  oci::LinuxSyscall call;
  BERTH_ASSIGN_OR_RETURN(std::optional<std::string> name, OptString(v, "name", where));
  BERTH_ASSIGN_OR_RETURN(call.names, Strings(v, "names", where));
  if (name && !call.names.empty()) {
    return Malformed(where, "\"name\" and \"names\" are mutually exclusive");
  }
  if (name) call.names.push_back(*name);
  if (call.names.empty()) return Malformed(Field(where, "names"), "required");
  BERTH_ASSIGN_OR_RETURN(call.action, ReqString(v, "action", where));
  BERTH_ASSIGN_OR_RETURN(std::optional<uint64_t> errno_ret,
                         OptUint(v, "errnoRet", where, UINT32_MAX));
  if (errno_ret) call.errno_ret = static_cast<uint32_t>(*errno_ret);
  if (const Json* args = Member(v, "args")) {
    if (!args->is_array()) return Malformed(Field(where, "args"), "want an array");
    for (size_t i = 0; i < args->size(); ++i) {
      BERTH_ASSIGN_OR_RETURN(oci::LinuxSeccompArg arg,
                             ParseArg((*args)[i], fmt::format("{}.args[{}]", where, i)));
      call.args.push_back(std::move(arg));
    }
  }
  BERTH_ASSIGN_OR_RETURN(Filter includes, ParseFilter(v, "includes", where));
  BERTH_ASSIGN_OR_RETURN(Filter excludes, ParseFilter(v, "excludes", where));
  BERTH_ASSIGN_OR_RETURN(bool applies, Applies(includes, excludes, ctx));
  if (!applies) return std::optional<oci::LinuxSyscall>();
  return std::optional<oci::LinuxSyscall>(std::move(call));
}

Result<std::vector<std::string>> ParseArchitectures(const Json& doc) {
  BERTH_ASSIGN_OR_RETURN(std::vector<std::string> arches, Strings(doc, "architectures", ""));
  const Json* arch_map = Member(doc, "archMap");
  if (arch_map == nullptr) return arches;
  if (!arch_map->is_array()) return Malformed("archMap", "want an array");
  if (!arches.empty() && !arch_map->empty()) {
    return Malformed("", "both \"architectures\" and \"archMap\" are set; use one");
  }
  for (size_t i = 0; i < arch_map->size(); ++i) {
    const std::string where = fmt::format("archMap[{}]", i);
    const Json& entry = (*arch_map)[i];
    if (!entry.is_object()) return Malformed(where, "want an object");
    BERTH_ASSIGN_OR_RETURN(std::string arch, ReqString(entry, "architecture", where));
    BERTH_ASSIGN_OR_RETURN(std::vector<std::string> subs,
                           Strings(entry, "subArchitectures", where));
    // The native architecture and the ones it also runs (x86 and x32 binaries on x86_64).
    if (arches.empty() && !kNative.scmp.empty() && arch == kNative.scmp) {
      arches.push_back(arch);
      arches.insert(arches.end(), subs.begin(), subs.end());
    }
  }
  return arches;
}

Result<oci::LinuxSeccomp> Convert(const Json& doc, const std::vector<std::string>& caps,
                                  std::string_view kernel_release) {
  if (!doc.is_object()) return Malformed("", "want a JSON object");
  oci::LinuxSeccomp out;
  BERTH_ASSIGN_OR_RETURN(out.default_action, ReqString(doc, "defaultAction", ""));
  BERTH_ASSIGN_OR_RETURN(std::optional<uint64_t> default_errno,
                         OptUint(doc, "defaultErrnoRet", "", UINT32_MAX));
  if (default_errno) out.default_errno_ret = static_cast<uint32_t>(*default_errno);
  BERTH_ASSIGN_OR_RETURN(out.architectures, ParseArchitectures(doc));
  BERTH_ASSIGN_OR_RETURN(out.flags, Strings(doc, "flags", ""));

  Context ctx{caps, kernel_release, std::nullopt};
  if (const Json* syscalls = Member(doc, "syscalls")) {
    if (!syscalls->is_array()) return Malformed("syscalls", "want an array");
    for (size_t i = 0; i < syscalls->size(); ++i) {
      BERTH_ASSIGN_OR_RETURN(std::optional<oci::LinuxSyscall> call,
                             ParseSyscall((*syscalls)[i], fmt::format("syscalls[{}]", i), ctx));
      if (call) out.syscalls.push_back(std::move(*call));
    }
  }
  return out;
}

}  // namespace

Result<oci::LinuxSeccomp> DockerSeccompProfile(std::string_view profile_json,
                                               const std::vector<std::string>& caps,
                                               std::string_view kernel_release) {
  Json doc;
  try {
    doc = Json::parse(profile_json.begin(), profile_json.end());
  } catch (const Json::exception& e) {
    return Malformed("", fmt::format("invalid JSON: {}", e.what()));
  }
  try {
    return Convert(doc, caps, kernel_release);
  } catch (const Json::exception& e) {
    // Convert checks every type before reading it; this is a safety net, not a path.
    return Malformed("", e.what());
  }
}

oci::LinuxSeccomp DefaultSeccompProfile(const std::vector<std::string>& caps,
                                        std::string_view kernel_release) {
  Result<oci::LinuxSeccomp> profile =
      DockerSeccompProfile(internal::DefaultSeccompProfileJson(), caps, kernel_release);
  if (profile) return std::move(*profile);
  // The embedded profile is tested; only an unreadable kernel release can fail it (minKernel).
  // Then the rules that need a kernel version are left out, which only denies more.
  profile = DockerSeccompProfile(internal::DefaultSeccompProfileJson(), caps, "0.0");
  BERTH_CHECK(profile.ok());
  return std::move(*profile);
}

}  // namespace berth::runtime
