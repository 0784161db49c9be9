#include "runtime/capabilities.h"

#include <sys/capability.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <set>
#include <string_view>

#include <fmt/format.h>

#include "base/strings.h"

namespace berth::runtime {
namespace {

// Capability numbers fit in one uint64_t word (the kernel has 41 as of 6.x).
constexpr int kMaxCapBits = 64;

struct CapInfo {
  std::string name;  // "CAP_CHOWN"
  int bit = 0;
  bool supported = false;  // known to the running kernel (bit <= cap_last_cap)
};

// The highest capability number the running kernel knows (/proc/sys/kernel/cap_last_cap), or
// libcap's probe when /proc is not mounted.
int KernelLastCap() {
  std::ifstream in("/proc/sys/kernel/cap_last_cap");
  int last = -1;
  if (in >> last && last >= 0 && last < kMaxCapBits) return last;
  return static_cast<int>(cap_max_bits()) - 1;
}

std::string ToUpper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

// Every capability libcap has a name for, by number. libcap answers a number it has no name for
// with the number itself ("45"); those are left out.
std::vector<CapInfo> BuildCapTable() {
  const int last = KernelLastCap();
  std::vector<CapInfo> table;
  for (int bit = 0; bit < kMaxCapBits; ++bit) {
    char* raw = cap_to_name(static_cast<cap_value_t>(bit));
    if (raw == nullptr) continue;
    std::string name(raw);
    cap_free(raw);
    if (name.empty() || std::isdigit(static_cast<unsigned char>(name[0]))) continue;
    table.push_back(CapInfo{ToUpper(name), bit, bit <= last});
  }
  return table;
}

const std::vector<CapInfo>& CapTable() {
  static const std::vector<CapInfo> table = BuildCapTable();
  return table;
}

const CapInfo* FindCap(std::string_view upper_name) {
  for (const CapInfo& info : CapTable()) {
    if (info.name == upper_name) return &info;
  }
  return nullptr;
}

constexpr std::string_view kAll = "ALL";

// Docker's NormalizeLegacyCapabilities: upper-case, add "CAP_", check it is known. "ALL" passes
// through unchanged.
Result<std::vector<std::string>> Normalize(const std::vector<std::string>& names) {
  std::vector<std::string> out;
  out.reserve(names.size());
  for (const std::string& raw : names) {
    std::string name = ToUpper(raw);
    if (name == kAll) {
      out.push_back(std::move(name));
      continue;
    }
    if (!name.starts_with("CAP_")) name = "CAP_" + name;
    const CapInfo* info = FindCap(name);
    if (info == nullptr) {
      return MakeError(Code::kInvalidArgument, fmt::format("unknown capability: \"{}\"", name));
    }
    if (!info->supported) {
      return MakeError(Code::kInvalidArgument,
                       fmt::format("capability not supported by your kernel or not available in "
                                   "the current environment: \"{}\"",
                                   name));
    }
    out.push_back(std::move(name));
  }
  return out;
}

bool Contains(const std::vector<std::string>& v, std::string_view s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

Result<uint64_t> ResolveSet(const std::vector<std::string>& names, std::string_view set_name) {
  uint64_t bits = 0;
  for (const std::string& name : names) {
    const CapInfo* info = FindCap(name);
    if (info == nullptr) {
      return MakeError(Code::kInvalidArgument,
                       fmt::format("{}: unknown capability: \"{}\"", set_name, name));
    }
    if (!info->supported) continue;  // the kernel does not know it: nothing to grant
    bits |= uint64_t{1} << info->bit;
  }
  return bits;
}

}  // namespace

Result<CapabilitySets> ResolveCapabilities(const oci::LinuxCapabilities& caps) {
  CapabilitySets sets;
  BERTH_ASSIGN_OR_RETURN(sets.bounding, ResolveSet(caps.bounding, "bounding"));
  BERTH_ASSIGN_OR_RETURN(sets.effective, ResolveSet(caps.effective, "effective"));
  BERTH_ASSIGN_OR_RETURN(sets.permitted, ResolveSet(caps.permitted, "permitted"));
  BERTH_ASSIGN_OR_RETURN(sets.inheritable, ResolveSet(caps.inheritable, "inheritable"));
  BERTH_ASSIGN_OR_RETURN(sets.ambient, ResolveSet(caps.ambient, "ambient"));
  return sets;
}

std::vector<std::string> DefaultCapabilities() {
  return {
      "CAP_CHOWN",   "CAP_DAC_OVERRIDE", "CAP_FSETID",           "CAP_FOWNER",
      "CAP_MKNOD",   "CAP_NET_RAW",      "CAP_SETGID",           "CAP_SETUID",
      "CAP_SETFCAP", "CAP_SETPCAP",      "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT",
      "CAP_KILL",    "CAP_AUDIT_WRITE",
  };
}

std::vector<std::string> AllCapabilities() {
  std::vector<std::string> out;
  for (const CapInfo& info : CapTable()) {
    if (info.supported && cap_get_bound(static_cast<cap_value_t>(info.bit)) > 0) {
      out.push_back(info.name);
    }
  }
  return out;
}

Result<std::vector<std::string>> MergeCapabilities(const std::vector<std::string>& base,
                                                   const std::vector<std::string>& add,
                                                   const std::vector<std::string>& drop) {
  BERTH_ASSIGN_OR_RETURN(std::vector<std::string> norm_base, Normalize(base));
  BERTH_ASSIGN_OR_RETURN(std::vector<std::string> norm_drop, Normalize(drop));
  BERTH_ASSIGN_OR_RETURN(std::vector<std::string> norm_add, Normalize(add));

  std::set<std::string> caps;
  if (Contains(norm_add, kAll)) {
    // Every capability but the dropped ones.
    for (std::string& c : AllCapabilities()) {
      if (!Contains(norm_drop, c)) caps.insert(std::move(c));
    }
  } else if (Contains(norm_drop, kAll)) {
    // Start from none; only what is added.
    caps.insert(norm_add.begin(), norm_add.end());
  } else {
    if (Contains(norm_base, kAll)) norm_base = AllCapabilities();
    for (std::string& c : norm_base) {
      if (!Contains(norm_drop, c)) caps.insert(std::move(c));
    }
    caps.insert(norm_add.begin(), norm_add.end());
  }
  return std::vector<std::string>(caps.begin(), caps.end());
}

}  // namespace berth::runtime
