#include "runtime/seccomp_profile.h"

#include <errno.h>
#include <linux/keyctl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>

#include <gtest/gtest.h>

#include "runtime/capabilities.h"
#include "runtime/seccomp.h"
#include "runtime/testing/seccomp_child.h"

namespace berth::runtime {
namespace {

using testing::RunUnderSeccomp;
using Names = std::vector<std::string>;

// Every syscall name the profile allows without conditions on arguments.
Names Allowed(const oci::LinuxSeccomp& s) {
  Names out;
  for (const oci::LinuxSyscall& call : s.syscalls) {
    if (call.action == "SCMP_ACT_ALLOW" && call.args.empty()) {
      out.insert(out.end(), call.names.begin(), call.names.end());
    }
  }
  return out;
}
bool Allows(const oci::LinuxSeccomp& s, const std::string& name) {
  Names a = Allowed(s);
  return std::find(a.begin(), a.end(), name) != a.end();
}

std::string KernelRelease() {
  utsname u{};
  uname(&u);
  return u.release;
}

constexpr std::string_view kGated = R"({
  "defaultAction": "SCMP_ACT_ERRNO",
  "syscalls": [
    {"names": ["read"], "action": "SCMP_ACT_ALLOW"},
    {"names": ["mount"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYS_ADMIN"]}},
    {"names": ["kexec_load"], "action": "SCMP_ACT_ALLOW",
     "includes": {"caps": ["CAP_SYS_ADMIN", "CAP_SYS_BOOT"]}},
    {"names": ["clone"], "action": "SCMP_ACT_ALLOW",
     "args": [{"index": 0, "value": 2114060288, "op": "SCMP_CMP_MASKED_EQ"}],
     "excludes": {"caps": ["CAP_SYS_ADMIN"]}},
    {"names": ["ptrace"], "action": "SCMP_ACT_ALLOW", "includes": {"minKernel": "4.8"}},
    {"names": ["old_thing"], "action": "SCMP_ACT_ALLOW", "excludes": {"minKernel": "5.10"}},
    {"names": ["arch_prctl"], "action": "SCMP_ACT_ALLOW", "includes": {"arches": ["amd64"]}},
    {"names": ["s390_only"], "action": "SCMP_ACT_ALLOW", "includes": {"arches": ["s390x"]}},
    {"names": ["not_on_amd64"], "action": "SCMP_ACT_ALLOW", "excludes": {"arches": ["amd64"]}}
  ]
})";

TEST(SeccompProfileTest, IncludesByCaps) {
  auto none = DockerSeccompProfile(kGated, {"CAP_CHOWN"}, "6.1.0");
  ASSERT_TRUE(none) << none.error().message;
  EXPECT_TRUE(Allows(*none, "read"));
  EXPECT_FALSE(Allows(*none, "mount"));
  EXPECT_FALSE(Allows(*none, "kexec_load"));

  auto admin = DockerSeccompProfile(kGated, {"CAP_CHOWN", "CAP_SYS_ADMIN"}, "6.1.0");
  ASSERT_TRUE(admin) << admin.error().message;
  EXPECT_TRUE(Allows(*admin, "mount"));
  EXPECT_FALSE(Allows(*admin, "kexec_load")) << "includes need every cap listed";

  auto both = DockerSeccompProfile(kGated, {"CAP_SYS_BOOT", "cap_sys_admin"}, "6.1.0");
  ASSERT_TRUE(both) << both.error().message;
  EXPECT_TRUE(Allows(*both, "kexec_load"));
}

TEST(SeccompProfileTest, ExcludesByCaps) {
  auto plain = DockerSeccompProfile(kGated, DefaultCapabilities(), "6.1.0");
  ASSERT_TRUE(plain) << plain.error().message;
  auto clone = std::find_if(plain->syscalls.begin(), plain->syscalls.end(),
                            [](const oci::LinuxSyscall& c) { return c.names == Names{"clone"}; });
  ASSERT_NE(clone, plain->syscalls.end());
  ASSERT_EQ(clone->args.size(), 1u);
  EXPECT_EQ(clone->args[0].op, "SCMP_CMP_MASKED_EQ");
  EXPECT_EQ(clone->args[0].value, 0x7E020000u);

  auto admin = DockerSeccompProfile(kGated, {"CAP_SYS_ADMIN"}, "6.1.0");
  ASSERT_TRUE(admin) << admin.error().message;
  EXPECT_TRUE(std::none_of(admin->syscalls.begin(), admin->syscalls.end(),
                           [](const oci::LinuxSyscall& c) { return c.names == Names{"clone"}; }));
}

TEST(SeccompProfileTest, MinKernel) {
  auto old = DockerSeccompProfile(kGated, {}, "4.4.0-210-generic");
  ASSERT_TRUE(old) << old.error().message;
  EXPECT_FALSE(Allows(*old, "ptrace"));
  EXPECT_TRUE(Allows(*old, "old_thing"));

  auto exact = DockerSeccompProfile(kGated, {}, "4.8.0");
  ASSERT_TRUE(exact) << exact.error().message;
  EXPECT_TRUE(Allows(*exact, "ptrace"));

  auto newer = DockerSeccompProfile(kGated, {}, "6.1.0-13-amd64");
  ASSERT_TRUE(newer) << newer.error().message;
  EXPECT_TRUE(Allows(*newer, "ptrace"));
  EXPECT_FALSE(Allows(*newer, "old_thing"));

  // 4.10 is newer than 4.8: numbers, not strings.
  auto ten = DockerSeccompProfile(kGated, {}, "4.10.3");
  ASSERT_TRUE(ten) << ten.error().message;
  EXPECT_TRUE(Allows(*ten, "ptrace"));

  auto bad_release = DockerSeccompProfile(kGated, {}, "unknown");
  ASSERT_FALSE(bad_release);
  EXPECT_EQ(bad_release.error().code, Code::kInvalidArgument);
}

#if defined(__x86_64__)
TEST(SeccompProfileTest, ArchesAndArchMapOnX86_64) {
  auto p = DockerSeccompProfile(kGated, {}, "6.1.0");
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_TRUE(Allows(*p, "arch_prctl"));
  EXPECT_FALSE(Allows(*p, "s390_only"));
  EXPECT_FALSE(Allows(*p, "not_on_amd64"));

  auto mapped = DockerSeccompProfile(R"({"defaultAction": "SCMP_ACT_ALLOW", "archMap": [
      {"architecture": "SCMP_ARCH_AARCH64", "subArchitectures": ["SCMP_ARCH_ARM"]},
      {"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86", "SCMP_ARCH_X32"]}
    ]})",
                                     {}, "6.1.0");
  ASSERT_TRUE(mapped) << mapped.error().message;
  EXPECT_EQ(mapped->architectures, (Names{"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"}));

  auto listed = DockerSeccompProfile(
      R"({"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64"]})", {}, "6.1");
  ASSERT_TRUE(listed) << listed.error().message;
  EXPECT_EQ(listed->architectures, Names{"SCMP_ARCH_X86_64"});
}
#endif

