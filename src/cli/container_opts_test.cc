#include "cli/internal/container_opts.h"

#include <gtest/gtest.h>

#include "cli/testing/cli_fixture.h"

namespace berth::cli {
namespace {

using json = nlohmann::ordered_json;
using testing::CliTest;

// The body docker 28.2.2 sent for `docker run --rm --network none busybox:anchor echo hi`
// (specs/docker-engine-api/docker-cli-capture.txt, appendix).
constexpr std::string_view kCapturedRunBody =
    R"({"Hostname":"","Domainname":"","User":"","AttachStdin":false,"AttachStdout":true,)"
    R"("AttachStderr":true,"Tty":false,"OpenStdin":false,"StdinOnce":false,"Env":null,)"
    R"("Cmd":["echo","hi"],"Image":"busybox:anchor","Volumes":{},"WorkingDir":"",)"
    R"("Entrypoint":null,"OnBuild":null,"Labels":{},"HostConfig":{"Binds":null,)"
    R"("ContainerIDFile":"","LogConfig":{"Type":"","Config":{}},"NetworkMode":"none",)"
    R"("PortBindings":{},"RestartPolicy":{"Name":"no","MaximumRetryCount":0},)"
    R"("AutoRemove":true,"VolumeDriver":"","VolumesFrom":null,"ConsoleSize":[0,0],)"
    R"("CapAdd":null,"CapDrop":null,"CgroupnsMode":"","Dns":[],"DnsOptions":[],)"
    R"("DnsSearch":[],"ExtraHosts":null,"GroupAdd":null,"IpcMode":"","Cgroup":"",)"
    R"("Links":null,"OomScoreAdj":0,"PidMode":"","Privileged":false,)"
    R"("PublishAllPorts":false,"ReadonlyRootfs":false,"SecurityOpt":null,"UTSMode":"",)"
    R"("UsernsMode":"","ShmSize":0,"Isolation":"","CpuShares":0,"Memory":0,"NanoCpus":0,)"
    R"("CgroupParent":"","BlkioWeight":0,"BlkioWeightDevice":[],"BlkioDeviceReadBps":[],)"
    R"("BlkioDeviceWriteBps":[],"BlkioDeviceReadIOps":[],"BlkioDeviceWriteIOps":[],)"
    R"("CpuPeriod":0,"CpuQuota":0,"CpuRealtimePeriod":0,"CpuRealtimeRuntime":0,)"
    R"("CpusetCpus":"","CpusetMems":"","Devices":[],"DeviceCgroupRules":null,)"
    R"("DeviceRequests":null,"MemoryReservation":0,"MemorySwap":0,"MemorySwappiness":-1,)"
    R"("OomKillDisable":false,"PidsLimit":0,"Ulimits":[],"CpuCount":0,"CpuPercent":0,)"
    R"("IOMaximumIOps":0,"IOMaximumBandwidth":0,"MaskedPaths":null,"ReadonlyPaths":null},)"
    R"("NetworkingConfig":{"EndpointsConfig":{}}})";

CreateInput Input(std::string image, std::vector<std::string> cmd) {
  CreateInput in;
  in.image = std::move(image);
  in.command = std::move(cmd);
  in.cwd = "/home/u";
  in.getenv = [](const std::string& name) -> std::optional<std::string> {
    if (name == "FROM_HOST") return "yes";
    return std::nullopt;
  };
  return in;
}

TEST(CreateBodyTest, MatchesTheCapturedDockerBodyKeyForKey) {
  ContainerFlags f;
  f.rm = true;
  f.networks = {"none"};
  Result<json> body = BuildCreateBody(f, Input("busybox:anchor", {"echo", "hi"}));
  ASSERT_TRUE(body.ok()) << body.error().message;
  json want = json::parse(kCapturedRunBody);
  // Field by field first, for a readable failure, then the bytes.
  for (auto it = want.begin(); it != want.end(); ++it) {
    EXPECT_EQ((*body)[it.key()], *it) << it.key();
  }
  EXPECT_EQ(body->dump(), kCapturedRunBody);
}

TEST(CreateBodyTest, DefaultNetworkHasAnEmptyEndpointLikeDocker) {
  ContainerFlags f;
  f.rm = true;
  Result<json> body = BuildCreateBody(f, Input("busybox:anchor", {"echo", "hi"}));
  ASSERT_TRUE(body.ok());
  EXPECT_EQ((*body)["HostConfig"]["NetworkMode"], "default");
  // The capture's default-network body is 1743 bytes with json.Encoder's newline: 264 more
  // than the 1479 of --network none.
  EXPECT_EQ(body->dump().size() + 1, 1743u);
  EXPECT_EQ((*body)["NetworkingConfig"]["EndpointsConfig"]["default"]["GwPriority"], 0);
}

TEST(CreateBodyTest, FlagsLandWhereDockerPutsThem) {
  ContainerFlags f;
  f.interactive = true;
  f.tty = true;
  f.name = "web";
  f.env = {"A=1", "FROM_HOST", "UNSET"};
  f.labels = {"z=1", "a"};
  f.workdir = "/w";
  f.user = "1000:1000";
  f.hostname = "h";
  f.entrypoint = "";
  f.init = true;
  f.read_only = true;
  f.tmpfs = {"/run:rw,size=64m", "/tmp"};
  f.cap_add = {"net_admin", "CAP_SYS_TIME"};
  f.cap_drop = {"ALL"};
  f.privileged = true;
  f.security_opt = {"no-new-privileges", "apparmor:unconfined"};
  f.memory = "512m";
  f.memory_swap = "-1";
  f.cpus = "1.5";
  f.cpu_shares = "512";
  f.pids_limit = "100";
  f.ulimits = {"nofile=1024:2048", "nproc=10"};
  f.restart = "on-failure:3";
  f.stop_signal = "SIGINT";
  f.stop_timeout = "5";
  f.volumes = {"/anon", "vol:/data:ro", "./rel:/rel", "/host:/host"};
  f.mounts = {"type=bind,source=/src,target=/dst,readonly"};
  f.volumes_from = {"other:ro"};
  f.publish = {"8080:80", "127.0.0.1:53:53/udp", "443"};
  f.expose = {"9000-9001"};
  Result<json> body = BuildCreateBody(f, Input("img", {}));
  ASSERT_TRUE(body.ok()) << body.error().message;
  const json& b = *body;
  EXPECT_EQ(b["AttachStdin"], true);
  EXPECT_EQ(b["OpenStdin"], true);
  EXPECT_EQ(b["StdinOnce"], true);
  EXPECT_EQ(b["Tty"], true);
  EXPECT_EQ(b["Env"], json({"A=1", "FROM_HOST=yes", "UNSET"}));
  EXPECT_EQ(b["Cmd"], nullptr);
  EXPECT_EQ(b["Labels"].dump(), R"({"a":"","z":"1"})");
  EXPECT_EQ(b["Entrypoint"], json({""}));
  EXPECT_EQ(b["Volumes"].dump(), R"({"/anon":{}})");
  EXPECT_EQ(b["ExposedPorts"].dump(),
            R"({"443/tcp":{},"53/udp":{},"80/tcp":{},"9000/tcp":{},"9001/tcp":{}})");
  EXPECT_EQ(b["StopSignal"], "SIGINT");
  EXPECT_EQ(b["StopTimeout"], 5);
  // ExposedPorts sits between AttachStderr and Tty, as in container.Config.
  std::vector<std::string> keys;
  for (auto it = b.begin(); it != b.end(); ++it) keys.push_back(it.key());
  EXPECT_EQ(keys[6], "ExposedPorts");
  const json& h = b["HostConfig"];
  EXPECT_EQ(h["Binds"], json({"vol:/data:ro", "/home/u/rel:/rel", "/host:/host"}));
  EXPECT_EQ(h["PortBindings"].dump(), R"({"443/tcp":[{"HostIp":"","HostPort":""}],)"
                                      R"("53/udp":[{"HostIp":"127.0.0.1","HostPort":"53"}],)"
                                      R"("80/tcp":[{"HostIp":"","HostPort":"8080"}]})");
  EXPECT_EQ(h["RestartPolicy"].dump(), R"({"Name":"on-failure","MaximumRetryCount":3})");
  EXPECT_EQ(h["VolumesFrom"], json({"other:ro"}));
  EXPECT_EQ(h["CapAdd"], json({"CAP_NET_ADMIN", "CAP_SYS_TIME"}));
  EXPECT_EQ(h["CapDrop"], json({"ALL"}));
  EXPECT_EQ(h["SecurityOpt"], json({"no-new-privileges", "apparmor=unconfined"}));
  EXPECT_EQ(h["Tmpfs"].dump(), R"({"/run":"rw,size=64m","/tmp":""})");
  EXPECT_EQ(h["Privileged"], true);
  EXPECT_EQ(h["ReadonlyRootfs"], true);
  EXPECT_EQ(h["Memory"], 512 * 1024 * 1024);
  EXPECT_EQ(h["MemorySwap"], -1);
  EXPECT_EQ(h["NanoCpus"], 1500000000);
  EXPECT_EQ(h["CpuShares"], 512);
  EXPECT_EQ(h["PidsLimit"], 100);
  EXPECT_EQ(h["Ulimits"].dump(), R"([{"Name":"nofile","Hard":2048,"Soft":1024},)"
                                 R"({"Name":"nproc","Hard":10,"Soft":10}])");
  EXPECT_EQ(h["Mounts"].dump(),
            R"([{"Type":"bind","Source":"/src","Target":"/dst","ReadOnly":true}])");
  EXPECT_EQ(h["Init"], true);
  EXPECT_EQ(h["NetworkMode"], "default");
}

TEST(CreateBodyTest, DetachAttachesNothing) {
  ContainerFlags f;
  f.interactive = true;
  CreateInput in = Input("img", {"sh"});
  in.detach = true;
  Result<json> body = BuildCreateBody(f, in);
  ASSERT_TRUE(body.ok());
  EXPECT_EQ((*body)["AttachStdin"], false);
  EXPECT_EQ((*body)["AttachStdout"], false);
  EXPECT_EQ((*body)["StdinOnce"], false);
  EXPECT_EQ((*body)["OpenStdin"], true);
}

struct BadFlag {
  const char* name;
  ContainerFlags flags;
  std::string message;
  bool flag_error;
};

TEST(CreateBodyTest, BadValuesFailWithDockersWords) {
  auto with = [](auto set) {
    ContainerFlags f;
    set(f);
    return f;
  };
  std::vector<BadFlag> cases = {
      {"memory", with([](ContainerFlags& f) { f.memory = "1x"; }),
       "invalid argument \"1x\" for \"-m, --memory\" flag: invalid suffix: 'x'", true},
      {"memory_negative", with([](ContainerFlags& f) { f.memory = "-1"; }),
       "invalid argument \"-1\" for \"-m, --memory\" flag: invalid size: '-1'", true},
      {"cpus", with([](ContainerFlags& f) { f.cpus = "abc"; }),
       "invalid argument \"abc\" for \"--cpus\" flag: failed to parse abc as a rational number",
       true},
      {"cpu_shares", with([](ContainerFlags& f) { f.cpu_shares = "x"; }),
       "invalid argument \"x\" for \"-c, --cpu-shares\" flag: strconv.ParseInt: parsing \"x\": "
       "invalid syntax",
       true},
      {"ulimit", with([](ContainerFlags& f) { f.ulimits = {"bogus=1"}; }),
       "invalid argument \"bogus=1\" for \"--ulimit\" flag: invalid ulimit type: bogus", true},
      {"restart_rm", with([](ContainerFlags& f) {
         f.rm = true;
         f.restart = "always";
       }),
       "conflicting options: cannot specify both --restart and --rm", false},
      {"publish", with([](ContainerFlags& f) { f.publish = {"1:2:3:4"}; }),
       "invalid IP address: 1:2", false},
      {"mount", with([](ContainerFlags& f) { f.mounts = {"type=bind,source=/x"}; }),
       "invalid argument \"type=bind,source=/x\" for \"--mount\" flag: target is required", true},
  };
  for (const BadFlag& c : cases) {
    Result<json> body = BuildCreateBody(c.flags, Input("img", {}));
    ASSERT_FALSE(body.ok()) << c.name;
    EXPECT_EQ(body.error().message, c.message) << c.name;
    EXPECT_EQ(IsFlagValueError(body.error()), c.flag_error) << c.name;
  }
}

TEST(CreateBodyTest, NegativeCpusGoToTheDaemon) {
  ContainerFlags f;
  f.cpus = "-1";
  Result<json> body = BuildCreateBody(f, Input("img", {}));
  ASSERT_TRUE(body.ok());
  EXPECT_EQ((*body)["HostConfig"]["NanoCpus"], -1000000000);
}

TEST(ValueParsersTest, RamInBytesAndNanoCpus) {
  EXPECT_EQ(*RamInBytes("1024"), 1024);
  EXPECT_EQ(*RamInBytes("1k"), 1024);
  EXPECT_EQ(*RamInBytes("1.5GiB"), 1610612736);
  EXPECT_EQ(*RamInBytes("2 MB"), 2 * 1024 * 1024);
  EXPECT_EQ(RamInBytes("1kb2").error().message,
            "strconv.ParseFloat: parsing \"1kb2\": invalid syntax");
  EXPECT_EQ(*ParseNanoCpus("0.000000001"), 1);
  EXPECT_EQ(ParseNanoCpus("0.0000000001").error().message, "value is too precise");
}

}  // namespace
}  // namespace berth::cli
