// Private to runtime/: spec.linux.sysctl as file writes under /proc/sys (planned in the parent,
// written by the child after pivot_root, once its own /proc is mounted and before /proc/sys is
// made read-only). Only sysctls of a namespace the container has its own copy of are accepted,
// as runc's validator does: IPC ones with a new ipc namespace, net.* with a new network
// namespace, kernel.domainname with a new uts namespace.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "base/result.h"

namespace berth::sys {
class Syscalls;
}

namespace berth::runtime::internal {

struct FileWrite {
  std::string path;  // "/proc/sys/net/ipv4/ip_forward"
  std::string value;
};

// `clone_flags`: the CLONE_NEW* flags of the namespaces the container gets.
Result<std::vector<FileWrite>> PlanSysctls(const std::map<std::string, std::string>& sysctl,
                                           int clone_flags);
// Writes each value (no magic link followed: these are fresh procfs paths). Errors name the
// file.
Status WriteFiles(const std::vector<FileWrite>& writes, sys::Syscalls& sys);

}  // namespace berth::runtime::internal
