// Docker's seccomp profile format (moby profiles/seccomp: defaultAction, archMap, syscalls with
// names/action/args/includes/excludes by caps, arches and minKernel) turned into the OCI
// section for one container, and Docker's default profile, embedded. The default has the same
// effect as Docker's: keyctl, add_key, request_key, kexec_*, bpf, mount, umount2, unshare and
// clone with CLONE_NEWUSER, ptrace on kernels before 4.8, reboot, swapon, ... are refused with
// EPERM unless the container holds the capability Docker ties them to (CAP_SYS_ADMIN for mount,
// ...). Thread-safe: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "oci/runtime_spec.h"

namespace berth::runtime {

// `caps`: the container's effective capabilities, CAP_ prefixed. `kernel_release`: uname -r
// ("6.1.0-13-amd64"), for minKernel rules.
Result<oci::LinuxSeccomp> DockerSeccompProfile(std::string_view profile_json,
                                               const std::vector<std::string>& caps,
                                               std::string_view kernel_release);
// The embedded default profile, filtered the same way.
oci::LinuxSeccomp DefaultSeccompProfile(const std::vector<std::string>& caps,
                                        std::string_view kernel_release);

}  // namespace berth::runtime
