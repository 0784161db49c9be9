#include "engine/container_config.h"

#include <unistd.h>

#include <algorithm>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "runtime/capabilities.h"

namespace berth::engine {
namespace {

using ::std::string;
using ::std::vector;

// The body `docker run --rm --network none busybox:anchor echo hi` sent (docker CLI 28.2.2,
// API 1.41), from specs/docker-engine-api/docker-cli-capture.txt.
constexpr const char* kCapturedCreateBody =
    R"({"Hostname":"","Domainname":"","User":"","AttachStdin":false,"AttachStdout":true,"AttachStderr":true,"Tty":false,"OpenStdin":false,"StdinOnce":false,"Env":null,"Cmd":["echo","hi"],"Image":"busybox:anchor","Volumes":{},"WorkingDir":"","Entrypoint":null,"OnBuild":null,"Labels":{},"HostConfig":{"Binds":null,"ContainerIDFile":"","LogConfig":{"Type":"","Config":{}},"NetworkMode":"none","PortBindings":{},"RestartPolicy":{"Name":"no","MaximumRetryCount":0},"AutoRemove":true,"VolumeDriver":"","VolumesFrom":null,"ConsoleSize":[0,0],"CapAdd":null,"CapDrop":null,"CgroupnsMode":"","Dns":[],"DnsOptions":[],"DnsSearch":[],"ExtraHosts":null,"GroupAdd":null,"IpcMode":"","Cgroup":"","Links":null,"OomScoreAdj":0,"PidMode":"","Privileged":false,"PublishAllPorts":false,"ReadonlyRootfs":false,"SecurityOpt":null,"UTSMode":"","UsernsMode":"","ShmSize":0,"Isolation":"","CpuShares":0,"Memory":0,"NanoCpus":0,"CgroupParent":"","BlkioWeight":0,"BlkioWeightDevice":[],"BlkioDeviceReadBps":[],"BlkioDeviceWriteBps":[],"BlkioDeviceReadIOps":[],"BlkioDeviceWriteIOps":[],"CpuPeriod":0,"CpuQuota":0,"CpuRealtimePeriod":0,"CpuRealtimeRuntime":0,"CpusetCpus":"","CpusetMems":"","Devices":[],"DeviceCgroupRules":null,"DeviceRequests":null,"MemoryReservation":0,"MemorySwap":0,"MemorySwappiness":-1,"OomKillDisable":false,"PidsLimit":0,"Ulimits":[],"CpuCount":0,"CpuPercent":0,"IOMaximumIOps":0,"IOMaximumBandwidth":0,"MaskedPaths":null,"ReadonlyPaths":null},"NetworkingConfig":{"EndpointsConfig":{}}})";

const vector<string> kDockerDefaultCaps = {
    "CAP_AUDIT_WRITE", "CAP_CHOWN",   "CAP_DAC_OVERRIDE",     "CAP_FOWNER",    "CAP_FSETID",
    "CAP_KILL",        "CAP_MKNOD",   "CAP_NET_BIND_SERVICE", "CAP_NET_RAW",   "CAP_SETFCAP",
    "CAP_SETGID",      "CAP_SETPCAP", "CAP_SETUID",           "CAP_SYS_CHROOT"};

ContainerConfig EchoConfig() {
  ContainerConfig c;
  c.hostname = "abcdef012345";
  c.cmd = {"echo", "hi"};
  c.image = "busybox";
  return c;
}

SpecInputs Inputs() {
  SpecInputs in;
  in.id = string(64, 'a');
  in.bundle = "/var/lib/berth/containers/" + in.id;
  in.kernel_release = "6.1.0-13-amd64";
  in.init_path = "/usr/libexec/berth/docker-init";
  return in;
}

oci::RuntimeSpec MustBuild(const ContainerConfig& c, const HostConfig& h,
                           const SpecInputs& in = Inputs()) {
  Result<oci::RuntimeSpec> spec = BuildSpec(c, h, in);
  EXPECT_TRUE(spec) << spec.error().message;
  if (!spec) return {};
  return *std::move(spec);
}

const oci::Mount* FindMount(const oci::RuntimeSpec& s, const string& dest) {
  for (const oci::Mount& m : s.mounts) {
    if (m.destination == dest) return &m;
  }
  return nullptr;
}

vector<string> NamespaceTypes(const oci::RuntimeSpec& s) {
  vector<string> types;
  for (const auto& ns : s.linux_.namespaces) types.push_back(ns.type);
  return types;
}

bool HasCap(const vector<string>& caps, const string& cap) {
  return std::find(caps.begin(), caps.end(), cap) != caps.end();
}

// --- parsers --------------------------------------------------------------------------------

TEST(ParseConfigTest, CapturedCreateBodyParses) {
  Result<ContainerConfig> c = ParseContainerConfig(kCapturedCreateBody);
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->cmd, (vector<string>{"echo", "hi"}));
  EXPECT_EQ(c->image, "busybox:anchor");
  EXPECT_TRUE(c->attach_stdout);
  EXPECT_TRUE(c->attach_stderr);
  EXPECT_FALSE(c->attach_stdin);
  EXPECT_TRUE(c->env.empty());
  EXPECT_TRUE(c->entrypoint.empty());

