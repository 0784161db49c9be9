// run / create / start through the whole command with the fake transport: the requests in
// docker's order and shape, the streams, and the exit codes.
#include <gtest/gtest.h>

#include "cli/testing/cli_fixture.h"

namespace berth::cli {
namespace {

using json = nlohmann::ordered_json;
using testing::CliTest;

constexpr std::string_view kId = "7f3a5cf667720c06b2f7dabce6d37a33002f8e2599b8c4c38634cbefaec47113";

std::string Frame(char stream, std::string_view payload) {
  std::string out = {stream, 0, 0, 0, 0, 0, 0, static_cast<char>(payload.size())};
  return out + std::string(payload);
}

class RunCommandTest : public CliTest {
 protected:
  void SetUp() override {
    CliTest::SetUp();
    path_ = "/v1.43/containers/" + std::string(kId);
    fake_.On("POST /v1.43/containers/create",
             {201, R"({"Id":")" + std::string(kId) + R"(","Warnings":[]})", {}});
    fake_.On("POST " + path_ + "/attach", {101, Frame(1, "hi\n") + Frame(2, "warn\n"), {}});
    fake_.On("POST " + path_ + "/wait", {200, R"({"Error":null,"StatusCode":0})", {}});
    fake_.On("POST " + path_ + "/start", {204, "", {}});
  }

  std::vector<std::string> Routes() {
    std::vector<std::string> out;
    for (const auto& r : fake_.ApiRequests()) {
      std::string q;
      for (const auto& [k, v] : r.query) q += (q.empty() ? "?" : "&") + k + "=" + v;
      out.push_back(r.method + " " + r.path + q);
    }
    return out;
  }

