#include <gtest/gtest.h>

#include "cli/internal/container_rows.h"
#include "cli/testing/cli_fixture.h"

namespace berth::cli {
namespace {

using json = nlohmann::ordered_json;
using testing::CliTest;

std::string Frame(char stream, std::string_view payload) {
  std::string out = {stream, 0, 0, 0, 0, 0, 0, static_cast<char>(payload.size())};
  return out + std::string(payload);
}

constexpr std::string_view kPsReply = R"([
 {"Id":"4aedcd5604723227cbb496109cb548fbc9548413f795f7c50a6e676bac2afbc0",
  "Names":["/web"],"Image":"nginx:latest","ImageID":"sha256:aaaa","Command":"/docker-entrypoint.sh nginx -g 'daemon off;'",
  "Created":1699999000,"Ports":[{"IP":"0.0.0.0","PrivatePort":80,"PublicPort":8080,"Type":"tcp"},
  {"PrivatePort":443,"Type":"tcp"}],"Labels":{"b":"2","a":"1"},"State":"running",
  "Status":"Up 16 minutes","HostConfig":{"NetworkMode":"default"},
  "NetworkSettings":{"Networks":{"bridge":{}}},"Mounts":[]},
 {"Id":"d8983798622d8b996962d3b6200da2481d52e0d484420caa893cc085bd7d105c",
  "Names":["/db"],"Image":"sha256:4d6ca0ccc3e17f69e5f7b90844d2ad303fb13fb6d71e35fd5cf0a47a7dce4f9d",
  "ImageID":"sha256:4d6ca0ccc3e17f69e5f7b90844d2ad303fb13fb6d71e35fd5cf0a47a7dce4f9d",
  "Command":"sh","Created":1690000000,"Ports":[],"Labels":{},"State":"exited",
  "Status":"Exited (0) 2 hours ago","SizeRw":12,"SizeRootFs":4261550}
])";

class PsTest : public CliTest {
 protected:
  void SetUp() override {
    CliTest::SetUp();
    fake_.On("GET /v1.43/containers/json", {200, std::string(kPsReply), {}});
  }
};

TEST_F(PsTest, TableLikeDocker) {
  ASSERT_EQ(RunCli({"ps"}), 0) << err_;
  EXPECT_EQ(
      out_,
      "CONTAINER ID   IMAGE          COMMAND                  CREATED          STATUS       "
      "            PORTS                           NAMES\n"
      "4aedcd560472   nginx:latest   \"/docker-entrypoint.…\"   16 minutes ago   Up 16 "
      "minutes            443/tcp, 0.0.0.0:8080->80/tcp   web\n"
      "d8983798622d   4d6ca0ccc3e1   \"sh\"                     3 months ago     Exited (0) 2 "
      "hours ago                                   db\n");
  EXPECT_TRUE(OnlyRequest().query.empty());
}

TEST_F(PsTest, EmptyListIsTheHeaderOnlyAsInTheCapture) {
  fake_.On("GET /v1.43/containers/json", {200, "[]\n", {}});
  ASSERT_EQ(RunCli({"ps", "-a"}), 0) << err_;
  EXPECT_EQ(out_, "CONTAINER ID   IMAGE     COMMAND   CREATED   STATUS    PORTS     NAMES\n");
  EXPECT_EQ(OnlyRequest().query, (Params{{"all", "1"}}));
}

TEST_F(PsTest, QueryFlags) {
  ASSERT_EQ(RunCli({"container", "ls", "-a", "-n", "3", "-s", "--filter", "name=web"}), 0) << err_;
  EXPECT_EQ(
      OnlyRequest().query,
      (Params{
          {"all", "1"}, {"limit", "3"}, {"size", "1"}, {"filters", R"({"name":{"web":true}})"}}));
  EXPECT_NE(out_.find("SIZE"), std::string::npos);
  EXPECT_NE(out_.find("12B (virtual 4.26MB)"), std::string::npos) << out_;
}

