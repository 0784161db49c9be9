// BuildSpec and BuildProcess: Docker's Config + HostConfig -> the OCI runtime spec, with Docker's
// defaults (moby oci/defaults.go, daemon/oci_linux.go, daemon/container_linux.go), as data.
#include <limits.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "base/strings.h"
#include "engine/container_config.h"
#include "runtime/capabilities.h"
#include "runtime/seccomp_profile.h"

namespace berth::engine {
namespace {

constexpr std::string_view kDefaultPath =
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
constexpr std::string_view kInitTarget = "/sbin/docker-init";

Error Invalid(std::string message) { return MakeError(Code::kInvalidArgument, std::move(message)); }

// Go's strconv.ParseBool.
std::optional<bool> ParseGoBool(std::string_view s) {
  if (s == "1" || s == "t" || s == "T" || s == "true" || s == "TRUE" || s == "True") return true;
  if (s == "0" || s == "f" || s == "F" || s == "false" || s == "FALSE" || s == "False") {
    return false;
  }
  return std::nullopt;
}

// --security-opt, as moby parseSecurityOpt reads it.
struct SecurityOptions {
  bool no_new_privileges = false;
  bool seccomp_set = false;
  std::string seccomp;  // "unconfined", a file name, or the profile's JSON (the docker CLI
                        // reads the file and sends its contents)
};

Result<SecurityOptions> ParseSecurityOptions(const std::vector<std::string>& opts) {
  SecurityOptions out;
  for (const std::string& opt : opts) {
    if (opt == "no-new-privileges") {
      out.no_new_privileges = true;
      continue;
    }
    if (opt == "disable") continue;  // label=disable's short form; no SELinux in Berth
    size_t sep = opt.find('=');
    if (sep == std::string::npos) sep = opt.find(':');  // the deprecated "key:value" form
    if (sep == std::string::npos) {
      return Invalid(fmt::format("invalid --security-opt 1: {}", GoQuote(opt)));
    }
    std::string_view key = std::string_view(opt).substr(0, sep);
    std::string_view value = std::string_view(opt).substr(sep + 1);
    if (key == "label" || key == "apparmor") {
      continue;  // accepted as Docker does; Berth applies no SELinux or AppArmor profile
    } else if (key == "seccomp") {
      out.seccomp_set = true;
      out.seccomp = std::string(value);
    } else if (key == "no-new-privileges") {
      std::optional<bool> b = ParseGoBool(value);
      if (!b) return Invalid(fmt::format("invalid --security-opt 2: {}", GoQuote(opt)));
      out.no_new_privileges = *b;
    } else {
      return Invalid(fmt::format("invalid --security-opt 2: {}", GoQuote(opt)));
    }
  }
  return out;
}

// Docker's rlimit names (moby/sys ulimit, docker/go-units).
const std::set<std::string, std::less<>>& UlimitNames() {
  static const auto* const kNames = new std::set<std::string, std::less<>>{
      "core",   "cpu",   "data", "fsize",  "locks",  "memlock",    "msgqueue", "nice",
      "nofile", "nproc", "rss",  "rtprio", "rttime", "sigpending", "stack"};
  return *kNames;
}

Result<std::vector<oci::PosixRlimit>> BuildRlimits(const std::vector<Ulimit>& ulimits) {
  std::vector<oci::PosixRlimit> out;
  for (const Ulimit& u : ulimits) {
    if (UlimitNames().count(u.name) == 0) {
      return Invalid(fmt::format("invalid ulimit type: {}", u.name));
    }
    // -1 is unlimited (RLIM_INFINITY) on both sides.
    auto soft = static_cast<uint64_t>(u.soft);
    auto hard = static_cast<uint64_t>(u.hard);
    if (soft > hard) {
      return Invalid(fmt::format(
          "ulimit soft limit must be less than or equal to hard limit: {} > {}", u.soft, u.hard));
    }
    std::string type = "RLIMIT_";
    for (char c : u.name) type += static_cast<char>(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
    out.push_back(oci::PosixRlimit{std::move(type), hard, soft});
  }
  return out;
}

// Lexical cleaning of an absolute path (Go's path.Clean for the cases that matter here).
std::string CleanAbsolutePath(std::string_view path) {
  std::vector<std::string> parts;
  for (const std::string& part : Split(path, '/')) {
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      if (!parts.empty()) parts.pop_back();
      continue;
    }
    parts.push_back(part);
  }
  return "/" + Join(parts, "/");
}

Result<std::vector<std::string>> Capabilities(const HostConfig& h) {
  if (h.privileged) return runtime::AllCapabilities();
  return runtime::MergeCapabilities(runtime::DefaultCapabilities(), h.cap_add, h.cap_drop);
}

// Docker's CreateDaemonEnvironment: PATH, HOSTNAME, TERM, then the config's variables, which
// replace those of the same name ("FOO" without '=' removes FOO).
std::vector<std::string> BuildEnv(const ContainerConfig& c) {
  std::vector<std::string> env;
  env.emplace_back(kDefaultPath);
  if (!c.hostname.empty()) env.push_back("HOSTNAME=" + c.hostname);
  if (c.tty) env.emplace_back("TERM=xterm");
  auto key_of = [](std::string_view kv) { return kv.substr(0, kv.find('=')); };
  for (const std::string& kv : c.env) {
    std::string_view key = key_of(kv);
    auto it = std::find_if(env.begin(), env.end(),
                           [&](const std::string& e) { return key_of(e) == key; });
    if (kv.find('=') == std::string::npos) {
      if (it != env.end()) env.erase(it);
    } else if (it != env.end()) {
      *it = kv;
    } else {
      env.push_back(kv);
    }
  }
  return env;
}

// The process of a root user: everything but the user, which needs the image's files. With
// `with_init` and --init, args start with "/sbin/docker-init --".
Result<oci::Process> BuildRootProcess(const ContainerConfig& c, const HostConfig& h,
                                      bool with_init) {
  oci::Process p;
  if (with_init && h.init) {
    p.args = {std::string(kInitTarget), "--"};
  }
  p.args.insert(p.args.end(), c.entrypoint.begin(), c.entrypoint.end());
  p.args.insert(p.args.end(), c.cmd.begin(), c.cmd.end());
  if (c.entrypoint.empty() && c.cmd.empty()) return Invalid("no command specified");

  p.terminal = c.tty;
  if (h.console_size.size() == 2 && h.console_size[0] != 0 && h.console_size[1] != 0) {
    p.console_size = oci::ConsoleSize{h.console_size[0], h.console_size[1]};
  }
  p.env = BuildEnv(c);
  if (!c.working_dir.empty()) {
    if (c.working_dir[0] != '/') {
      return Invalid(fmt::format(
          "the working directory '{}' is invalid, it needs to be an absolute path", c.working_dir));
    }
    p.cwd = CleanAbsolutePath(c.working_dir);
  }

  BERTH_ASSIGN_OR_RETURN(std::vector<std::string> caps, Capabilities(h));
  // Docker (since 20.10.14, CVE-2022-24769) leaves inheritable and ambient empty.
  oci::LinuxCapabilities lc;
  lc.bounding = caps;
  lc.effective = caps;
  lc.permitted = std::move(caps);
  p.capabilities = std::move(lc);

  BERTH_ASSIGN_OR_RETURN(p.rlimits, BuildRlimits(h.ulimits));
  BERTH_ASSIGN_OR_RETURN(SecurityOptions sec, ParseSecurityOptions(h.security_opt));
  p.no_new_privileges = sec.no_new_privileges;
  p.oom_score_adj = h.oom_score_adj.value_or(0);
  return p;
}

oci::Mount MakeMount(std::string destination, std::string type, std::string source,
                     std::vector<std::string> options) {
  return oci::Mount{std::move(destination), std::move(type), std::move(source), std::move(options)};
}

// moby oci/defaults.go. /sys/fs/cgroup is left out for now: the runtime does not mount a
// cgroup file system in the container yet (a cgroup2 mount needs the container's own cgroup
// namespace, which Berth does not create yet).
std::vector<oci::Mount> DefaultMounts(bool privileged) {
  std::vector<std::string> sys_options = {"nosuid", "noexec", "nodev"};
  if (!privileged) sys_options.emplace_back("ro");  // Docker clears "ro" on /sys if privileged
  return {
      MakeMount("/proc", "proc", "proc", {"nosuid", "noexec", "nodev"}),
      MakeMount("/dev", "tmpfs", "tmpfs", {"nosuid", "strictatime", "mode=755", "size=65536k"}),
      MakeMount("/dev/pts", "devpts", "devpts",
                {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}),
      MakeMount("/sys", "sysfs", "sysfs", std::move(sys_options)),
      MakeMount("/dev/mqueue", "mqueue", "mqueue", {"nosuid", "noexec", "nodev"}),
      MakeMount("/dev/shm", "tmpfs", "shm",
                {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}),
  };
}

std::vector<oci::LinuxDevice> DefaultDevices() {
  auto dev = [](const char* path, int64_t major, int64_t minor) {
    return oci::LinuxDevice{path, "c", major, minor, 0666u, 0u, 0u};
  };
  return {dev("/dev/null", 1, 3),   dev("/dev/zero", 1, 5),    dev("/dev/full", 1, 7),
          dev("/dev/random", 1, 8), dev("/dev/urandom", 1, 9), dev("/dev/tty", 5, 0)};
}

// The mount(2) flags of tmpfs options, keyed by what they set: an option and its opposite
// share a key, so the later one wins (moby/sys mount.MergeTmpfsOptions).
const std::map<std::string, std::string, std::less<>>& TmpfsFlagKeys() {
  static const auto* const kKeys =
      new std::map<std::string, std::string, std::less<>>{{"ro", "rdonly"},
                                                          {"rw", "rdonly"},
                                                          {"suid", "nosuid"},
                                                          {"nosuid", "nosuid"},
                                                          {"dev", "nodev"},
                                                          {"nodev", "nodev"},
                                                          {"exec", "noexec"},
                                                          {"noexec", "noexec"},
                                                          {"sync", "sync"},
                                                          {"async", "sync"},
                                                          {"dirsync", "dirsync"},
                                                          {"mand", "mand"},
                                                          {"nomand", "mand"},
                                                          {"atime", "noatime"},
                                                          {"noatime", "noatime"},
                                                          {"diratime", "nodiratime"},
                                                          {"nodiratime", "nodiratime"},
                                                          {"relatime", "relatime"},
                                                          {"norelatime", "relatime"},
                                                          {"strictatime", "strictatime"},
                                                          {"nostrictatime", "strictatime"},
                                                          // one propagation mode
                                                          {"private", "propagation"},
                                                          {"rprivate", "propagation"},
                                                          {"shared", "propagation"},
                                                          {"rshared", "propagation"},
                                                          {"slave", "propagation"},
                                                          {"rslave", "propagation"},
                                                          {"unbindable", "propagation"},
                                                          {"runbindable", "propagation"}};
  return *kKeys;
}

Result<std::vector<std::string>> MergeTmpfsOptions(const std::vector<std::string>& options) {
  static const std::set<std::string, std::less<>> kDataKeys = {
      "size", "mode", "uid", "gid", "nr_inodes", "nr_blocks", "mpol"};
  std::set<std::string> seen;
  std::vector<std::string> reversed;
  for (auto it = options.rbegin(); it != options.rend(); ++it) {
    const std::string& option = *it;
    if (option == "defaults") continue;
    std::string key;
    if (auto f = TmpfsFlagKeys().find(option); f != TmpfsFlagKeys().end()) {
      key = "flag:" + f->second;
    } else {
      size_t eq = option.find('=');
      if (eq == std::string::npos || kDataKeys.count(option.substr(0, eq)) == 0) {
        // Go's %q of the option split at its first "=": ["bogus"], ["sise" "1m"].
        std::vector<std::string> parts;
        for (const std::string& part : SplitN(option, '=', 2)) parts.push_back(GoQuote(part));
        return Invalid(fmt::format("invalid tmpfs option [{}]", Join(parts, " ")));
      }
      key = "data:" + option.substr(0, eq);
    }
    if (seen.insert(key).second) reversed.push_back(option);
  }
  return std::vector<std::string>(reversed.rbegin(), reversed.rend());
}

Result<std::vector<oci::Mount>> TmpfsMounts(const HostConfig& h) {
  std::vector<oci::Mount> mounts;
  for (const auto& [dest, data] : h.tmpfs) {
    if (dest.empty() || dest[0] != '/') {
      return Invalid(fmt::format("invalid mount path: '{}' mount path must be absolute", dest));
    }
    if (CleanAbsolutePath(dest) == "/") {
      return Invalid("invalid specification: destination can't be '/'");
    }
    std::vector<std::string> options = {"noexec", "nosuid", "nodev", "rprivate"};
    if (!data.empty()) {
      for (std::string& o : Split(data, ',')) options.push_back(std::move(o));
    }
    BERTH_ASSIGN_OR_RETURN(std::vector<std::string> merged, MergeTmpfsOptions(options));
    mounts.push_back(MakeMount(CleanAbsolutePath(dest), "tmpfs", "tmpfs", std::move(merged)));
  }
  return mounts;
}

Result<oci::LinuxSeccomp> Seccomp(const SecurityOptions& sec, const std::vector<std::string>& caps,
                                  const SpecInputs& inputs) {
  if (!sec.seccomp_set || sec.seccomp.empty()) {
    return runtime::DefaultSeccompProfile(caps, inputs.kernel_release);
  }
  // The docker CLI reads seccomp=FILE itself and sends the JSON; other clients send the name
  // and the engine reads the file into inputs.seccomp_profile_json.
  std::string_view json = sec.seccomp;
  if (TrimSpace(json).substr(0, 1) != "{") {
    if (inputs.seccomp_profile_json.empty()) {
      return MakeError(Code::kFailedPrecondition,
                       fmt::format("seccomp profile {} was not read", sec.seccomp));
    }
    json = inputs.seccomp_profile_json;
  }
  auto profile = runtime::DockerSeccompProfile(json, caps, inputs.kernel_release);
  if (!profile) return std::move(profile).error().WithContext("decoding seccomp profile");
  return profile;
}

Result<std::optional<oci::LinuxNamespace>> NetworkNamespace(const HostConfig& h,
                                                            const SpecInputs& inputs) {
  std::string_view mode = h.network_mode;
  if (mode == "host") return std::optional<oci::LinuxNamespace>();
  if (mode.substr(0, 10) == "container:") {
    if (mode.size() == 10) return Invalid("invalid container format container:<name|id>");
    if (inputs.network_ns_path.empty()) {
      return MakeError(Code::kFailedPrecondition,
                       fmt::format("network mode {}: no namespace path given", mode));
    }
    return std::optional<oci::LinuxNamespace>(
        oci::LinuxNamespace{"network", inputs.network_ns_path});
  }
  // "", "default", "none", "bridge" and named networks: a new namespace (with only lo until
  // network/ attaches an endpoint).
  return std::optional<oci::LinuxNamespace>(oci::LinuxNamespace{"network", ""});
}

oci::LinuxResources BuildResources(const HostConfig& h) {
  oci::LinuxResources r;
  oci::LinuxMemory memory;
  if (h.memory > 0) {
    memory.limit = h.memory;
    if (h.memory_swap == 0) {
      memory.swap = 2 * h.memory;  // Docker's default: as much swap as memory
    } else if (h.memory_swap > 0 || h.memory_swap == -1) {
      memory.swap = h.memory_swap;
    }
  }
  if (memory != oci::LinuxMemory{}) r.memory = memory;

  oci::LinuxCpu cpu;
  if (h.cpu_shares > 0) cpu.shares = static_cast<uint64_t>(h.cpu_shares);
  if (h.nano_cpus > 0) {
    // kernel sched-bwc: quota per 100ms period
    constexpr int64_t kPeriod = 100000;
    cpu.period = static_cast<uint64_t>(kPeriod);
    cpu.quota = h.nano_cpus * kPeriod / 1'000'000'000;
  }
  if (h.cpu_period > 0) cpu.period = static_cast<uint64_t>(h.cpu_period);
  if (h.cpu_quota != 0) cpu.quota = h.cpu_quota;
  cpu.cpus = h.cpuset_cpus;
  cpu.mems = h.cpuset_mems;
  if (cpu != oci::LinuxCpu{}) r.cpu = cpu;

  if (h.pids_limit) {
    // Docker: 0 and negative values mean unlimited; runc wants -1 for that.
    r.pids = oci::LinuxPids{*h.pids_limit > 0 ? *h.pids_limit : -1};
  }
  return r;
}

// The device cgroup, as dockerd + runc set it: a privileged container may use every device;
// any other, once everything is denied, may mknod any node but open only the devices runc
// allows (null, zero, full, random, urandom, tty, ptmx, pts, tun) and those in its spec. So
// CAP_MKNOD (in Docker's default set) cannot make a node of the host's disk that opens.
std::vector<oci::LinuxDeviceCgroup> DeviceRules(bool privileged,
                                                const std::vector<oci::LinuxDevice>& devices) {
  if (privileged) return {{true, "a", std::nullopt, std::nullopt, "rwm"}};
  std::vector<oci::LinuxDeviceCgroup> rules = {
      {false, "a", std::nullopt, std::nullopt, "rwm"},
      {true, "c", std::nullopt, std::nullopt, "m"},
      {true, "b", std::nullopt, std::nullopt, "m"},
  };
  struct Allowed {
    int64_t major;
    std::optional<int64_t> minor;
  };
  for (const Allowed& a : {Allowed{1, 3}, Allowed{1, 5}, Allowed{1, 7}, Allowed{1, 8},
                           Allowed{1, 9}, Allowed{5, 0}, Allowed{5, 2}, Allowed{136, std::nullopt},
                           Allowed{10, 200}}) {
    rules.push_back({true, "c", a.major, a.minor, "rwm"});
  }
  for (const oci::LinuxDevice& d : devices) {
    if (d.type == "c" || d.type == "b") rules.push_back({true, d.type, d.major, d.minor, "rwm"});
  }
  return rules;
}

std::string HostHostname() {
  char name[HOST_NAME_MAX + 1] = {};
  if (::gethostname(name, sizeof name - 1) != 0) return "";
  return name;
}

void ReplaceOrAddMount(std::vector<oci::Mount>* mounts, oci::Mount m) {
  auto it = std::find_if(mounts->begin(), mounts->end(),
                         [&](const oci::Mount& x) { return x.destination == m.destination; });
  if (it != mounts->end()) {
    *it = std::move(m);
  } else {
    mounts->push_back(std::move(m));
  }
}

}  // namespace

Result<oci::RuntimeSpec> BuildSpec(const ContainerConfig& config, const HostConfig& host_config,
                                   const SpecInputs& inputs) {
  const HostConfig& h = host_config;
  oci::RuntimeSpec spec;
  BERTH_ASSIGN_OR_RETURN(spec.process, BuildRootProcess(config, h, /*with_init=*/true));
  BERTH_ASSIGN_OR_RETURN(SecurityOptions sec, ParseSecurityOptions(h.security_opt));
  spec.root = oci::Root{inputs.rootfs, h.readonly_rootfs};
  // With --network host the container has the host's name (Docker), set in its own UTS
  // namespace. gethostname(2) is the one fact BuildSpec takes from the host itself.
  spec.hostname = h.network_mode == "host" ? HostHostname() : config.hostname;
  spec.domainname = config.domainname;

  // Mounts: defaults, the files the engine writes into the bundle, --tmpfs, --init.
  spec.mounts = DefaultMounts(h.privileged);
  std::vector<std::string> file_options = {"rbind"};
  if (h.readonly_rootfs) file_options.emplace_back("ro");
  file_options.emplace_back("rprivate");
  const std::string& files_dir =
      inputs.network_files_dir.empty() ? inputs.bundle : inputs.network_files_dir;
  for (const char* name : {"resolv.conf", "hostname", "hosts"}) {
    spec.mounts.push_back(MakeMount(fmt::format("/etc/{}", name), "bind",
                                    fmt::format("{}/{}", files_dir, name), file_options));
  }
  BERTH_ASSIGN_OR_RETURN(std::vector<oci::Mount> tmpfs, TmpfsMounts(h));
  for (oci::Mount& m : tmpfs) ReplaceOrAddMount(&spec.mounts, std::move(m));
  if (h.init) {
    if (inputs.init_path.empty()) {
      return MakeError(Code::kFailedPrecondition, "--init: no init binary (docker-init) found");
    }
    spec.mounts.push_back(
        MakeMount(std::string(kInitTarget), "bind", inputs.init_path, {"bind", "ro"}));
  }

  oci::Linux& linux_ = spec.linux_;
  linux_.namespaces.push_back({"pid", ""});
  BERTH_ASSIGN_OR_RETURN(std::optional<oci::LinuxNamespace> net, NetworkNamespace(h, inputs));
  if (net) linux_.namespaces.push_back(*net);
  linux_.namespaces.push_back({"ipc", ""});
  linux_.namespaces.push_back({"uts", ""});
  linux_.namespaces.push_back({"mount", ""});

  linux_.devices = DefaultDevices();
  if (h.privileged) {
    // Docker gives a privileged container every device of the host (listed by the engine into
    // inputs.host_devices, since this function does no I/O), keeping the default devices the
    // host may lack. The /dev tmpfs stays: binding the host's /dev would let the runtime's
    // /dev setup (ptmx, symlinks) write into the host's /dev.
    std::vector<oci::LinuxDevice> devices = inputs.host_devices;
    for (const oci::LinuxDevice& d : linux_.devices) {
      bool present = std::any_of(devices.begin(), devices.end(),
                                 [&](const oci::LinuxDevice& x) { return x.path == d.path; });
      if (!present) devices.push_back(d);
    }
    linux_.devices = std::move(devices);
  } else {
    linux_.masked_paths = {"/proc/asound",
                           "/proc/acpi",
                           "/proc/kcore",
                           "/proc/keys",
                           "/proc/latency_stats",
                           "/proc/timer_list",
                           "/proc/timer_stats",
                           "/proc/sched_debug",
                           "/proc/scsi",
                           "/sys/firmware",
                           "/sys/devices/virtual/powercap"};
    linux_.readonly_paths = {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
                             "/proc/sysrq-trigger"};
  }

  std::string parent = inputs.cgroup_parent;
  while (!parent.empty() && parent.back() == '/') parent.pop_back();
  linux_.cgroups_path = parent + "/" + inputs.id;
  linux_.resources = BuildResources(h);
  linux_.resources->devices = DeviceRules(h.privileged, linux_.devices);
  linux_.sysctl = h.sysctls;

  if (!h.privileged && sec.seccomp != "unconfined") {
    BERTH_ASSIGN_OR_RETURN(linux_.seccomp,
                           Seccomp(sec, spec.process.capabilities->effective, inputs));
  }
  return spec;
}

Result<oci::Process> BuildProcess(const ContainerConfig& config, const HostConfig& host_config,
                                  const std::vector<std::string>& rootfs_layers) {
  BERTH_ASSIGN_OR_RETURN(oci::Process p,
                         BuildRootProcess(config, host_config, /*with_init=*/false));
  BERTH_ASSIGN_OR_RETURN(p.user, ResolveUser(config.user, rootfs_layers));
  if (p.user.uid != 0 && p.capabilities) {
    // Docker's SetCapabilities: as execve would for a non-root user, only the bounding set.
    p.capabilities->effective.clear();
    p.capabilities->permitted.clear();
  }
  return p;
}

}  // namespace berth::engine
