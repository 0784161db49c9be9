// Global flags, command dispatch, usage errors and exit codes of Run().
#include "cli/internal/command.h"

#include <gtest/gtest.h>

#include "base/io.h"
#include "cli/cli.h"
#include "cli/testing/cli_fixture.h"

namespace berth::cli {
namespace {

using testing::CliTest;

TEST(ExitCodeTest, MapsStatusesLikeDocker) {
  EXPECT_EQ(ExitCode(Ok()), 0);
  EXPECT_EQ(ExitCode(MakeError(Code::kCancelled, "")), 0);  // a declined prompt
  EXPECT_EQ(ExitCode(MakeError(Code::kNotFound, "x")), 1);
  EXPECT_EQ(ExitCode(MakeError(Code::kInvalidArgument, "x")), 1);
  EXPECT_EQ(ExitCode(MakeError(Code::kUnavailable, "x")), 1);
  EXPECT_EQ(ExitCode(MakeError(Code::kInternal, "x")), 1);
}

class RunTest : public CliTest {};

TEST_F(RunTest, NoArgumentsPrintsHelp) {
  EXPECT_EQ(RunCli({}), 0);
  EXPECT_NE(out_.find("Usage: berth"), std::string::npos);
  EXPECT_NE(out_.find("images"), std::string::npos);
  EXPECT_TRUE(fake_.requests().empty());
}

TEST_F(RunTest, HelpFlagOfACommandPrintsItsHelp) {
  EXPECT_EQ(RunCli({"images", "--help"}), 0);
  EXPECT_NE(out_.find("--digests"), std::string::npos);
  EXPECT_EQ(RunCli({"image", "prune", "--help"}), 0);
  EXPECT_NE(out_.find("--all"), std::string::npos);
  EXPECT_TRUE(fake_.requests().empty());
}

TEST_F(RunTest, VersionFlag) {
  EXPECT_EQ(RunCli({"-v"}), 0);
  EXPECT_TRUE(out_.starts_with("Berth version ")) << out_;
  EXPECT_NE(out_.find(", build "), std::string::npos);
}

TEST_F(RunTest, UnknownCommandExits1) {
  EXPECT_EQ(RunCli({"frobnicate"}), 1);
  EXPECT_EQ(err_, "berth: 'frobnicate' is not a berth command.\nSee 'berth --help'\n");
  EXPECT_EQ(RunCli({"image", "frobnicate"}), 1);
  EXPECT_EQ(err_, "berth: 'image frobnicate' is not a berth command.\nSee 'berth --help'\n");
}

TEST_F(RunTest, UnknownFlagExits125) {
  EXPECT_EQ(RunCli({"images", "--bogus"}), 125);
  EXPECT_EQ(err_, "unknown flag: --bogus\nSee 'berth images --help'.\n");
  EXPECT_EQ(RunCli({"image", "ls", "--bogus"}), 125);
  EXPECT_EQ(err_, "unknown flag: --bogus\nSee 'berth image ls --help'.\n");
  EXPECT_TRUE(fake_.requests().empty());
}

TEST_F(RunTest, GlobalFlagsGoBeforeTheCommand) {
  // -D after the command is not a flag of `images`.
  EXPECT_EQ(RunCli({"images", "-D"}), 125);
}

struct UsageCase {
  std::vector<std::string> args;
  std::string first_line;
  std::string usage;
};

class UsageErrorTest : public CliTest, public ::testing::WithParamInterface<UsageCase> {};

TEST_P(UsageErrorTest, PrintsDockerStyleUsageAndExits1) {
  const UsageCase& c = GetParam();
  EXPECT_EQ(RunCli(c.args), 1);
  EXPECT_TRUE(err_.starts_with(c.first_line + "\n")) << err_;
  EXPECT_NE(err_.find("\n\nUsage:  " + c.usage + "\n\n"), std::string::npos) << err_;
  EXPECT_TRUE(fake_.requests().empty());
}

INSTANTIATE_TEST_SUITE_P(
    Commands, UsageErrorTest,
    ::testing::Values(
        UsageCase{{"tag", "a"},
                  "\"berth tag\" requires exactly 2 arguments.",
                  "berth tag SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]"},
        UsageCase{{"image", "tag", "a", "b", "c"},
                  "\"berth image tag\" requires exactly 2 arguments.",
                  "berth image tag SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]"},
        UsageCase{{"rmi"},
                  "\"berth rmi\" requires at least 1 argument.",
                  "berth rmi [OPTIONS] IMAGE [IMAGE...]"},
        UsageCase{{"history"},
                  "\"berth history\" requires exactly 1 argument.",
                  "berth history [OPTIONS] IMAGE"},
        UsageCase{{"images", "a", "b"},
                  "\"berth images\" requires at least 0 and at most 1 argument.",
                  "berth images [OPTIONS] [REPOSITORY[:TAG]]"},
        UsageCase{{"load", "x"}, "\"berth load\" accepts no arguments.", "berth load [OPTIONS]"},
        UsageCase{{"import"},
                  "\"berth import\" requires at least 1 and at most 2 arguments.",
                  "berth import [OPTIONS] file|URL|- [REPOSITORY[:TAG]]"},
        UsageCase{{"save"},
                  "\"berth save\" requires at least 1 argument.",
                  "berth save [OPTIONS] IMAGE [IMAGE...]"},
        UsageCase{{"image", "inspect"},
                  "\"berth image inspect\" requires at least 1 argument.",
                  "berth image inspect [OPTIONS] IMAGE [IMAGE...]"},
        UsageCase{{"version", "x"},
                  "\"berth version\" accepts no arguments.",
                  "berth version [OPTIONS]"}));

TEST_F(RunTest, ConnectionFailureSaysCannotConnect) {
  fake_.SetUnreachable();
  EXPECT_EQ(RunCli({"images"}), 1);
  EXPECT_EQ(err_,
            "Cannot connect to the Berth daemon at unix:///run/berth/berth.sock. Is the berth "
            "daemon running?\n");
}

TEST_F(RunTest, HostComesFromFlagThenBerthHostThenDefault) {
  fake_.On("GET /v1.43/images/json", {200, "[]", {}});
  ASSERT_EQ(RunCli({"images"}), 0);
  vars_["BERTH_HOST"] = "tcp://127.0.0.1:2375";
  vars_["DOCKER_HOST"] = "unix:///ignored.sock";
  ASSERT_EQ(RunCli({"images"}), 0);
  ASSERT_EQ(RunCli({"-H", "unix:///tmp/x.sock", "images"}), 0);
  EXPECT_EQ(dialed_, (std::vector<std::string>{"unix:///run/berth/berth.sock",
                                               "tcp://127.0.0.1:2375", "unix:///tmp/x.sock"}));
}

TEST_F(RunTest, BadHostIsAnError) {
  EXPECT_EQ(RunCli({"-H", "ssh://host", "images"}), 1);
  EXPECT_NE(err_.find("ssh://host"), std::string::npos);
}

TEST_F(RunTest, ApiVersionEnvSkipsNegotiation) {
  vars_["BERTH_API_VERSION"] = "1.40";
  fake_.On("GET /v1.40/images/json", {200, "[]", {}});
  ASSERT_EQ(RunCli({"images", "-q"}), 0) << err_;
  ASSERT_EQ(fake_.requests().size(), 1u);
  EXPECT_EQ(fake_.requests()[0].path, "/v1.40/images/json");
}

TEST_F(RunTest, NegotiatesDownToTheDaemonsVersion) {
  fake_.On("HEAD /_ping", {200, "", {{"api-version", "1.41"}}});
  fake_.On("GET /v1.41/images/json", {200, "[]", {}});
  ASSERT_EQ(RunCli({"images", "-q"}), 0) << err_;
  EXPECT_EQ(fake_.requests()[0].method, "HEAD");
  EXPECT_EQ(fake_.requests()[1].path, "/v1.41/images/json");
}

TEST(ParseFiltersTest, BuildsEngineApiFilterJson) {
  Result<nlohmann::json> f =
      ParseFilters({"dangling=true", "label=a=b", "Label = c ", "reference=busybox:*"});
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(
      f->dump(),
      R"({"dangling":{"true":true},"label":{"a=b":true,"c":true},"reference":{"busybox:*":true}})");
  EXPECT_TRUE(ParseFilters({})->empty());
  Result<nlohmann::json> bad = ParseFilters({"dangling"});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message, "bad format of filter (expected name=value)");
}

TEST(PresentationTest, TruncateIdEllipsisBytesSizeAndTimes) {
  EXPECT_EQ(TruncateId("sha256:0123456789abcdef0123"), "0123456789ab");
  EXPECT_EQ(TruncateId("<missing>"), "<missing>");
  EXPECT_EQ(Ellipsis("short", 45), "short");
  EXPECT_EQ(Ellipsis("abcdefghij", 5), "abcd\xe2\x80\xa6");
  EXPECT_EQ(BytesSize(2.0 * 1024 * 1024 * 1024), "2GiB");
  EXPECT_EQ(BytesSize(1536), "1.5KiB");
  ::setenv("TZ", "UTC", 1);
  ::tzset();
  EXPECT_EQ(Rfc3339(1700000000), "2023-11-14T22:13:20Z");
  EXPECT_EQ(GoTimeString(1700000000), "2023-11-14 22:13:20 +0000 UTC");
}

}  // namespace
}  // namespace berth::cli
