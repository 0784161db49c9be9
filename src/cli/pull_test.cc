// pull, push, login, logout: what the commands send (Docker's wire shapes) and what login keeps
// in config.json.
#include <cstdlib>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "base/file.h"
#include "cli/testing/cli_fixture.h"

namespace berth::cli {
namespace {

using testing::CliTest;
using testing::RecordedRequest;

std::string Header(const RecordedRequest& r, const std::string& name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return "<absent>";
}

// base64 (URL-safe or standard), as Go decodes it.
std::string Unbase64(std::string in) {
  static const std::string chars =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    if (c == '=') break;
    if (c == '-') c = '+';
    if (c == '_') c = '/';
    acc = (acc << 6) | static_cast<uint32_t>(chars.find(c));
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  return out;
}

class RegistryCommandsTest : public CliTest {
 protected:
  void SetUp() override {
    CliTest::SetUp();
    char tmpl[] = "/tmp/berth-cli-pull-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    vars_["BERTH_CONFIG"] = dir_;
  }
  void TearDown() override { (void)RemoveAll(dir_); }
  std::string dir_;
};

TEST_F(RegistryCommandsTest, PullSendsTheNormalisedNameTheTagAndNoCredentials) {
  fake_.On("POST /v1.43/images/create",
           {200,
            "{\"status\":\"Pulling from library/busybox\",\"id\":\"latest\"}\r\n"
            "{\"status\":\"Pull complete\",\"progressDetail\":{},\"id\":\"0123456789ab\"}\r\n"
            "{\"status\":\"Status: Downloaded newer image for busybox:latest\"}\r\n",
            {}});
  ASSERT_EQ(RunCli({"pull", "busybox"}), 0) << err_;
  RecordedRequest req = OnlyRequest();
  EXPECT_EQ(req.Query("fromImage"), "docker.io/library/busybox");
  EXPECT_EQ(req.Query("tag"), "latest");
  EXPECT_EQ(Header(req, "X-Registry-Auth"), "e30=");
  EXPECT_EQ(out_,
            "Using default tag: latest\n"
            "latest: Pulling from library/busybox\n"
            "0123456789ab: Pull complete\n"
            "Status: Downloaded newer image for busybox:latest\n"
            "docker.io/library/busybox:latest\n");
}

TEST_F(RegistryCommandsTest, PullByDigestAndAllTags) {
  fake_.On("POST /v1.43/images/create", {200, "{\"status\":\"x\"}\r\n", {}});
  std::string digest = "sha256:" + std::string(64, 'a');
  ASSERT_EQ(RunCli({"pull", "-q", "127.0.0.1:5000/me/x@" + digest}), 0) << err_;
  RecordedRequest req = fake_.ApiRequests().back();
  EXPECT_EQ(req.Query("fromImage"), "127.0.0.1:5000/me/x");
  EXPECT_EQ(req.Query("tag"), digest);
  EXPECT_EQ(out_, "127.0.0.1:5000/me/x@" + digest + "\n");

  ASSERT_EQ(RunCli({"pull", "-a", "127.0.0.1:5000/me/x"}), 0) << err_;
  EXPECT_EQ(fake_.ApiRequests().back().Query("tag"), "");
  EXPECT_EQ(RunCli({"pull", "-a", "127.0.0.1:5000/me/x:1"}), 1);
  EXPECT_NE(err_.find("tag can't be used with --all-tags/-a"), std::string::npos) << err_;
}

TEST_F(RegistryCommandsTest, ErrorInTheStreamFailsThePull) {
  fake_.On("POST /v1.43/images/create",
           {200,
            "{\"status\":\"Pulling from me/x\",\"id\":\"1\"}\r\n"
            "{\"errorDetail\":{\"message\":\"layer sha256:ab: digest mismatch\"},"
            "\"error\":\"layer sha256:ab: digest mismatch\"}\r\n",
            {}});
  EXPECT_EQ(RunCli({"pull", "127.0.0.1:5000/me/x:1"}), 1);
  EXPECT_NE(err_.find("digest mismatch"), std::string::npos) << err_;
}

TEST_F(RegistryCommandsTest, LoginKeepsCredentialsInDockersFormatAndPullAndPushSendThem) {
  fake_.On("POST /v1.43/auth",
           {200, "{\"IdentityToken\":\"\",\"Status\":\"Login Succeeded\"}", {}});
  ASSERT_EQ(RunCli({"login", "-u", "anchor", "--password-stdin", "127.0.0.1:5000"}, "s3cret\n"), 0)
      << err_;
  EXPECT_EQ(out_, "Login Succeeded\n");
  RecordedRequest login = OnlyRequest();
  EXPECT_EQ(
      nlohmann::json::parse(login.body),
      (nlohmann::json{
          {"username", "anchor"}, {"password", "s3cret"}, {"serveraddress", "127.0.0.1:5000"}}));
  auto config = nlohmann::json::parse(*ReadFile(dir_ + "/config.json"));
  EXPECT_EQ(config["auths"]["127.0.0.1:5000"]["auth"], "YW5jaG9yOnMzY3JldA==");  // anchor:s3cret

  fake_.On("POST /v1.43/images/create", {200, "{\"status\":\"x\"}\r\n", {}});
  ASSERT_EQ(RunCli({"pull", "127.0.0.1:5000/me/x:1"}), 0) << err_;
  std::string auth = Header(fake_.ApiRequests().back(), "X-Registry-Auth");
  EXPECT_EQ(
      nlohmann::json::parse(Unbase64(auth)),
      (nlohmann::json{
          {"username", "anchor"}, {"password", "s3cret"}, {"serveraddress", "127.0.0.1:5000"}}));
  // Another registry gets nothing.
  ASSERT_EQ(RunCli({"pull", "other.example/me/x:1"}), 0) << err_;
  EXPECT_EQ(Header(fake_.ApiRequests().back(), "X-Registry-Auth"), "e30=");

  fake_.On("POST /v1.43/images/127.0.0.1:5000/me/x/push", {200, "{\"status\":\"x\"}\r\n", {}});
  ASSERT_EQ(RunCli({"push", "127.0.0.1:5000/me/x:1"}), 0) << err_;
  RecordedRequest push = fake_.ApiRequests().back();
  EXPECT_EQ(push.path, "/v1.43/images/127.0.0.1:5000/me/x/push");
  EXPECT_EQ(push.Query("tag"), "1");
  EXPECT_EQ(Header(push, "X-Registry-Auth"), auth);

  ASSERT_EQ(RunCli({"logout", "127.0.0.1:5000"}), 0);
  EXPECT_EQ(out_, "Removing login credentials for 127.0.0.1:5000\n");
  config = nlohmann::json::parse(*ReadFile(dir_ + "/config.json"));
  EXPECT_FALSE(config["auths"].contains("127.0.0.1:5000"));
  ASSERT_EQ(RunCli({"logout", "127.0.0.1:5000"}), 0);
  EXPECT_EQ(out_, "Not logged in to 127.0.0.1:5000\n");
}

TEST_F(RegistryCommandsTest, RefusedLoginKeepsNothing) {
  fake_.On("POST /v1.43/auth",
           {401,
            "{\"message\":\"login attempt to http://127.0.0.1:5000/v2/ failed with status: 401 "
            "Unauthorized\"}",
            {}});
  EXPECT_EQ(RunCli({"login", "-u", "anchor", "-p", "nope", "127.0.0.1:5000"}), 1);
  EXPECT_NE(err_.find("WARNING! Using --password via the CLI is insecure"), std::string::npos);
  EXPECT_NE(err_.find("failed with status: 401 Unauthorized"), std::string::npos) << err_;
  EXPECT_FALSE(PathExists(dir_ + "/config.json"));
}

TEST_F(RegistryCommandsTest, DockerHubCredentialsLiveUnderItsHistoricalKey) {
  fake_.On("POST /v1.43/auth", {200, "{\"Status\":\"Login Succeeded\"}", {}});
  ASSERT_EQ(RunCli({"login", "-u", "u", "-p", "p"}), 0) << err_;
  auto config = nlohmann::json::parse(*ReadFile(dir_ + "/config.json"));
  EXPECT_TRUE(config["auths"].contains("https://index.docker.io/v1/")) << config.dump();
  fake_.On("POST /v1.43/images/create", {200, "{\"status\":\"x\"}\r\n", {}});
  ASSERT_EQ(RunCli({"pull", "busybox:1"}), 0) << err_;
  EXPECT_NE(Header(fake_.ApiRequests().back(), "X-Registry-Auth"), "e30=");
}

}  // namespace
}  // namespace berth::cli