TEST_F(PsTest, QuietLatestAndFormats) {
  ASSERT_EQ(RunCli({"ps", "-q", "-l"}), 0);
  EXPECT_EQ(out_, "4aedcd560472\nd8983798622d\n");
  EXPECT_EQ(fake_.ApiRequests()[0].query, (Params{{"limit", "1"}}));
  ASSERT_EQ(
      RunCli({"container", "ps", "--no-trunc", "--format", "{{.Names}} {{.Command}} {{.Labels}}"}),
      0);
  EXPECT_EQ(out_,
            "web \"/docker-entrypoint.sh nginx -g 'daemon off;'\" a=1,b=2\n"
            "db \"sh\" \n");
  ASSERT_EQ(RunCli({"ps", "--format", "{{json .}}"}), 0);
  // Keys sorted, like docker's marshalled formatter context.
  EXPECT_TRUE(out_.starts_with(R"({"Command":"\"/docker-entrypoint.…\"","CreatedAt":)")) << out_;
}

TEST(ContainerRowTest, TruncationLikeDockersFormatter) {
  json c = json::parse(
      R"({"Id":"0123456789abcdef","Image":"docker.io/library/busybox@sha256:abc",)"
      R"("ImageID":"sha256:ffff","Command":"a\tb","Created":0,"Names":["/a","/b/link"]})");
  json row = ContainerRow(c, /*trunc=*/true, 100);
  EXPECT_EQ(row["ID"], "0123456789ab");
  EXPECT_EQ(row["Image"], "busybox");
  EXPECT_EQ(row["Command"], "\"a\\tb\"");
  EXPECT_EQ(row["Names"], "a");
  json full = ContainerRow(c, /*trunc=*/false, 100);
  EXPECT_EQ(full["Image"], "docker.io/library/busybox@sha256:abc");
  EXPECT_EQ(full["Names"], "a,b/link");
}

TEST(DisplayablePortsTest, GroupsRangesLikeDocker) {
  json ports = json::parse(R"([
    {"IP":"0.0.0.0","PrivatePort":8001,"PublicPort":8001,"Type":"tcp"},
    {"IP":"0.0.0.0","PrivatePort":8000,"PublicPort":8000,"Type":"tcp"},
    {"IP":"::","PrivatePort":9000,"PublicPort":9090,"Type":"tcp"},
    {"PrivatePort":53,"Type":"udp"}])");
  EXPECT_EQ(DisplayablePorts(ports),
            "53/udp, 0.0.0.0:8000-8001->8000-8001/tcp, [::]:9090->9000/tcp");
}

class LifecycleTest : public CliTest {};

TEST_F(LifecycleTest, EachCommandSendsItsRequestAndEchoesTheName) {
  fake_.On("POST /v1.43/containers/web/stop", {204, "", {}});
  ASSERT_EQ(RunCli({"stop", "-t", "1", "-s", "SIGINT", "web"}), 0) << err_;
  EXPECT_EQ(out_, "web\n");
  EXPECT_EQ(OnlyRequest().query, (Params{{"signal", "SIGINT"}, {"t", "1"}}));

  fake_.On("POST /v1.43/containers/web/kill", {204, "", {}});
  ASSERT_EQ(RunCli({"kill", "-s", "HUP", "web"}), 0);
  EXPECT_EQ(fake_.ApiRequests()[1].query, (Params{{"signal", "HUP"}}));

  fake_.On("DELETE /v1.43/containers/web", {204, "", {}});
  ASSERT_EQ(RunCli({"rm", "-f", "-v", "web"}), 0);
  EXPECT_EQ(fake_.ApiRequests()[2].query, (Params{{"force", "1"}, {"v", "1"}}));

  fake_.On("POST /v1.43/containers/web/restart", {204, "", {}});
  ASSERT_EQ(RunCli({"container", "restart", "-t", "0", "web"}), 0);
  EXPECT_EQ(fake_.ApiRequests()[3].query, (Params{{"t", "0"}}));

  fake_.On("POST /v1.43/containers/web/pause", {204, "", {}});
  fake_.On("POST /v1.43/containers/web/unpause", {204, "", {}});
  ASSERT_EQ(RunCli({"pause", "web"}), 0);
  ASSERT_EQ(RunCli({"unpause", "web"}), 0);

  fake_.On("POST /v1.43/containers/web/wait", {200, R"({"StatusCode":137})", {}});
  ASSERT_EQ(RunCli({"wait", "web"}), 0);
  EXPECT_EQ(out_, "137\n");

  fake_.On("POST /v1.43/containers/web/rename", {204, "", {}});
  ASSERT_EQ(RunCli({"rename", "web", "web2"}), 0);
  EXPECT_EQ(fake_.ApiRequests().back().query, (Params{{"name", "web2"}}));
}