  auto body = nlohmann::json::parse(kCapturedCreateBody);
  Result<HostConfig> h = ParseHostConfig(body["HostConfig"].dump());
  ASSERT_TRUE(h) << h.error().message;
  EXPECT_EQ(h->network_mode, "none");
  EXPECT_TRUE(h->auto_remove);
  EXPECT_EQ(h->restart_policy, (RestartPolicy{"no", 0}));
  EXPECT_EQ(h->console_size, (vector<uint32_t>{0, 0}));
  EXPECT_EQ(h->pids_limit, std::optional<int64_t>(0));
  EXPECT_EQ(h->oom_score_adj, std::optional<int>(0));
  EXPECT_FALSE(h->init);
  EXPECT_TRUE(ValidateHostConfig(*h, 2));
}

TEST(ParseConfigTest, FieldsAndStrSliceForms) {
  Result<ContainerConfig> c = ParseContainerConfig(R"({
    "Hostname": "h", "Domainname": "d", "User": "nobody:nogroup", "Tty": true,
    "Env": ["A=1", "B=2"], "Cmd": "sleep 1", "Entrypoint": ["/bin/sh", "-c"],
    "Volumes": {"/data": {}, "/logs": {}}, "WorkingDir": "/srv",
    "Labels": {"a": "b"}, "StopSignal": "SIGINT", "StopTimeout": 5})");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->hostname, "h");
  EXPECT_EQ(c->domainname, "d");
  EXPECT_EQ(c->user, "nobody:nogroup");
  EXPECT_TRUE(c->tty);
  EXPECT_EQ(c->cmd, vector<string>{"sleep 1"});
  EXPECT_EQ(c->entrypoint, (vector<string>{"/bin/sh", "-c"}));
  EXPECT_EQ(c->volumes, (vector<string>{"/data", "/logs"}));
  EXPECT_EQ(c->labels.at("a"), "b");
  EXPECT_EQ(c->stop_signal, "SIGINT");
  EXPECT_EQ(c->stop_timeout, std::optional<int64_t>(5));

  Result<HostConfig> h = ParseHostConfig(R"({
    "Memory": 104857600, "MemorySwap": -1, "NanoCpus": 1500000000, "PidsLimit": null,
    "Init": true, "Tmpfs": {"/run": "size=64m"}, "Ulimits": [{"Name": "nofile", "Soft": 1024,
    "Hard": 2048}], "Sysctls": {"net.ipv4.ip_forward": "1"}, "CapAdd": ["NET_ADMIN"],
    "RestartPolicy": {"Name": "on-failure", "MaximumRetryCount": 3}})");
  ASSERT_TRUE(h) << h.error().message;
  EXPECT_EQ(h->memory, 104857600);
  EXPECT_EQ(h->memory_swap, -1);
  EXPECT_EQ(h->nano_cpus, 1500000000);
  EXPECT_FALSE(h->pids_limit);
  EXPECT_TRUE(h->init);
  EXPECT_EQ(h->tmpfs.at("/run"), "size=64m");
  EXPECT_EQ(h->ulimits, (vector<Ulimit>{{"nofile", 1024, 2048}}));
  EXPECT_EQ(h->sysctls.at("net.ipv4.ip_forward"), "1");
  EXPECT_EQ(h->cap_add, vector<string>{"NET_ADMIN"});
  EXPECT_EQ(h->restart_policy, (RestartPolicy{"on-failure", 3}));
}

TEST(ParseConfigTest, WrongTypesNameTheField) {
  struct Case {
    const char* json;
    const char* message;
  };
  for (const Case& tc : {
           Case{R"({"Memory": "1g"})", "HostConfig.Memory: want a number"},
           Case{R"({"Memory": 1.5})", "HostConfig.Memory: want a number"},
           Case{R"({"Privileged": 1})", "HostConfig.Privileged: want a boolean"},
           Case{R"({"CapAdd": [1]})", "HostConfig.CapAdd: want an array of strings"},
           Case{R"({"RestartPolicy": {"Name": 3}})",
                "HostConfig.RestartPolicy.Name: want a string"},
           Case{R"({"Ulimits": [{"Name": "nofile", "Soft": "x"}]})",
                "HostConfig.Ulimits.Soft: want a number"},
           Case{R"({"OomScoreAdj": 9999999999})", "HostConfig.OomScoreAdj: want a 32-bit integer"},
           Case{R"({"ConsoleSize": [1]})", "HostConfig.ConsoleSize: want an array of 2 numbers"},
           Case{R"([1])", "HostConfig: want an object"},
           Case{R"({"Memory": )", "HostConfig: invalid JSON"},
       }) {
    Result<HostConfig> h = ParseHostConfig(tc.json);
    ASSERT_FALSE(h) << tc.json;
    EXPECT_EQ(h.error().code, Code::kInvalidArgument);
    EXPECT_EQ(h.error().message, tc.message) << tc.json;
  }
  Result<ContainerConfig> c = ParseContainerConfig(R"({"Env": "A=1"})");
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().message, "Config.Env: want an array of strings");
}

