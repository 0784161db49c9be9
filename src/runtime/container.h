// Container processes: the OCI runtime's create/start/exec, in-process (no runc binary). Called by
// the shim (src/shim), which stays outside the container and is its parent.
//
// Create clones the container's init with new namespaces (spec.linux.namespaces), moves it into
// its cgroup, and lets it build its world: rootfs mounts (`rootfs_mounts`, e.g. the overlay from
// the snapshotter) onto spec.root.path inside the new mount namespace only, spec.mounts, /dev
// (tmpfs + spec.linux.devices + ptmx/pts/shm/mqueue/fd links), pivot_root, masked and read-only
// paths, hostname, sysctls. Then it waits at a barrier. Start releases it: user, groups, rlimits,
// capabilities, no_new_privs, seccomp, close every fd but 0-2, chdir(cwd), execve. Start returns
// once execve succeeded (the CLOEXEC sync socket closed) or with the step that failed.
//
// Security properties (ARCHITECTURE.md, CVE-2019-5736 and CVE-2024-21626): the init is
// non-dumpable until execve, so nothing in the container can open /proc/<pid>/exe of our
// binary; no fd of ours survives execve; cwd is resolved after pivot_root inside the new root.
//
// Errors: a failed step comes back as Error{code, "<step>: <detail>: <strerror>", errno}. An
// args[0] not found in PATH is NotFound ("exec: \"foo\": executable file not found in $PATH"),
// one that cannot be executed is PermissionDenied ("exec: \"/etc\": permission denied"), so the
// engine can map them to Docker's 127 and 126.
// Thread-safety: a ContainerProcess is used by one thread. Create/Exec fork; call them from a
// single-threaded process (the shim) or accept the usual fork-in-threads caveats.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "base/result.h"
#include "base/unique_fd.h"
#include "oci/runtime_spec.h"
#include "snapshot/mount_spec.h"

namespace berth::sys {
class Syscalls;
}

namespace berth::runtime {

class Cgroup;

// The fds the process gets as 0, 1, 2 when spec.process.terminal is false (-1: /dev/null).
// When terminal is true they are ignored: the process gets a pty slave from the container's own
// devpts on 0-2 and becomes its session leader; the master comes back in pty_master().
struct Stdio {
  int in = -1;
  int out = -1;
  int err = -1;
};

struct CreateOptions {
  const oci::RuntimeSpec* spec = nullptr;
  std::string bundle;  // spec.root.path and relative sources are relative to it
  std::vector<snapshot::MountSpec> rootfs_mounts;  // target left empty: root.path is the target
  Stdio stdio;
  Cgroup* cgroup = nullptr;  // created by the caller; the init joins it before it runs anything
  std::string seccomp_cache_dir;  // CompileSeccompCached's; "" compiles every time
};

struct ExecOptions {
  pid_t init_pid = 0;  // the container's init; its namespaces are joined
  const oci::Process* process = nullptr;
  // The container's seccomp (exec'd processes get the same filter) and readonly rootfs info
  // are taken from here; namespaces listed with a path in the spec are joined as the init's.
  const oci::RuntimeSpec* spec = nullptr;
  Stdio stdio;
  Cgroup* cgroup = nullptr;
  std::string seccomp_cache_dir;
};

class ContainerProcess {
 public:
  virtual ~ContainerProcess() = default;
  // The pid in the caller's pid namespace.
  virtual pid_t pid() const = 0;
  // The pty master when process.terminal, else an invalid fd. Ownership passes to the caller.
  virtual UniqueFd TakePtyMaster() = 0;
  // Releases the barrier; returns once execve succeeded, or the failed step. After a failure
  // the process has exited; reap it with waitpid.
  virtual Status Start() = 0;
};

// Creates a container's init (held at the barrier). On error nothing remains: the child is
// killed and reaped, no mount is left in the caller's namespace.
Result<std::unique_ptr<ContainerProcess>> CreateContainer(const CreateOptions& options,
                                                          sys::Syscalls& sys);

// Creates a process inside a running container (docker exec), held at the barrier like Create.
Result<std::unique_ptr<ContainerProcess>> CreateExec(const ExecOptions& options,
                                                     sys::Syscalls& sys);

// Resizes a pty (TIOCSWINSZ on the master).
Status ResizePty(int pty_master, unsigned height, unsigned width);

}  // namespace berth::runtime
