// The same image scenario through `berth` and through the stock `docker` CLI against one berthd:
// import, images, tag, history, inspect, save, rmi, load, prune, and bad input. The two CLIs
// must agree on what they show, and a failed command must leave nothing behind.
#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "base/file.h"
#include "base/strings.h"
#include "daemon_fixture.h"

namespace berth {
namespace {

class ImagesTest : public testing::DaemonFixture {
 protected:
  void SetUp() override {
    DaemonFixture::SetUp();
    rootfs_ = dir_ + "/busybox.tar";
    Run made =
        Shell(std::string(BERTH_SOURCE_DIR) + "/scripts/make-busybox-rootfs.sh > " + rootfs_);
    ASSERT_EQ(made.exit_code, 0) << made.output;
    d_ = StartDaemon("d", root_);
    ASSERT_TRUE(WaitReady(d_));
  }

  Run Shell(const std::string& script) {
    std::string log = dir_ + "/shell.out";
    pid_t pid = testing::Spawn({"/bin/sh", "-c", script}, log);
    std::optional<int> code = testing::WaitExit(pid, std::chrono::seconds(120));
    Result<std::string> out = ReadFile(log);
    return {code.value_or(-1), out ? *out : ""};
  }

  // What the daemon holds on disk: content blobs and snapshot directories.
  std::pair<size_t, size_t> DiskCensus() {
    return {testing::CountEntries(root_ + "/content/blobs/sha256"),
            testing::CountEntries(root_ + "/snapshots")};
  }

  std::string Trim(const std::string& s) { return std::string(TrimSpace(s)); }
  static std::vector<std::string> SortedLines(const std::string& s) {
    std::vector<std::string> lines = Split(s, '\n');
    std::sort(lines.begin(), lines.end());
    return lines;
  }