TEST_F(LifecycleTest, ErrorsAreCollectedAndExit1) {
  fake_.On("POST /v1.43/containers/a/stop", {204, "", {}});
  fake_.On("POST /v1.43/containers/nope/stop",
           {404, R"({"message":"No such container: nope"})", {}});
  EXPECT_EQ(RunCli({"stop", "nope", "a"}), 1);
  EXPECT_EQ(out_, "a\n");
  EXPECT_EQ(err_, "Error response from daemon: No such container: nope\n");
  EXPECT_EQ(RunCli({"stop", "-t", "x", "a"}), 125);
  EXPECT_EQ(RunCli({"stop"}), 1);
}

TEST_F(LifecycleTest, LogsInspectsForTtyThenDemultiplexes) {
  fake_.On("GET /v1.43/containers/web/json", {200, R"({"Id":"abc","Config":{"Tty":false}})", {}});
  fake_.On("GET /v1.43/containers/web/logs", {200, Frame(1, "out\n") + Frame(2, "err\n"), {}});
  ASSERT_EQ(RunCli({"logs", "-f", "-t", "--tail", "5", "--since", "10m", "web"}), 0) << err_;
  EXPECT_EQ(out_, "out\n");
  EXPECT_EQ(err_, "err\n");
  auto reqs = fake_.ApiRequests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[1].query, (Params{{"stdout", "1"},
                                   {"stderr", "1"},
                                   {"since", std::to_string(kNow - 600)},
                                   {"timestamps", "1"},
                                   {"follow", "1"},
                                   {"tail", "5"}}));
  fake_.On("GET /v1.43/containers/web/json", {200, R"({"Id":"abc","Config":{"Tty":true}})", {}});
  fake_.On("GET /v1.43/containers/web/logs", {200, "raw\r\n", {}});
  ASSERT_EQ(RunCli({"logs", "web"}), 0);
  EXPECT_EQ(out_, "raw\r\n");
}

TEST_F(LifecycleTest, ExecCreatesStartsHijackedAndExitsWithTheExecsCode) {
  fake_.On("POST /v1.43/containers/web/exec", {201, R"({"Id":"e1"})", {}});
  fake_.On("POST /v1.43/exec/e1/start", {101, Frame(1, "root\n"), {}});
  fake_.On("GET /v1.43/exec/e1/json", {200, R"({"ExitCode":2,"Running":false})", {}});
  EXPECT_EQ(
      RunCli({"exec", "-i", "-u", "root", "-w", "/tmp", "-e", "X=1", "web", "sh", "-c", "id -un"},
             "in"),
      2)
      << err_;
  EXPECT_EQ(out_, "root\n");
  EXPECT_EQ(fake_.stdin_data(), "in");
  auto reqs = fake_.ApiRequests();
  ASSERT_EQ(reqs.size(), 3u);
  EXPECT_EQ(reqs[0].body,
            R"({"User":"root","Privileged":false,"Tty":false,"AttachStdin":true,)"
            R"("AttachStderr":true,"AttachStdout":true,"Detach":false,"DetachKeys":"",)"
            R"("Env":["X=1"],"WorkingDir":"/tmp","Cmd":["sh","-c","id -un"]})"
            "\n");
  EXPECT_EQ(reqs[1].body, "{\"Detach\":false,\"Tty\":false}\n");
}