TEST(SeccompProfileTest, CarriesDefaultsErrnoArgsAndFlags) {
  auto p = DockerSeccompProfile(R"({
      "defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 1,
      "flags": ["SECCOMP_FILTER_FLAG_LOG"],
      "syscalls": [
        {"name": "clone3", "action": "SCMP_ACT_ERRNO", "errnoRet": 38, "comment": "ignored"},
        {"names": ["personality"], "action": "SCMP_ACT_ALLOW",
         "args": [{"index": 0, "value": 4294967295, "valueTwo": 0, "op": "SCMP_CMP_EQ"}]}
      ]})",
                                {}, "6.1.0");
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(p->default_action, "SCMP_ACT_ERRNO");
  EXPECT_EQ(p->default_errno_ret, 1u);
  EXPECT_EQ(p->flags, Names{"SECCOMP_FILTER_FLAG_LOG"});
  ASSERT_EQ(p->syscalls.size(), 2u);
  EXPECT_EQ(p->syscalls[0].names, Names{"clone3"});
  EXPECT_EQ(p->syscalls[0].errno_ret, 38u);
  ASSERT_EQ(p->syscalls[1].args.size(), 1u);
  EXPECT_EQ(p->syscalls[1].args[0].value, 4294967295u);
}

TEST(SeccompProfileTest, MalformedProfilesAreInvalidArgument) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"{", "seccomp profile: invalid JSON: "},
      {"[]", "seccomp profile: want a JSON object"},
      {"{}", "seccomp profile: defaultAction: required"},
      {R"({"defaultAction": 1})", "seccomp profile: defaultAction: want a string"},
      {R"({"defaultAction": "SCMP_ACT_ALLOW", "defaultErrnoRet": -1})",
       "seccomp profile: defaultErrnoRet: want an unsigned integer"},
      {R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": {}})",
       "seccomp profile: syscalls: want an array"},
      {R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": "read", "action": "x"}]})",
       "seccomp profile: syscalls[0].names: want an array of strings"},
      {R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"]}]})",
       "seccomp profile: syscalls[0].action: required"},
      {R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"action": "SCMP_ACT_ALLOW"}]})",
       "seccomp profile: syscalls[0].names: required"},
      {R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
          {"name": "read", "names": ["write"], "action": "SCMP_ACT_ALLOW"}]})",
       "seccomp profile: syscalls[0]: \"name\" and \"names\" are mutually exclusive"},
      {R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"],
          "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 1}]}]})",
       "seccomp profile: syscalls[0].args[0].op: required"},
      {R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"],
          "action": "SCMP_ACT_ALLOW", "args": [{"index": 6, "value": 1, "op": "SCMP_CMP_EQ"}]}]})",
       "seccomp profile: syscalls[0].args[0].index: 6 is out of range"},
      {R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"],
          "action": "SCMP_ACT_ALLOW", "includes": {"minKernel": "4"}}]})",
       "seccomp profile: syscalls[0].includes.minKernel: invalid kernel version \"4\", want "
       "\"<major>.<minor>\""},
      {R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"],
          "action": "SCMP_ACT_ALLOW", "excludes": ["CAP_SYS_ADMIN"]}]})",
       "seccomp profile: syscalls[0].excludes: want an object"},
      {R"({"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86"],
          "archMap": [{"architecture": "SCMP_ARCH_X86_64"}]})",
       "seccomp profile: both \"architectures\" and \"archMap\" are set; use one"},
  };
  for (const auto& [json, want] : cases) {
    auto p = DockerSeccompProfile(json, {}, "6.1.0");
    ASSERT_FALSE(p) << json;
    EXPECT_EQ(p.error().code, Code::kInvalidArgument) << json;
    EXPECT_EQ(p.error().message.rfind(want, 0), 0u) << json << "\n -> " << p.error().message;
  }
}

