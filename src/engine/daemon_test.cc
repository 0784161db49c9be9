#include "engine/daemon.h"

#include <stdlib.h>
#include <unistd.h>

#include <string>

#include <gtest/gtest.h>

#include "base/file.h"

namespace berth::engine {
namespace {

class DaemonTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/berth-daemon-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    config_.data_root = dir_ + "/root";
    config_.exec_root = dir_ + "/exec";
    config_.pidfile = dir_ + "/exec/berthd.pid";
    Result<Config> c = ValidateConfig(config_);
    ASSERT_TRUE(c);
    config_ = *c;
  }
  void TearDown() override { EXPECT_TRUE(RemoveAll(dir_)); }
  std::string dir_;
  Config config_;
};

TEST_F(DaemonTest, OpenCreatesLayoutPidfileAndStableId) {
  std::string id;
  {
    Result<std::unique_ptr<Daemon>> d = Daemon::Open(config_);
    ASSERT_TRUE(d) << d.error().message;
    for (const char* sub : {"/content/blobs/sha256", "/content/ingest", "/snapshots", "/containers",
                            "/volumes", "/meta.db", "/berth.lock", "/engine-id"}) {
      EXPECT_TRUE(PathExists(config_.data_root + sub)) << sub;
    }
    EXPECT_TRUE(PathExists(config_.pidfile));
    id = (*d)->id();
    EXPECT_EQ(id.size(), 36u);
  }
  EXPECT_FALSE(PathExists(config_.pidfile));
  Result<std::unique_ptr<Daemon>> again = Daemon::Open(config_);
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ((*again)->id(), id);
}

TEST_F(DaemonTest, SecondDaemonOnTheSameRootIsRefused) {
  Result<std::unique_ptr<Daemon>> first = Daemon::Open(config_);
  ASSERT_TRUE(first);
  Config other = config_;
  other.pidfile = dir_ + "/other.pid";
  Result<std::unique_ptr<Daemon>> second = Daemon::Open(other);
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().code, Code::kFailedPrecondition);
  EXPECT_NE(second.error().message.find("in use by another berthd (pid " +
                                        std::to_string(::getpid()) + ")"),
            std::string::npos)
      << second.error().message;
  EXPECT_FALSE(PathExists(other.pidfile));
}

TEST_F(DaemonTest, InfoReportsRootCountsAndRegistryConfig) {
  config_.insecure_registries = {"10.0.0.0/8", "myreg:5000"};
  Result<std::unique_ptr<Daemon>> d = Daemon::Open(config_);
  ASSERT_TRUE(d);
  Result<SystemInfo> info = (*d)->system().Info();
  ASSERT_TRUE(info);
  EXPECT_EQ(info->root_dir, config_.data_root);
  EXPECT_EQ(info->driver, "overlay2");
  EXPECT_EQ(info->id, (*d)->id());
  EXPECT_EQ(info->counts.images, 0);
  EXPECT_EQ(info->registry.insecure_cidrs, (std::vector<std::string>{"127.0.0.0/8", "10.0.0.0/8"}));
  ASSERT_EQ(info->registry.indexes.size(), 2u);
  EXPECT_EQ(info->registry.indexes[0].name, "docker.io");
  EXPECT_TRUE(info->registry.indexes[0].official);
  EXPECT_EQ(info->registry.indexes[1].name, "myreg:5000");
  EXPECT_FALSE(info->registry.indexes[1].secure);
  EXPECT_GT(info->open_fds, 0);
  EXPECT_FALSE(info->host.cgroup.version.empty());
  VersionInfo v = (*d)->system().Version();
  EXPECT_EQ(v.os, "linux");
  EXPECT_FALSE(v.build.version.empty());
}

}  // namespace
}  // namespace berth::engine
