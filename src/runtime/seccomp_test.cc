#include "runtime/seccomp.h"

#include <errno.h>
#include <sched.h>
#include <sys/syscall.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>

#include <gtest/gtest.h>

#include "base/file.h"

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

TEST(SeccompTest, ErrnoDefaultsToEperm) {
  oci::LinuxSeccomp implicit;
  implicit.default_action = "SCMP_ACT_ERRNO";
  implicit.syscalls = {Rule({"read", "write"}, "SCMP_ACT_ALLOW"),
                       Rule({"getpid"}, "SCMP_ACT_TRACE")};
  oci::LinuxSeccomp explicit_eperm = implicit;
  explicit_eperm.default_errno_ret = EPERM;
  explicit_eperm.syscalls[1].errno_ret = EPERM;
  oci::LinuxSeccomp other = implicit;
  other.default_errno_ret = EACCES;
  auto a = CompileSeccomp(implicit);
  auto b = CompileSeccomp(explicit_eperm);
  auto c = CompileSeccomp(other);
  ASSERT_TRUE(a) << a.error().message;
  ASSERT_TRUE(b) << b.error().message;
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(a->bpf, b->bpf);
  EXPECT_NE(a->bpf, c->bpf);
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

namespace berth::runtime {
namespace {

class SeccompCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/berth-seccomp-cache-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = std::string(tmpl) + "/cache";  // created by the first compile
  }
  void TearDown() override { EXPECT_TRUE(RemoveAll(dir_.substr(0, dir_.rfind('/')))); }
  std::vector<std::string> Entries() {
    std::vector<std::string> out;
    for (const auto& e : std::filesystem::directory_iterator(dir_)) out.push_back(e.path());
    return out;
  }
  std::string dir_;
};

TEST_F(SeccompCacheTest, HitGivesTheSameProgramAsACompile) {
  oci::LinuxSeccomp s = DenyKeyctlAndGetpid();
  s.flags = {"SECCOMP_FILTER_FLAG_LOG"};
  auto direct = CompileSeccomp(s);
  ASSERT_TRUE(direct) << direct.error().message;
  auto miss = CompileSeccompCached(s, dir_);
  ASSERT_TRUE(miss) << miss.error().message;
  ASSERT_EQ(Entries().size(), 1u);
  auto hit = CompileSeccompCached(s, dir_);
  ASSERT_TRUE(hit) << hit.error().message;
  for (const auto* p : {&*miss, &*hit}) {
    EXPECT_EQ(p->bpf, direct->bpf);
    EXPECT_EQ(p->flags, direct->flags);
  }
  // The entry is what is used: a hit does not compile (a changed entry shows through).
  Result<std::string> data = ReadFile(Entries()[0]);
  ASSERT_TRUE(data);
  data->back() ^= 1;
  ASSERT_TRUE(WriteFileAtomic(Entries()[0], *data, 0600));
  auto edited = CompileSeccompCached(s, dir_);
  ASSERT_TRUE(edited);
  EXPECT_NE(edited->bpf, direct->bpf);
}

TEST_F(SeccompCacheTest, EachSectionHasItsOwnEntry) {
  oci::LinuxSeccomp a = DenyKeyctlAndGetpid();
  oci::LinuxSeccomp b = a;
  b.syscalls[0].names = {"keyctl"};
  auto pa = CompileSeccompCached(a, dir_);
  auto pb = CompileSeccompCached(b, dir_);
  ASSERT_TRUE(pa && pb);
  EXPECT_EQ(Entries().size(), 2u);
  EXPECT_EQ(pa->bpf, CompileSeccomp(a)->bpf);
  EXPECT_EQ(pb->bpf, CompileSeccomp(b)->bpf);
  EXPECT_NE(pa->bpf, pb->bpf);
}

TEST_F(SeccompCacheTest, AMalformedEntryIsCompiledAgainAndReplaced) {
  oci::LinuxSeccomp s = DenyKeyctlAndGetpid();
  ASSERT_TRUE(CompileSeccompCached(s, dir_));
  const std::string entry = Entries()[0];
  auto want = CompileSeccomp(s);
  for (std::string bad : {std::string(), std::string("garbage"),
                          ReadFile(entry).value().substr(0, 30)}) {
    ASSERT_TRUE(WriteFileAtomic(entry, bad, 0600));
    auto p = CompileSeccompCached(s, dir_);
    ASSERT_TRUE(p) << p.error().message;
    EXPECT_EQ(p->bpf, want->bpf);
    EXPECT_NE(ReadFile(entry).value(), bad);
  }
}

TEST_F(SeccompCacheTest, AnUnwritableCacheStillCompiles) {
  auto p = CompileSeccompCached(DenyKeyctlAndGetpid(), "/proc/no-cache-here");
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(p->bpf, CompileSeccomp(DenyKeyctlAndGetpid())->bpf);
  auto none = CompileSeccompCached(DenyKeyctlAndGetpid(), "");
  ASSERT_TRUE(none);
  EXPECT_EQ(none->bpf, p->bpf);
}

}  // namespace
}  // namespace berth::runtime