TEST(SeccompProfileTest, DefaultProfileShape) {
  const oci::LinuxSeccomp d = DefaultSeccompProfile(DefaultCapabilities(), "6.1.0");
  EXPECT_EQ(d.default_action, "SCMP_ACT_ERRNO");
  EXPECT_EQ(d.default_errno_ret, 1u);
#if defined(__x86_64__)
  EXPECT_EQ(d.architectures, (Names{"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"}));
#endif
  for (const char* allowed : {"read", "write", "openat", "mmap", "execve", "exit_group", "futex",
                              "getpid", "fork", "wait4", "chroot", "ptrace", "arch_prctl"}) {
    EXPECT_TRUE(Allows(d, allowed)) << allowed;
  }
  for (const char* denied : {"keyctl",      "add_key",     "request_key",   "mount",
                             "umount2",     "unshare",     "setns",         "pivot_root",
                             "bpf",         "kexec_load",  "reboot",        "swapon",
                             "swapoff",     "init_module", "clock_settime", "open_by_handle_at",
                             "userfaultfd", "clone",       "personality",   "socket"}) {
    EXPECT_FALSE(Allows(d, denied)) << denied << " allowed unconditionally";
  }

  const oci::LinuxSeccomp old = DefaultSeccompProfile(DefaultCapabilities(), "4.4.0");
  EXPECT_FALSE(Allows(old, "ptrace"));

  const oci::LinuxSeccomp admin = DefaultSeccompProfile({"CAP_SYS_ADMIN", "CAP_SYS_BOOT"}, "6.1.0");
  for (const char* allowed : {"mount", "umount2", "unshare", "setns", "clone", "reboot"}) {
    EXPECT_TRUE(Allows(admin, allowed)) << allowed;
  }
  EXPECT_FALSE(Allows(admin, "chroot"));  // CAP_SYS_CHROOT not held
  EXPECT_FALSE(Allows(admin, "keyctl"));  // never

  auto p = CompileSeccomp(d);
  ASSERT_TRUE(p) << p.error().message;
  auto q = CompileSeccomp(admin);
  ASSERT_TRUE(q) << q.error().message;
}

