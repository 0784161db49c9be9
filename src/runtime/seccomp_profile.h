// Docker's seccomp profile format (moby profiles/seccomp: defaultAction, archMap, syscalls with
// names/action/args/includes/excludes by caps, arches and minKernel) turned into the OCI
// section for one container, and Docker's default profile, embedded. The default has the same
// effect as Docker's: an allowlist whose default is EPERM. keyctl, add_key, request_key, kexec_*,
// swapon/swapoff, pivot_root are always refused; mount, umount2, unshare, setns, bpf and clone
// with any CLONE_NEW* flag unless the container holds CAP_SYS_ADMIN; reboot unless
// CAP_SYS_BOOT, and so on for the capability Docker ties each to; ptrace only on kernels 4.8 and
// later; clone3 answers ENOSYS (so libc falls back to clone, whose flags are visible);
// personality only for a few values. Thread-safe: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "oci/runtime_spec.h"

namespace berth::runtime {

// `caps`: the container's effective capabilities, CAP_ prefixed (compared case-insensitively).
// `kernel_release`: uname -r ("6.1.0-13-amd64"), for minKernel rules.
//
// Filtering follows Docker: an entry is left out if any `excludes` matches (the host arch is
// listed, any listed cap is held, the kernel is >= minKernel) or any `includes` does not (the
// host arch is not listed, a listed cap is missing, the kernel is older than minKernel). Arches
// in includes/excludes are Go's names for the host ("amd64", "arm64"; uname -m is accepted too).
// archMap keeps the entry for the native architecture and its subArchitectures (on x86_64:
// SCMP_ARCH_X86_64, SCMP_ARCH_X86, SCMP_ARCH_X32); "architectures" is taken as is; both at once
// is an error. Action and operator names are checked later, by CompileSeccomp.
// A malformed profile is InvalidArgument naming the place: "seccomp profile:
// syscalls[3].args[0].op: required", "seccomp profile: invalid JSON: ...". So is a
// kernel_release without "<major>.<minor>" when a minKernel rule needs it.
Result<oci::LinuxSeccomp> DockerSeccompProfile(std::string_view profile_json,
                                               const std::vector<std::string>& caps,
                                               std::string_view kernel_release);
// The embedded default profile (runtime/internal/default_seccomp_profile.cc), filtered the same
// way. Cannot fail: an unreadable kernel_release only drops the minKernel rules (ptrace), which
// denies more, never less.
oci::LinuxSeccomp DefaultSeccompProfile(const std::vector<std::string>& caps,
                                        std::string_view kernel_release);

}  // namespace berth::runtime
