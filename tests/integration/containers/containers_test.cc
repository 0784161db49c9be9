// Container lifecycle through the stock docker CLI against berthd, with real containers:
// run (attached, detached, --rm), exit codes, logs, ps, stop, kill, rm, wait, rename, pause,
// restart policies, inspect; and bad input that must leave nothing behind.
#include <sys/stat.h>

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "container_fixture.h"

namespace berth {
namespace {

using testing::ContainerFixture;

class ContainersTest : public ContainerFixture {
 protected:
  size_t ContainerDirs() { return testing::CountEntries(root_ + "/containers"); }
};

TEST_F(ContainersTest, RunPrintsOutputAndExitsWithTheProgramsCode) {
  BERTH_SKIP_WITHOUT_DOCKER();
  Run hi = Docker(d_, {"run", "--rm", "busybox", "echo", "hi"});
  EXPECT_EQ(hi.exit_code, 0) << hi.output << Log(d_);
  EXPECT_EQ(hi.output, "hi\n");
  Run err = Docker(d_, {"run", "--rm", "busybox", "sh", "-c", "echo oops >&2; exit 3"});
  EXPECT_EQ(err.exit_code, 3) << err.output;
  EXPECT_EQ(err.output, "oops\n");
  // --rm: nothing remains.
  EXPECT_EQ(Trim(Docker(d_, {"ps", "-aq"}).output), "");
  EXPECT_EQ(ContainerDirs(), 0u);
}

TEST_F(ContainersTest, UnknownCommandIs127AndNotExecutableIs126) {
  BERTH_SKIP_WITHOUT_DOCKER();
  Run nf = Docker(d_, {"run", "--name", "nf", "busybox", "no-such-command"});
  EXPECT_EQ(nf.exit_code, 127) << nf.output;
  EXPECT_NE(nf.output.find("executable file not found"), std::string::npos) << nf.output;
  EXPECT_EQ(Trim(Docker(d_, {"inspect", "-f", "{{.State.ExitCode}} {{.State.Status}}", "nf"})
                     .output),
            "127 created");
  Run perm = Docker(d_, {"run", "--rm", "busybox", "/etc"});
  EXPECT_EQ(perm.exit_code, 126) << perm.output;
  EXPECT_EQ(Docker(d_, {"rm", "nf"}).exit_code, 0);
}

TEST_F(ContainersTest, DetachedLogsPsStopRm) {
  BERTH_SKIP_WITHOUT_DOCKER();
  Run run = Docker(d_, {"run", "-d", "--name", "web", "busybox", "sh", "-c",
                        "echo started; trap 'echo bye; exit 0' TERM; while :; do sleep 0.1; done"});
  ASSERT_EQ(run.exit_code, 0) << run.output << Log(d_);
  std::string id = Trim(run.output);
  ASSERT_EQ(id.size(), 64u) << run.output;
  Run ps = Docker(d_, {"ps", "--format", "{{.ID}} {{.Names}} {{.Status}}"});
  EXPECT_EQ(ps.output.substr(0, 17), id.substr(0, 12) + " web ") << ps.output;
  EXPECT_NE(ps.output.find("Up "), std::string::npos) << ps.output;
  // The log fills as the program writes.
  Run logs;
  for (int i = 0; i < 100; ++i) {
    logs = Docker(d_, {"logs", "web"});
    if (logs.output == "started\n") break;
    ::usleep(20000);
  }
  EXPECT_EQ(logs.output, "started\n");
  Run rm = Docker(d_, {"rm", "web"});
  EXPECT_NE(rm.exit_code, 0);
  EXPECT_NE(rm.output.find("You cannot remove a running container"), std::string::npos)
      << rm.output;
  Run stop = Docker(d_, {"stop", "-t", "5", "web"});
  EXPECT_EQ(stop.exit_code, 0) << stop.output;
  EXPECT_EQ(Trim(Docker(d_, {"inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}", "web"})
                     .output),
            "exited 0");
  EXPECT_EQ(Docker(d_, {"logs", "web"}).output, "started\nbye\n");
  Run psa = Docker(d_, {"ps", "-a", "--format", "{{.Status}}"});
  EXPECT_NE(psa.output.find("Exited (0)"), std::string::npos) << psa.output;
  EXPECT_EQ(Docker(d_, {"rm", "web"}).exit_code, 0);
  EXPECT_FALSE(PathExists(MemoryCgroup(id)));
  EXPECT_EQ(ContainerDirs(), 0u);
}

TEST_F(ContainersTest, CreateThenStartAttachedAndWait) {
  BERTH_SKIP_WITHOUT_DOCKER();
  ASSERT_EQ(Docker(d_, {"create", "--name", "c1", "-e", "GREETING=hello", "-w", "/tmp",
                        "busybox", "sh", "-c", "echo $GREETING from $(pwd); exit 7"})
                .exit_code,
            0);
  EXPECT_EQ(Trim(Docker(d_, {"ps", "-a", "--format", "{{.Status}}"}).output), "Created");
  Run start = Docker(d_, {"start", "-a", "c1"});
  EXPECT_EQ(start.output, "hello from /tmp\n");
  EXPECT_EQ(start.exit_code, 7);
  EXPECT_EQ(Trim(Docker(d_, {"wait", "c1"}).output), "7");
  EXPECT_EQ(Docker(d_, {"rename", "c1", "c2"}).exit_code, 0);
  EXPECT_EQ(Trim(Docker(d_, {"inspect", "-f", "{{.Name}}", "c2"}).output), "/c2");
  EXPECT_EQ(Docker(d_, {"rm", "c2"}).exit_code, 0);
}

TEST_F(ContainersTest, KillGivesTheSignalsExitCodeAndPauseFreezes) {
  BERTH_SKIP_WITHOUT_DOCKER();
  ASSERT_EQ(Docker(d_, {"run", "-d", "--name", "kk", "busybox", "sleep", "1000"}).exit_code, 0);
  EXPECT_EQ(Docker(d_, {"pause", "kk"}).exit_code, 0);
  EXPECT_EQ(Trim(Docker(d_, {"inspect", "-f", "{{.State.Status}}", "kk"}).output), "paused");
  EXPECT_EQ(Docker(d_, {"unpause", "kk"}).exit_code, 0);
  EXPECT_EQ(Docker(d_, {"kill", "kk"}).exit_code, 0);
  EXPECT_EQ(Trim(Docker(d_, {"wait", "kk"}).output), "137");
  EXPECT_EQ(Docker(d_, {"rm", "kk"}).exit_code, 0);
}

TEST_F(ContainersTest, OnFailureRestartPolicyRetries) {
  BERTH_SKIP_WITHOUT_DOCKER();
  ASSERT_EQ(Docker(d_, {"run", "-d", "--name", "rp", "--restart", "on-failure:2", "busybox", "sh",
                        "-c", "echo try; exit 1"})
                .exit_code,
            0);
  std::string out;
  for (int i = 0; i < 200; ++i) {
    out = Trim(Docker(d_, {"inspect", "-f", "{{.RestartCount}} {{.State.Status}}", "rp"}).output);
    if (out == "2 exited") break;
    ::usleep(50000);
  }
  EXPECT_EQ(out, "2 exited");
  EXPECT_EQ(Docker(d_, {"logs", "rp"}).output, "try\ntry\ntry\n");
  EXPECT_EQ(Docker(d_, {"rm", "rp"}).exit_code, 0);
}

TEST_F(ContainersTest, BadInputLeavesNothing) {
  BERTH_SKIP_WITHOUT_DOCKER();
  Run noimg = Docker(d_, {"create", "no-such-image:1"});
  EXPECT_NE(noimg.exit_code, 0);
  Run mem = Docker(d_, {"run", "-m", "1x", "busybox", "true"});
  EXPECT_EQ(mem.exit_code, 125);
  Run cpus = Docker(d_, {"run", "--cpus", "64", "busybox", "true"});
  EXPECT_EQ(cpus.exit_code, 125) << cpus.output;
  EXPECT_NE(cpus.output.find("Range of CPUs is from"), std::string::npos) << cpus.output;
  ASSERT_EQ(Docker(d_, {"create", "--name", "taken", "busybox"}).exit_code, 0);
  // docker create exits 1 on a daemon error (run would exit 125).
  Run dup = Docker(d_, {"create", "--name", "taken", "busybox"});
  EXPECT_EQ(dup.exit_code, 1);
  Run duprun = Docker(d_, {"run", "--name", "taken", "busybox"});
  EXPECT_EQ(duprun.exit_code, 125);
  EXPECT_NE(dup.output.find("is already in use"), std::string::npos) << dup.output;
  EXPECT_EQ(Docker(d_, {"rm", "taken"}).exit_code, 0);
  EXPECT_EQ(Trim(Docker(d_, {"ps", "-aq"}).output), "");
  EXPECT_EQ(ContainerDirs(), 0u);
  // No container snapshot is left either: only the image's layer.
  EXPECT_EQ(testing::CountEntries(root_ + "/snapshots"), 1u);
}

}  // namespace
}  // namespace berth
