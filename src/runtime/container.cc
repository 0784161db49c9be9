#include "runtime/container.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>

#include <cerrno>
#include <string_view>

#include "runtime/cgroup.h"
#include "runtime/internal/process.h"
#include "runtime/internal/rootfs.h"
#include "runtime/internal/spawn.h"
#include "runtime/internal/sysctl.h"
#include "sys/linux_syscalls.h"
#include "sys/syscalls.h"

namespace berth::runtime {
namespace {

using internal::ChildSpec;
using internal::Spawned;

struct NamespaceType {
  std::string_view name;  // spec.linux.namespaces[].type
  std::string_view proc;  // /proc/<pid>/ns/<proc>
  int flag;
};
constexpr NamespaceType kNamespaces[] = {
    {"pid", "pid", CLONE_NEWPID},    {"network", "net", CLONE_NEWNET},
    {"mount", "mnt", CLONE_NEWNS},   {"ipc", "ipc", CLONE_NEWIPC},
    {"uts", "uts", CLONE_NEWUTS},    {"cgroup", "cgroup", CLONE_NEWCGROUP},
    {"user", "user", CLONE_NEWUSER},
};

class ProcessImpl final : public ContainerProcess {
 public:
  ProcessImpl(Spawned spawned, std::string arg0)
      : spawned_(std::move(spawned)), arg0_(std::move(arg0)) {}
  ~ProcessImpl() override {
    // Never started: nothing else will reap it.
    if (!started_ && spawned_.pid > 0) {
      ::kill(spawned_.pid, SIGKILL);
      while (::waitpid(spawned_.pid, nullptr, 0) < 0 && errno == EINTR) {
      }
    }
  }
  pid_t pid() const override { return spawned_.pid; }
  UniqueFd TakePtyMaster() override { return std::move(spawned_.pty_master); }
  Status Start() override {
    if (started_) return MakeError(Code::kFailedPrecondition, "start: already started");
    started_ = true;
    Status st = internal::Release(spawned_.sock.get(), arg0_);
    spawned_.sock.Reset();
    return st;
  }

