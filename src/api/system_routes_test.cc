#include "api/system_routes.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "api/request.h"
#include "api/router.h"
#include "api/testing/recording_response_writer.h"

namespace berth::api {
namespace {

class FakeSystem : public engine::SystemBackend {
 public:
  Result<engine::SystemInfo> Info() override {
    if (fail) return MakeError(Code::kUnavailable, "backend down");
    engine::SystemInfo i;
    i.id = "a1b2";
    i.counts = {3, 1, 0, 2, 5};
    i.driver = "overlay2";
    i.driver_status = {{"Backing Filesystem", "extfs"}};
    i.root_dir = "/var/lib/berth";
    i.host.kernel_version = "6.1.0";
    i.host.operating_system = "Debian GNU/Linux 12 (bookworm)";
    i.host.architecture = "x86_64";
    i.host.ncpu = 2;
    i.host.mem_total = 1024;
    i.host.hostname = "box";
    i.host.cgroup.version = "2";
    i.host.cgroup.memory_limit = true;
    i.registry.insecure_cidrs = {"127.0.0.0/8"};
    i.registry.indexes = {{"docker.io", {"https://m.example/"}, true, true}};
    i.registry.mirrors = {"https://m.example/"};
    i.server_version = "0.1.0";
    i.default_runtime = "berth";
    i.runtimes = runtimes;
    i.security_options = {"name=seccomp,profile=builtin"};
    return i;
  }
  engine::VersionInfo Version() override {
    return engine::VersionInfo{
        {"0.1.0", "abc1234", "2026-01-01T00:00:00.000000000+00:00", "g++ 12.2.0"},
        "Berth Engine",
        "linux",
        "amd64",
        "6.1.0"};
  }
  bool fail = false;
  std::vector<std::string> runtimes = {"berth"};
};

class SystemRoutesTest : public ::testing::Test {
 protected:
  SystemRoutesTest() { RegisterSystemRoutes(router_, backend_); }

  Status Call(const std::string& method, const std::string& path,
              testing::RecordingResponseWriter& w) {
    auto m = router_.Find(method, path);
    if (!m) return MakeError(Code::kNotFound, "no route");
    StringReader body("");
    Request req(method, path, "1.43", m->params, {}, {}, &body);
    return (*m->handler)(req, w);
  }

