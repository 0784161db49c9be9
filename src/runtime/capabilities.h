// Linux capabilities: names <-> bits, Docker's default set and its --cap-add/--cap-drop rules,
// computed in the parent (libcap's name table). The child applies the resolved bits with raw
// prctl/capset calls (runtime/container.cc), allocating nothing. Thread-safe: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/result.h"
#include "oci/runtime_spec.h"

namespace berth::runtime {

// One bit per capability number (1 << CAP_CHOWN, ...). Capabilities the running kernel does not
// know (number > /proc/sys/kernel/cap_last_cap) are left out.
struct CapabilitySets {
  uint64_t bounding = 0;
  uint64_t effective = 0;
  uint64_t permitted = 0;
  uint64_t inheritable = 0;
  uint64_t ambient = 0;
  friend bool operator==(const CapabilitySets&, const CapabilitySets&) = default;
};

// Names ("CAP_CHOWN"; the CAP_ prefix is required here, as in the OCI spec) to bits.
// InvalidArgument "<set>: unknown capability: \"CAP_FOO\"" for a name libcap does not know
// ("effective: ..."); a name the running kernel does not know is left out.
Result<CapabilitySets> ResolveCapabilities(const oci::LinuxCapabilities& caps);

// Docker's default set (moby oci/caps/defaults.go): CHOWN DAC_OVERRIDE FSETID FOWNER MKNOD NET_RAW
// SETGID SETUID SETFCAP SETPCAP NET_BIND_SERVICE SYS_CHROOT KILL AUDIT_WRITE, with CAP_ prefix.
std::vector<std::string> DefaultCapabilities();
// Every capability the running kernel knows and this process's bounding set holds (for
// --privileged and --cap-add ALL), with CAP_ prefix: what moby's GetAllCapabilities gives. A
// capability outside the bounding set can never be granted (capset fails with EPERM, and the
// container would not start at all, as on a host whose root lacks CAP_SYS_RESOURCE).
std::vector<std::string> AllCapabilities();

// Docker's TweakCapabilities: start from `base` (DefaultCapabilities()), add `add`, remove
// `drop`. Names are case-insensitive with or without "CAP_"; "ALL" in add means every
// capability, "ALL" in drop means start from none (then add applies). Result has CAP_ prefixes,
// sorted by name, no duplicates. An unknown name is InvalidArgument with Docker's wording, which
// quotes the normalized name: "foo" gives `unknown capability: "CAP_FOO"`. A name libcap knows
// but the running kernel does not is InvalidArgument "capability not supported by your kernel
// or not available in the current environment: \"CAP_X\"" (Docker's wording too).
Result<std::vector<std::string>> MergeCapabilities(const std::vector<std::string>& base,
                                                   const std::vector<std::string>& add,
                                                   const std::vector<std::string>& drop);

}  // namespace berth::runtime
