// Container filesystem operations through the stock docker CLI against berthd, with real
// containers: commit, cp (in and out, running and stopped, tar on stdout, symlink escapes),
// diff and export. After each step no mount of the test's directory is visible on the host:
// a running container's rootfs lives in its own mount namespace, and a stopped one is mounted
// only in a short-lived child's.
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "container_fixture.h"

namespace berth {
namespace {

using testing::ContainerFixture;

class FsOpsTest : public ContainerFixture {
 protected:
  void TearDown() override {
    if (!dir_.empty()) {
      RemoveAllContainers(d_);
      EXPECT_EQ(HostMountsUnderTestDir(), "");
    }
    ContainerFixture::TearDown();
  }

  // Lines of the host's mountinfo that mention the test's directory (data root included).
  std::string HostMountsUnderTestDir() {
    Result<std::string> info = ReadFile("/proc/self/mountinfo");
    EXPECT_TRUE(info);
    std::string out;
    for (const std::string& line : Split(info ? *info : "", '\n')) {
      if (line.find(dir_) != std::string::npos) out += line + "\n";
    }
    return out;
  }

  // docker ... | rest, through the shell.
  Run DockerPipe(const std::string& args, const std::string& rest) {
    return Shell("DOCKER_CONFIG=" + dir_ + "/docker-config " + docker_ + " -H unix://" + d_.socket +
                 " " + args + " | " + rest);
  }

