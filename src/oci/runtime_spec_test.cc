#include "oci/runtime_spec.h"

#include <gtest/gtest.h>

namespace berth::oci {
namespace {

// `runc spec` output (runc 1.1), with a few fields added: rlimits, seccomp, resources, devices.
constexpr std::string_view kRuncConfig = R"({
  "ociVersion": "1.0.2-dev",
  "process": {
    "terminal": true,
    "consoleSize": {"height": 24, "width": 80},
    "user": {"uid": 0, "gid": 0, "additionalGids": [10, 11]},
    "args": ["sh"],
    "env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"],
    "cwd": "/",
    "capabilities": {
      "bounding": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
      "effective": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
      "permitted": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
      "ambient": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]
    },
    "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
    "noNewPrivileges": true,
    "apparmorProfile": "ignored",
    "oomScoreAdj": -500
  },
  "root": {"path": "rootfs", "readonly": true},
  "hostname": "runc",
  "mounts": [
    {"destination": "/proc", "type": "proc", "source": "proc"},
    {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
     "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
    {"destination": "/dev/pts", "type": "devpts", "source": "devpts",
     "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]},
    {"destination": "/dev/shm", "type": "tmpfs", "source": "shm",
     "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
    {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue",
     "options": ["nosuid", "noexec", "nodev"]},
    {"destination": "/sys", "type": "sysfs", "source": "sysfs",
     "options": ["nosuid", "noexec", "nodev", "ro"]},
    {"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup",
     "options": ["nosuid", "noexec", "nodev", "relatime", "ro"]}
  ],
  "hooks": {"prestart": [{"path": "/bin/true"}]},
  "linux": {
    "uidMappings": [],
    "sysctl": {"net.ipv4.ip_forward": "1"},
    "resources": {
      "devices": [{"allow": false, "access": "rwm"},
                  {"allow": true, "type": "c", "major": 1, "minor": 3, "access": "rwm"},
                  {"allow": true, "type": "c", "major": 136, "access": "rw"}],
      "memory": {"limit": 536870912, "swap": -1},
      "cpu": {"shares": 1024, "quota": 50000, "period": 100000, "cpus": "0-1"},
      "pids": {"limit": 100}
    },
    "cgroupsPath": "/berth/abc",
    "namespaces": [
      {"type": "pid"}, {"type": "network", "path": "/proc/1/ns/net"}, {"type": "ipc"},
      {"type": "uts"}, {"type": "mount"}, {"type": "cgroup"}
    ],
    "devices": [
      {"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229, "fileMode": 438, "uid": 0,
       "gid": 0},
      {"path": "/dev/fifo", "type": "p"}
    ],
    "seccomp": {
      "defaultAction": "SCMP_ACT_ERRNO",
      "defaultErrnoRet": 1,
      "architectures": ["SCMP_ARCH_X86_64"],
      "syscalls": [
        {"names": ["read", "write"], "action": "SCMP_ACT_ALLOW"},
        {"names": ["personality"], "action": "SCMP_ACT_ALLOW",
         "args": [{"index": 0, "value": 8, "op": "SCMP_CMP_EQ"}]}
      ]
    },
    "maskedPaths": ["/proc/acpi", "/proc/kcore", "/sys/firmware"],
    "readonlyPaths": ["/proc/bus", "/proc/sysrq-trigger"],
    "rootfsPropagation": "slave"
  }
})";

TEST(RuntimeSpecTest, ParsesRuncConfig) {
  Result<RuntimeSpec> s = ParseRuntimeSpec(kRuncConfig);
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->oci_version, "1.0.2-dev");
  EXPECT_TRUE(s->process.terminal);
  ASSERT_TRUE(s->process.console_size);
  EXPECT_EQ(s->process.console_size->height, 24u);
  EXPECT_EQ(s->process.console_size->width, 80u);
  EXPECT_EQ(s->process.user.additional_gids, (std::vector<uint32_t>{10, 11}));
  EXPECT_EQ(s->process.args, std::vector<std::string>{"sh"});
  EXPECT_EQ(s->process.env.size(), 2u);
  ASSERT_TRUE(s->process.capabilities);
  EXPECT_EQ(s->process.capabilities->bounding.size(), 3u);
  EXPECT_TRUE(s->process.capabilities->inheritable.empty());
  ASSERT_EQ(s->process.rlimits.size(), 1u);
  EXPECT_EQ(s->process.rlimits[0], (PosixRlimit{"RLIMIT_NOFILE", 1024, 1024}));
  EXPECT_TRUE(s->process.no_new_privileges);
  EXPECT_EQ(s->process.oom_score_adj, -500);
  EXPECT_EQ(s->root.path, "rootfs");
  EXPECT_TRUE(s->root.readonly);
  EXPECT_EQ(s->hostname, "runc");
  ASSERT_EQ(s->mounts.size(), 7u);
  EXPECT_EQ(s->mounts[2].destination, "/dev/pts");
  EXPECT_EQ(s->mounts[2].type, "devpts");
  EXPECT_EQ(s->mounts[2].options.size(), 6u);
  EXPECT_EQ(s->linux_.sysctl.at("net.ipv4.ip_forward"), "1");
  ASSERT_TRUE(s->linux_.resources);
  ASSERT_TRUE(s->linux_.resources->memory);
  EXPECT_EQ(s->linux_.resources->memory->limit, 536870912);
  EXPECT_EQ(s->linux_.resources->memory->swap, -1);
  ASSERT_TRUE(s->linux_.resources->cpu);
  EXPECT_EQ(s->linux_.resources->cpu->quota, 50000);
  EXPECT_EQ(s->linux_.resources->cpu->cpus, "0-1");
  ASSERT_EQ(s->linux_.resources->devices.size(), 3u);
  EXPECT_EQ(s->linux_.resources->devices[0],
            (LinuxDeviceCgroup{false, "", std::nullopt, std::nullopt, "rwm"}));
  EXPECT_EQ(s->linux_.resources->devices[2],
            (LinuxDeviceCgroup{true, "c", 136, std::nullopt, "rw"}));
  ASSERT_TRUE(s->linux_.resources->pids);
  EXPECT_EQ(s->linux_.resources->pids->limit, 100);
  EXPECT_EQ(s->linux_.cgroups_path, "/berth/abc");
  ASSERT_EQ(s->linux_.namespaces.size(), 6u);
  EXPECT_EQ(s->linux_.namespaces[1], (LinuxNamespace{"network", "/proc/1/ns/net"}));
  ASSERT_EQ(s->linux_.devices.size(), 2u);
  EXPECT_EQ(s->linux_.devices[0].major, 10);
  EXPECT_EQ(s->linux_.devices[0].file_mode, 438u);
  EXPECT_EQ(s->linux_.devices[1].type, "p");
  ASSERT_TRUE(s->linux_.seccomp);
  EXPECT_EQ(s->linux_.seccomp->default_errno_ret, 1u);
  ASSERT_EQ(s->linux_.seccomp->syscalls.size(), 2u);
  ASSERT_EQ(s->linux_.seccomp->syscalls[1].args.size(), 1u);
  EXPECT_EQ(s->linux_.seccomp->syscalls[1].args[0].value, 8u);
  EXPECT_EQ(s->linux_.rootfs_propagation, "slave");
  EXPECT_EQ(s->linux_.masked_paths.size(), 3u);
  EXPECT_EQ(s->linux_.readonly_paths.size(), 2u);
}