// The real thing: the default profile for a default container, installed in a forked child.
TEST(SeccompProfileTest, DefaultProfileInstalledDeniesEscapesAndAllowsTheUsual) {
  auto program = CompileSeccomp(DefaultSeccompProfile(DefaultCapabilities(), KernelRelease()));
  ASSERT_TRUE(program) << program.error().message;
  const int rc = RunUnderSeccomp(*program, [] {
    errno = 0;
    if (syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, 0, 0, 0, 0) != -1 || errno != EPERM) {
      return 1;
    }
    if (syscall(SYS_add_key, "user", "k", "v", 1, KEY_SPEC_PROCESS_KEYRING) != -1 ||
        errno != EPERM) {
      return 2;
    }
    if (unshare(CLONE_NEWUSER) != -1 || errno != EPERM) return 3;
    if (unshare(CLONE_NEWNS) != -1 || errno != EPERM) return 4;
    if (mount("none", "/nonexistent", "tmpfs", 0, nullptr) != -1 || errno != EPERM) return 5;
    if (umount2("/nonexistent", 0) != -1 || errno != EPERM) return 6;
    // clone with a namespace flag is refused; clone3 says ENOSYS so libc uses clone.
    if (syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0) != -1 || errno != EPERM) return 7;
    if (syscall(SYS_clone3, nullptr, 0) != -1 || errno != ENOSYS) return 8;
    if (syscall(SYS_personality, 0x0006 /* PER_BSD */) != -1 || errno != EPERM) return 9;
    if (syscall(SYS_personality, 0xffffffffUL) == -1) return 10;
    if (socket(40 /* AF_VSOCK */, SOCK_STREAM, 0) != -1 || errno != EPERM) return 11;
    const int unix_sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (unix_sock < 0) return 12;
    close(unix_sock);
    if (syscall(SYS_reboot, 0, 0, 0, 0) != -1 || errno != EPERM) return 13;

    if (syscall(SYS_getpid) <= 0) return 20;
    if (write(STDERR_FILENO, "", 0) != 0) return 21;
    const pid_t child = fork();  // clone without namespace flags
    if (child < 0) return 22;
    if (child == 0) _exit(42);
    int status = 0;
    if (waitpid(child, &status, 0) != child || !WIFEXITED(status) || WEXITSTATUS(status) != 42) {
      return 23;
    }
    return 0;
  });
  EXPECT_EQ(rc, 0) << "the child's check number " << rc << " failed";
}

TEST(SeccompProfileTest, DefaultProfileWithSysAdminLetsNamespacesThrough) {
  Names caps = DefaultCapabilities();
  caps.push_back("CAP_SYS_ADMIN");
  auto program = CompileSeccomp(DefaultSeccompProfile(caps, KernelRelease()));
  ASSERT_TRUE(program) << program.error().message;
  const int rc = RunUnderSeccomp(*program, [] {
    // Not EPERM from the filter: the kernel decides (as root it succeeds).
    if (unshare(CLONE_NEWUSER) != 0 && errno == EPERM) return 1;
    if (syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, 0, 0, 0, 0) != -1 || errno != EPERM) {
      return 2;
    }
    return 0;
  });
  EXPECT_EQ(rc, 0) << "the child's check number " << rc << " failed";
}

}  // namespace
}  // namespace berth::runtime
