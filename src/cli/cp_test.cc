// cp with the fake transport: `-` both ways streams the tar untouched; local paths are packed and
// unpacked (a real tar through libarchive, in a temp dir).
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>

#include <gtest/gtest.h>

#include "base/file.h"
#include "cli/testing/cli_fixture.h"

namespace berth::cli {
namespace {

using testing::CliTest;

// A one-file ustar archive.
std::string Tar(const std::string& name, const std::string& data) {
  std::string h(512, '\0');
  auto put = [&h](size_t off, const std::string& v) { h.replace(off, v.size(), v); };
  put(0, name);
  put(100, "0000644");
  put(108, "0000000");
  put(116, "0000000");
  char size[12];
  std::snprintf(size, sizeof(size), "%011o", static_cast<unsigned>(data.size()));
  put(124, size);
  put(136, "00000000000");
  h[156] = '0';
  put(257, "ustar");
  put(263, "00");
  put(148, "        ");
  unsigned sum = 0;
  for (char c : h) sum += static_cast<unsigned char>(c);
  char chk[8];
  std::snprintf(chk, sizeof(chk), "%06o", sum);
  put(148, std::string(chk, 6) + std::string("\0 ", 2));
  std::string body = data + std::string((512 - data.size() % 512) % 512, '\0');
  return h + body + std::string(1024, '\0');
}

class CpTest : public CliTest {
 protected:
  void SetUp() override {
    CliTest::SetUp();
    char tmpl[] = "/tmp/berth-cp-test-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
  }
  void TearDown() override { (void)RemoveAll(dir_); }
  std::string dir_;
};

TEST_F(CpTest, DashStreamsTheTarBothWays) {
  std::string tar = Tar("f", "hello");
  fake_.On("GET /v1.43/containers/web/archive", {200, tar, {}});
  ASSERT_EQ(RunCli({"cp", "web:/etc/f", "-"}), 0) << err_;
  EXPECT_EQ(out_, tar);
  EXPECT_EQ(OnlyRequest().query, (Params{{"path", "/etc/f"}}));

  // "mode" 2147484141 = directory bit | 0755.
  fake_.On("HEAD /v1.43/containers/web/archive",
           {200,
            "",
            {{"x-docker-container-path-stat",
              "eyJuYW1lIjoidG1wIiwic2l6ZSI6NDA5NiwibW9kZSI6MjE0NzQ4NDE0MSwibXRpbWUiOiIy"
              "MDIzLTExLTE0VDIyOjEzOjIwWiIsImxpbmtUYXJnZXQiOiIifQ=="}}});
  fake_.On("PUT /v1.43/containers/web/archive", {200, "", {}});
  ASSERT_EQ(RunCli({"container", "cp", "-", "web:/tmp"}, tar), 0) << err_;
  auto reqs = fake_.ApiRequests();
  ASSERT_EQ(reqs.size(), 3u);
  EXPECT_EQ(reqs[1].method, "HEAD");
  EXPECT_EQ(reqs[2].query, (Params{{"path", "/tmp"}, {"noOverwriteDirNonDir", "true"}}));
  EXPECT_EQ(reqs[2].body, tar);
  EXPECT_TRUE(reqs[2].streamed);
}

TEST_F(CpTest, FromContainerUnpacksUnderTheDestinationName) {
  fake_.On("GET /v1.43/containers/web/archive", {200, Tar("f", "hello\n"), {}});
  ASSERT_EQ(RunCli({"cp", "web:/etc/f", dir_ + "/copy"}), 0) << err_;
  EXPECT_EQ(*ReadFile(dir_ + "/copy"), "hello\n");
  ASSERT_EQ(::mkdir((dir_ + "/d").c_str(), 0755), 0);
  ASSERT_EQ(RunCli({"cp", "web:/etc/f", dir_ + "/d"}), 0) << err_;
  EXPECT_EQ(*ReadFile(dir_ + "/d/f"), "hello\n");
}

TEST_F(CpTest, ToContainerPacksTheLocalFile) {
  ASSERT_TRUE(WriteFileAtomic(dir_ + "/local.txt", "data!").ok());
  fake_.On("HEAD /v1.43/containers/web/archive",
           {404, R"({"message":"Could not find the file /tmp/new.txt in container web"})", {}});
  fake_.On("PUT /v1.43/containers/web/archive", {200, "", {}});
  ASSERT_EQ(RunCli({"cp", "-a", dir_ + "/local.txt", "web:/tmp/new.txt"}), 0) << err_;
  auto reqs = fake_.ApiRequests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[1].query,
            (Params{{"path", "/tmp"}, {"noOverwriteDirNonDir", "true"}, {"copyUIDGID", "true"}}));
  const std::string& tar = reqs[1].body;
  ASSERT_GE(tar.size(), 1024u);
  EXPECT_EQ(tar.substr(0, 7), "new.txt");
  EXPECT_NE(tar.find("data!"), std::string::npos);
}

TEST_F(CpTest, NeedsExactlyOneContainerSide) {
  EXPECT_EQ(RunCli({"cp", "/a", "/b"}), 1);
  EXPECT_EQ(err_, "must specify at least one container source\n");
  EXPECT_EQ(RunCli({"cp", "a:/x", "b:/y"}), 1);
  EXPECT_EQ(err_, "copying between containers is not supported\n");
}

}  // namespace
}  // namespace berth::cli
