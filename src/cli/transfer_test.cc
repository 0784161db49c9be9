// import, save and load: streamed bodies in both directions and the JSON progress stream.
#include <fcntl.h>
#include <sys/stat.h>

#include <gtest/gtest.h>

#include "base/file.h"
#include "cli/testing/cli_fixture.h"

namespace berth::cli {
namespace {

using testing::CliTest;
using testing::RecordedRequest;

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/berth-cli-transfer-XXXXXX";
    path_ = ::mkdtemp(tmpl);
  }
  ~TempDir() { (void)RemoveAll(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

class ImportTest : public CliTest {
 protected:
  void SetUp() override {
    CliTest::SetUp();
    fake_.On("POST /v1.43/images/create", {200, "{\"status\":\"sha256:1234abcd\"}\r\n", {}});
  }
};

TEST_F(ImportTest, FromStdinStreamsTheBodyWithDockersQuery) {
  std::string tar(3 << 20, 'x');  // the fake reads the stream to the end and records it
  ASSERT_EQ(RunCli({"import", "-c", "ENV A=b", "--change", "CMD [\"sh\"]", "-m", "hello",
                    "--platform", "Linux/AMD64", "-", "example/app:v1"},
                   tar),
            0)
      << err_;
  RecordedRequest req = OnlyRequest();
  EXPECT_EQ(req.method, "POST");
  EXPECT_EQ(req.path, "/v1.43/images/create");
  EXPECT_TRUE(req.streamed);
  EXPECT_EQ(req.body.size(), tar.size());
  EXPECT_EQ(req.Query("fromSrc"), "-");
  EXPECT_EQ(req.Query("repo"), "example/app:v1");
  EXPECT_EQ(req.Query("tag"), "");
  EXPECT_EQ(req.Query("message"), "hello");
  EXPECT_EQ(req.Query("platform"), "linux/amd64");
  EXPECT_EQ(req.QueryAll("changes"), (std::vector<std::string>{"ENV A=b", "CMD [\"sh\"]"}));
  EXPECT_EQ(out_, "sha256:1234abcd\n");
}

TEST_F(ImportTest, FromFile) {
  TempDir dir;
  std::string path = dir.path() + "/rootfs.tar";
  ASSERT_TRUE(WriteFileAtomic(path, "tar bytes").ok());
  ASSERT_EQ(RunCli({"image", "import", path}), 0) << err_;
  RecordedRequest req = OnlyRequest();
  EXPECT_EQ(req.body, "tar bytes");
  EXPECT_EQ(req.Query("fromSrc"), "-");
  EXPECT_EQ(req.Query("repo"), "");
}

TEST_F(ImportTest, FromUrlSendsNoBody) {
  ASSERT_EQ(RunCli({"import", "https://example.com/rootfs.tar.gz", "app"}), 0) << err_;
  RecordedRequest req = OnlyRequest();
  EXPECT_FALSE(req.streamed);
  EXPECT_EQ(req.Query("fromSrc"), "https://example.com/rootfs.tar.gz");
  EXPECT_EQ(req.Query("repo"), "app");
}

TEST_F(ImportTest, MissingFileIsAnError) {
  EXPECT_EQ(RunCli({"import", "/nonexistent/rootfs.tar"}), 1);
  EXPECT_NE(err_.find("/nonexistent/rootfs.tar"), std::string::npos) << err_;
  EXPECT_TRUE(fake_.ApiRequests().empty());
}

TEST_F(ImportTest, ErrorInTheStreamExits1) {
  fake_.On("POST /v1.43/images/create",
           {200,
            "{\"status\":\"Importing\"}\n{\"errorDetail\":{\"message\":\"archive/tar: invalid tar "
            "header\"},\"error\":\"archive/tar: invalid tar header\"}\n",
            {}});
  EXPECT_EQ(RunCli({"import", "-"}, "junk"), 1);
  EXPECT_EQ(out_, "Importing\n");
  EXPECT_EQ(err_, "archive/tar: invalid tar header\n");
}

// ---------------------------------------------------------------------------------------------

class SaveTest : public CliTest {
 protected:
  void SetUp() override {
    CliTest::SetUp();
    fake_.On("GET /v1.43/images/get", {200, std::string("TAR\0DATA", 8), {}});
  }
};

TEST_F(SaveTest, ToStdout) {
  ASSERT_EQ(RunCli({"save", "busybox:latest", "alpine"}), 0) << err_;
  RecordedRequest req = OnlyRequest();
  EXPECT_EQ(req.path, "/v1.43/images/get");
  EXPECT_EQ(req.QueryAll("names"), (std::vector<std::string>{"busybox:latest", "alpine"}));
  EXPECT_EQ(out_, std::string("TAR\0DATA", 8));
}

TEST_F(SaveTest, RefusesATerminal) {
  out_tty_ = true;
  EXPECT_EQ(RunCli({"save", "busybox"}), 1);
  EXPECT_EQ(err_, "cowardly refusing to save to a terminal. Use the -o flag or redirect\n");
  EXPECT_TRUE(fake_.ApiRequests().empty());
}

TEST_F(SaveTest, ToFileLeavesOnlyTheFile) {
  TempDir dir;
  std::string path = dir.path() + "/out.tar";
  out_tty_ = true;  // -o makes a terminal fine
  ASSERT_EQ(RunCli({"image", "save", "-o", path, "busybox"}), 0) << err_;
  Result<std::string> content = ReadFile(path);
  ASSERT_TRUE(content.ok());
  EXPECT_EQ(*content, std::string("TAR\0DATA", 8));
  EXPECT_EQ(out_, "");
  // No temp file is left beside it.
  ASSERT_EQ(::unlink(path.c_str()), 0);
  EXPECT_EQ(::rmdir(dir.path().c_str()), 0);
}

TEST_F(SaveTest, DaemonErrorLeavesNoFile) {
  TempDir dir;
  fake_.On("GET /v1.43/images/get", {404, R"({"message":"No such image: nope:latest"})", {}});
  std::string path = dir.path() + "/out.tar";
  EXPECT_EQ(RunCli({"save", "-o", path, "nope"}), 1);
  EXPECT_EQ(err_, "Error response from daemon: No such image: nope:latest\n");
  EXPECT_EQ(::rmdir(dir.path().c_str()), 0) << "directory not empty";
}

TEST_F(SaveTest, MissingOutputDirectory) {
  EXPECT_EQ(RunCli({"save", "-o", "/nonexistent-dir/out.tar", "busybox"}), 1);
  EXPECT_EQ(err_,
            "failed to save image: invalid output path: directory \"/nonexistent-dir\" does not "
            "exist\n");
}

// ---------------------------------------------------------------------------------------------

class LoadTest : public CliTest {
 protected:
  void SetUp() override {
    CliTest::SetUp();
    fake_.On("POST /v1.43/images/load",
             {200,
              "{\"stream\":\"Loaded image: busybox:latest\\n\"}\n{\"stream\":\"Loaded image ID: "
              "sha256:abc\\n\"}\n",
              {}});
  }
};

TEST_F(LoadTest, FromStdin) {
  ASSERT_EQ(RunCli({"load"}, "image tar"), 0) << err_;
  RecordedRequest req = OnlyRequest();
  EXPECT_TRUE(req.streamed);
  EXPECT_EQ(req.body, "image tar");
  EXPECT_EQ(req.Query("quiet"), "1");  // stdout is not a terminal
  EXPECT_EQ(req.headers, (Params{{"Content-Type", "application/x-tar"}}));
  EXPECT_EQ(out_, "Loaded image: busybox:latest\nLoaded image ID: sha256:abc\n");
}

TEST_F(LoadTest, QuietFollowsTheFlagOnATerminal) {
  out_tty_ = true;
  ASSERT_EQ(RunCli({"load"}, "x"), 0);
  EXPECT_EQ(OnlyRequest().Query("quiet"), "0");
  ASSERT_EQ(RunCli({"image", "load", "-q"}, "x"), 0);
  EXPECT_EQ(fake_.ApiRequests().back().Query("quiet"), "1");
}

TEST_F(LoadTest, RefusesATerminalStdin) {
  in_tty_ = true;
  EXPECT_EQ(RunCli({"load"}), 1);
  EXPECT_EQ(err_, "requested load from stdin, but stdin is empty\n");
  EXPECT_TRUE(fake_.ApiRequests().empty());
}

TEST_F(LoadTest, FromFile) {
  TempDir dir;
  std::string path = dir.path() + "/images.tar";
  ASSERT_TRUE(WriteFileAtomic(path, "file tar").ok());
  in_tty_ = true;  // -i makes a terminal stdin fine
  ASSERT_EQ(RunCli({"load", "-i", path}), 0) << err_;
  EXPECT_EQ(OnlyRequest().body, "file tar");
}

}  // namespace
}  // namespace berth::cli
