#include "runtime/seccomp.h"

#include <errno.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "runtime/testing/seccomp_child.h"

namespace berth::runtime {
namespace {

using testing::RunUnderSeccomp;

oci::LinuxSyscall Rule(std::vector<std::string> names, std::string action,
                       std::vector<oci::LinuxSeccompArg> args = {}) {
  oci::LinuxSyscall s;
  s.names = std::move(names);
  s.action = std::move(action);
  s.args = std::move(args);
  return s;
}

// Allows everything but keyctl and getpid.
oci::LinuxSeccomp DenyKeyctlAndGetpid() {
  oci::LinuxSeccomp s;
  s.default_action = "SCMP_ACT_ALLOW";
  s.architectures = {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"};
  s.syscalls = {Rule({"keyctl", "getpid"}, "SCMP_ACT_ERRNO")};
  return s;
}

TEST(SeccompTest, CompiledProgramIsWholeInstructions) {
  auto p = CompileSeccomp(DenyKeyctlAndGetpid());
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_FALSE(p->bpf.empty());
  EXPECT_EQ(p->bpf.size() % 8, 0u);
  EXPECT_EQ(p->flags, 0u);
}

TEST(SeccompTest, MoreRulesMakeALongerProgram) {
  oci::LinuxSeccomp small;
  small.default_action = "SCMP_ACT_ALLOW";
  auto a = CompileSeccomp(small);
  auto b = CompileSeccomp(DenyKeyctlAndGetpid());
  ASSERT_TRUE(a) << a.error().message;
  ASSERT_TRUE(b) << b.error().message;
  EXPECT_LT(a->bpf.size(), b->bpf.size());
}

TEST(SeccompTest, UnknownSyscallNamesAreSkipped) {
  oci::LinuxSeccomp s = DenyKeyctlAndGetpid();
  s.syscalls.push_back(Rule({"no_such_syscall_in_any_kernel"}, "SCMP_ACT_ERRNO"));
  auto p = CompileSeccomp(s);
  ASSERT_TRUE(p) << p.error().message;
}

TEST(SeccompTest, FlagsBecomeBits) {
  oci::LinuxSeccomp s = DenyKeyctlAndGetpid();
  s.flags = {"SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW"};
  auto p = CompileSeccomp(s);
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(p->flags, 2u | 4u);
}

TEST(SeccompTest, RejectsUnknownAction) {
  oci::LinuxSeccomp s = DenyKeyctlAndGetpid();
  s.syscalls.push_back(Rule({"read"}, "SCMP_ACT_EXPLODE"));
  auto p = CompileSeccomp(s);
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error().code, Code::kInvalidArgument);
  EXPECT_EQ(p.error().message, "seccomp syscalls[1]: unknown seccomp action \"SCMP_ACT_EXPLODE\"");

  oci::LinuxSeccomp d;
  d.default_action = "ALLOW";
  auto q = CompileSeccomp(d);
  ASSERT_FALSE(q);
  EXPECT_EQ(q.error().code, Code::kInvalidArgument);
  EXPECT_EQ(q.error().message, "seccomp default: unknown seccomp action \"ALLOW\"");
}

TEST(SeccompTest, RejectsUnknownOperator) {
  oci::LinuxSeccomp s = DenyKeyctlAndGetpid();
  s.syscalls.push_back(Rule({"clone"}, "SCMP_ACT_ERRNO", {{0, 1, 0, "SCMP_CMP_ALMOST"}}));
  auto p = CompileSeccomp(s);
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error().code, Code::kInvalidArgument);
  EXPECT_EQ(p.error().message, "seccomp syscalls[1]: unknown seccomp operator \"SCMP_CMP_ALMOST\"");
}

TEST(SeccompTest, RejectsBadArchFlagIndexAndErrnoOnAllow) {
  oci::LinuxSeccomp arch = DenyKeyctlAndGetpid();
  arch.architectures.push_back("SCMP_ARCH_VAX");
  auto a = CompileSeccomp(arch);
  ASSERT_FALSE(a);
  EXPECT_EQ(a.error().message, "unknown seccomp architecture \"SCMP_ARCH_VAX\"");

  oci::LinuxSeccomp flag = DenyKeyctlAndGetpid();
  flag.flags = {"SECCOMP_FILTER_FLAG_BOGUS"};
  auto f = CompileSeccomp(flag);
  ASSERT_FALSE(f);
  EXPECT_EQ(f.error().code, Code::kInvalidArgument);

  oci::LinuxSeccomp index = DenyKeyctlAndGetpid();
  index.syscalls.push_back(Rule({"clone"}, "SCMP_ACT_ERRNO", {{6, 1, 0, "SCMP_CMP_EQ"}}));
  auto i = CompileSeccomp(index);
  ASSERT_FALSE(i);
  EXPECT_EQ(i.error().code, Code::kInvalidArgument);

  oci::LinuxSeccomp errno_on_allow = DenyKeyctlAndGetpid();
  errno_on_allow.syscalls.push_back(Rule({"read"}, "SCMP_ACT_ALLOW"));
  errno_on_allow.syscalls.back().errno_ret = 1;
  auto e = CompileSeccomp(errno_on_allow);
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().code, Code::kInvalidArgument);