// --- validation -----------------------------------------------------------------------------

TEST(ValidateHostConfigTest, DockerMessages) {
  struct Case {
    const char* name;
    HostConfig h;
    const char* message;
  };
  auto with = [](auto f) {
    HostConfig h;
    f(h);
    return h;
  };
  const vector<Case> cases = {
      {"cpus", with([](HostConfig& h) { h.nano_cpus = 3'000'000'000; }),
       "Range of CPUs is from 0.01 to 2.00, as there are only 2 CPUs available"},
      {"negative cpus", with([](HostConfig& h) { h.nano_cpus = -1; }),
       "Range of CPUs is from 0.01 to 2.00, as there are only 2 CPUs available"},
      {"memory", with([](HostConfig& h) { h.memory = 4 << 20; }),
       "Minimum memory limit allowed is 6MB"},
      {"swap", with([](HostConfig& h) {
         h.memory = 64 << 20;
         h.memory_swap = 32 << 20;
       }),
       "Minimum memoryswap limit should be larger than memory limit, see usage"},
      {"swap without memory", with([](HostConfig& h) { h.memory_swap = 32 << 20; }),
       "You should always set the Memory limit when using Memoryswap limit, see usage"},
      {"policy name", with([](HostConfig& h) { h.restart_policy.name = "sometimes"; }),
       "invalid restart policy 'sometimes'"},
      {"retries with always", with([](HostConfig& h) {
         h.restart_policy = {"always", 2};
       }),
       "maximum retry count cannot be used with restart policy 'always'"},
      {"negative retries", with([](HostConfig& h) {
         h.restart_policy = {"on-failure", -1};
       }),
       "maximum retry count cannot be negative"},
      {"autoremove", with([](HostConfig& h) {
         h.auto_remove = true;
         h.restart_policy.name = "unless-stopped";
       }),
       "can't create 'AutoRemove' container with restart policy"},
      {"nano and period", with([](HostConfig& h) {
         h.nano_cpus = 1'000'000'000;
         h.cpu_period = 50000;
       }),
       "Conflicting options: Nano CPUs and CPU Period cannot both be set"},
      {"cfs period", with([](HostConfig& h) { h.cpu_period = 500; }),
       "CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)"},
      {"cfs quota", with([](HostConfig& h) { h.cpu_quota = 999; }),
       "CPU cfs quota can not be less than 1ms (i.e. 1000)"},
      {"oom score", with([](HostConfig& h) { h.oom_score_adj = 1001; }),
       "Invalid value 1001, range for oom score adj is [-1000, 1000]"},
  };
  for (const Case& tc : cases) {
    Status s = ValidateHostConfig(tc.h, 2);
    ASSERT_FALSE(s) << tc.name;
    EXPECT_EQ(s.error().code, Code::kInvalidArgument) << tc.name;
    EXPECT_EQ(s.error().message, tc.message) << tc.name;
  }
}

TEST(ValidateHostConfigTest, AcceptsValidSettings) {
  HostConfig h;
  h.nano_cpus = 2'000'000'000;
  h.memory = 6 << 20;
  h.memory_swap = -1;
  h.restart_policy = {"on-failure", 5};
  EXPECT_TRUE(ValidateHostConfig(h, 2));
  h.auto_remove = true;
  h.restart_policy = {"no", 0};
  EXPECT_TRUE(ValidateHostConfig(h, 2));
}

// --- the default spec -----------------------------------------------------------------------

TEST(BuildSpecTest, DefaultMountsMasksNamespacesDevices) {
  oci::RuntimeSpec s = MustBuild(EchoConfig(), HostConfig{});
  struct Want {
    const char* dest;
    const char* type;
    const char* source;
    vector<string> options;
  };
  const string bundle = Inputs().bundle;
  const vector<Want> want = {
      {"/proc", "proc", "proc", {"nosuid", "noexec", "nodev"}},
      {"/dev", "tmpfs", "tmpfs", {"nosuid", "strictatime", "mode=755", "size=65536k"}},
      {"/dev/pts",
       "devpts",
       "devpts",
       {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}},
      {"/sys", "sysfs", "sysfs", {"nosuid", "noexec", "nodev", "ro"}},
      {"/dev/mqueue", "mqueue", "mqueue", {"nosuid", "noexec", "nodev"}},
      {"/dev/shm", "tmpfs", "shm", {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}},
  };
  ASSERT_EQ(s.mounts.size(), want.size() + 3);
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(s.mounts[i],
              (oci::Mount{want[i].dest, want[i].type, want[i].source, want[i].options}))
        << want[i].dest;
  }
  for (const char* f : {"hosts", "hostname", "resolv.conf"}) {
    const oci::Mount* m = FindMount(s, string("/etc/") + f);
    ASSERT_NE(m, nullptr) << f;
    EXPECT_EQ(*m,
              (oci::Mount{string("/etc/") + f, "bind", bundle + "/" + f, {"rbind", "rprivate"}}));
  }
  EXPECT_EQ(FindMount(s, "/sys/fs/cgroup"), nullptr);

  EXPECT_EQ(s.linux_.masked_paths,
            (vector<string>{"/proc/asound", "/proc/acpi", "/proc/kcore", "/proc/keys",
                            "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
                            "/proc/sched_debug", "/proc/scsi", "/sys/firmware",
                            "/sys/devices/virtual/powercap"}));
  EXPECT_EQ(s.linux_.readonly_paths, (vector<string>{"/proc/bus", "/proc/fs", "/proc/irq",
                                                     "/proc/sys", "/proc/sysrq-trigger"}));
  EXPECT_EQ(NamespaceTypes(s), (vector<string>{"pid", "network", "ipc", "uts", "mount"}));
  for (const auto& ns : s.linux_.namespaces) EXPECT_EQ(ns.path, "") << ns.type;

  vector<string> devices;
  for (const auto& d : s.linux_.devices) {
    devices.push_back(d.path);
    EXPECT_EQ(d.type, "c");
    EXPECT_EQ(d.file_mode, std::optional<uint32_t>(0666u)) << d.path;
  }
  EXPECT_EQ(devices, (vector<string>{"/dev/null", "/dev/zero", "/dev/full", "/dev/random",
                                     "/dev/urandom", "/dev/tty"}));
  EXPECT_EQ(s.linux_.devices[0].major, 1);
  EXPECT_EQ(s.linux_.devices[0].minor, 3);
  EXPECT_EQ(s.linux_.devices[5].major, 5);
  EXPECT_EQ(s.linux_.devices[5].minor, 0);

  ASSERT_TRUE(s.process.capabilities);
  EXPECT_EQ(s.process.capabilities->bounding, kDockerDefaultCaps);
  EXPECT_EQ(s.process.capabilities->effective, kDockerDefaultCaps);
  EXPECT_EQ(s.process.capabilities->permitted, kDockerDefaultCaps);
  EXPECT_TRUE(s.process.capabilities->inheritable.empty());
  EXPECT_TRUE(s.process.capabilities->ambient.empty());
  ASSERT_TRUE(s.linux_.seccomp);
  EXPECT_FALSE(s.linux_.seccomp->syscalls.empty());

  EXPECT_EQ(s.root, (oci::Root{"rootfs", false}));
  EXPECT_EQ(s.hostname, "abcdef012345");
  EXPECT_EQ(s.linux_.cgroups_path, "/berth/" + string(64, 'a'));
  EXPECT_EQ(s.process.args, (vector<string>{"echo", "hi"}));
  EXPECT_EQ(s.process.cwd, "/");
  EXPECT_FALSE(s.process.no_new_privileges);
}

// --- flags ----------------------------------------------------------------------------------

TEST(BuildSpecTest, CapAddAndDrop) {
  HostConfig h;
  h.cap_add = {"NET_ADMIN", "cap_sys_time"};
  h.cap_drop = {"MKNOD", "CAP_NET_RAW"};
  oci::RuntimeSpec s = MustBuild(EchoConfig(), h);
  const auto& caps = s.process.capabilities->bounding;
  EXPECT_TRUE(HasCap(caps, "CAP_NET_ADMIN"));
  EXPECT_TRUE(HasCap(caps, "CAP_SYS_TIME"));
  EXPECT_FALSE(HasCap(caps, "CAP_MKNOD"));
  EXPECT_FALSE(HasCap(caps, "CAP_NET_RAW"));
  EXPECT_EQ(s.process.capabilities->effective, caps);

  h.cap_add = {"NOT_A_CAP"};
  Result<oci::RuntimeSpec> bad = BuildSpec(EchoConfig(), h, Inputs());
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, Code::kInvalidArgument);
}

