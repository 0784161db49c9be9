// RuntimeSpec: the OCI runtime configuration (config.json of a bundle; specs/oci-runtime/
// config.md and config-linux.md), the subset Berth writes and runs. The engine builds one per
// container from Docker's Config + HostConfig and writes it to containers/<id>/config.json; the
// shim reads it back and hands it to runtime/. No I/O. Thread-compatible.
//
// Fidelity: Parse accepts any valid config.json and ignores fields outside this subset (hooks,
// windows, solaris, vm, ...); Serialize writes the fields in the spec's order and omits empty
// optional ones, so Parse(Serialize(s)) == s.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace berth::oci {

struct PosixRlimit {
  std::string type;  // "RLIMIT_NOFILE", ...
  uint64_t hard = 0;
  uint64_t soft = 0;
  friend bool operator==(const PosixRlimit&, const PosixRlimit&) = default;
};

struct LinuxCapabilities {  // names with the CAP_ prefix: "CAP_CHOWN"
  std::vector<std::string> bounding;
  std::vector<std::string> effective;
  std::vector<std::string> inheritable;
  std::vector<std::string> permitted;
  std::vector<std::string> ambient;
  friend bool operator==(const LinuxCapabilities&, const LinuxCapabilities&) = default;
};

struct User {
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::optional<uint32_t> umask;
  std::vector<uint32_t> additional_gids;
  friend bool operator==(const User&, const User&) = default;
};

struct ConsoleSize {
  uint32_t height = 0;
  uint32_t width = 0;
  friend bool operator==(const ConsoleSize&, const ConsoleSize&) = default;
};

struct Process {
  bool terminal = false;
  std::optional<ConsoleSize> console_size;
  User user;
  std::vector<std::string> args;  // args[0] is resolved against PATH in env, as execvp does
  std::vector<std::string> env;   // "KEY=value"
  std::string cwd = "/";          // absolute, inside the container
  std::optional<LinuxCapabilities> capabilities;
  std::vector<PosixRlimit> rlimits;
  bool no_new_privileges = false;
  std::optional<int> oom_score_adj;
  friend bool operator==(const Process&, const Process&) = default;
};

struct Root {
  std::string path;  // relative to the bundle, or absolute
  bool readonly = false;
  friend bool operator==(const Root&, const Root&) = default;
};

struct Mount {
  std::string destination;  // absolute, inside the container
  std::string type;         // "proc", "tmpfs", "bind", ...
  std::string source;
  std::vector<std::string> options;  // mount(8) style: "nosuid", "ro", "rbind", "mode=755", ...
  friend bool operator==(const Mount&, const Mount&) = default;
};

struct LinuxNamespace {
  std::string type;  // "pid", "network", "mount", "ipc", "uts", "user", "cgroup"
  std::string path;  // empty: a new namespace; else join the one at this path
  friend bool operator==(const LinuxNamespace&, const LinuxNamespace&) = default;
};

struct LinuxDevice {
  std::string path;  // "/dev/null"
  std::string type;  // "c", "b", "p"
  int64_t major = 0;
  int64_t minor = 0;
  std::optional<uint32_t> file_mode;
  std::optional<uint32_t> uid;
  std::optional<uint32_t> gid;
  friend bool operator==(const LinuxDevice&, const LinuxDevice&) = default;
};

struct LinuxMemory {
  std::optional<int64_t> limit;        // bytes
  std::optional<int64_t> reservation;  // bytes
  std::optional<int64_t> swap;         // memory + swap, bytes; -1 unlimited
  std::optional<int64_t> swappiness;
  friend bool operator==(const LinuxMemory&, const LinuxMemory&) = default;
};

struct LinuxCpu {
  std::optional<uint64_t> shares;
  std::optional<int64_t> quota;    // microseconds per period
  std::optional<uint64_t> period;  // microseconds
  std::string cpus;                // cpuset
  std::string mems;
  friend bool operator==(const LinuxCpu&, const LinuxCpu&) = default;
};

struct LinuxPids {
  int64_t limit = 0;  // <= 0: unlimited
  friend bool operator==(const LinuxPids&, const LinuxPids&) = default;
};

// One rule of the device cgroup (linux.resources.devices), applied in order.
struct LinuxDeviceCgroup {
  bool allow = false;
  std::string type;              // "a" (all), "c", "b"; "" is "a"
  std::optional<int64_t> major;  // none: any
  std::optional<int64_t> minor;
  std::string access;            // some of "rwm"; "" is "rwm"
  friend bool operator==(const LinuxDeviceCgroup&, const LinuxDeviceCgroup&) = default;
};

struct LinuxResources {
  std::optional<LinuxMemory> memory;
  std::optional<LinuxCpu> cpu;
  std::optional<LinuxPids> pids;
  std::vector<LinuxDeviceCgroup> devices;
  friend bool operator==(const LinuxResources&, const LinuxResources&) = default;
};

struct LinuxSeccompArg {
  uint32_t index = 0;
  uint64_t value = 0;
  uint64_t value_two = 0;
  std::string op;  // "SCMP_CMP_EQ", "SCMP_CMP_MASKED_EQ", ...
  friend bool operator==(const LinuxSeccompArg&, const LinuxSeccompArg&) = default;
};

struct LinuxSyscall {
  std::vector<std::string> names;
  std::string action;  // "SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", ...
  std::optional<uint32_t> errno_ret;
  std::vector<LinuxSeccompArg> args;
  friend bool operator==(const LinuxSyscall&, const LinuxSyscall&) = default;
};

struct LinuxSeccomp {
  std::string default_action;  // "SCMP_ACT_ERRNO", ...
  std::optional<uint32_t> default_errno_ret;
  std::vector<std::string> architectures;  // "SCMP_ARCH_X86_64", ...
  std::vector<std::string> flags;          // "SECCOMP_FILTER_FLAG_LOG", ...
  std::vector<LinuxSyscall> syscalls;
  friend bool operator==(const LinuxSeccomp&, const LinuxSeccomp&) = default;
};

struct Linux {
  std::vector<LinuxNamespace> namespaces;
  std::vector<LinuxDevice> devices;
  std::string cgroups_path;  // "/berth/<id>" (cgroupfs style, relative to each hierarchy root)
  std::optional<LinuxResources> resources;
  std::map<std::string, std::string> sysctl;
  std::optional<LinuxSeccomp> seccomp;
  std::string rootfs_propagation;  // "" (private), "slave", "shared", ...
  std::vector<std::string> masked_paths;
  std::vector<std::string> readonly_paths;
  friend bool operator==(const Linux&, const Linux&) = default;
};

struct RuntimeSpec {
  std::string oci_version = "1.0.2";
  Process process;
  Root root;
  std::string hostname;
  std::string domainname;
  std::vector<Mount> mounts;
  std::map<std::string, std::string> annotations;
  Linux linux_;  // "linux" (a macro on some compilers without -std=c++20 strictness)
  friend bool operator==(const RuntimeSpec&, const RuntimeSpec&) = default;
};

// Parses config.json. InvalidArgument naming the field on a type error or a missing required
// field (ociVersion, root.path, process.args when process is present).
Result<RuntimeSpec> ParseRuntimeSpec(std::string_view json);
std::string SerializeRuntimeSpec(const RuntimeSpec& spec);
// Process alone (the body of an exec, `runc exec --process` style).
Result<Process> ParseProcess(std::string_view json);
std::string SerializeProcess(const Process& process);

}  // namespace berth::oci