 private:
  Spawned spawned_;
  std::string arg0_;
  bool started_ = false;
};

// Every fd the child dups onto 0-2; -1 becomes /dev/null (opened once, here).
Status FillStdio(const Stdio& stdio, UniqueFd& devnull, ChildSpec& child) {
  const int in[3] = {stdio.in, stdio.out, stdio.err};
  for (int i = 0; i < 3; ++i) {
    if (in[i] >= 0) {
      child.stdio[i] = in[i];
      continue;
    }
    if (!devnull) {
      devnull.Reset(::open("/dev/null", O_RDWR | O_CLOEXEC));
      if (!devnull) return ErrnoError("open /dev/null");
    }
    child.stdio[i] = devnull.get();
  }
  return Ok();
}

Result<UniqueFd> OpenNamespace(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return ErrnoError("open " + path);
  return fd;
}

}  // namespace

Result<std::unique_ptr<ContainerProcess>> CreateContainer(const CreateOptions& options,
                                                          sys::Syscalls& sys) {
  if (options.spec == nullptr) return MakeError(Code::kInvalidArgument, "create: no spec");
  const oci::RuntimeSpec& spec = *options.spec;

  ChildSpec child;
  child.sys = &sys;
  std::vector<UniqueFd> ns_fds;
  bool new_mount_ns = false;
  for (const oci::LinuxNamespace& ns : spec.linux_.namespaces) {
    const NamespaceType* type = nullptr;
    for (const NamespaceType& t : kNamespaces) {
      if (t.name == ns.type) type = &t;
    }
    if (type == nullptr) {
      return MakeError(Code::kInvalidArgument,
                       "linux.namespaces: unknown type \"" + ns.type + "\"");
    }
    if (type->flag == CLONE_NEWUSER) {
      return MakeError(Code::kNotImplemented, "linux.namespaces: user namespaces");
    }
    if (ns.path.empty()) {
      child.clone_flags |= type->flag;
      if (type->flag == CLONE_NEWNS) new_mount_ns = true;
      continue;
    }
    if (type->flag == CLONE_NEWPID || type->flag == CLONE_NEWNS) {
      return MakeError(Code::kNotImplemented,
                       "linux.namespaces: joining a " + ns.type + " namespace at create");
    }
    BERTH_ASSIGN_OR_RETURN(UniqueFd fd, OpenNamespace(ns.path));
    child.join_ns.emplace_back(fd.get(), type->flag);
    ns_fds.push_back(std::move(fd));
  }
  // The rootfs is built by mounting: never in the caller's mount namespace.
  if (!new_mount_ns) {
    return MakeError(Code::kInvalidArgument, "linux.namespaces: a new mount namespace is required");
  }
  if (!spec.hostname.empty() && (child.clone_flags & CLONE_NEWUTS) == 0) {
    return MakeError(Code::kInvalidArgument, "hostname: needs a new uts namespace");
  }

  BERTH_ASSIGN_OR_RETURN(
      internal::RootfsPlan rootfs,
      internal::PlanRootfs(spec, options.bundle, options.rootfs_mounts, &internal::IsDirectory));
  Result<std::unique_ptr<internal::ProcessPlan>> process =
      internal::PlanProcess(spec.process, spec.linux_.seccomp, options.seccomp_cache_dir);
  if (!process) return std::move(process).error().WithContext("create");
  Result<std::vector<internal::FileWrite>> sysctls =
      internal::PlanSysctls(spec.linux_.sysctl, child.clone_flags);
  if (!sysctls) return std::move(sysctls).error().WithContext("linux.sysctl");
  child.sysctls = &*sysctls;
  if (spec.process.oom_score_adj) {
    child.oom_score_adj = std::to_string(*spec.process.oom_score_adj);
  }
  child.rootfs = &rootfs;
  child.process = process->get();
  child.hostname = spec.hostname;
  child.domainname = spec.domainname;
  child.terminal = spec.process.terminal;
  child.console_size = spec.process.console_size;
  UniqueFd devnull;
  BERTH_RETURN_IF_ERROR(FillStdio(options.stdio, devnull, child));

  Result<Spawned> spawned = internal::Spawn(child, options.cgroup);
  if (!spawned) return std::move(spawned).error().WithContext("create");
  return std::unique_ptr<ContainerProcess>(
      std::make_unique<ProcessImpl>(std::move(*spawned), spec.process.args[0]));
}

Result<std::unique_ptr<ContainerProcess>> CreateExec(const ExecOptions& options,
                                                     sys::Syscalls& sys) {
  if (options.process == nullptr || options.init_pid <= 0) {
    return MakeError(Code::kInvalidArgument, "exec: no process or init pid");
  }
  ChildSpec child;
  child.sys = &sys;
  child.fork_into_pid_ns = true;
  std::vector<UniqueFd> ns_fds;
  // The mount namespace last: after it, /proc is the container's.
  for (std::string_view name : {"ipc", "uts", "net", "pid", "cgroup", "mnt"}) {
    std::string path = "/proc/" + std::to_string(options.init_pid) + "/ns/" + std::string(name);
    Result<UniqueFd> fd = OpenNamespace(path);
    if (!fd) return std::move(fd).error().WithContext("exec");
    int flag = 0;
    for (const NamespaceType& t : kNamespaces) {
      if (t.proc == name) flag = t.flag;
    }
    child.join_ns.emplace_back(fd->get(), flag);
    ns_fds.push_back(std::move(*fd));
  }
  std::optional<oci::LinuxSeccomp> seccomp;
  if (options.spec != nullptr) seccomp = options.spec->linux_.seccomp;
  Result<std::unique_ptr<internal::ProcessPlan>> process =
      internal::PlanProcess(*options.process, seccomp, options.seccomp_cache_dir);
  if (!process) return std::move(process).error().WithContext("exec");
  child.process = process->get();
  if (options.process->oom_score_adj) {
    child.oom_score_adj = std::to_string(*options.process->oom_score_adj);
  }
  child.terminal = options.process->terminal;
  child.console_size = options.process->console_size;
  UniqueFd devnull;
  BERTH_RETURN_IF_ERROR(FillStdio(options.stdio, devnull, child));

  Result<Spawned> spawned = internal::Spawn(child, options.cgroup);
  if (!spawned) return std::move(spawned).error().WithContext("exec");
  return std::unique_ptr<ContainerProcess>(
      std::make_unique<ProcessImpl>(std::move(*spawned), options.process->args[0]));
}

Status ResizePty(int pty_master, unsigned height, unsigned width) {
  sys::LinuxSyscalls linux_sys;
  return linux_sys.SetWindowSize(pty_master, height, width);
}

}  // namespace berth::runtime