TEST(BuildSpecTest, SecurityOptions) {
  struct Case {
    vector<string> opts;
    bool no_new_privs;
    bool seccomp;
  };
  const vector<Case> cases = {
      {{"no-new-privileges"}, true, true},
      {{"no-new-privileges=true"}, true, true},
      {{"no-new-privileges:true"}, true, true},
      {{"no-new-privileges", "no-new-privileges=false"}, false, true},
      {{"seccomp=unconfined"}, false, false},
      {{"seccomp:unconfined"}, false, false},
      {{"label=disable", "apparmor=unconfined"}, false, true},
  };
  for (const Case& tc : cases) {
    HostConfig h;
    h.security_opt = tc.opts;
    oci::RuntimeSpec s = MustBuild(EchoConfig(), h);
    EXPECT_EQ(s.process.no_new_privileges, tc.no_new_privs) << tc.opts[0];
    EXPECT_EQ(s.linux_.seccomp.has_value(), tc.seccomp) << tc.opts[0];
  }
  struct Bad {
    const char* opt;
    const char* message;
  };
  for (const Bad& tc :
       {Bad{"foo=bar", R"(invalid --security-opt 2: "foo=bar")"},
        Bad{"no-new-privileges=maybe", R"(invalid --security-opt 2: "no-new-privileges=maybe")"},
        Bad{"bogus", R"(invalid --security-opt 1: "bogus")"}}) {
    HostConfig h;
    h.security_opt = {tc.opt};
    Result<oci::RuntimeSpec> s = BuildSpec(EchoConfig(), h, Inputs());
    ASSERT_FALSE(s) << tc.opt;
    EXPECT_EQ(s.error().code, Code::kInvalidArgument);
    EXPECT_EQ(s.error().message, tc.message);
  }
}