  Daemon d_;
  std::string rootfs_;
};

TEST_F(ImagesTest, BerthAndDockerAgreeOnTheSameScenario) {
  BERTH_SKIP_WITHOUT_DOCKER();
  Run imp = Berth(d_, {"import", "-c", "CMD [\"sh\"]", "-m", "base", rootfs_, "busybox:latest"});
  ASSERT_EQ(imp.exit_code, 0) << imp.output;
  std::string id = Trim(imp.output);
  ASSERT_TRUE(id.starts_with("sha256:")) << id;

  Run dimp = Docker(d_, {"import", "-c", "ENV A=1", "-", "other:1"}, {}, rootfs_);
  ASSERT_EQ(dimp.exit_code, 0) << dimp.output;
  ASSERT_TRUE(Trim(dimp.output).starts_with("sha256:")) << dimp.output;

  // Tag through one, see it through the other.
  ASSERT_EQ(Berth(d_, {"tag", "busybox", "me/bb:2"}).exit_code, 0);
  ASSERT_EQ(Docker(d_, {"tag", "other:1", "me/other"}).exit_code, 0);

  const std::string images_format = "{{.Repository}}:{{.Tag}} {{.ID}} {{.Size}}";
  Run bi = Berth(d_, {"images", "--format", images_format});
  Run di = Docker(d_, {"images", "--format", images_format});
  ASSERT_EQ(bi.exit_code, 0) << bi.output;
  ASSERT_EQ(di.exit_code, 0) << di.output;
  // docker groups an image's names through a Go map, so their order varies from run to run:
  // compare the lines as sets (images themselves come newest first in both).
  EXPECT_EQ(SortedLines(bi.output), SortedLines(di.output));
  EXPECT_NE(bi.output.find("me/bb:2 " + id.substr(7, 12)), std::string::npos) << bi.output;
  EXPECT_NE(bi.output.find("me/other:latest"), std::string::npos) << bi.output;

  // The default tables agree too (the CREATED column aside, which is relative to now).
  Run bq = Berth(d_, {"images", "-q"});
  Run dq = Docker(d_, {"images", "-q"});
  EXPECT_EQ(bq.output, dq.output);
  Run bt = Berth(d_, {"images"});
  Run dt = Docker(d_, {"images"});
  // The header's spacing follows the widest CREATED value ("Less than a second ago" against
  // "2 seconds ago" when the two commands straddle a second): compare its words.
  auto words = [](const std::string& line) {
    std::vector<std::string> out;
    for (const std::string& w : Split(line, ' ')) {
      if (!w.empty()) out.push_back(w);
    }
    return out;
  };
  EXPECT_EQ(words(Split(bt.output, '\n')[0]), words(Split(dt.output, '\n')[0]))
      << bt.output << dt.output;

  for (const std::string& fmt : {std::string("{{.ID}} {{.Size}} {{.Comment}}"),
                                 std::string("{{.CreatedBy}}|{{.Comment}}")}) {
    Run bh = Berth(d_, {"history", "--format", fmt, "busybox"});
    Run dh = Docker(d_, {"history", "--format", fmt, "busybox"});
    EXPECT_EQ(bh.output, dh.output) << fmt;
  }
  Run bhq = Berth(d_, {"history", "-q", "--no-trunc", "busybox"});
  EXPECT_EQ(Trim(bhq.output), id);

  for (const std::string& fmt :
       {std::string("{{.Id}}"), std::string("{{.Os}}/{{.Architecture}}"),
        std::string("{{json .Config.Cmd}}"), std::string("{{.Comment}}"),
        std::string("{{json .RootFS.Layers}}"), std::string("{{json .RepoTags}}")}) {
    Run b = Berth(d_, {"image", "inspect", "--format", fmt, "busybox"});
    Run dk = Docker(d_, {"image", "inspect", "--format", fmt, "busybox"});
    EXPECT_EQ(b.exit_code, 0) << b.output;
    EXPECT_EQ(b.output, dk.output) << fmt;
  }
  EXPECT_EQ(Trim(Berth(d_, {"image", "inspect", "--format", "{{.Comment}}", "busybox"}).output),
            "base");
  EXPECT_EQ(
      Trim(Docker(d_, {"image", "inspect", "--format", "{{json .Config.Env}}", "other:1"}).output),
      "[\"A=1\"]");

  // version and info: same server facts through both.
  for (const std::string& fmt : {std::string("{{.Server.APIVersion}} {{.Server.Os}}")}) {
    Run b = Berth(d_, {"version", "--format", fmt});
    Run dk = Docker(d_, {"version", "--format", fmt});
    EXPECT_EQ(b.output, dk.output);
    EXPECT_EQ(Trim(b.output), "1.43 linux");
  }
  Run binfo = Berth(d_, {"info", "--format", "{{.Images}} {{.Driver}} {{.DockerRootDir}}"});
  Run dinfo = Docker(d_, {"info", "--format", "{{.Images}} {{.Driver}} {{.DockerRootDir}}"});
  EXPECT_EQ(binfo.output, dinfo.output);
  EXPECT_EQ(Trim(binfo.output), "2 overlay2 " + root_);

  // rmi: untag first, then delete with the last name.
  Run untag = Docker(d_, {"rmi", "me/bb:2"});
  EXPECT_EQ(untag.exit_code, 0) << untag.output;
  EXPECT_EQ(Trim(untag.output), "Untagged: me/bb:2");
  Run conflict = Berth(d_, {"rmi", id.substr(7, 12)});
  Run bt2 = Berth(d_, {"images", "-q"});
  EXPECT_EQ(conflict.exit_code, 0)
      << "one name left: deleting by ID untags it: " << conflict.output;
  EXPECT_NE(conflict.output.find("Deleted: " + id), std::string::npos) << conflict.output;
}

TEST_F(ImagesTest, SaveRmiLoadRoundTripsAcrossTheTwoClis) {
  BERTH_SKIP_WITHOUT_DOCKER();
  ASSERT_EQ(Berth(d_, {"import", rootfs_, "busybox"}).exit_code, 0);
  std::string id = Trim(Berth(d_, {"images", "-q", "--no-trunc"}).output);

  // berth save -> docker load
  ASSERT_EQ(Berth(d_, {"save", "-o", dir_ + "/b.tar", "busybox"}).exit_code, 0);
  ASSERT_EQ(Docker(d_, {"rmi", "busybox"}).exit_code, 0);
  EXPECT_EQ(Trim(Docker(d_, {"images", "-q"}).output), "");
  Run dl = Docker(d_, {"load", "-i", dir_ + "/b.tar"});
  EXPECT_EQ(dl.exit_code, 0) << dl.output;
  EXPECT_NE(dl.output.find("Loaded image: busybox:latest"), std::string::npos) << dl.output;
  EXPECT_EQ(Trim(Berth(d_, {"images", "-q", "--no-trunc"}).output), id);

  // docker save -> berth load, from stdin
  Run ds = Shell(docker_ + " -H unix://" + d_.socket + " save busybox > " + dir_ + "/d.tar");
  ASSERT_EQ(ds.exit_code, 0) << ds.output;
  ASSERT_EQ(Berth(d_, {"rmi", "busybox"}).exit_code, 0);
  Run bl = Berth(d_, {"load"}, {}, dir_ + "/d.tar");
  EXPECT_EQ(bl.exit_code, 0) << bl.output;
  EXPECT_NE(bl.output.find("Loaded image: busybox:latest"), std::string::npos) << bl.output;
  EXPECT_EQ(Trim(Docker(d_, {"images", "-q", "--no-trunc"}).output), id);
  Run digest_b =
      Berth(d_, {"image", "inspect", "--format", "{{.Id}} {{json .RootFS.Layers}}", "busybox"});
  EXPECT_NE(digest_b.output.find(id), std::string::npos);

  // Both archives are byte-identical: saving is deterministic.
  EXPECT_EQ(*ReadFile(dir_ + "/b.tar"), *ReadFile(dir_ + "/d.tar"));
}

TEST_F(ImagesTest, BadInputFailsClearlyAndLeavesNothing) {
  ASSERT_EQ(Berth(d_, {"import", rootfs_, "keep"}).exit_code, 0);
  auto before = DiskCensus();
  ASSERT_TRUE(WriteFileAtomic(dir_ + "/empty", ""));
  ASSERT_TRUE(WriteFileAtomic(dir_ + "/garbage", std::string(4096, 'g')));
  ASSERT_TRUE(WriteFileAtomic(dir_ + "/half.tar", ReadFile(rootfs_)->substr(0, 700000)));

  struct Case {
    std::vector<std::string> args;
    std::string stdin_path;
    std::string message;
  };
  std::vector<Case> cases = {
      {{"load", "-i", dir_ + "/empty"}, "", "empty"},
      {{"load", "-i", dir_ + "/garbage"}, "", "Error response from daemon"},
      {{"load"}, dir_ + "/half.tar", "Error response from daemon"},
      {{"import", dir_ + "/garbage", "bad:1"}, "", "Error response from daemon"},
      {{"import", dir_ + "/half.tar", "bad:2"}, "", "Error response from daemon"},
      {{"import", "-c", "RUN rm -rf /", rootfs_, "bad:3"}, "", "RUN is not a valid change command"},
      {{"import", rootfs_, "Bad:Name"}, "", "invalid reference format"},
      {{"rmi", "nothing-here"}, "", "No such image: nothing-here"},
      {{"tag", "nothing-here", "x"}, "", "No such image: nothing-here"},
      {{"image", "inspect", "nothing-here"}, "", "No such image: nothing-here"},
      {{"save", "-o", dir_ + "/x.tar", "nothing-here"}, "", "No such image: nothing-here"},
  };
  for (const Case& c : cases) {
    Run r = Berth(d_, c.args, {}, c.stdin_path);
    EXPECT_EQ(r.exit_code, 1) << Join(c.args, " ") << ": " << r.output;
    EXPECT_NE(r.output.find(c.message), std::string::npos) << Join(c.args, " ") << ": " << r.output;
    EXPECT_EQ(DiskCensus(), before) << Join(c.args, " ");
  }
  EXPECT_EQ(Trim(Berth(d_, {"images", "--format", "{{.Repository}}"}).output), "keep");
  // The daemon's scratch space is empty again.
  EXPECT_TRUE(std::filesystem::is_empty(root_ + "/tmp"));

  if (!docker_.empty()) {
    Run r = Docker(d_, {"load", "-i", dir_ + "/garbage"});
    EXPECT_EQ(r.exit_code, 1) << r.output;
    r = Docker(d_, {"import", "-c", "FOO bar", rootfs_});
    EXPECT_EQ(r.exit_code, 1) << r.output;
    EXPECT_NE(r.output.find("FOO is not a valid change command"), std::string::npos) << r.output;
    EXPECT_EQ(DiskCensus(), before);
  }
}

TEST_F(ImagesTest, ImportFromUrlAndPrune) {
  // A tiny HTTP server on loopback serves the rootfs.
  std::string log = dir_ + "/http.log";
  pid_t server = testing::Spawn({"/usr/bin/python3", "-u", "-m", "http.server", "--bind",
                                 "127.0.0.1", "0", "--directory", dir_},
                                log);
  ASSERT_GT(server, 0);
  std::string port;
  for (int i = 0; i < 2000 && port.empty(); ++i) {
    Result<std::string> text = ReadFile(log);
    size_t at = text ? text->find(" port ") : std::string::npos;
    if (at != std::string::npos) {
      size_t end = text->find(' ', at + 6);
      if (end != std::string::npos) port = text->substr(at + 6, end - at - 6);
    }
    if (port.empty()) ::usleep(5000);
  }
  ASSERT_FALSE(port.empty()) << *ReadFile(log);
  Run r = Berth(d_, {"import", "http://127.0.0.1:" + port + "/busybox.tar", "fromurl:1"});
  Run missing = Berth(d_, {"import", "http://127.0.0.1:" + port + "/nope.tar", "fromurl:2"});
  ::kill(server, SIGTERM);
  testing::WaitExit(server, std::chrono::seconds(10));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.output.find("404"), std::string::npos) << missing.output;
  EXPECT_EQ(Trim(Berth(d_, {"image", "inspect", "--format", "{{.Comment}}", "fromurl:1"}).output),
            "Imported from http://127.0.0.1:" + port + "/busybox.tar");

  // An untagged image is dangling: prune takes it, prune -a takes the rest.
  ASSERT_EQ(Berth(d_, {"import", rootfs_}).exit_code, 0);
  EXPECT_EQ(Split(Trim(Berth(d_, {"images", "-q"}).output), '\n').size(), 2u);
  Run p = Berth(d_, {"image", "prune", "-f"});
  EXPECT_EQ(p.exit_code, 0) << p.output;
  EXPECT_EQ(Trim(Berth(d_, {"images", "--format", "{{.Repository}}"}).output), "fromurl");
  p = Berth(d_, {"image", "prune", "-a", "-f"});
  EXPECT_EQ(p.exit_code, 0) << p.output;
  EXPECT_EQ(Trim(Berth(d_, {"images", "-q"}).output), "");
  EXPECT_EQ(DiskCensus(), (std::pair<size_t, size_t>{0, 0}));
}

}  // namespace
}  // namespace berth
