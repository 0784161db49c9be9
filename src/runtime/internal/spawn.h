// Private to runtime/: spawning a container process. Clone with the namespace flags, a CLOEXEC
// SOCK_SEQPACKET socketpair for sync, and the child's side of the protocol (sync.h). After the
// clone the child throws nothing, allocates only on error paths, and reports a failed step as a
// typed {step, errno} message; everything it uses was computed by the parent (the plans).
//
// Create: parent clones (CLONE_NEW*) -> child: non-dumpable, setns(paths) -> parent: cgroup,
// kGo -> child: stdio, rootfs, hostname, sysctls, oom_score_adj, masked/ro paths, pty ->
// kReady; at the barrier.
// Exec: parent opens /proc/<init>/ns/* and clones -> child: non-dumpable, setns(each, mnt last),
// clone(CLONE_PARENT) so the grandchild is in the pid namespace and still our child (runc's
// nsexec) -> kPid; the first child exits -> parent: cgroup, kGo -> grandchild: stdio, pty ->
// kReady. Release (both): kGo -> process setup -> execve; the parent reads EOF on success.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/result.h"
#include "base/unique_fd.h"
#include "oci/runtime_spec.h"

namespace berth::sys {
class Syscalls;
}

namespace berth::runtime {
class Cgroup;
}

namespace berth::runtime::internal {

struct RootfsPlan;
struct ProcessPlan;
struct FileWrite;

struct ChildSpec {
  sys::Syscalls* sys = nullptr;
  int clone_flags = 0;                       // CLONE_NEW* for Create; 0 for Exec
  std::vector<std::pair<int, int>> join_ns;  // {fd, CLONE_NEW*}, joined in this order
  bool fork_into_pid_ns = false;             // Exec: clone(CLONE_PARENT) after the setns
  const RootfsPlan* rootfs = nullptr;        // Create only
  const ProcessPlan* process = nullptr;
  const std::vector<FileWrite>* sysctls = nullptr;  // Create only, written after pivot_root
  std::string oom_score_adj;  // "" leaves it; else written to /proc/self/oom_score_adj
  std::string hostname;       // "" leaves it
  std::string domainname;
  bool terminal = false;
  std::optional<oci::ConsoleSize> console_size;
  int stdio[3] = {-1, -1, -1};  // valid fds (the caller substitutes /dev/null)
};

struct Spawned {
  pid_t pid = 0;
  UniqueFd sock;
  UniqueFd pty_master;
};

// Spawns the child and waits until it is at the barrier. `cgroup` may be null. On error the
// child is killed and reaped.
Result<Spawned> Spawn(const ChildSpec& spec, Cgroup* cgroup);
// Releases the barrier; Ok once execve succeeded, else the failed step (exec errors in Docker's
// words for `arg0`).
Status Release(int sock, const std::string& arg0);

}  // namespace berth::runtime::internal
