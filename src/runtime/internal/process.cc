#include "runtime/internal/process.h"

#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string_view>

namespace berth::runtime::internal {
namespace {

struct RlimitName {
  std::string_view name;
  int resource;
};
constexpr RlimitName kRlimits[] = {
    {"RLIMIT_AS", RLIMIT_AS},
    {"RLIMIT_CORE", RLIMIT_CORE},
    {"RLIMIT_CPU", RLIMIT_CPU},
    {"RLIMIT_DATA", RLIMIT_DATA},
    {"RLIMIT_FSIZE", RLIMIT_FSIZE},
    {"RLIMIT_LOCKS", RLIMIT_LOCKS},
    {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK},
    {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE},
    {"RLIMIT_NICE", RLIMIT_NICE},
    {"RLIMIT_NOFILE", RLIMIT_NOFILE},
    {"RLIMIT_NPROC", RLIMIT_NPROC},
    {"RLIMIT_RSS", RLIMIT_RSS},
    {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},
    {"RLIMIT_RTTIME", RLIMIT_RTTIME},
    {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
    {"RLIMIT_STACK", RLIMIT_STACK},
};

std::string PathFromEnv(const std::vector<std::string>& env) {
  std::string path = kDefaultPath;
  for (const std::string& e : env) {
    if (e.rfind("PATH=", 0) == 0) path = e.substr(5);
  }
  return path;
}

Step Fail(Step step, Status status, Error* error) {
  *error = std::move(status).error();
  return step;
}

}  // namespace

Result<std::unique_ptr<ProcessPlan>> PlanProcess(const oci::Process& process,
                                                 const std::optional<oci::LinuxSeccomp>& seccomp,
                                                 const std::string& seccomp_cache_dir) {
  if (process.args.empty() || process.args[0].empty()) {
    return MakeError(Code::kInvalidArgument, "process.args: required");
  }
  if (process.cwd.empty() || process.cwd[0] != '/') {
    return MakeError(Code::kInvalidArgument,
                     "process.cwd: \"" + process.cwd + "\" is not an absolute path");
  }
  auto plan = std::make_unique<ProcessPlan>();
  plan->args = process.args;
  plan->env = process.env;
  for (std::string& a : plan->args) plan->argv.push_back(a.data());
  plan->argv.push_back(nullptr);
  for (std::string& e : plan->env) plan->envp.push_back(e.data());
  plan->envp.push_back(nullptr);

  const std::string& arg0 = process.args[0];
  if (arg0.find('/') != std::string::npos) {
    plan->candidates.push_back(arg0);
  } else {
    std::string path = PathFromEnv(process.env);
    size_t pos = 0;
    while (pos <= path.size()) {
      size_t end = path.find(':', pos);
      if (end == std::string::npos) end = path.size();
      std::string dir = path.substr(pos, end - pos);
      if (dir.empty()) dir = ".";
      plan->candidates.push_back(dir + "/" + arg0);
      pos = end + 1;
    }
  }

  plan->uid = process.user.uid;
  plan->gid = process.user.gid;
  plan->groups.assign(process.user.additional_gids.begin(), process.user.additional_gids.end());
  if (process.user.umask) plan->umask = static_cast<mode_t>(*process.user.umask & 0777);
  for (const oci::PosixRlimit& r : process.rlimits) {
    const RlimitName* found = nullptr;
    for (const RlimitName& n : kRlimits) {
      if (n.name == r.type) found = &n;
    }
    if (found == nullptr) {
      return MakeError(Code::kInvalidArgument, "process.rlimits: unknown type \"" + r.type + "\"");
    }
    if (r.soft > r.hard) {
      return MakeError(Code::kInvalidArgument,
                       "process.rlimits: " + r.type + ": soft limit above the hard limit");
    }
    plan->rlimits.push_back(RlimitStep{found->resource, r.type, sys::Rlimit{r.soft, r.hard}});
  }
  if (process.capabilities) {
    BERTH_ASSIGN_OR_RETURN(CapabilitySets caps, ResolveCapabilities(*process.capabilities));
    plan->capabilities = caps;
  }
  plan->no_new_privileges = process.no_new_privileges;
  if (seccomp) {
    BERTH_ASSIGN_OR_RETURN(SeccompProgram program, CompileSeccompCached(*seccomp, seccomp_cache_dir));
    plan->seccomp = std::move(program);
  }
  plan->cwd = process.cwd;
  return plan;
}

Step ApplyProcess(const ProcessPlan& plan, sys::Syscalls& sys, Error* error) {
  // rlimits, while still privileged. A hard limit above the current one needs
  // CAP_SYS_RESOURCE; without it the request is clamped to what we have (soft included).
  for (const RlimitStep& r : plan.rlimits) {
    Result<sys::Rlimit> set = sys.Prlimit(0, r.resource, &r.limit);
    if (!set && set.error().sys_errno == EPERM) {
      Result<sys::Rlimit> cur = sys.Prlimit(0, r.resource, nullptr);
      if (!cur) return Fail(Step::kRlimits, cur.error(), error);
      sys::Rlimit clamped = r.limit;
      if (clamped.hard > cur->hard) clamped.hard = cur->hard;
      if (clamped.soft > clamped.hard) clamped.soft = clamped.hard;
      set = sys.Prlimit(0, r.resource, &clamped);
    }
    if (!set) return Fail(Step::kRlimits, set.error(), error);
  }
  // No fd of ours survives execve (CVE-2024-21626): every fd above 2 becomes CLOEXEC; the sync
  // socket keeps working until the execve itself.
  if (Status st = sys.CloseRange(3, ~0U, sys::kCloseRangeCloexec); !st) {
    return Fail(Step::kCloseFds, std::move(st), error);
  }
  // Without no_new_privs, installing a filter needs CAP_SYS_ADMIN, which the process may be
  // about to lose: then the filter goes in first, as runc does.
  if (plan.seccomp && !plan.no_new_privileges) {
    Status st = sys.SeccompSetModeFilter(plan.seccomp->flags, plan.seccomp->bpf.data(),
                                         plan.seccomp->bpf.size());
    if (!st) return Fail(Step::kSeccomp, std::move(st), error);
  }
  if (plan.capabilities) {
    for (unsigned long cap = 0; cap < 64; ++cap) {  // NOLINT(runtime/int)
      if ((plan.capabilities->bounding >> cap) & 1) continue;
      Result<int> dropped = sys.Prctl(PR_CAPBSET_DROP, cap, 0, 0, 0);
      if (!dropped && dropped.error().sys_errno == EINVAL) break;  // past cap_last_cap
      if (!dropped) return Fail(Step::kCapabilities, dropped.error(), error);
    }
  }
  // Keep the permitted set across the uid change; capset below sets the final sets.
  Result<int> keep = sys.Prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0);
  if (!keep) return Fail(Step::kUser, keep.error(), error);
  if (Status st = sys.Setgroups(plan.groups); !st) return Fail(Step::kUser, std::move(st), error);
  if (Status st = sys.Setresgid(plan.gid, plan.gid, plan.gid); !st) {
    return Fail(Step::kUser, std::move(st), error);
  }
  if (Status st = sys.Setresuid(plan.uid, plan.uid, plan.uid); !st) {
    return Fail(Step::kUser, std::move(st), error);
  }
  keep = sys.Prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
  if (!keep) return Fail(Step::kUser, keep.error(), error);
  // After pivot_root and after the uid change: resolved inside the new root, with the user's
  // permissions.
  if (Status st = sys.Chdir(plan.cwd); !st) return Fail(Step::kCwd, std::move(st), error);
  if (plan.capabilities) {
    const CapabilitySets& c = *plan.capabilities;
    Status st = sys.Capset(sys::CapSets{c.effective, c.permitted, c.inheritable});
    if (!st) return Fail(Step::kCapabilities, std::move(st), error);
    // The ambient set must be cleared explicitly: it survives setresuid for root.
    Result<int> cleared = sys.Prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
    if (!cleared) return Fail(Step::kCapabilities, cleared.error(), error);
    for (unsigned long cap = 0; cap < 64; ++cap) {  // NOLINT(runtime/int)
      if (((c.ambient >> cap) & 1) == 0) continue;
      Result<int> raised = sys.Prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0);
      if (!raised) return Fail(Step::kCapabilities, raised.error(), error);
    }
  }
  if (plan.no_new_privileges) {
    Result<int> nnp = sys.Prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
    if (!nnp) return Fail(Step::kNoNewPrivileges, nnp.error(), error);
  }
  if (plan.umask) ::umask(*plan.umask);
  if (plan.seccomp && plan.no_new_privileges) {
    Status st = sys.SeccompSetModeFilter(plan.seccomp->flags, plan.seccomp->bpf.data(),
                                         plan.seccomp->bpf.size());
    if (!st) return Fail(Step::kSeccomp, std::move(st), error);
  }
  return Step::kNone;
}

int ExecProcess(const ProcessPlan& plan) {
  bool denied = false;
  int err = ENOENT;
  for (const std::string& path : plan.candidates) {
    ::execve(path.c_str(), plan.argv.data(), plan.envp.data());
    err = errno;
    if (err == EACCES) {
      denied = true;
    } else if (err != ENOENT && err != ENOTDIR) {
      return err;  // as execvp: anything but "not here" ends the search
    }
  }
  return denied ? EACCES : err;
}

Error ExecError(const std::string& arg0, int err) {
  std::string quoted = "exec: \"" + arg0 + "\": ";
  if (err == ENOENT || err == ENOTDIR) {
    if (arg0.find('/') == std::string::npos) {
      return Error{Code::kNotFound, quoted + "executable file not found in $PATH", err};
    }
    return Error{Code::kNotFound, quoted + "no such file or directory", err};
  }
  if (err == EACCES) return Error{Code::kPermissionDenied, quoted + "permission denied", err};
  return ErrnoError("exec: \"" + arg0 + "\"", err);
}

}  // namespace berth::runtime::internal
