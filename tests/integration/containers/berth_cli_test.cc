// The same container scenario through `berth` and through the stock docker CLI against one
// berthd: what the two show must agree, and berth's exit codes must be docker's.
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "container_fixture.h"

namespace berth {
namespace {

using testing::ContainerFixture;

class BerthCliTest : public ContainerFixture {};

TEST_F(BerthCliTest, RunExitCodesAndOutputMatchDocker) {
  BERTH_SKIP_WITHOUT_DOCKER();
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"run", "--rm", "busybox", "echo", "hi"},
           {"run", "--rm", "busybox", "sh", "-c", "echo out; echo err >&2; exit 4"},
           {"run", "--rm", "-e", "A=1", "-w", "/tmp", "-h", "box", "busybox", "sh", "-c",
            "echo $A $(pwd) $(hostname)"},
           {"run", "--rm", "busybox", "no-such-command"},
           {"run", "--rm", "-m", "1x", "busybox", "true"}}) {
    Run b = Berth(d_, args);
    Run k = Docker(d_, args);
    EXPECT_EQ(b.exit_code, k.exit_code) << Join(args, " ") << "\nberth: " << b.output
                                        << "\ndocker: " << k.output;
    if (k.exit_code == 0 || k.exit_code == 4) {
      EXPECT_EQ(b.output, k.output);
    }
  }
}

// run sends attach, wait and start at once on three connections, and the daemon may take them
// in any order. An attach taken in after the start had already spawned the shim once waited
// for a later start that never came: `true` ran unattached after a 5 s hold, and the run
// failed with "container was removed before it started" (about 3 runs in 100 here).
TEST_F(BerthCliTest, RunRmAgainAndAgainAlwaysAttaches) {
  for (int i = 0; i < 60; ++i) {
    Run r = Berth(d_, {"run", "--rm", "busybox", "echo", "hi"});
    ASSERT_EQ(r.exit_code, 0) << "run " << i << ": " << r.output << Log(d_);
    ASSERT_EQ(r.output, "hi\n") << "run " << i;
  }
}

TEST_F(BerthCliTest, DetachedLifecycleShowsTheSameThroughBothClis) {
  BERTH_SKIP_WITHOUT_DOCKER();
  Run run = Berth(d_, {"run", "-d", "--name", "bweb", "-l", "tier=web", "busybox", "sh", "-c",
                       "echo ready; sleep 1000"});
  ASSERT_EQ(run.exit_code, 0) << run.output << Log(d_);
  std::string id = Trim(run.output);
  ASSERT_EQ(id.size(), 64u);
  for (const std::string& fmt :
       {std::string("{{.ID}} {{.Names}} {{.Image}} {{.Command}} {{.Labels}}"),
        std::string("{{.State}}")}) {
    EXPECT_EQ(Berth(d_, {"ps", "--format", fmt}).output, Docker(d_, {"ps", "--format", fmt}).output)
        << fmt;
  }
  EXPECT_EQ(Berth(d_, {"ps", "-q", "--no-trunc"}).output, id + "\n");
  EXPECT_EQ(Berth(d_, {"ps", "--filter", "label=tier=web", "-q"}).output,
            Docker(d_, {"ps", "--filter", "label=tier=web", "-q"}).output);
  for (const std::string& fmt :
       {std::string("{{json .Config}}"), std::string("{{json .State.Running}} {{.Name}}"),
        std::string("{{json .HostConfig.RestartPolicy}}")}) {
    EXPECT_EQ(Berth(d_, {"inspect", "-f", fmt, "bweb"}).output,
              Docker(d_, {"inspect", "-f", fmt, "bweb"}).output)
        << fmt;
  }
  std::string logs;
  for (int i = 0; i < 100 && logs != "ready\n"; ++i) {
    logs = Berth(d_, {"logs", "bweb"}).output;
    if (logs != "ready\n") ::usleep(20000);
  }
  EXPECT_EQ(logs, "ready\n");
  Run rm = Berth(d_, {"rm", "bweb"});
  EXPECT_EQ(rm.exit_code, 1);
  EXPECT_NE(rm.output.find("You cannot remove a running container"), std::string::npos)
      << rm.output;
  EXPECT_EQ(Berth(d_, {"stop", "-t", "1", "bweb"}).exit_code, 0);
  EXPECT_EQ(Trim(Berth(d_, {"wait", "bweb"}).output), "137");
  EXPECT_EQ(Berth(d_, {"rm", "bweb"}).exit_code, 0);
  EXPECT_EQ(Berth(d_, {"ps", "-aq"}).output, "");
}

}  // namespace
}  // namespace berth