TEST(BuildSpecTest, SeccompProfileFromFileOrInline) {
  const string profile =
      R"({"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["chmod"],"action":"SCMP_ACT_ERRNO"}]})";
  HostConfig h;
  h.security_opt = {"seccomp=" + profile};  // as the docker CLI sends it
  oci::RuntimeSpec inline_spec = MustBuild(EchoConfig(), h);
  ASSERT_TRUE(inline_spec.linux_.seccomp);
  EXPECT_EQ(inline_spec.linux_.seccomp->default_action, "SCMP_ACT_ALLOW");

  h.security_opt = {"seccomp=/etc/profile.json"};  // read by the engine
  SpecInputs in = Inputs();
  in.seccomp_profile_json = profile;
  oci::RuntimeSpec file_spec = MustBuild(EchoConfig(), h, in);
  EXPECT_EQ(file_spec.linux_.seccomp, inline_spec.linux_.seccomp);

  Result<oci::RuntimeSpec> unread = BuildSpec(EchoConfig(), h, Inputs());
  EXPECT_FALSE(unread);
}

TEST(BuildSpecTest, ReadOnlyTmpfsSysctlsUlimitsOomHostnames) {
  ContainerConfig c = EchoConfig();
  c.domainname = "example.org";
  HostConfig h;
  h.readonly_rootfs = true;
  h.tmpfs = {{"/run", ""}, {"/tmp", "exec,size=64m,mode=1777"}, {"/dev/shm", "size=1g"}};
  h.sysctls = {{"net.ipv4.ip_unprivileged_port_start", "0"}};
  h.ulimits = {{"nofile", 1024, 2048}, {"nproc", -1, -1}};
  h.oom_score_adj = 500;
  SpecInputs in = Inputs();
  in.cgroup_parent = "/custom/";
  oci::RuntimeSpec s = MustBuild(c, h, in);

  EXPECT_TRUE(s.root.readonly);
  EXPECT_EQ(FindMount(s, "/etc/hosts")->options, (vector<string>{"rbind", "ro", "rprivate"}));
  ASSERT_NE(FindMount(s, "/run"), nullptr);
  EXPECT_EQ(*FindMount(s, "/run"),
            (oci::Mount{"/run", "tmpfs", "tmpfs", {"noexec", "nosuid", "nodev", "rprivate"}}));
  EXPECT_EQ(FindMount(s, "/tmp")->options,
            (vector<string>{"nosuid", "nodev", "rprivate", "exec", "size=64m", "mode=1777"}));
  // A --tmpfs on /dev/shm replaces the default one.
  EXPECT_EQ(std::count_if(s.mounts.begin(), s.mounts.end(),
                          [](const oci::Mount& m) { return m.destination == "/dev/shm"; }),
            1);
  EXPECT_EQ(FindMount(s, "/dev/shm")->options,
            (vector<string>{"noexec", "nosuid", "nodev", "rprivate", "size=1g"}));

  EXPECT_EQ(s.linux_.sysctl, h.sysctls);
  EXPECT_EQ(s.process.rlimits,
            (vector<oci::PosixRlimit>{{"RLIMIT_NOFILE", 2048, 1024},
                                      {"RLIMIT_NPROC", UINT64_MAX, UINT64_MAX}}));
  EXPECT_EQ(s.process.oom_score_adj, std::optional<int>(500));
  EXPECT_EQ(s.domainname, "example.org");
  EXPECT_EQ(s.linux_.cgroups_path, "/custom/" + in.id);
}

