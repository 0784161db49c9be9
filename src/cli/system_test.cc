// version and info against a FakeTransport.
#include <gtest/gtest.h>

#include "cli/testing/cli_fixture.h"

namespace berth::cli {
namespace {

using testing::CliTest;

constexpr char kVersion[] = R"({"Platform":{"Name":"Berth Engine"},"Components":[
  {"Name":"Engine","Version":"0.1.0","Details":{"ApiVersion":"1.43","MinAPIVersion":"1.24",
   "GitCommit":"abc1234","BuildTime":"2026-11-26T00:00:00Z","Os":"linux","Arch":"amd64",
   "Experimental":"false","KernelVersion":"6.1.0"}},
  {"Name":"berth-shim","Version":"0.1.0","Details":{"GitCommit":"abc1234"}}],
  "Version":"0.1.0","ApiVersion":"1.43","MinAPIVersion":"1.24","Os":"linux","Arch":"amd64"})";

class VersionTest : public CliTest {
 protected:
  void SetUp() override {
    CliTest::SetUp();
    fake_.On("GET /v1.43/version", {200, kVersion, {}});
  }
};

TEST_F(VersionTest, ClientAndServerSections) {
  ASSERT_EQ(RunCli({"version"}), 0) << err_;
  EXPECT_TRUE(out_.starts_with("Client:\n Version:           ")) << out_;
  EXPECT_NE(out_.find("\n API version:       1.43\n"), std::string::npos) << out_;
  EXPECT_NE(out_.find("\n Context:           default\n\nServer: Berth Engine\n Engine:\n"
                      "  Version:          0.1.0\n"
                      "  API version:      1.43 (minimum version 1.24)\n"
                      "  Git commit:       abc1234\n"
                      "  Built:            2026-11-26T00:00:00Z\n"
                      "  OS/Arch:          linux/amd64\n"
                      "  Experimental:     false\n"
                      " berth-shim:\n"
                      "  Version:          0.1.0\n"
                      "  GitCommit:        abc1234\n"),
            std::string::npos)
      << out_;
  EXPECT_EQ(OnlyRequest().path, "/v1.43/version");
}

TEST_F(VersionTest, DowngradedApiVersionIsShown) {
  fake_.On("HEAD /_ping", {200, "", {{"api-version", "1.41"}}});
  fake_.On("GET /v1.41/version", {200, kVersion, {}});
  ASSERT_EQ(RunCli({"version"}), 0) << err_;
  EXPECT_NE(out_.find(" API version:       1.41 (downgraded from 1.43)\n"), std::string::npos)
      << out_;
}

TEST_F(VersionTest, Format) {
  ASSERT_EQ(
      RunCli({"version", "--format", "{{.Server.Version}} {{.Server.APIVersion}} {{.Client.Os}}"}),
      0)
      << err_;
  EXPECT_EQ(out_, "0.1.0 1.43 linux\n");
}

TEST_F(VersionTest, UnreachableDaemonStillShowsTheClient) {
  fake_.SetUnreachable();
  EXPECT_EQ(RunCli({"version"}), 1);
  EXPECT_TRUE(out_.starts_with("Client:\n")) << out_;
  EXPECT_EQ(out_.find("Server"), std::string::npos) << out_;
  EXPECT_EQ(err_,
            "Cannot connect to the Berth daemon at unix:///run/berth/berth.sock. Is the berth "
            "daemon running?\n");
}

constexpr char kInfo[] = R"({"ID":"ABCD","Containers":3,"ContainersRunning":1,
  "ContainersPaused":0,"ContainersStopped":2,"Images":5,"Driver":"overlayfs",
  "DriverStatus":[["Backing Filesystem","extfs"]],"LoggingDriver":"json-file",
  "CgroupDriver":"cgroupfs","CgroupVersion":"2","KernelVersion":"6.1.0","OperatingSystem":"Debian GNU/Linux 12",
  "OSType":"linux","Architecture":"x86_64","NCPU":2,"MemTotal":2087653376,"Name":"host1",
  "ServerVersion":"0.1.0","DockerRootDir":"/var/lib/berth","Debug":false,"ExperimentalBuild":false,
  "RegistryConfig":{"InsecureRegistryCIDRs":["127.0.0.0/8"],"IndexConfigs":{},"Mirrors":[]},
  "LiveRestoreEnabled":false,"Warnings":["WARNING: No swap limit support"]})";

class InfoTest : public CliTest {
 protected:
  void SetUp() override {
    CliTest::SetUp();
    fake_.On("GET /v1.43/info", {200, kInfo, {}});
  }
};

TEST_F(InfoTest, LayoutLikeDockerInfo) {
  ASSERT_EQ(RunCli({"info"}), 0) << err_;
  EXPECT_NE(out_.find("Server:\n Containers: 3\n  Running: 1\n  Paused: 0\n  Stopped: 2\n"
                      " Images: 5\n Server Version: 0.1.0\n Storage Driver: overlayfs\n"
                      "  Backing Filesystem: extfs\n"),
            std::string::npos)
      << out_;
  EXPECT_NE(out_.find(" CPUs: 2\n Total Memory: 1.944GiB\n Name: host1\n ID: ABCD\n"),
            std::string::npos)
      << out_;
  EXPECT_NE(out_.find(" Insecure Registries:\n  127.0.0.0/8\n Live Restore Enabled: false\n"),
            std::string::npos)
      << out_;
  EXPECT_EQ(err_, "WARNING: No swap limit support\n");
}

TEST_F(InfoTest, Format) {
  ASSERT_EQ(RunCli({"info", "--format", "{{.ServerVersion}} {{.NCPU}} {{.ClientInfo.Context}}"}), 0)
      << err_;
  EXPECT_EQ(out_, "0.1.0 2 default\n");
  ASSERT_EQ(RunCli({"info", "-f", "{{json .RegistryConfig.InsecureRegistryCIDRs}}"}), 0);
  EXPECT_EQ(out_, "[\"127.0.0.0/8\"]\n");
}

TEST_F(InfoTest, DaemonErrorAfterClientSection) {
  fake_.On("GET /v1.43/info", {500, R"({"message":"boom"})", {}});
  EXPECT_EQ(RunCli({"info"}), 1);
  EXPECT_TRUE(out_.starts_with("Client:\n Version:")) << out_;
  EXPECT_EQ(out_.find("Server:"), std::string::npos) << out_;
  EXPECT_EQ(err_, "Error response from daemon: boom\n");
}

}  // namespace
}  // namespace berth::cli