TEST(RuntimeSpecTest, RoundTrips) {
  Result<RuntimeSpec> s = ParseRuntimeSpec(kRuncConfig);
  ASSERT_TRUE(s) << s.error().message;
  std::string text = SerializeRuntimeSpec(*s);
  Result<RuntimeSpec> again = ParseRuntimeSpec(text);
  ASSERT_TRUE(again) << again.error().message << "\n" << text;
  EXPECT_EQ(*again, *s);
  EXPECT_EQ(SerializeRuntimeSpec(*again), text);
}

TEST(RuntimeSpecTest, SerializeUsesSpecOrderAndOmitsEmptyFields) {
  RuntimeSpec s;
  s.root.path = "rootfs";
  s.process.args = {"true"};
  s.linux_.namespaces = {{"mount", ""}};
  EXPECT_EQ(SerializeRuntimeSpec(s),
            R"({"ociVersion":"1.0.2","process":{"user":{"uid":0,"gid":0},"args":["true"],)"
            R"("cwd":"/"},"root":{"path":"rootfs"},"linux":{"namespaces":[{"type":"mount"}]}})");
  RuntimeSpec minimal;
  minimal.root.path = "/r";
  EXPECT_EQ(SerializeRuntimeSpec(minimal), R"({"ociVersion":"1.0.2","root":{"path":"/r"}})");
  Result<RuntimeSpec> back = ParseRuntimeSpec(SerializeRuntimeSpec(minimal));
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(*back, minimal);
}

TEST(RuntimeSpecTest, RoundTripsLargeUnsignedValues) {
  RuntimeSpec s;
  s.root.path = "r";
  s.process.args = {"x"};
  s.process.rlimits = {{"RLIMIT_CORE", UINT64_MAX, UINT64_MAX}};
  s.process.user.uid = UINT32_MAX;
  Result<RuntimeSpec> back = ParseRuntimeSpec(SerializeRuntimeSpec(s));
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(*back, s);
}

struct BadCase {
  const char* json;
  const char* message;
};

