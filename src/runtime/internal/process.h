// Private to runtime/: the container process's own setup (user, rlimits, capabilities,
// no_new_privs, seccomp, fds, cwd, execve), computed in the parent as a ProcessPlan and applied
// in the child without allocating on the success path.
#pragma once

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "oci/runtime_spec.h"
#include "runtime/capabilities.h"
#include "runtime/internal/sync.h"
#include "runtime/seccomp.h"
#include "sys/syscalls.h"

namespace berth::runtime::internal {

inline constexpr const char* kDefaultPath =
    "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

struct RlimitStep {
  int resource = 0;
  std::string name;  // "RLIMIT_NOFILE", for messages
  sys::Rlimit limit;
};

struct ProcessPlan {
  std::vector<std::string> args;
  std::vector<std::string> env;
  std::vector<char*> argv;  // into args, null-terminated
  std::vector<char*> envp;  // into env, null-terminated
  // execve is tried on each in order, as execvp(3) walks PATH (the container's PATH, else
  // kDefaultPath). One entry when args[0] has a '/'.
  std::vector<std::string> candidates;
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;
  std::optional<mode_t> umask;
  std::vector<RlimitStep> rlimits;
  std::optional<CapabilitySets> capabilities;
  bool no_new_privileges = false;
  std::optional<SeccompProgram> seccomp;
  std::string cwd;
};

// The pointers in argv/envp point into the plan's own strings: do not copy a plan after this
// (it is returned by unique_ptr for that reason).
// `seccomp_cache_dir`: see CompileSeccompCached ("" compiles every time).
Result<std::unique_ptr<ProcessPlan>> PlanProcess(const oci::Process& process,
                                                 const std::optional<oci::LinuxSeccomp>& seccomp,
                                                 const std::string& seccomp_cache_dir = "");

// Child, after the barrier: everything up to execve. On failure returns the step; *error set.
Step ApplyProcess(const ProcessPlan& plan, sys::Syscalls& sys, Error* error);
// Child: execve over the candidates. Returns only on failure, with the errno to report
// (EACCES if some candidate was not executable and none ran, as execvp does).
int ExecProcess(const ProcessPlan& plan);

// Parent: the Error for a failed exec step, in Docker's words (container.h).
Error ExecError(const std::string& arg0, int err);

}  // namespace berth::runtime::internal
