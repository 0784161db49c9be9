// Seccomp: the OCI seccomp section (oci::LinuxSeccomp) compiled to a classic BPF program with
// libseccomp, in the parent. The child installs the bytes with one seccomp(2) call
// (runtime/container.cc) right before execve, allocating nothing. Docker's profile format and its
// default profile are in seccomp_profile.h. Thread-safe: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/result.h"
#include "oci/runtime_spec.h"

namespace berth::runtime {

struct SeccompProgram {
  // struct sock_filter[] as produced by seccomp_export_bpf (8 bytes per instruction).
  std::vector<uint8_t> bpf;
  // SECCOMP_FILTER_FLAG_* bits for seccomp(SECCOMP_SET_MODE_FILTER, flags, &prog).
  unsigned flags = 0;
};

// Compiles `seccomp`. Unknown syscall names are skipped (as runc does: a profile names syscalls
// of newer kernels); an unknown action, operator, architecture or flag is InvalidArgument, as are
// an argument index past 5, a rule without names, and an errnoRet on an action other than
// SCMP_ACT_ERRNO/SCMP_ACT_TRACE. errnoRet and defaultErrnoRet default to EPERM. SCMP_ACT_NOTIFY
// is NotImplemented (Berth has no seccomp agent). Like runc: a rule whose action equals the
// default action is dropped (libseccomp refuses it), and several comparisons of the same argument
// in one rule mean "any of them" (one rule each; Docker's personality rules rely on it), while
// comparisons of different arguments must all hold.
// The native architecture is always in the filter; `architectures` adds others (x86 and x32 on
// x86_64); a call from any other architecture kills the thread (libseccomp's default).
Result<SeccompProgram> CompileSeccomp(const oci::LinuxSeccomp& seccomp);

// CompileSeccomp with the programs kept in `cache_dir` (created 0700), one file per distinct
// section, named by the SHA-256 of the section as config.json has it plus libseccomp's version.
// Compiling Docker's profile takes libseccomp ~10 ms, the largest single cost of a container
// start; a hit reads 8 KiB. A missing, unreadable or malformed entry is compiled again and
// replaced; an error writing the cache is not an error of the compile. "" disables the cache.
Result<SeccompProgram> CompileSeccompCached(const oci::LinuxSeccomp& seccomp,
                                            const std::string& cache_dir);

}  // namespace berth::runtime