  std::string Diff(const std::string& name) {
    Run diff = Docker(d_, {"diff", name});
    EXPECT_EQ(diff.exit_code, 0) << diff.output << Log(d_);
    return diff.output;
  }
};

TEST_F(FsOpsTest, CommitKeepsTheFileAndChangesApply) {
  BERTH_SKIP_WITHOUT_DOCKER();
  Run run = Docker(d_, {"run", "--name", "cc", "busybox", "sh", "-c", "echo hello > /x"});
  ASSERT_EQ(run.exit_code, 0) << run.output << Log(d_);
  Run commit = Docker(d_, {"commit", "-m", "note", "-a", "me", "cc", "snap:1"});
  ASSERT_EQ(commit.exit_code, 0) << commit.output << Log(d_);
  EXPECT_EQ(Trim(commit.output).rfind("sha256:", 0), 0u) << commit.output;
  Run cat = Docker(d_, {"run", "--rm", "snap:1", "cat", "/x"});
  EXPECT_EQ(cat.exit_code, 0) << cat.output << Log(d_);
  EXPECT_EQ(cat.output, "hello\n");
  // The container's Cmd became the image's, as in Docker.
  EXPECT_EQ(
      Trim(Docker(d_, {"inspect", "-f", "{{json .Config.Cmd}} {{.Author}} {{.Comment}}", "snap:1"})
               .output),
      R"(["sh","-c","echo hello > /x"] me note)");

  Run with_cmd = Docker(d_, {"commit", "-c", R"(CMD ["cat","/x"])", "cc", "snap:2"});
  ASSERT_EQ(with_cmd.exit_code, 0) << with_cmd.output << Log(d_);
  Run run2 = Docker(d_, {"run", "--rm", "snap:2"});
  EXPECT_EQ(run2.exit_code, 0) << run2.output;
  EXPECT_EQ(run2.output, "hello\n");

  // history: the new layer on top of the import, created by the container's command.
  Run history =
      Docker(d_, {"history", "--no-trunc", "--format", "{{.CreatedBy}}|{{.Comment}}", "snap:1"});
  ASSERT_EQ(history.exit_code, 0) << history.output;
  std::vector<std::string> lines = Split(Trim(history.output), '\n');
  ASSERT_EQ(lines.size(), 2u) << history.output;
  EXPECT_EQ(lines[0], "sh -c echo hello > /x|note");
  Run layers = Docker(d_, {"inspect", "-f", "{{len .RootFS.Layers}}", "snap:1"});
  EXPECT_EQ(Trim(layers.output), "2");
  EXPECT_EQ(HostMountsUnderTestDir(), "");
}

TEST_F(FsOpsTest, CommitOfARunningContainerPausesItAndBadChangesLeaveNothing) {
  BERTH_SKIP_WITHOUT_DOCKER();
  Run run = Docker(d_, {"run", "-d", "--name", "rr", "busybox", "sh", "-c",
                        "echo live > /live; while :; do sleep 0.1; done"});
  ASSERT_EQ(run.exit_code, 0) << run.output << Log(d_);
  Run images_before = Docker(d_, {"images", "-aq"});
  Run bad = Docker(d_, {"commit", "-c", "NOPE x", "rr", "bad:1"});
  EXPECT_NE(bad.exit_code, 0) << bad.output;
  EXPECT_EQ(Docker(d_, {"images", "-aq"}).output, images_before.output);
  // Wait until the file is there, then commit while it runs.
  for (int i = 0; i < 100; ++i) {
    Run out = DockerPipe("cp rr:/live -", "tar -xO");
    if (out.output == "live\n") break;
  }
  Run commit = Docker(d_, {"commit", "rr", "live:1"});
  ASSERT_EQ(commit.exit_code, 0) << commit.output << Log(d_);
  EXPECT_EQ(Trim(Docker(d_, {"inspect", "-f", "{{.State.Status}}", "rr"}).output), "running");
  Run cat = Docker(d_, {"run", "--rm", "live:1", "cat", "/live"});
  EXPECT_EQ(cat.output, "live\n");
  EXPECT_EQ(HostMountsUnderTestDir(), "");
}

TEST_F(FsOpsTest, CpInAndOutOfRunningAndStoppedContainers) {
  BERTH_SKIP_WITHOUT_DOCKER();
  ASSERT_TRUE(WriteFileAtomic(dir_ + "/in.txt", "from host\n"));
  ASSERT_TRUE(MakeDirs(dir_ + "/indir/sub"));
  ASSERT_TRUE(WriteFileAtomic(dir_ + "/indir/sub/f", "nested\n"));

  // Stopped (created, never started): the copy lands in the container's own layer.
  Run create = Docker(d_, {"create", "--name", "ss", "busybox", "sh", "-c",
                           "cat /tmp/in.txt /tmp/indir/sub/f /tmp/flat/sub/f"});
  ASSERT_EQ(create.exit_code, 0) << create.output << Log(d_);
  Run cp_in = Docker(d_, {"cp", dir_ + "/in.txt", "ss:/tmp/"});
  EXPECT_EQ(cp_in.exit_code, 0) << cp_in.output << Log(d_);
  EXPECT_EQ(Docker(d_, {"cp", dir_ + "/indir", "ss:/tmp/"}).exit_code, 0) << Log(d_);
  // A trailing "/." copies the directory's contents.
  EXPECT_EQ(Docker(d_, {"cp", dir_ + "/indir/.", "ss:/tmp/flat"}).exit_code, 0) << Log(d_);
  EXPECT_EQ(HostMountsUnderTestDir(), "");
  Run start = Docker(d_, {"start", "-a", "ss"});
  EXPECT_EQ(start.exit_code, 0) << start.output << Log(d_);
  EXPECT_EQ(start.output, "from host\nnested\nnested\n");

  // Out of the stopped container, to a file and as a tar on stdout.
  Run cp_out = Docker(d_, {"cp", "ss:/tmp/in.txt", dir_ + "/out.txt"});
  EXPECT_EQ(cp_out.exit_code, 0) << cp_out.output << Log(d_);
  EXPECT_EQ(ReadTrimmed(dir_ + "/out.txt"), "from host");
  Run list = DockerPipe("cp ss:/tmp/indir -", "tar -t");
  EXPECT_EQ(list.output, "indir/\nindir/sub/\nindir/sub/f\n");
  Run missing = Docker(d_, {"cp", "ss:/nope", dir_ + "/x"});
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_NE(missing.output.find("Could not find the file /nope in container ss"), std::string::npos)
      << missing.output;

  // Running: reads and writes go through its init's root.
  Run run = Docker(d_, {"run", "-d", "--name", "rr", "busybox", "sh", "-c",
                        "echo mine > /mine; while :; do sleep 0.1; done"});
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_EQ(Docker(d_, {"cp", dir_ + "/in.txt", "rr:/in.txt"}).exit_code, 0) << Log(d_);
  for (int i = 0; i < 100 && DockerPipe("cp rr:/mine -", "tar -xO").output != "mine\n"; ++i) {
  }
  EXPECT_EQ(DockerPipe("cp rr:/mine -", "tar -xO").output, "mine\n");
  EXPECT_EQ(DockerPipe("cp rr:/in.txt -", "tar -xO").output, "from host\n");
  Run dir_out = Docker(d_, {"cp", "rr:/etc", dir_ + "/etc-copy"});
  EXPECT_EQ(dir_out.exit_code, 0) << dir_out.output;
  EXPECT_EQ(ReadTrimmed(dir_ + "/etc-copy/passwd").rfind("root:x:0:0", 0), 0u);
  EXPECT_EQ(HostMountsUnderTestDir(), "");
}

TEST_F(FsOpsTest, CpThroughASymlinkToRootStaysInTheContainer) {
  BERTH_SKIP_WITHOUT_DOCKER();
  ASSERT_TRUE(PathExists("/etc/shadow"));  // the host has it; busybox does not
  Run run = Docker(d_, {"run", "-d", "--name", "ee", "--hostname", "inside", "busybox", "sh", "-c",
                        "ln -s / /escape; ln -s ../../../../etc /up; touch /ready; "
                        "while :; do sleep 0.1; done"});
  ASSERT_EQ(run.exit_code, 0) << run.output;
  for (int i = 0; i < 100 && DockerPipe("cp ee:/ready -", "tar -t").output != "ready\n"; ++i) {
  }
  // Running: /escape/etc/hostname is the container's file.
  EXPECT_EQ(DockerPipe("cp ee:/escape/etc/hostname -", "tar -xO").output, "inside\n");
  for (const char* path : {"ee:/escape/etc/shadow", "ee:/up/shadow", "ee:/../../../etc/shadow"}) {
    Run shadow = Docker(d_, {"cp", path, "-"});
    EXPECT_NE(shadow.exit_code, 0) << path;
    EXPECT_NE(shadow.output.find("Could not find the file"), std::string::npos) << shadow.output;
  }
  // Writes through the symlink land inside too.
  ASSERT_TRUE(WriteFileAtomic(dir_ + "/planted", "x"));
  EXPECT_EQ(Docker(d_, {"cp", dir_ + "/planted", "ee:/escape/tmp/"}).exit_code, 0) << Log(d_);
  EXPECT_FALSE(PathExists("/tmp/planted"));
  EXPECT_EQ(DockerPipe("cp ee:/tmp/planted -", "tar -xO").output, "x");

  // Stopped: the same through the privately mounted snapshot.
  ASSERT_EQ(Docker(d_, {"kill", "ee"}).exit_code, 0);
  ASSERT_EQ(Docker(d_, {"wait", "ee"}).exit_code, 0);
  EXPECT_EQ(DockerPipe("cp ee:/escape/etc/passwd -", "tar -xO | head -1").output,
            "root:x:0:0:root:/root:/bin/sh\n");
  Run shadow = Docker(d_, {"cp", "ee:/escape/etc/shadow", "-"});
  EXPECT_NE(shadow.exit_code, 0);
  EXPECT_NE(shadow.output.find("Could not find the file"), std::string::npos) << shadow.output;
  EXPECT_EQ(Docker(d_, {"cp", dir_ + "/planted", "ee:/escape/root/"}).exit_code, 0) << Log(d_);
  EXPECT_FALSE(PathExists("/root/planted"));
  EXPECT_EQ(DockerPipe("cp ee:/root/planted -", "tar -xO").output, "x");
  EXPECT_EQ(HostMountsUnderTestDir(), "");
}

TEST_F(FsOpsTest, DiffShowsAddedChangedAndDeletedFiles) {
  BERTH_SKIP_WITHOUT_DOCKER();
  Run run = Docker(d_, {"run", "--name", "dd", "busybox", "sh", "-c",
                        "echo a > /added; echo me:x:5:5::/:/bin/sh >> /etc/passwd; "
                        "rm /bin/ls; mkdir -p /newdir/sub"});
  ASSERT_EQ(run.exit_code, 0) << run.output << Log(d_);
  EXPECT_EQ(Diff("dd"),
            "A /added\nC /bin\nD /bin/ls\nC /etc\nC /etc/passwd\nA /newdir\nA /newdir/sub\n");
  Run fresh = Docker(d_, {"create", "--name", "fresh", "busybox"});
  ASSERT_EQ(fresh.exit_code, 0);
  EXPECT_EQ(Diff("fresh"), "");
  EXPECT_NE(Docker(d_, {"diff", "nope"}).exit_code, 0);
}

TEST_F(FsOpsTest, ExportIsATarOfTheMergedTree) {
  BERTH_SKIP_WITHOUT_DOCKER();
  Run run = Docker(d_, {"run", "--name", "xx", "busybox", "sh", "-c", "echo a > /exported"});
  ASSERT_EQ(run.exit_code, 0) << run.output << Log(d_);
  Run list = DockerPipe("export xx", "tar -t");
  ASSERT_EQ(list.exit_code, 0) << list.output;
  for (const char* want : {"exported\n", "bin/busybox\n", "etc/passwd\n", "bin/sh\n"}) {
    EXPECT_NE(list.output.find(want), std::string::npos) << want;
  }
  Run content = DockerPipe("export xx", "tar -xO exported");
  EXPECT_EQ(content.output, "a\n");
  // Running: the tree without its mounts (no /proc contents).
  Run r = Docker(d_, {"run", "-d", "--name", "rx", "busybox", "sleep", "1000"});
  ASSERT_EQ(r.exit_code, 0);
  Run rlist = DockerPipe("export rx", "tar -t");
  EXPECT_NE(rlist.output.find("bin/busybox\n"), std::string::npos) << rlist.output;
  EXPECT_EQ(rlist.output.find("proc/self"), std::string::npos);
  EXPECT_EQ(HostMountsUnderTestDir(), "");
}

}  // namespace
}  // namespace berth
