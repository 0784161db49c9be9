// Containers survive the daemon: kill -9 of berthd leaves them running; the next berthd finds
// them (ps, logs, stop, wait work) and records the real exit code of one that ended meanwhile;
// and it applies --restart always to what exited or was restarting while no daemon ran.
#include <signal.h>

#include <algorithm>
#include <string>

#include <gtest/gtest.h>

#include "container_fixture.h"

namespace berth {
namespace {

using testing::ContainerFixture;

class RestoreTest : public ContainerFixture {
 protected:
  void RestartDaemon(int sig = SIGKILL) {
    StopDaemon(sig);
    d_ = StartDaemon("d", root_);
    ASSERT_TRUE(WaitReady(d_));
  }
  void StopDaemon(int sig) {
    ::kill(d_.pid, sig);
    ASSERT_TRUE(testing::WaitExit(d_.pid, std::chrono::seconds(20)).has_value());
    Forget(d_.pid);
  }
  std::string Inspect(const std::string& name, const std::string& format) {
    return Trim(Docker(d_, {"inspect", "-f", format, name}).output);
  }
  // Polls until `format` of `name` satisfies `ok`; the last value.
  template <typename Pred>
  std::string WaitInspect(const std::string& name, const std::string& format, Pred ok) {
    std::string v;
    for (int i = 0; i < 300; ++i) {
      v = Inspect(name, format);
      if (ok(v)) break;
      ::usleep(50000);
    }
    return v;
  }
  static size_t Lines(const std::string& s) { return static_cast<size_t>(std::count(s.begin(), s.end(), '\n')); }
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

// A crash-looping container with --restart always, caught between two runs (restarting, or
// exited and waiting for its back-off) when berthd goes: the next berthd restarts it.
TEST_F(RestoreTest, RestartAlwaysResumesAfterTheDaemonStops) {
  BERTH_SKIP_WITHOUT_DOCKER();
  for (int sig : {SIGTERM, SIGKILL}) {
    SCOPED_TRACE(sig == SIGTERM ? "SIGTERM" : "SIGKILL");
    Run run = Docker(d_, {"run", "-d", "--name", "ra", "--restart", "always", "busybox", "sh",
                          "-c", "echo run; exit 1"});
    ASSERT_EQ(run.exit_code, 0) << run.output;
    // Two restarts and then the back-off (400 ms after the second) holds it in "restarting".
    std::string st = WaitInspect("ra", "{{.RestartCount}} {{.State.Status}}", [](auto& v) {
      return v.size() > 2 && v[0] >= '2' && v.ends_with("restarting");
    });
    ASSERT_TRUE(st.ends_with("restarting")) << st;
    size_t runs = Lines(Docker(d_, {"logs", "ra"}).output);
    StopDaemon(sig);
    d_ = StartDaemon("d", root_);
    ASSERT_TRUE(WaitReady(d_));
    // It runs again: more runs in its log, and the count goes on from where it was.
    size_t now = runs;
    for (int i = 0; i < 300 && now <= runs; ++i) {
      ::usleep(50000);
      now = Lines(Docker(d_, {"logs", "ra"}).output);
    }
    EXPECT_GT(now, runs) << Log(d_);
    // The crash loop goes on under the new daemon (a start at daemon start is not counted, as
    // dockerd's; the restarts after it are).
    std::string count = WaitInspect("ra", "{{.RestartCount}}",
                                    [](auto& v) { return std::atoi(v.c_str()) > 2; });
    EXPECT_GT(std::atoi(count.c_str()), 2);
    EXPECT_EQ(Inspect("ra", "{{.HostConfig.RestartPolicy.Name}}"), "always");
    EXPECT_EQ(Docker(d_, {"rm", "-f", "ra"}).exit_code, 0);
  }
}

// The daemon's start is not held up by a container's restart back-off.
TEST_F(RestoreTest, DaemonAnswersWhileABackOffRuns) {
  BERTH_SKIP_WITHOUT_DOCKER();
  ASSERT_EQ(Docker(d_, {"run", "-d", "--name", "rb", "--restart", "always", "busybox", "sh", "-c",
                        "exit 1"})
                .exit_code,
            0);
  // Five restarts: the next back-off is 3.2 s.
  std::string st = WaitInspect("rb", "{{.RestartCount}}",
                               [](auto& v) { return std::atoi(v.c_str()) >= 5; });
  ASSERT_GE(std::atoi(st.c_str()), 5);
  StopDaemon(SIGKILL);
  auto t0 = std::chrono::steady_clock::now();
  d_ = StartDaemon("d", root_);
  ASSERT_TRUE(WaitReady(d_));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(3));
  EXPECT_EQ(Docker(d_, {"rm", "-f", "rb"}).exit_code, 0);
}

// A running --restart always container whose process ends while no berthd runs is restarted
// by the next one.
TEST_F(RestoreTest, RestartAlwaysContainerThatExitedWhileTheDaemonWasDown) {
  BERTH_SKIP_WITHOUT_DOCKER();
  Run run = Docker(d_, {"run", "-d", "--name", "rr", "--restart", "always", "busybox", "sh", "-c",
                        "echo run; sleep 1000"});
  ASSERT_EQ(run.exit_code, 0) << run.output;
  std::string id = Trim(run.output);
  ASSERT_EQ(WaitInspect("rr", "{{.State.Running}}", [](auto& v) { return v == "true"; }), "true");
  int victim = std::atoi(Inspect("rr", "{{.State.Pid}}").c_str());
  ASSERT_GT(victim, 1);
  StopDaemon(SIGKILL);
  ASSERT_EQ(::kill(victim, SIGKILL), 0);
  std::string exit_file = root_ + "/containers/" + id + "/exit.json";
  for (int i = 0; i < 200 && !PathExists(exit_file); ++i) ::usleep(50000);
  ASSERT_TRUE(PathExists(exit_file));
  d_ = StartDaemon("d", root_);
  ASSERT_TRUE(WaitReady(d_));
  std::string st = WaitInspect("rr", "{{.State.Status}} {{.RestartCount}}",
                               [](auto& v) { return v == "running 1"; });
  EXPECT_EQ(st, "running 1") << Log(d_);
  EXPECT_NE(Inspect("rr", "{{.State.Pid}}"), std::to_string(victim));
  EXPECT_EQ(Docker(d_, {"logs", "rr"}).output, "run\nrun\n");
  EXPECT_EQ(Docker(d_, {"rm", "-f", "rr"}).exit_code, 0);
}

// Stopped by the user: "always" starts again with the next daemon, "unless-stopped" does not
// (Docker's documented rule).
TEST_F(RestoreTest, StoppedByTheUserAlwaysRestartsWithTheDaemonUnlessStoppedDoesNot) {
  BERTH_SKIP_WITHOUT_DOCKER();
  for (const std::string& policy : {std::string("always"), std::string("unless-stopped")}) {
    std::string name = policy == "always" ? "sa" : "su";
    ASSERT_EQ(Docker(d_, {"run", "-d", "--name", name, "--restart", policy, "busybox", "sleep",
                          "1000"})
                  .exit_code,
              0);
    ASSERT_EQ(Docker(d_, {"stop", "-t", "1", name}).exit_code, 0);
    EXPECT_EQ(Inspect(name, "{{.State.Status}}"), "exited");
  }
  RestartDaemon(SIGTERM);
  EXPECT_EQ(WaitInspect("sa", "{{.State.Status}}", [](auto& v) { return v == "running"; }),
            "running")
      << Log(d_);
  EXPECT_EQ(Inspect("su", "{{.State.Status}}"), "exited");
  EXPECT_EQ(Docker(d_, {"rm", "-f", "sa", "su"}).exit_code, 0);
}

}  // namespace
}  // namespace berth
