// Containers survive the daemon: kill -9 of berthd leaves them running; the next berthd finds
// them (ps, logs, stop, wait work) and records the real exit code of one that ended meanwhile.
#include <signal.h>

#include <string>

#include <gtest/gtest.h>

#include "container_fixture.h"

namespace berth {
namespace {

using testing::ContainerFixture;

class RestoreTest : public ContainerFixture {
 protected:
  void RestartDaemon() {
    ::kill(d_.pid, SIGKILL);
    ASSERT_TRUE(testing::WaitExit(d_.pid, std::chrono::seconds(10)).has_value());
    Forget(d_.pid);
    d_ = StartDaemon("d", root_);
    ASSERT_TRUE(WaitReady(d_));
  }
};

TEST_F(RestoreTest, ContainersOutliveAKilledDaemon) {
  BERTH_SKIP_WITHOUT_DOCKER();
  ASSERT_EQ(Docker(d_, {"run", "-d", "--name", "long", "busybox", "sh", "-c",
                        "echo one; sleep 1000"})
                .exit_code,
            0);
  ASSERT_EQ(Docker(d_, {"run", "-d", "--name", "short", "busybox", "sh", "-c",
                        "sleep 1000"}).exit_code,
            0);
  std::string pid = Trim(Docker(d_, {"inspect", "-f", "{{.State.Pid}}", "long"}).output);
  ASSERT_NE(pid, "0");
  RestartDaemon();
  // The new daemon watches "short" too: its end, from outside, is reported with its code.
  Run short_pid = Docker(d_, {"inspect", "-f", "{{.State.Pid}}", "short"});
  int victim = std::atoi(Trim(short_pid.output).c_str());
  // Never kill(0) or kill(-1): that would hit the test's own process group.
  ASSERT_GT(victim, 1) << short_pid.output << Log(d_);
  ASSERT_EQ(::kill(victim, SIGKILL), 0);
  EXPECT_EQ(Trim(Docker(d_, {"wait", "short"}).output), "137");
  EXPECT_EQ(Trim(Docker(d_, {"inspect", "-f", "{{.State.Status}} {{.State.Pid}}", "long"})
                     .output),
            "running " + pid);
  EXPECT_EQ(Docker(d_, {"logs", "long"}).output, "one\n");
  EXPECT_EQ(Docker(d_, {"stop", "-t", "1", "long"}).exit_code, 0);
  EXPECT_EQ(Trim(Docker(d_, {"inspect", "-f", "{{.State.Status}}", "long"}).output), "exited");
}

TEST_F(RestoreTest, ExitWhileTheDaemonIsDownKeepsItsCode) {
  BERTH_SKIP_WITHOUT_DOCKER();
  Run run = Docker(d_, {"run", "-d", "--name", "ee", "busybox", "sh", "-c", "sleep 1; exit 5"});
  ASSERT_EQ(run.exit_code, 0) << run.output;
  std::string id = Trim(run.output);
  ::kill(d_.pid, SIGKILL);
  ASSERT_TRUE(testing::WaitExit(d_.pid, std::chrono::seconds(10)).has_value());
  Forget(d_.pid);
  // The container ends while no daemon runs: its shim records the exit.
  std::string exit_file = root_ + "/containers/" + id + "/exit.json";
  for (int i = 0; i < 200 && !PathExists(exit_file); ++i) ::usleep(50000);
  ASSERT_TRUE(PathExists(exit_file));
  d_ = StartDaemon("d", root_);
  ASSERT_TRUE(WaitReady(d_));
  EXPECT_EQ(Trim(Docker(d_, {"inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}", "ee"})
                     .output),
            "exited 5");
  EXPECT_EQ(Docker(d_, {"rm", "ee"}).exit_code, 0);
}

}  // namespace
}  // namespace berth