  FakeSystem backend_;
  Router router_;
};

TEST_F(SystemRoutesTest, PingAnswersOkWithNoCacheHeaders) {
  testing::RecordingResponseWriter get;
  ASSERT_TRUE(Call("GET", "/_ping", get));
  EXPECT_EQ(get.status(), 200);
  EXPECT_EQ(get.body(), "OK");
  EXPECT_EQ(get.content_type(), "text/plain; charset=utf-8");
  EXPECT_EQ(get.header("Cache-Control"), "no-cache, no-store, must-revalidate");
  EXPECT_EQ(get.header("Pragma"), "no-cache");

  testing::RecordingResponseWriter head;
  ASSERT_TRUE(Call("HEAD", "/_ping", head));
  EXPECT_EQ(head.status(), 200);
  EXPECT_EQ(head.body(), "");
}

TEST_F(SystemRoutesTest, VersionHasDockerdShape) {
  testing::RecordingResponseWriter w;
  ASSERT_TRUE(Call("GET", "/version", w));
  EXPECT_EQ(w.status(), 200);
  EXPECT_EQ(w.content_type(), "application/json");
  nlohmann::json v = nlohmann::json::parse(w.body());
  EXPECT_EQ(v["ApiVersion"], "1.43");
  EXPECT_EQ(v["MinAPIVersion"], "1.24");
  EXPECT_EQ(v["Version"], "0.1.0");
  EXPECT_EQ(v["Os"], "linux");
  EXPECT_EQ(v["Arch"], "amd64");
  EXPECT_EQ(v["GitCommit"], "abc1234");
  EXPECT_EQ(v["KernelVersion"], "6.1.0");
  EXPECT_EQ(v["Platform"]["Name"], "Berth Engine");
  ASSERT_EQ(v["Components"].size(), 1u);
  EXPECT_EQ(v["Components"][0]["Name"], "Engine");
  EXPECT_EQ(v["Components"][0]["Details"]["ApiVersion"], "1.43");
  EXPECT_EQ(v["Components"][0]["Details"]["MinAPIVersion"], "1.24");
}

TEST_F(SystemRoutesTest, InfoHasTheFieldsDockerInfoPrints) {
  testing::RecordingResponseWriter w;
  ASSERT_TRUE(Call("GET", "/info", w));
  nlohmann::json i = nlohmann::json::parse(w.body());
  EXPECT_EQ(i["ID"], "a1b2");
  EXPECT_EQ(i["Containers"], 3);
  EXPECT_EQ(i["ContainersRunning"], 1);
  EXPECT_EQ(i["ContainersStopped"], 2);
  EXPECT_EQ(i["Images"], 5);
  EXPECT_EQ(i["Driver"], "overlay2");
  EXPECT_EQ(i["DriverStatus"][0][0], "Backing Filesystem");
  EXPECT_EQ(i["DockerRootDir"], "/var/lib/berth");
  EXPECT_EQ(i["CgroupDriver"], "cgroupfs");
  EXPECT_EQ(i["CgroupVersion"], "2");
  EXPECT_EQ(i["MemoryLimit"], true);
  EXPECT_EQ(i["OSType"], "linux");
  EXPECT_EQ(i["Architecture"], "x86_64");
  EXPECT_EQ(i["NCPU"], 2);
  EXPECT_EQ(i["MemTotal"], 1024);
  EXPECT_EQ(i["Name"], "box");
  EXPECT_EQ(i["ServerVersion"], "0.1.0");
  EXPECT_EQ(i["DefaultRuntime"], "berth");
  EXPECT_TRUE(i["Runtimes"].contains("berth"));
  EXPECT_EQ(i["SecurityOptions"][0], "name=seccomp,profile=builtin");
  EXPECT_EQ(i["RegistryConfig"]["InsecureRegistryCIDRs"][0], "127.0.0.0/8");
  EXPECT_EQ(i["RegistryConfig"]["IndexConfigs"]["docker.io"]["Official"], true);
  EXPECT_EQ(i["RegistryConfig"]["Mirrors"][0], "https://m.example/");
  EXPECT_EQ(i["Swarm"]["LocalNodeState"], "inactive");
  EXPECT_TRUE(i["Plugins"]["Volume"].is_array());
}

// The keys of a JSON object in the order they appear in `body`.
std::vector<std::string> KeysInOrder(const nlohmann::ordered_json& j) {
  std::vector<std::string> keys;
  for (auto it = j.begin(); it != j.end(); ++it) keys.push_back(it.key());
  return keys;
}

TEST_F(SystemRoutesTest, VersionKeysComeInDockerdOrder) {
  testing::RecordingResponseWriter w;
  ASSERT_TRUE(Call("GET", "/version", w));
  auto v = nlohmann::ordered_json::parse(w.body());
  // types.Version's field order (Experimental is omitempty and false).
  EXPECT_EQ(KeysInOrder(v),
            (std::vector<std::string>{"Platform", "Components", "Version", "ApiVersion",
                                      "MinAPIVersion", "GitCommit", "GoVersion", "Os", "Arch",
                                      "KernelVersion", "BuildTime"}));
  EXPECT_EQ(KeysInOrder(v["Components"][0]),
            (std::vector<std::string>{"Name", "Version", "Details"}));
  // Details is a Go map: sorted, as in the captured dockerd reply.
  EXPECT_EQ(
      KeysInOrder(v["Components"][0]["Details"]),
      (std::vector<std::string>{"ApiVersion", "Arch", "BuildTime", "Experimental", "GitCommit",
                                "GoVersion", "KernelVersion", "MinAPIVersion", "Os"}));
}

TEST_F(SystemRoutesTest, InfoKeysComeInDockerdOrder) {
  backend_.runtimes = {"runc", "berth"};
  testing::RecordingResponseWriter w;
  ASSERT_TRUE(Call("GET", "/info", w));
  auto i = nlohmann::ordered_json::parse(w.body());
  // types.Info's field order (moby v24, API 1.43), omitempty fields left out.
  EXPECT_EQ(KeysInOrder(i), (std::vector<std::string>{"ID",
                                                      "Containers",
                                                      "ContainersRunning",
                                                      "ContainersPaused",
                                                      "ContainersStopped",
                                                      "Images",
                                                      "Driver",
                                                      "DriverStatus",
                                                      "Plugins",
                                                      "MemoryLimit",
                                                      "SwapLimit",
                                                      "KernelMemoryTCP",
                                                      "CpuCfsPeriod",
                                                      "CpuCfsQuota",
                                                      "CPUShares",
                                                      "CPUSet",
                                                      "PidsLimit",
                                                      "IPv4Forwarding",
                                                      "BridgeNfIptables",
                                                      "BridgeNfIp6tables",
                                                      "Debug",
                                                      "NFd",
                                                      "OomKillDisable",
                                                      "NGoroutines",
                                                      "SystemTime",
                                                      "LoggingDriver",
                                                      "CgroupDriver",
                                                      "CgroupVersion",
                                                      "NEventsListener",
                                                      "KernelVersion",
                                                      "OperatingSystem",
                                                      "OSVersion",
                                                      "OSType",
                                                      "Architecture",
                                                      "IndexServerAddress",
                                                      "RegistryConfig",
                                                      "NCPU",
                                                      "MemTotal",
                                                      "GenericResources",
                                                      "DockerRootDir",
                                                      "HttpProxy",
                                                      "HttpsProxy",
                                                      "NoProxy",
                                                      "Name",
                                                      "Labels",
                                                      "ExperimentalBuild",
                                                      "ServerVersion",
                                                      "Runtimes",
                                                      "DefaultRuntime",
                                                      "Swarm",
                                                      "LiveRestoreEnabled",
                                                      "Isolation",
                                                      "InitBinary",
                                                      "ContainerdCommit",
                                                      "RuncCommit",
                                                      "InitCommit",
                                                      "SecurityOptions",
                                                      "Warnings"}));
  EXPECT_EQ(KeysInOrder(i["Plugins"]),
            (std::vector<std::string>{"Volume", "Network", "Authorization", "Log"}));
  EXPECT_EQ(KeysInOrder(i["RegistryConfig"]),
            (std::vector<std::string>{"AllowNondistributableArtifactsCIDRs",
                                      "AllowNondistributableArtifactsHostnames",
                                      "InsecureRegistryCIDRs", "IndexConfigs", "Mirrors"}));
  EXPECT_EQ(KeysInOrder(i["RegistryConfig"]["IndexConfigs"]["docker.io"]),
            (std::vector<std::string>{"Name", "Mirrors", "Secure", "Official"}));
  // Runtimes is a Go map: sorted by name, whatever order the backend lists them in.
  EXPECT_EQ(KeysInOrder(i["Runtimes"]), (std::vector<std::string>{"berth", "runc"}));
  EXPECT_EQ(KeysInOrder(i["Swarm"]),
            (std::vector<std::string>{"NodeID", "NodeAddr", "LocalNodeState", "ControlAvailable",
                                      "Error", "RemoteManagers"}));
}

TEST_F(SystemRoutesTest, InfoBackendErrorIsReturnedForTheServerToMap) {
  backend_.fail = true;
  testing::RecordingResponseWriter w;
  Status st = Call("GET", "/info", w);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, Code::kUnavailable);
  EXPECT_FALSE(w.started());
}

}  // namespace
}  // namespace berth::api