  oci::LinuxSeccomp no_names = DenyKeyctlAndGetpid();
  no_names.syscalls.push_back(Rule({}, "SCMP_ACT_ERRNO"));
  auto n = CompileSeccomp(no_names);
  ASSERT_FALSE(n);
  EXPECT_EQ(n.error().code, Code::kInvalidArgument);
}

TEST(SeccompTest, InstalledFilterDeniesWithEpermAndAllowsWrite) {
  auto p = CompileSeccomp(DenyKeyctlAndGetpid());
  ASSERT_TRUE(p) << p.error().message;
  const int rc = RunUnderSeccomp(*p, [] {
    if (syscall(SYS_getpid) != -1 || errno != EPERM) return 1;
    if (syscall(SYS_keyctl, 0, 0, 0, 0, 0) != -1 || errno != EPERM) return 2;
    if (write(STDERR_FILENO, "", 0) != 0) return 3;
    if (syscall(SYS_getppid) <= 0) return 4;
    return 0;
  });
  EXPECT_EQ(rc, 0);
}

TEST(SeccompTest, DefaultErrnoRetAndRuleErrnoRet) {
  oci::LinuxSeccomp s;
  s.default_action = "SCMP_ACT_ALLOW";
  s.syscalls = {Rule({"getpid"}, "SCMP_ACT_ERRNO")};
  s.syscalls[0].errno_ret = ENOSYS;
  auto p = CompileSeccomp(s);
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(RunUnderSeccomp(*p,
                            [] {
                              if (syscall(SYS_getpid) != -1 || errno != ENOSYS) return 1;
                              return 0;
                            }),
            0);
}

TEST(SeccompTest, ArgumentComparisonsMatchOnlyTheirValues) {
  // Deny clone/unshare with CLONE_NEWUSER (masked), and personality(0x1234) only: two
  // comparisons on the same argument make two rules ("either").
  oci::LinuxSeccomp s;
  s.default_action = "SCMP_ACT_ALLOW";
  s.syscalls = {
      Rule({"unshare"}, "SCMP_ACT_ERRNO",
           {{0, CLONE_NEWUSER, CLONE_NEWUSER, "SCMP_CMP_MASKED_EQ"}}),
      Rule({"personality"}, "SCMP_ACT_ERRNO",
           {{0, 0x1234, 0, "SCMP_CMP_EQ"}, {0, 0x5678, 0, "SCMP_CMP_EQ"}}),
  };
  auto p = CompileSeccomp(s);
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(RunUnderSeccomp(*p,
                            [] {
                              if (syscall(SYS_unshare, CLONE_NEWUSER) != -1 || errno != EPERM)
                                return 1;
                              if (syscall(SYS_personality, 0x1234) != -1 || errno != EPERM)
                                return 2;
                              if (syscall(SYS_personality, 0x5678) != -1 || errno != EPERM)
                                return 3;
                              // 0xffffffff queries the persona; not denied.
                              if (syscall(SYS_personality, 0xffffffff) == -1) return 4;
                              // unshare(0) is a no-op and allowed.
                              if (syscall(SYS_unshare, 0) != 0) return 5;
                              return 0;
                            }),
            0);
}

}  // namespace
}  // namespace berth::runtime