TEST(RuntimeSpecTest, RejectsTypeErrorsAndMissingFields) {
  const BadCase cases[] = {
      {R"([])", "config"},
      {R"({"root":{"path":"r"}})", "config.ociVersion: required"},
      {R"({"ociVersion":1,"root":{"path":"r"}})", "config.ociVersion: expected a string"},
      {R"({"ociVersion":"1.0.2"})", "config.root.path: required"},
      {R"({"ociVersion":"1.0.2","root":{}})", "config.root.path: required"},
      {R"({"ociVersion":"1.0.2","root":{"path":"r","readonly":"yes"}})",
       "config.root.readonly: expected a boolean"},
      {R"({"ociVersion":"1.0.2","root":{"path":"r"},"process":{"cwd":"/"}})",
       "config.process.args: required"},
      {R"({"ociVersion":"1.0.2","root":{"path":"r"},"process":{"args":[],"cwd":"/"}})",
       "config.process.args: required"},
      {R"({"ociVersion":"1.0.2","root":{"path":"r"},"process":{"args":["a"]}})",
       "config.process.cwd: required"},
      {R"({"ociVersion":"1.0.2","root":{"path":"r"},"process":{"args":[1],"cwd":"/"}})",
       "config.process.args: expected an array of strings"},
      {R"({"ociVersion":"1.0.2","root":{"path":"r"},"process":{"args":["a"],"cwd":"/",)"
       R"("user":{"uid":-1,"gid":0}}})",
       "config.process.user.uid: out of range"},
      {R"({"ociVersion":"1.0.2","root":{"path":"r"},"process":{"args":["a"],"cwd":"/",)"
       R"("user":{"uid":4294967296,"gid":0}}})",
       "config.process.user.uid: out of range"},
      {R"({"ociVersion":"1.0.2","root":{"path":"r"},"process":{"args":["a"],"cwd":"/",)"
       R"("rlimits":[{"type":"RLIMIT_NOFILE","hard":1}]}})",
       "config.process.rlimits[0].soft: required"},
      {R"({"ociVersion":"1.0.2","root":{"path":"r"},"mounts":[{"type":"proc"}]})",
       "config.mounts[0].destination: required"},
      {R"({"ociVersion":"1.0.2","root":{"path":"r"},"mounts":{}})",
       "config.mounts: expected an array of objects"},
      {R"({"ociVersion":"1.0.2","root":{"path":"r"},"linux":{"namespaces":[{"path":"/x"}]}})",
       "config.linux.namespaces[0].type: required"},
      {R"({"ociVersion":"1.0.2","root":{"path":"r"},"linux":{"devices":[{"path":"/dev/x",)"
       R"("type":"c","major":1}]}})",
       "config.linux.devices[0].minor: required"},
      {R"({"ociVersion":"1.0.2","root":{"path":"r"},"linux":{"seccomp":{"syscalls":[]}}})",
       "config.linux.seccomp.defaultAction: required"},
      {R"({"ociVersion":"1.0.2","root":{"path":"r"},"linux":{"resources":{"memory":)"
       R"({"limit":1.5}}}})",
       "config.linux.resources.memory.limit: expected an integer"},
      {R"({"ociVersion":"1.0.2","root":{"path":"r"},"linux":{"sysctl":{"a":1}}})",
       "config.linux.sysctl"},
  };
  for (const BadCase& c : cases) {
    Result<RuntimeSpec> s = ParseRuntimeSpec(c.json);
    ASSERT_FALSE(s) << c.json;
    EXPECT_EQ(s.error().code, Code::kInvalidArgument) << c.json;
    EXPECT_NE(s.error().message.find(c.message), std::string::npos)
        << c.json << " -> " << s.error().message;
  }
}

TEST(RuntimeSpecTest, ProcessAloneRoundTrips) {
  Process p;
  p.terminal = true;
  p.console_size = ConsoleSize{40, 120};
  p.user = User{1000, 1000, 022, {4, 24}};
  p.args = {"/bin/sh", "-c", "echo hi"};
  p.env = {"A=b"};
  p.cwd = "/tmp";
  p.capabilities = LinuxCapabilities{{"CAP_KILL"}, {"CAP_KILL"}, {}, {"CAP_KILL"}, {}};
  p.no_new_privileges = true;
  p.oom_score_adj = 0;
  Result<Process> back = ParseProcess(SerializeProcess(p));
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(*back, p);

  Result<Process> bad = ParseProcess(R"({"args":["a"],"cwd":"/","terminal":1})");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message, "process.terminal: expected a boolean");
}

TEST(RuntimeSpecTest, NullIsAbsent) {
  Result<RuntimeSpec> s = ParseRuntimeSpec(
      R"({"ociVersion":"1.0.2","root":{"path":"r"},"mounts":null,"linux":{"seccomp":null,)"
      R"("maskedPaths":null}})");
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_TRUE(s->mounts.empty());
  EXPECT_FALSE(s->linux_.seccomp);
}

}  // namespace
}  // namespace berth::oci
