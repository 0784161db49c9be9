// berthd as a user runs it: the real binary on a temp state root and unix socket, talked to
// by the stock docker CLI. Every daemon started here is stopped in TearDown.
#include <signal.h>

#include <chrono>
#include <optional>
#include <string>

#include <gtest/gtest.h>

#include "base/file.h"
#include "daemon_fixture.h"

namespace berth {
namespace {

using testing::PingOnce;
using testing::WaitExit;
constexpr auto kTimeout = std::chrono::seconds(60);

class BerthdTest : public testing::DaemonFixture {};

#define SKIP_WITHOUT_DOCKER() BERTH_SKIP_WITHOUT_DOCKER()

TEST_F(BerthdTest, DockerVersionTalksToBerthd) {
  SKIP_WITHOUT_DOCKER();
  Daemon d = StartDaemon("a", root_);
  ASSERT_TRUE(WaitReady(d));
  Run r = Docker(d, {"version"});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("Server: Berth Engine"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("1.43 (minimum version 1.24)"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("1.43 (downgraded from"), std::string::npos) << r.output;
}

TEST_F(BerthdTest, DockerInfoShowsOurStorageAndRoot) {
  SKIP_WITHOUT_DOCKER();
  Daemon d = StartDaemon("a", root_, {"--insecure-registry", "myreg.example:5000"});
  ASSERT_TRUE(WaitReady(d));
  Run r = Docker(d, {"info"});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("Storage Driver: overlay2"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("Docker Root Dir: " + root_ + "\n"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("Cgroup Driver: cgroupfs"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("Images: 0"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("myreg.example:5000"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("127.0.0.0/8"), std::string::npos) << r.output;
}

TEST_F(BerthdTest, ApiVersionOutsideTheRangeIsRefusedWithDockerdMessages) {
  SKIP_WITHOUT_DOCKER();
  Daemon d = StartDaemon("a", root_);
  ASSERT_TRUE(WaitReady(d));
  Run old = Docker(d, {"version"}, {"DOCKER_API_VERSION=1.12"});
  EXPECT_NE(old.exit_code, 0);
  EXPECT_NE(old.output.find("client version 1.12 is too old. Minimum supported API version is "
                            "1.24, please upgrade your client to a newer version"),
            std::string::npos)
      << old.output;
  Run fresh = Docker(d, {"version"}, {"DOCKER_API_VERSION=1.44"});
  EXPECT_NE(fresh.exit_code, 0);
  EXPECT_NE(
      fresh.output.find("client version 1.44 is too new. Maximum supported API version is 1.43"),
      std::string::npos)
      << fresh.output;
}

TEST_F(BerthdTest, SecondDaemonOnTheSameRootExitsWithTheLockMessage) {
  Daemon first = StartDaemon("a", root_);
  ASSERT_TRUE(WaitReady(first));
  Daemon second = StartDaemon("b", root_);
  ASSERT_GT(second.pid, 0);
  std::optional<int> code = WaitExit(second.pid, kTimeout);
  ASSERT_TRUE(code) << "second berthd kept running";
  Forget(second.pid);
  EXPECT_NE(*code, 0);
  EXPECT_NE(Log(second).find("in use by another berthd (pid " + std::to_string(first.pid) + ")"),
            std::string::npos)
      << Log(second);
  EXPECT_FALSE(PathExists(second.socket));
  EXPECT_TRUE(PingOnce(first.socket));  // the first one is untouched
}

TEST_F(BerthdTest, SigtermExitsZeroAndRemovesSocketAndPidfile) {
  Daemon d = StartDaemon("a", root_);
  ASSERT_TRUE(WaitReady(d));
  ASSERT_TRUE(PathExists(d.pidfile));
  ASSERT_EQ(::kill(d.pid, SIGTERM), 0);
  std::optional<int> code = WaitExit(d.pid, kTimeout);
  ASSERT_TRUE(code) << "berthd ignored SIGTERM";
  Forget(d.pid);
  EXPECT_EQ(*code, 0) << Log(d);
  EXPECT_FALSE(PathExists(d.socket));
  EXPECT_FALSE(PathExists(d.pidfile));
  // The lock went with it: a new daemon takes the same root.
  Daemon again = StartDaemon("c", root_);
  EXPECT_TRUE(WaitReady(again));
}

TEST_F(BerthdTest, SettingInBothFlagAndConfigFileIsRefused) {
  ASSERT_TRUE(WriteFileAtomic(dir_ + "/daemon.json", R"({"data-root": "/srv/elsewhere"})"));
  Daemon d = StartDaemon("a", root_);
  ASSERT_GT(d.pid, 0);
  std::optional<int> code = WaitExit(d.pid, kTimeout);
  ASSERT_TRUE(code);
  Forget(d.pid);
  EXPECT_NE(*code, 0);
  EXPECT_NE(Log(d).find("the following directives are specified both as a flag and in the "
                        "configuration file: data-root: (from flag: " +
                        root_ + ", from file: /srv/elsewhere)"),
            std::string::npos)
      << Log(d);
}

}  // namespace
}  // namespace berth