TEST(BuildSpecTest, BadTmpfsAndUlimit) {
  struct Case {
    HostConfig h;
    const char* message;
  };
  HostConfig rel, root, opt, ul, order;
  rel.tmpfs = {{"run", ""}};
  root.tmpfs = {{"/", ""}};
  opt.tmpfs = {{"/run", "bogus"}};
  ul.ulimits = {{"nofiles", 1, 1}};
  order.ulimits = {{"nofile", 10, 5}};
  for (const Case& tc :
       {Case{rel, "invalid mount path: 'run' mount path must be absolute"},
        Case{root, "invalid specification: destination can't be '/'"},
        Case{opt, R"(invalid tmpfs option ["bogus"])"}, Case{ul, "invalid ulimit type: nofiles"},
        Case{order, "ulimit soft limit must be less than or equal to hard limit: 10 > 5"}}) {
    Result<oci::RuntimeSpec> s = BuildSpec(EchoConfig(), tc.h, Inputs());
    ASSERT_FALSE(s) << tc.message;
    EXPECT_EQ(s.error().code, Code::kInvalidArgument);
    EXPECT_EQ(s.error().message, tc.message);
  }
}

TEST(BuildSpecTest, Privileged) {
  HostConfig h;
  h.privileged = true;
  h.cap_drop = {"ALL"};  // ignored, as Docker
  SpecInputs in = Inputs();
  in.host_devices = {{"/dev/null", "c", 1, 3, 0666u, 0u, 0u},
                     {"/dev/sda", "b", 8, 0, 0660u, 0u, 6u},
                     {"/dev/fuse", "c", 10, 229, 0666u, 0u, 0u}};
  oci::RuntimeSpec s = MustBuild(EchoConfig(), h, in);
  EXPECT_TRUE(s.linux_.masked_paths.empty());
  EXPECT_TRUE(s.linux_.readonly_paths.empty());
  EXPECT_FALSE(s.linux_.seccomp);
  EXPECT_EQ(s.process.capabilities->bounding, runtime::AllCapabilities());
  EXPECT_TRUE(HasCap(s.process.capabilities->effective, "CAP_SYS_ADMIN"));
  EXPECT_EQ(FindMount(s, "/sys")->options, (vector<string>{"nosuid", "noexec", "nodev"}));
  vector<string> devices;
  for (const auto& d : s.linux_.devices) devices.push_back(d.path);
  EXPECT_EQ(devices, (vector<string>{"/dev/null", "/dev/sda", "/dev/fuse", "/dev/zero", "/dev/full",
                                     "/dev/random", "/dev/urandom", "/dev/tty"}));
}

const string& HostName() {
  static const string* const kName = [] {
    char name[256] = {};
    EXPECT_EQ(::gethostname(name, sizeof name - 1), 0);
    return new string(name);
  }();
  return *kName;
}

TEST(BuildSpecTest, NetworkModes) {
  struct Case {
    const char* mode;
    vector<string> namespaces;
    const char* netns_path;
    const char* hostname;
  };
  const vector<Case> cases = {
      {"", {"pid", "network", "ipc", "uts", "mount"}, "", "abcdef012345"},
      {"default", {"pid", "network", "ipc", "uts", "mount"}, "", "abcdef012345"},
      {"none", {"pid", "network", "ipc", "uts", "mount"}, "", "abcdef012345"},
      {"bridge", {"pid", "network", "ipc", "uts", "mount"}, "", "abcdef012345"},
      {"host", {"pid", "ipc", "uts", "mount"}, "", HostName().c_str()},
      {"container:web",
       {"pid", "network", "ipc", "uts", "mount"},
       "/proc/42/ns/net",
       "abcdef012345"},
  };
  for (const Case& tc : cases) {
    HostConfig h;
    h.network_mode = tc.mode;
    SpecInputs in = Inputs();
    in.network_ns_path = "/proc/42/ns/net";
    oci::RuntimeSpec s = MustBuild(EchoConfig(), h, in);
    EXPECT_EQ(NamespaceTypes(s), tc.namespaces) << tc.mode;
    EXPECT_EQ(s.hostname, tc.hostname) << tc.mode;
    for (const auto& ns : s.linux_.namespaces) {
      if (ns.type == "network") {
        EXPECT_EQ(ns.path, tc.netns_path) << tc.mode;
      }
    }
  }
  HostConfig h;
  h.network_mode = "container:web";
  EXPECT_FALSE(BuildSpec(EchoConfig(), h, Inputs()));  // no namespace path given
  h.network_mode = "container:";
  SpecInputs in = Inputs();
  in.network_ns_path = "/proc/42/ns/net";
  EXPECT_FALSE(BuildSpec(EchoConfig(), h, in));
}

