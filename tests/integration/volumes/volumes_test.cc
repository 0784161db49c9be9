// Volumes through the stock docker CLI and berth against berthd: volume create, ls (with
// filters), inspect, rm, prune, bad names; volumes survive a daemon restart.
#include <signal.h>

#include <chrono>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "base/file.h"
#include "base/strings.h"
#include "daemon_fixture.h"

namespace berth {
namespace {

class VolumesTest : public testing::DaemonFixture {
 protected:
  void SetUp() override {
    DaemonFixture::SetUp();
    d_ = StartDaemon("d", root_);
    ASSERT_TRUE(WaitReady(d_));
  }
  static std::string Trim(const std::string& s) { return std::string(TrimSpace(s)); }

  Daemon d_;
};

TEST_F(VolumesTest, DockerCreateInspectLsRm) {
  BERTH_SKIP_WITHOUT_DOCKER();
  Run create = Docker(d_, {"volume", "create", "--label", "env=prod", "data"});
  ASSERT_EQ(create.exit_code, 0) << create.output << Log(d_);
  EXPECT_EQ(create.output, "data\n");
  EXPECT_TRUE(PathExists(root_ + "/volumes/data/_data"));

  Run inspect = Docker(d_, {"volume", "inspect", "-f",
                            "{{.Name}} {{.Driver}} {{.Mountpoint}} {{.Scope}} {{.Labels.env}}",
                            "data"});
  EXPECT_EQ(inspect.exit_code, 0) << inspect.output;
  EXPECT_EQ(Trim(inspect.output), "data local " + root_ + "/volumes/data/_data local prod");
  Run json = Docker(d_, {"volume", "inspect", "data"});
  EXPECT_EQ(json.exit_code, 0) << json.output;
  EXPECT_NE(json.output.find("\"CreatedAt\": \""), std::string::npos) << json.output;
  EXPECT_LT(json.output.find("\"CreatedAt\""), json.output.find("\"Driver\"")) << json.output;

  ASSERT_EQ(Docker(d_, {"volume", "create", "other"}).exit_code, 0);
  Run ls = Docker(d_, {"volume", "ls"});
  EXPECT_EQ(ls.exit_code, 0) << ls.output;
  EXPECT_EQ(ls.output,
            "DRIVER    VOLUME NAME\n"
            "local     data\n"
            "local     other\n");
  EXPECT_EQ(Docker(d_, {"volume", "ls", "-q", "--filter", "label=env=prod"}).output, "data\n");
  EXPECT_EQ(Docker(d_, {"volume", "ls", "-q", "--filter", "name=oth"}).output, "other\n");
  EXPECT_EQ(Docker(d_, {"volume", "ls", "-q", "--filter", "dangling=true"}).output,
            "data\nother\n");
  Run bad_filter = Docker(d_, {"volume", "ls", "--filter", "color=red"});
  EXPECT_NE(bad_filter.exit_code, 0);
  EXPECT_NE(bad_filter.output.find("invalid filter 'color'"), std::string::npos)
      << bad_filter.output;

  Run rm = Docker(d_, {"volume", "rm", "data", "other"});
  EXPECT_EQ(rm.exit_code, 0) << rm.output;
  EXPECT_EQ(rm.output, "data\nother\n");
  EXPECT_EQ(testing::CountEntries(root_ + "/volumes"), 0u);
  EXPECT_EQ(Docker(d_, {"volume", "ls", "-q"}).output, "");
}

TEST_F(VolumesTest, MissingVolumeErrorsAreDockers) {
  BERTH_SKIP_WITHOUT_DOCKER();
  Run inspect = Docker(d_, {"volume", "inspect", "nope"});
  EXPECT_EQ(inspect.exit_code, 1);
  EXPECT_NE(inspect.output.find("get nope: no such volume"), std::string::npos) << inspect.output;
  Run rm = Docker(d_, {"volume", "rm", "nope"});
  EXPECT_EQ(rm.exit_code, 1);
  EXPECT_NE(rm.output.find("Error response from daemon: get nope: no such volume"),
            std::string::npos)
      << rm.output;
  EXPECT_EQ(Docker(d_, {"volume", "rm", "-f", "nope"}).exit_code, 0);
}

TEST_F(VolumesTest, BadNamesCreateNothing) {
  BERTH_SKIP_WITHOUT_DOCKER();
  for (const char* name : {"a/b", "..", "../x", "x", ".x"}) {
    Run bad = Docker(d_, {"volume", "create", name});
    EXPECT_EQ(bad.exit_code, 1) << name;
    EXPECT_NE(bad.output.find("Error response from daemon:"), std::string::npos) << bad.output;
    Run bad2 = Berth(d_, {"volume", "create", name});
    EXPECT_EQ(bad2.exit_code, 1) << name << bad2.output;
  }
  Run opt = Docker(d_, {"volume", "create", "-o", "colour=red", "vv"});
  EXPECT_EQ(opt.exit_code, 1);
  EXPECT_NE(opt.output.find("invalid option key: \"colour\""), std::string::npos) << opt.output;
  EXPECT_EQ(testing::CountEntries(root_ + "/volumes"), 0u);
  EXPECT_EQ(Docker(d_, {"volume", "ls", "-q"}).output, "");
}

TEST_F(VolumesTest, BerthCommandsMatchDocker) {
  Run create = Berth(d_, {"volume", "create", "--label", "k=v", "-o", "type=tmpfs", "-o",
                          "device=tmpfs", "bvol"});
  ASSERT_EQ(create.exit_code, 0) << create.output << Log(d_);
  EXPECT_EQ(create.output, "bvol\n");
  Run anon = Berth(d_, {"volume", "create"});
  ASSERT_EQ(anon.exit_code, 0) << anon.output;
  EXPECT_EQ(Trim(anon.output).size(), 64u) << anon.output;
  Run ls = Berth(d_, {"volume", "ls", "--format", "{{.Name}} {{.Labels}}", "-f", "name=bvol"});
  EXPECT_EQ(ls.output, "bvol k=v\n");
  Run inspect = Berth(d_, {"volume", "inspect", "bvol"});
  EXPECT_EQ(inspect.exit_code, 0);
  EXPECT_NE(inspect.output.find("\"type\": \"tmpfs\""), std::string::npos) << inspect.output;
  EXPECT_EQ(inspect.output.substr(0, 7), "[\n    {") << inspect.output;
  Run missing = Berth(d_, {"volume", "inspect", "nope"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.output.find("get nope: no such volume"), std::string::npos);

  // prune: anonymous only unless -a.
  Run prune = Berth(d_, {"volume", "prune", "-f"});
  EXPECT_EQ(prune.exit_code, 0) << prune.output;
  EXPECT_EQ(prune.output, "Deleted Volumes:\n" + Trim(anon.output) +
                              "\n\nTotal reclaimed space: 0B\n");
  EXPECT_EQ(Berth(d_, {"volume", "ls", "-q"}).output, "bvol\n");
  Run all = Berth(d_, {"volume", "prune", "-f", "-a"});
  EXPECT_EQ(all.output, "Deleted Volumes:\nbvol\n\nTotal reclaimed space: 0B\n");
  Run none = Berth(d_, {"volume", "prune", "-f"});
  EXPECT_EQ(none.output, "Total reclaimed space: 0B\n");
  EXPECT_EQ(testing::CountEntries(root_ + "/volumes"), 0u);
}

TEST_F(VolumesTest, DockerPruneAllAndReclaimedSpace) {
  BERTH_SKIP_WITHOUT_DOCKER();
  ASSERT_EQ(Docker(d_, {"volume", "create", "keep"}).exit_code, 0);
  ASSERT_TRUE(WriteFileAtomic(root_ + "/volumes/keep/_data/f", std::string(2000, 'x')).ok());
  Run prune = Docker(d_, {"volume", "prune", "-f"});
  EXPECT_EQ(prune.exit_code, 0) << prune.output;
  EXPECT_EQ(prune.output, "Total reclaimed space: 0B\n");
  Run all = Docker(d_, {"volume", "prune", "-f", "--all"});
  EXPECT_EQ(all.exit_code, 0) << all.output;
  EXPECT_EQ(all.output, "Deleted Volumes:\nkeep\n\nTotal reclaimed space: 2kB\n");
}

TEST_F(VolumesTest, VolumesSurviveARestart) {
  ASSERT_EQ(Berth(d_, {"volume", "create", "--label", "a=b", "persist"}).exit_code, 0);
  ASSERT_TRUE(WriteFileAtomic(root_ + "/volumes/persist/_data/f", "kept").ok());
  ASSERT_EQ(::kill(d_.pid, SIGTERM), 0);
  ASSERT_TRUE(testing::WaitExit(d_.pid, std::chrono::seconds(30)).has_value());
  Forget(d_.pid);
  d_ = StartDaemon("d2", root_);
  ASSERT_TRUE(WaitReady(d_));
  Run inspect = Berth(d_, {"volume", "inspect", "-f", "{{.Name}} {{.Labels.a}}", "persist"});
  EXPECT_EQ(inspect.output, "persist b\n") << Log(d_);
  Result<std::string> kept = ReadFile(root_ + "/volumes/persist/_data/f");
  ASSERT_TRUE(kept.ok());
  EXPECT_EQ(*kept, "kept");
}

}  // namespace
}  // namespace berth