TEST_F(LifecycleTest, InspectTriesAContainerThenAnImage) {
  fake_.On(
      "GET /v1.43/containers/web/json",
      {200, R"({"Id":"abc","State":{"Status":"running"},"Config":{"Tty":false,"Env":[]}})", {}});
  ASSERT_EQ(RunCli({"inspect", "-f", "{{.State.Status}} {{json .Config}}", "web"}), 0) << err_;
  EXPECT_EQ(out_, "running {\"Tty\":false,\"Env\":[]}\n");
  ASSERT_EQ(RunCli({"container", "inspect", "-s", "web"}), 0);
  EXPECT_EQ(fake_.ApiRequests().back().query, (Params{{"size", "1"}}));
  EXPECT_EQ(RunCli({"container", "inspect", "nope"}), 1);
  EXPECT_EQ(err_, "Error: No such container: nope\n");
  fake_.On("GET /v1.43/images/img/json", {200, R"({"Id":"sha256:1"})", {}});
  ASSERT_EQ(RunCli({"inspect", "-f", "{{.Id}}", "img"}), 0);
  EXPECT_EQ(out_, "sha256:1\n");
}

TEST_F(LifecycleTest, PortTopDiffPrune) {
  fake_.On("GET /v1.43/containers/web/json",
           {200,
            R"({"NetworkSettings":{"Ports":{"80/tcp":[{"HostIp":"0.0.0.0","HostPort":"8080"},)"
            R"({"HostIp":"::","HostPort":"8080"}],"443/tcp":null}}})",
            {}});
  ASSERT_EQ(RunCli({"port", "web"}), 0);
  EXPECT_EQ(out_, "80/tcp -> 0.0.0.0:8080\n80/tcp -> [::]:8080\n");
  ASSERT_EQ(RunCli({"port", "web", "80"}), 0);
  EXPECT_EQ(out_, "0.0.0.0:8080\n[::]:8080\n");
  EXPECT_EQ(RunCli({"port", "web", "443/tcp"}), 1);
  EXPECT_EQ(err_, "Error: No public port '443/tcp' published for web\n");

  fake_.On("GET /v1.43/containers/web/top",
           {200, R"({"Titles":["PID","CMD"],"Processes":[["1","sleep 30"]]})", {}});
  ASSERT_EQ(RunCli({"top", "web", "-eo", "pid,cmd"}), 0) << err_;
  EXPECT_EQ(fake_.ApiRequests().back().query, (Params{{"ps_args", "-eo pid,cmd"}}));
  EXPECT_EQ(out_, "PID                 CMD\n1                   sleep 30\n");

  fake_.On(
      "GET /v1.43/containers/web/changes",
      {200, R"([{"Path":"/tmp","Kind":0},{"Path":"/tmp/x","Kind":1},{"Path":"/y","Kind":2}])", {}});
  ASSERT_EQ(RunCli({"diff", "web"}), 0);
  EXPECT_EQ(out_, "C /tmp\nA /tmp/x\nD /y\n");

  fake_.On("POST /v1.43/containers/prune",
           {200, R"({"ContainersDeleted":["abc","def"],"SpaceReclaimed":2000})", {}});
  ASSERT_EQ(RunCli({"container", "prune", "-f"}), 0);
  EXPECT_EQ(out_, "Deleted Containers:\nabc\ndef\n\nTotal reclaimed space: 2kB\n");
  ASSERT_EQ(RunCli({"container", "prune"}, "n\n"), 0);
  EXPECT_EQ(fake_.ApiRequests().back().path, "/v1.43/containers/prune");  // no second prune
}

TEST_F(LifecycleTest, CommitWithoutAReferenceSendsEmptyRepoAndTag) {
  fake_.On("POST /v1.43/commit", {201, R"({"Id":"sha256:c1"})", {}});
  ASSERT_EQ(RunCli({"commit", "-p=false", "web"}), 0) << err_;
  EXPECT_EQ(OnlyRequest().query, (Params{{"container", "web"},
                                         {"author", ""},
                                         {"comment", ""},
                                         {"pause", "0"},
                                         {"repo", ""},
                                         {"tag", ""}}));
}