  std::string path_;
};

TEST_F(RunCommandTest, RunsLikeDockerInOrderAndStreamsTheOutput) {
  ASSERT_EQ(RunCli({"run", "--rm", "--network", "none", "busybox:anchor", "echo", "hi"}), 0)
      << err_;
  EXPECT_EQ(out_, "hi\n");
  EXPECT_EQ(err_, "warn\n");
  EXPECT_EQ(Routes(), (std::vector<std::string>{
                          "POST /v1.43/containers/create",
                          "POST " + path_ + "/attach?stream=1&stdout=1&stderr=1",
                          "POST " + path_ + "/wait?condition=removed",
                          "POST " + path_ + "/start",
                      }));
  json body = json::parse(fake_.ApiRequests()[0].body);
  EXPECT_EQ(body["Cmd"], json({"echo", "hi"}));
  EXPECT_EQ(body["HostConfig"]["AutoRemove"], true);
  EXPECT_EQ(body["HostConfig"]["NetworkMode"], "none");
  EXPECT_EQ(fake_.ApiRequests()[0].headers, (Params{{"Content-Type", "application/json"}}));
}

TEST_F(RunCommandTest, ArgumentsAfterTheImageAreTheCommandsOwn) {
  ASSERT_EQ(RunCli({"container", "run", "-i", "-e", "A=1", "--name", "web", "busybox", "ls", "-la",
                    "--rm"}),
            0)
      << err_;
  auto req = fake_.ApiRequests()[0];
  EXPECT_EQ(req.Query("name"), "web");
  json body = json::parse(req.body);
  EXPECT_EQ(body["Cmd"], json({"ls", "-la", "--rm"}));
  EXPECT_EQ(body["Env"], json({"A=1"}));
  EXPECT_EQ(body["HostConfig"]["AutoRemove"], false);
  EXPECT_EQ(fake_.ApiRequests()[2].Query("condition"), "next-exit");
}

TEST_F(RunCommandTest, DoubleDashEndsTheFlags) {
  ASSERT_EQ(RunCli({"run", "-d", "--", "busybox", "-x", "--", "y"}), 0) << err_;
  json body = json::parse(fake_.ApiRequests()[0].body);
  EXPECT_EQ(body["Image"], "busybox");
  EXPECT_EQ(body["Cmd"], json({"-x", "--", "y"}));
}

TEST_F(RunCommandTest, ExitsWithTheContainersStatus) {
  fake_.On("POST " + path_ + "/wait", {200, R"({"Error":null,"StatusCode":3})", {}});
  EXPECT_EQ(RunCli({"run", "busybox", "false"}), 3);
}

TEST_F(RunCommandTest, InteractiveForwardsStdinAndHalfCloses) {
  ASSERT_EQ(RunCli({"run", "-i", "busybox", "cat"}, "some input"), 0) << err_;
  EXPECT_EQ(fake_.stdin_data(), "some input");
  EXPECT_TRUE(fake_.stdin_closed());
  EXPECT_EQ(fake_.ApiRequests()[1].Query("stdin"), "1");
  json body = json::parse(fake_.ApiRequests()[0].body);
  EXPECT_EQ(body["AttachStdin"], true);
  EXPECT_EQ(body["StdinOnce"], true);
}

TEST_F(RunCommandTest, DetachedPrintsTheIdAndAttachesNothing) {
  ASSERT_EQ(RunCli({"run", "-d", "busybox", "sleep", "30"}), 0) << err_;
  EXPECT_EQ(out_, std::string(kId) + "\n");
  EXPECT_EQ(Routes(), (std::vector<std::string>{"POST /v1.43/containers/create",
                                                "POST " + path_ + "/wait?condition=next-exit",
                                                "POST " + path_ + "/start"}));
  json body = json::parse(fake_.ApiRequests()[0].body);
  EXPECT_EQ(body["AttachStdout"], false);
}

TEST_F(RunCommandTest, PullsAMissingImageThenCreatesAgain) {
  fake_.Once("POST /v1.43/containers/create",
             {404, R"({"message":"No such image: busybox:anchor"})", {}});
  fake_.On("POST /v1.43/images/create",
           {200,
            "{\"status\":\"Pulling from library/busybox\",\"id\":\"anchor\"}\n"
            "{\"status\":\"Status: Downloaded newer image for busybox:anchor\"}\n",
            {}});
  ASSERT_EQ(RunCli({"run", "busybox:anchor", "echo", "hi"}), 0) << err_;
  EXPECT_TRUE(
      err_.starts_with("Unable to find image 'busybox:anchor' locally\n"
                       "anchor: Pulling from library/busybox\n"
                       "Status: Downloaded newer image for busybox:anchor\n"))
      << err_;
  auto reqs = fake_.ApiRequests();
  ASSERT_GE(reqs.size(), 3u);
  EXPECT_EQ(reqs[1].path, "/v1.43/images/create");
  EXPECT_EQ(reqs[1].query, (Params{{"fromImage", "docker.io/library/busybox"}, {"tag", "anchor"}}));
  EXPECT_EQ(reqs[1].headers, (Params{{"X-Registry-Auth", "e30="}}));
  EXPECT_EQ(reqs[2].path, "/v1.43/containers/create");
}

TEST_F(RunCommandTest, PullPolicies) {
  fake_.On("POST /v1.43/containers/create", {404, R"({"message":"No such image: nope:1"})", {}});
  EXPECT_EQ(RunCli({"create", "--pull", "never", "nope:1"}), 125);
  EXPECT_EQ(err_,
            "berth: Error response from daemon: No such image: nope:1\n\nRun 'berth create "
            "--help' for more information\n");
  EXPECT_EQ(fake_.ApiRequests().size(), 1u);
  EXPECT_EQ(RunCli({"create", "--pull", "sometimes", "nope:1"}), 125);
  EXPECT_EQ(fake_.ApiRequests().size(), 1u);
  fake_.On("POST /v1.43/images/create", {200, "{\"status\":\"pulled\"}\n", {}});
  fake_.On("POST /v1.43/containers/create",
           {201, R"({"Id":")" + std::string(kId) + R"(","Warnings":["low memory"]})", {}});
  ASSERT_EQ(RunCli({"create", "-q", "--pull", "always", "--platform", "linux/amd64", "nope:1"}), 0);
  EXPECT_EQ(err_, "WARNING: low memory\n");  // -q hides the pull's progress
  auto reqs = fake_.ApiRequests();
  EXPECT_EQ(reqs[reqs.size() - 2].path, "/v1.43/images/create");
  EXPECT_EQ(reqs.back().query, (Params{{"platform", "linux/amd64"}}));
}

TEST_F(RunCommandTest, CreatePrintsTheIdAndAttachesByDefault) {
  ASSERT_EQ(RunCli({"create", "-t", "busybox"}), 0) << err_;
  EXPECT_EQ(out_, std::string(kId) + "\n");
  ASSERT_EQ(fake_.ApiRequests().size(), 1u);
  json body = json::parse(fake_.ApiRequests()[0].body);
  EXPECT_EQ(body["AttachStdout"], true);
  EXPECT_EQ(body["Tty"], true);
  EXPECT_EQ(body["Cmd"], nullptr);
}

struct StartFailure {
  const char* message;
  int code;
};

TEST_F(RunCommandTest, StartFailuresMapToDockersExitCodes) {
  for (const StartFailure& c :
       {StartFailure{"exec: \"nope\": executable file not found in $PATH", 127},
        StartFailure{"open /bin/x: no such file or directory", 127},
        StartFailure{"exec /etc: permission denied", 126},
        StartFailure{"cgroup setup failed", 125}}) {
    fake_.On("POST " + path_ + "/start", {400, json{{"message", c.message}}.dump(), {}});
    EXPECT_EQ(RunCli({"run", "busybox", "nope"}), c.code) << c.message;
    EXPECT_EQ(err_, std::string("berth: Error response from daemon: ") + c.message +
                        "\n\nRun 'berth run --help' for more information\n");
  }
}

TEST_F(RunCommandTest, DaemonErrorOnCreateIs125) {
  fake_.On("POST /v1.43/containers/create",
           {409, R"({"message":"Conflict. The container name \"/web\" is already in use"})", {}});
  EXPECT_EQ(RunCli({"run", "--name", "web", "busybox"}), 125);
  EXPECT_EQ(err_,
            "berth: Error response from daemon: Conflict. The container name \"/web\" is already "
            "in use\n\nRun 'berth run --help' for more information\n");
  fake_.SetUnreachable();
  EXPECT_EQ(RunCli({"run", "busybox"}), 125);
}

TEST_F(RunCommandTest, BadFlagValuesFailBeforeAnyRequestWith125) {
  EXPECT_EQ(RunCli({"run", "-m", "1x", "busybox"}), 125);
  EXPECT_EQ(err_,
            "invalid argument \"1x\" for \"-m, --memory\" flag: invalid suffix: 'x'\n"
            "See 'berth run --help'.\n");
  EXPECT_EQ(RunCli({"run", "--rm", "--restart", "always", "busybox"}), 125);
  EXPECT_EQ(err_,
            "berth: conflicting options: cannot specify both --restart and --rm\n\n"
            "Run 'berth run --help' for more information\n");
  EXPECT_EQ(RunCli({"run", "--bogus", "busybox"}), 125);
  EXPECT_TRUE(fake_.requests().empty());
  EXPECT_EQ(RunCli({"run"}), 1);
  EXPECT_TRUE(err_.starts_with("berth: 'berth run' requires at least 1 argument")) << err_;
}

TEST_F(RunCommandTest, TtyWithoutATerminalIsRefused) {
  EXPECT_EQ(RunCli({"run", "-it", "busybox", "sh"}), 1);
  EXPECT_EQ(err_, "the input device is not a TTY\n");
}

TEST_F(RunCommandTest, StartAttachInspectsThenAttachesWaitsAndStarts) {
  fake_.On("GET /v1.43/containers/c1/json",
           {200,
            R"({"Id":")" + std::string(kId) + R"(","Config":{"Tty":false,"OpenStdin":false}})",
            {}});
  ASSERT_EQ(RunCli({"start", "-a", "c1"}), 0) << err_;
  EXPECT_EQ(out_, "hi\n");
  EXPECT_EQ(Routes(), (std::vector<std::string>{
                          "GET /v1.43/containers/c1/json",
                          "POST " + path_ + "/attach?stream=1&stdout=1&stderr=1",
                          "POST " + path_ + "/wait?condition=next-exit",
                          "POST " + path_ + "/start",
                      }));
}

TEST_F(RunCommandTest, AttachRefusesAStoppedContainerAndWaitsForTheRunningOne) {
  fake_.On("GET /v1.43/containers/c1/json",
           {200, R"({"Id":"c1","State":{"Running":false},"Config":{"Tty":false}})", {}});
  EXPECT_EQ(RunCli({"attach", "c1"}), 1);
  EXPECT_EQ(err_, "You cannot attach to a stopped container, start it first\n");
  fake_.On(
      "GET /v1.43/containers/c1/json",
      {200, R"({"Id":"c1","State":{"Running":true},"Config":{"Tty":false,"OpenStdin":true}})", {}});
  fake_.On("POST /v1.43/containers/c1/attach", {101, Frame(1, "out\n"), {}});
  fake_.On("POST /v1.43/containers/c1/wait", {200, R"({"StatusCode":5})", {}});
  EXPECT_EQ(RunCli({"container", "attach", "--detach-keys", "ctrl-a,x", "c1"}, "typed"), 5);
  EXPECT_EQ(out_, "out\n");
  EXPECT_EQ(fake_.stdin_data(), "typed");
  auto reqs = fake_.ApiRequests();
  EXPECT_EQ(reqs[reqs.size() - 2].query, (Params{{"stream", "1"},
                                                 {"stdin", "1"},
                                                 {"stdout", "1"},
                                                 {"stderr", "1"},
                                                 {"detachKeys", "ctrl-a,x"}}));
  EXPECT_TRUE(reqs.back().query.empty());
}

TEST_F(RunCommandTest, StartWithoutAttachPrintsTheNames) {
  fake_.On("POST /v1.43/containers/a/start", {204, "", {}});
  EXPECT_EQ(RunCli({"start", "a", "b"}), 1);
  EXPECT_EQ(out_, "a\n");
  EXPECT_EQ(err_, "Error response from daemon: page not found\n");
}

}  // namespace
}  // namespace berth::cli
