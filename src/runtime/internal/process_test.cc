#include "runtime/internal/process.h"

#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

#include <gtest/gtest.h>

#include "sys/linux_syscalls.h"
#include "sys/testing/recording_syscalls.h"

namespace berth::runtime::internal {
namespace {

TEST(ProcessPlanTest, WalksTheContainersPath) {
  oci::Process p;
  p.args = {"echo", "hi"};
  p.env = {"A=1", "PATH=/bin:/usr/bin::/opt"};
  Result<std::unique_ptr<ProcessPlan>> plan = PlanProcess(p, std::nullopt);
  ASSERT_TRUE(plan) << plan.error().message;
  EXPECT_EQ((*plan)->candidates,
            (std::vector<std::string>{"/bin/echo", "/usr/bin/echo", "./echo", "/opt/echo"}));
  ASSERT_EQ((*plan)->argv.size(), 3u);
  EXPECT_STREQ((*plan)->argv[1], "hi");
  EXPECT_EQ((*plan)->argv[2], nullptr);
  ASSERT_EQ((*plan)->envp.size(), 3u);
  EXPECT_STREQ((*plan)->envp[0], "A=1");
  EXPECT_EQ((*plan)->cwd, "/");
}

TEST(ProcessPlanTest, DefaultPathAndSlashes) {
  oci::Process p;
  p.args = {"sh"};
  Result<std::unique_ptr<ProcessPlan>> plan = PlanProcess(p, std::nullopt);
  ASSERT_TRUE(plan);
  EXPECT_EQ((*plan)->candidates.size(), 6u);
  EXPECT_EQ((*plan)->candidates[0], "/usr/local/sbin/sh");
  EXPECT_EQ((*plan)->candidates[5], "/bin/sh");
  p.args = {"./run"};
  plan = PlanProcess(p, std::nullopt);
  ASSERT_TRUE(plan);
  EXPECT_EQ((*plan)->candidates, std::vector<std::string>{"./run"});
}

TEST(ProcessPlanTest, ResolvesRlimitsCapabilitiesAndUser) {
  oci::Process p;
  p.args = {"x"};
  p.user = oci::User{1000, 100, 022, {5, 6}};
  p.rlimits = {{"RLIMIT_NOFILE", 4096, 1024}};
  p.capabilities =
      oci::LinuxCapabilities{{"CAP_KILL", "CAP_CHOWN"}, {"CAP_KILL"}, {}, {"CAP_KILL"}, {}};
  Result<std::unique_ptr<ProcessPlan>> plan = PlanProcess(p, std::nullopt);
  ASSERT_TRUE(plan) << plan.error().message;
  ASSERT_EQ((*plan)->rlimits.size(), 1u);
  EXPECT_EQ((*plan)->rlimits[0].resource, RLIMIT_NOFILE);
  EXPECT_EQ((*plan)->rlimits[0].limit.soft, 1024u);
  EXPECT_EQ((*plan)->rlimits[0].limit.hard, 4096u);
  ASSERT_TRUE((*plan)->capabilities);
  EXPECT_EQ((*plan)->capabilities->bounding, (1ull << 5) | (1ull << 0));  // CAP_KILL, CAP_CHOWN
  EXPECT_EQ((*plan)->capabilities->effective, 1ull << 5);
  EXPECT_EQ((*plan)->groups, (std::vector<gid_t>{5, 6}));
  EXPECT_EQ((*plan)->umask, 022u);

  p.rlimits = {{"RLIMIT_BOGUS", 1, 1}};
  EXPECT_EQ(PlanProcess(p, std::nullopt).error().message,
            "process.rlimits: unknown type \"RLIMIT_BOGUS\"");
  p.rlimits = {{"RLIMIT_NOFILE", 1, 2}};
  EXPECT_FALSE(PlanProcess(p, std::nullopt));
  p.rlimits.clear();
  p.capabilities->bounding = {"CAP_NOPE"};
  EXPECT_FALSE(PlanProcess(p, std::nullopt));
  p.capabilities.reset();
  p.cwd = "relative";
  EXPECT_FALSE(PlanProcess(p, std::nullopt));
}

TEST(ProcessPlanTest, ExecErrorsInDockersWords) {
  Error e = ExecError("foo", ENOENT);
  EXPECT_EQ(e.code, Code::kNotFound);
  EXPECT_EQ(e.message, "exec: \"foo\": executable file not found in $PATH");
  e = ExecError("/etc", EACCES);
  EXPECT_EQ(e.code, Code::kPermissionDenied);
  EXPECT_EQ(e.message, "exec: \"/etc\": permission denied");
  EXPECT_EQ(ExecError("/nope", ENOENT).code, Code::kNotFound);
  EXPECT_EQ(ExecError("/bin/x", ENOEXEC).sys_errno, ENOEXEC);
}

// ApplyProcess in a forked child (it changes the process): the failing step is reported, and
// the rlimit, KEEPCAPS and identity calls come in order before it.
TEST(ApplyProcessTest, ReportsTheFailingStepAfterTheCallsBeforeIt) {
  oci::Process p;
  p.args = {"x"};
  p.user = oci::User{0, 0, std::nullopt, {}};
  p.rlimits = {{"RLIMIT_CORE", 0, 0}};
  Result<std::unique_ptr<ProcessPlan>> plan = PlanProcess(p, std::nullopt);
  ASSERT_TRUE(plan);
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    sys::LinuxSyscalls linux_sys;
    sys::testing::RecordingSyscalls rec(linux_sys);
    rec.FailCall("setresuid", EPERM);
    Error error;
    Step step = ApplyProcess(**plan, rec, &error);
    std::vector<std::string> want = {"prlimit",   "close_range", "prctl",
                                     "setgroups", "setresgid",   "setresuid"};
    bool ok = step == Step::kUser && error.sys_errno == EPERM && rec.CallNames() == want &&
              error.message == "setresuid 0: Operation not permitted";
    ::_exit(ok ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

}  // namespace
}  // namespace berth::runtime::internal