TEST_F(LifecycleTest, CommitNormalisesTheRepository) {
  fake_.On("POST /v1.43/commit", {201, R"({"Id":"sha256:c0"})", {}});
  ASSERT_EQ(RunCli({"commit", "-m", "msg", "-a", "me", "-c", "ENV A=1", "web", "anchor/x:1"}), 0);
  EXPECT_EQ(out_, "sha256:c0\n");
  EXPECT_EQ(OnlyRequest().query, (Params{{"container", "web"},
                                         {"author", "me"},
                                         {"comment", "msg"},
                                         {"changes", "ENV A=1"},
                                         {"repo", "docker.io/anchor/x"},
                                         {"tag", "1"}}));
}

TEST_F(LifecycleTest, StatsNoStreamComputesDockersColumns) {
  fake_.On("GET /v1.43/containers/json", {200, R"([{"Id":"abcdef0123456789"}])", {}});
  fake_.On(
      "GET /v1.43/containers/abcdef0123456789/stats",
      {200,
       R"({"id":"abcdef0123456789","name":"/web",)"
       R"("cpu_stats":{"cpu_usage":{"total_usage":300},"system_cpu_usage":2000,"online_cpus":2},)"
       R"("precpu_stats":{"cpu_usage":{"total_usage":100},"system_cpu_usage":1000},)"
       R"("memory_stats":{"usage":20971520,"limit":104857600,"stats":{"inactive_file":10485760}},)"
       R"("networks":{"eth0":{"rx_bytes":1000,"tx_bytes":2000}},)"
       R"("blkio_stats":{"io_service_bytes_recursive":[{"op":"read","value":4096},)"
       R"({"op":"write","value":8192}]},"pids_stats":{"current":3}})",
       {}});
  ASSERT_EQ(RunCli({"stats", "--no-stream"}), 0) << err_;
  EXPECT_EQ(out_,
            "CONTAINER ID   NAME      CPU %     MEM USAGE / LIMIT   MEM %     NET I/O     BLOCK "
            "I/O        PIDS\n"
            "abcdef012345   web       40.00%    10MiB / 100MiB      10.00%    1kB / 2kB   4.1kB / "
            "8.19kB   3\n");
  EXPECT_EQ(fake_.ApiRequests()[1].query, (Params{{"stream", "0"}}));
  ASSERT_EQ(
      RunCli({"stats", "--no-stream", "--format", "{{.Name}}: {{.CPUPerc}}", "abcdef0123456789"}),
      0);
  EXPECT_EQ(out_, "web: 40.00%\n");
}

TEST_F(LifecycleTest, EventsPrintsEachEventAsItArrives) {
  fake_.On(
      "GET /v1.43/events",
      {200,
       R"({"Type":"container","Action":"start","Actor":{"ID":"abc","Attributes":{"name":"web","image":"busybox"}},"time":1700000000,"timeNano":1700000000000000001})"
       "\n"
       R"({"Type":"network","Action":"connect","Actor":{"ID":"n1","Attributes":{}},"time":1700000001})"
       "\n",
       {}});
  ASSERT_EQ(RunCli({"events", "--since", "1h", "--filter", "type=container"}), 0) << err_;
  EXPECT_EQ(out_,
            "2023-11-14T22:13:20.000000001Z container start abc (image=busybox, name=web)\n"
            "2023-11-14T22:13:21.000000000Z network connect n1\n");
  EXPECT_EQ(OnlyRequest().query, (Params{{"since", std::to_string(kNow - 3600)},
                                         {"filters", R"({"type":{"container":true}})"}}));
  ASSERT_EQ(RunCli({"events", "--format", "{{.Type}}/{{.Action}}"}), 0);
  EXPECT_EQ(out_, "container/start\nnetwork/connect\n");
}

}  // namespace
}  // namespace berth::cli
