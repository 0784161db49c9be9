// ContainerConfig: what `POST /containers/create` asks for (Docker's Config + HostConfig, the
// subset Berth acts on), typed; and BuildSpec, which turns it into the OCI runtime spec the shim
// runs, with Docker's defaults (moby daemon/oci_linux.go, oci/defaults.go): the mounts
// (/proc, /dev, /dev/pts, /dev/shm, /dev/mqueue, /sys ro), masked and read-only paths, the
// default devices, capabilities (DefaultCapabilities + --cap-add/--cap-drop, or all with
// --privileged), the default seccomp profile (or --security-opt seccomp=FILE|unconfined),
// no_new_privs, rlimits, cgroup resources, namespaces per --network (none: a new netns with lo
// only; host: none; container:<id>: the other's netns path), /etc/hosts, /etc/hostname,
// /etc/resolv.conf bind-mounted from the container's directory, --init (tini as PID 1), --tmpfs,
// --read-only. No I/O: what the spec needs from the host comes in SpecInputs (but the host name).
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "oci/runtime_spec.h"

namespace berth::engine {

struct Ulimit {
  std::string name;  // "nofile"
  int64_t soft = 0;
  int64_t hard = 0;
  friend bool operator==(const Ulimit&, const Ulimit&) = default;
};

struct RestartPolicy {
  std::string name;  // "", "no", "always", "on-failure", "unless-stopped"
  int64_t maximum_retry_count = 0;
  friend bool operator==(const RestartPolicy&, const RestartPolicy&) = default;
};

// Docker's container.Config (the fields Berth uses; after merging with the image's defaults).
struct ContainerConfig {
  std::string hostname;
  std::string domainname;
  std::string user;
  bool attach_stdin = false;
  bool attach_stdout = false;
  bool attach_stderr = false;
  bool tty = false;
  bool open_stdin = false;
  bool stdin_once = false;
  std::vector<std::string> env;
  std::vector<std::string> cmd;
  std::string image;
  std::vector<std::string> volumes;  // keys of Config.Volumes
  std::string working_dir;
  std::vector<std::string> entrypoint;
  std::map<std::string, std::string> labels;
  std::string stop_signal;
  std::optional<int64_t> stop_timeout;
  friend bool operator==(const ContainerConfig&, const ContainerConfig&) = default;
};

// Docker's container.HostConfig (the fields Berth uses).
struct HostConfig {
  std::vector<std::string> binds;
  std::string network_mode;  // "", "default", "none", "host", "container:<name|id>"
  RestartPolicy restart_policy;
  bool auto_remove = false;
  std::vector<std::string> volumes_from;
  std::vector<std::string> cap_add;
  std::vector<std::string> cap_drop;
  std::vector<std::string> dns;
  std::vector<std::string> dns_search;
  std::vector<std::string> dns_options;
  std::vector<std::string> extra_hosts;
  bool privileged = false;
  bool readonly_rootfs = false;
  std::vector<std::string> security_opt;
  std::map<std::string, std::string> tmpfs;  // path -> options
  bool init = false;                         // HostConfig.Init (null and false both: no init)
  int64_t memory = 0;                        // bytes, 0 unlimited
  int64_t memory_swap = 0;                   // memory+swap, -1 unlimited, 0 unset
  int64_t nano_cpus = 0;
  int64_t cpu_shares = 0;
  int64_t cpu_period = 0;
  int64_t cpu_quota = 0;
  std::string cpuset_cpus;
  std::string cpuset_mems;
  std::optional<int64_t> pids_limit;
  std::vector<Ulimit> ulimits;
  std::optional<int> oom_score_adj;
  std::map<std::string, std::string> sysctls;
  std::vector<uint32_t> console_size;  // [height, width]
  friend bool operator==(const HostConfig&, const HostConfig&) = default;
};

// Parsers of the JSON objects as the docker CLI sends them. null fields read as defaults; a
// field of the wrong type is InvalidArgument naming it ("HostConfig.Memory: want a number").
Result<ContainerConfig> ParseContainerConfig(std::string_view json);
Result<HostConfig> ParseHostConfig(std::string_view json);

// Docker's validation of a HostConfig before create (daemon/container.go verifyPlatform...):
// the messages the daemon gives, e.g. "Range of CPUs is from 0.01 to 2.00, as there are only 2
// CPUs available", "Minimum memory limit allowed is 6MB", "Minimum memoryswap limit should be
// larger than memory limit, see usage", "invalid restart policy ...". InvalidArgument.
Status ValidateHostConfig(const HostConfig& host_config, int host_cpus);

struct SpecInputs {
  std::string id;                 // container id (64 hex)
  std::string rootfs = "rootfs";  // root.path, relative to the bundle
  std::string bundle;  // <data-root>/containers/<id>: hosts, hostname, resolv.conf live here
  std::string kernel_release;        // uname -r, for the seccomp profile's minKernel rules
  std::string init_path;             // host path of tini-static, bind-mounted at /sbin/docker-init
  std::string network_ns_path;       // for container:<x>: /proc/<pid>/ns/net of the other one
  // For container:<x>: the other one's bundle, whose hosts, hostname and resolv.conf are bound
  // (Docker shares them); empty: `bundle`'s own.
  std::string network_files_dir;
  std::string seccomp_profile_json;  // contents of --security-opt seccomp=FILE, if given
  std::string cgroup_parent = "/berth";  // cgroupsPath becomes <parent>/<id>
  // For --privileged: the host's char and block devices (ListHostDevices("/dev")), given to the
  // container as Docker does; the default devices fill in any the host lacks.
  std::vector<oci::LinuxDevice> host_devices;
};

// The OCI spec for the container. InvalidArgument for a bad --security-opt, an unknown
// capability, a bad --tmpfs or --ulimit, an empty command. spec.process is the process of a root
// user, with "/sbin/docker-init --" in front with --init. No I/O but gethostname(2): with
// --network host spec.hostname is the host's name (Docker's).
Result<oci::RuntimeSpec> BuildSpec(const ContainerConfig& config, const HostConfig& host_config,
                                   const SpecInputs& inputs);

// The process of the container from its config: entrypoint + cmd (without the init: with --init
// the caller keeps BuildSpec's "/sbin/docker-init --" in front), env (with PATH and HOSTNAME
// added as Docker does, TERM=xterm with a tty), cwd, user ("uid[:gid]" numeric or names resolved
// with ResolveUser), and the capabilities, rlimits, no_new_privileges and oom_score_adj BuildSpec
// sets; as Docker, a non-root user keeps only the bounding set. "no command specified"
// (InvalidArgument) when entrypoint and cmd are empty. The engine puts it in the spec in place
// of BuildSpec's.
Result<oci::Process> BuildProcess(const ContainerConfig& config, const HostConfig& host_config,
                                  const std::vector<std::string>& rootfs_layers);

// Resolves Docker's --user ("name", "uid", "name:group", "uid:gid") against the container's
// /etc/passwd and /etc/group, with the supplementary groups of the user. The rootfs is not
// mounted on the host: `rootfs_layers` are the overlay's directories, top (the container's
// upper) first, and each file is read from the first layer that has it, resolved inside that
// layer (RESOLVE_IN_ROOT); an overlay whiteout or an opaque /etc above hides the lower ones. No
// /etc/passwd and a numeric user: uid (and gid 0 or the given). An empty user is root. An
// unknown name is InvalidArgument as Docker words it:
// "unable to find user foo: no matching entries in passwd file".
Result<oci::User> ResolveUser(std::string_view user, const std::vector<std::string>& rootfs_layers);

// The char and block devices under `dev_dir` (the host's /dev, recursively, symlinks not
// followed), with their numbers and modes, for --privileged (SpecInputs::host_devices).
Result<std::vector<oci::LinuxDevice>> ListHostDevices(const std::string& dev_dir);

}  // namespace berth::engine