TEST(BuildSpecTest, InitRunsTiniAsPid1) {
  ContainerConfig c = EchoConfig();
  c.entrypoint = {"/entry.sh"};
  HostConfig h;
  h.init = true;
  oci::RuntimeSpec s = MustBuild(c, h);
  EXPECT_EQ(s.process.args, (vector<string>{"/sbin/docker-init", "--", "/entry.sh", "echo", "hi"}));
  // BuildProcess gives the program alone; the engine keeps BuildSpec's init in front.
  Result<oci::Process> p = BuildProcess(c, h, {});
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(p->args, (vector<string>{"/entry.sh", "echo", "hi"}));
  ASSERT_NE(FindMount(s, "/sbin/docker-init"), nullptr);
  EXPECT_EQ(*FindMount(s, "/sbin/docker-init"),
            (oci::Mount{"/sbin/docker-init", "bind", Inputs().init_path, {"bind", "ro"}}));

  SpecInputs no_init = Inputs();
  no_init.init_path.clear();
  Result<oci::RuntimeSpec> bad = BuildSpec(c, h, no_init);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, Code::kFailedPrecondition);
}

TEST(BuildSpecTest, ResourcesMath) {
  struct Case {
    const char* name;
    HostConfig h;
    oci::LinuxResources want;
  };
  auto with = [](auto f) {
    HostConfig h;
    f(h);
    return h;
  };
  const int64_t m = 256 << 20;
  const vector<Case> cases = {
      {"nothing", HostConfig{}, oci::LinuxResources{}},
      {"memory doubles swap", with([&](HostConfig& h) { h.memory = m; }),
       oci::LinuxResources{oci::LinuxMemory{m, {}, 2 * m, {}}, {}, {}, {}}},
      {"unlimited swap", with([&](HostConfig& h) {
         h.memory = m;
         h.memory_swap = -1;
       }),
       oci::LinuxResources{oci::LinuxMemory{m, {}, -1, {}}, {}, {}, {}}},
      {"explicit swap", with([&](HostConfig& h) {
         h.memory = m;
         h.memory_swap = 3 * m;
       }),
       oci::LinuxResources{oci::LinuxMemory{m, {}, 3 * m, {}}, {}, {}, {}}},
      {"cpus 1.5", with([](HostConfig& h) { h.nano_cpus = 1'500'000'000; }),
       oci::LinuxResources{{}, oci::LinuxCpu{{}, 150000, 100000, "", ""}, {}, {}}},
      {"cpus 0.01", with([](HostConfig& h) { h.nano_cpus = 10'000'000; }),
       oci::LinuxResources{{}, oci::LinuxCpu{{}, 1000, 100000, "", ""}, {}, {}}},
      {"shares quota period cpuset", with([](HostConfig& h) {
         h.cpu_shares = 512;
         h.cpu_quota = 50000;
         h.cpu_period = 200000;
         h.cpuset_cpus = "0-1";
         h.cpuset_mems = "0";
       }),
       oci::LinuxResources{{}, oci::LinuxCpu{512u, 50000, 200000u, "0-1", "0"}, {}, {}}},
      {"pids", with([](HostConfig& h) { h.pids_limit = 100; }),
       oci::LinuxResources{{}, {}, oci::LinuxPids{100}, {}}},
      {"pids 0 unlimited", with([](HostConfig& h) { h.pids_limit = 0; }),
       oci::LinuxResources{{}, {}, oci::LinuxPids{-1}, {}}},
      {"pids -1 unlimited", with([](HostConfig& h) { h.pids_limit = -1; }),
       oci::LinuxResources{{}, {}, oci::LinuxPids{-1}, {}}},
  };
  for (const Case& tc : cases) {
    oci::RuntimeSpec s = MustBuild(EchoConfig(), tc.h);
    ASSERT_TRUE(s.linux_.resources) << tc.name;
    oci::LinuxResources got = *s.linux_.resources;
    got.devices.clear();  // DeviceRulesTest
    EXPECT_EQ(got, tc.want) << tc.name;
  }
}

TEST(DeviceRulesTest, DenyAllThenRuncsDefaultsAndTheSpecsDevices) {
  oci::RuntimeSpec s = MustBuild(EchoConfig(), HostConfig{});
  ASSERT_TRUE(s.linux_.resources);
  const auto& rules = s.linux_.resources->devices;
  ASSERT_GE(rules.size(), 3u);
  EXPECT_EQ(rules[0], (oci::LinuxDeviceCgroup{false, "a", std::nullopt, std::nullopt, "rwm"}));
  EXPECT_EQ(rules[1], (oci::LinuxDeviceCgroup{true, "c", std::nullopt, std::nullopt, "m"}));
  EXPECT_EQ(rules[2], (oci::LinuxDeviceCgroup{true, "b", std::nullopt, std::nullopt, "m"}));
  auto allowed = [&](int64_t major, std::optional<int64_t> minor) {
    return std::any_of(rules.begin() + 1, rules.end(), [&](const oci::LinuxDeviceCgroup& r) {
      return r.allow && r.type == "c" && r.major == major && r.minor == minor && r.access == "rwm";
    });
  };
  for (const auto& [major, minor] : std::vector<std::pair<int64_t, int64_t>>{
           {1, 3}, {1, 5}, {1, 7}, {1, 8}, {1, 9}, {5, 0}, {5, 2}}) {
    EXPECT_TRUE(allowed(major, minor)) << major << ":" << minor;
  }
  EXPECT_TRUE(allowed(136, std::nullopt));  // /dev/pts/*
  for (const oci::LinuxDevice& d : s.linux_.devices) {
    EXPECT_TRUE(allowed(d.major, d.minor)) << d.path;
  }
  // Nothing else: no block device, no /dev/mem (1:1), no disk.
  EXPECT_FALSE(allowed(1, 1));
  EXPECT_FALSE(std::any_of(rules.begin() + 1, rules.end(), [](const oci::LinuxDeviceCgroup& r) {
    return r.allow && (r.type == "a" || (r.type == "b" && r.access != "m"));
  }));
}

TEST(DeviceRulesTest, PrivilegedMayUseEveryDevice) {
  HostConfig h;
  h.privileged = true;
  oci::RuntimeSpec s = MustBuild(EchoConfig(), h);
  ASSERT_TRUE(s.linux_.resources);
  EXPECT_EQ(s.linux_.resources->devices,
            (std::vector<oci::LinuxDeviceCgroup>{{true, "a", std::nullopt, std::nullopt, "rwm"}}));
}

// --- the process ----------------------------------------------------------------------------

TEST(BuildProcessTest, EnvArgsCwdTerminal) {
  ContainerConfig c = EchoConfig();
  c.tty = true;
  c.env = {"FOO=bar", "HOSTNAME=override", "TERM"};
  c.entrypoint = {"/bin/sh", "-c"};
  c.cmd = {"echo $FOO"};
  c.working_dir = "/srv//app/./";
  HostConfig h;
  h.console_size = {24, 80};
  Result<oci::Process> p = BuildProcess(c, h, {});
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(p->env,
            (vector<string>{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                            "HOSTNAME=override", "FOO=bar"}));
  EXPECT_EQ(p->args, (vector<string>{"/bin/sh", "-c", "echo $FOO"}));
  EXPECT_EQ(p->cwd, "/srv/app");
  EXPECT_TRUE(p->terminal);
  EXPECT_EQ(p->console_size, (oci::ConsoleSize{24, 80}));
  EXPECT_EQ(p->user, oci::User{});
  EXPECT_EQ(p->capabilities->effective, kDockerDefaultCaps);

  c.env = {"PATH=/opt/bin"};
  c.tty = false;
  p = BuildProcess(c, h, {});
  ASSERT_TRUE(p);
  EXPECT_EQ(p->env, (vector<string>{"PATH=/opt/bin", "HOSTNAME=abcdef012345"}));
}

TEST(BuildProcessTest, Errors) {
  ContainerConfig c = EchoConfig();
  c.cmd.clear();
  Result<oci::Process> p = BuildProcess(c, HostConfig{}, {});
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error().message, "no command specified");
  EXPECT_FALSE(BuildSpec(c, HostConfig{}, Inputs()));

  c = EchoConfig();
  c.working_dir = "relative";
  p = BuildProcess(c, HostConfig{}, {});
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error().message,
            "the working directory 'relative' is invalid, it needs to be an absolute path");
}

TEST(BuildProcessTest, NonRootUserKeepsOnlyBoundingCaps) {
  ContainerConfig c = EchoConfig();
  c.user = "1000:1000";
  Result<oci::Process> p = BuildProcess(c, HostConfig{}, {});
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(p->user.uid, 1000u);
  EXPECT_EQ(p->user.gid, 1000u);
  EXPECT_EQ(p->capabilities->bounding, kDockerDefaultCaps);
  EXPECT_TRUE(p->capabilities->effective.empty());
  EXPECT_TRUE(p->capabilities->permitted.empty());
  EXPECT_TRUE(p->capabilities->ambient.empty());
}

}  // namespace
}  // namespace berth::engine
