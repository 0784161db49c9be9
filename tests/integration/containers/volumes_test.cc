// Containers with volumes and bind mounts (-v NAME:/dst[:ro], -v /host:/dst, -v /dst) through
// the stock docker CLI and berth: data shared through a named volume, read-only mounts, inspect's
// Mounts, rm -v, diff without volume files, and bad -v input that leaves nothing behind.
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "container_fixture.h"

namespace berth {
namespace {

using testing::ContainerFixture;

class ContainerVolumesTest : public ContainerFixture {};

TEST_F(ContainerVolumesTest, NamedVolumeCarriesDataToTheNextContainer) {
  BERTH_SKIP_WITHOUT_DOCKER();
  Run write = Docker(d_, {"run", "--rm", "-v", "shared:/data", "busybox", "sh", "-c",
                          "echo hello > /data/f"});
  ASSERT_EQ(write.exit_code, 0) << write.output << Log(d_);
  EXPECT_EQ(ReadTrimmed(root_ + "/volumes/shared/_data/f"), "hello");
  Run read = Docker(d_, {"run", "--rm", "-v", "shared:/data", "-v", "/anon", "busybox", "cat",
                         "/data/f"});
  EXPECT_EQ(read.exit_code, 0) << read.output;
  EXPECT_EQ(read.output, "hello\n");
  Run berth = Berth(d_, {"run", "--rm", "-v", "shared:/d", "busybox", "cat", "/d/f"});
  EXPECT_EQ(berth.output, "hello\n") << berth.output;
  // --rm removes the anonymous volume, never a named one.
  EXPECT_EQ(Docker(d_, {"volume", "ls", "-q"}).output, "shared\n");
}

// The local driver's options: a tmpfs volume and a bind of a host directory are mounted while
// a container uses them and unmounted after; removing the volume never touches the host data.
TEST_F(ContainerVolumesTest, DriverOptionVolumesAreMountedWhileInUse) {
  BERTH_SKIP_WITHOUT_DOCKER();
  auto mounted = [&](const std::string& path) {
    auto info = ReadFile("/proc/self/mountinfo");
    return info.ok() && info->find(" " + path + " ") != std::string::npos;
  };
  Run create = Docker(d_, {"volume", "create", "--opt", "type=tmpfs", "--opt", "device=tmpfs",
                           "--opt", "o=size=1m,mode=0700", "tv"});
  ASSERT_EQ(create.exit_code, 0) << create.output << Log(d_);
  Run run = Docker(d_, {"run", "--rm", "-v", "tv:/d", "busybox", "sh", "-c",
                        "grep ' /d ' /proc/mounts | cut -d' ' -f1,3; stat -c %a /d; "
                        "echo hi > /d/f; dd if=/dev/zero of=/d/big bs=1k count=2048 2>/dev/null || echo full"});
  EXPECT_EQ(run.exit_code, 0) << run.output << Log(d_);
  EXPECT_EQ(run.output, "tmpfs tmpfs\n700\nfull\n");
  std::string tv = root_ + "/volumes/tv/_data";
  EXPECT_FALSE(mounted(tv));
  EXPECT_FALSE(PathExists(tv + "/f"));  // the tmpfs went with its last user
  // Inspect shows the options as given.
  EXPECT_EQ(Docker(d_, {"volume", "inspect", "-f", "{{.Options.type}} {{.Options.o}}", "tv"}).output,
            "tmpfs size=1m,mode=0700\n");

  std::string host = dir_ + "/srv";
  ASSERT_TRUE(MakeDirs(host).ok());
  ASSERT_TRUE(WriteFileAtomic(host + "/keep", "precious\n").ok());
  ASSERT_EQ(Docker(d_, {"volume", "create", "--opt", "type=none", "--opt", "o=bind", "--opt",
                        "device=" + host, "bv"})
                .exit_code,
            0);
  Run bind = Berth(d_, {"run", "--rm", "-v", "bv:/d", "busybox", "sh", "-c", "cat /d/keep; echo new > /d/new"});
  EXPECT_EQ(bind.exit_code, 0) << bind.output << Log(d_);
  EXPECT_EQ(bind.output, "precious\n");
  EXPECT_EQ(ReadTrimmed(host + "/new"), "new");
  EXPECT_FALSE(mounted(root_ + "/volumes/bv/_data"));
  ASSERT_EQ(Docker(d_, {"volume", "rm", "bv", "tv"}).exit_code, 0);
  EXPECT_EQ(ReadTrimmed(host + "/keep"), "precious");
  EXPECT_EQ(ReadTrimmed(host + "/new"), "new");

  // The driver's own checks, and a mount that fails at start leaves no container running.
  Run missing = Docker(d_, {"volume", "create", "--opt", "type=tmpfs", "x"});
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_NE(missing.output.find("missing required option: \"device\""), std::string::npos) << missing.output;
  ASSERT_EQ(Docker(d_, {"volume", "create", "--opt", "type=nosuchfs", "--opt", "device=x", "badv"}).exit_code, 0);
  Run bad = Docker(d_, {"run", "--rm", "-v", "badv:/d", "busybox", "true"});
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.output.find("failed to mount local volume"), std::string::npos) << bad.output;
  EXPECT_EQ(Docker(d_, {"ps", "-q"}).output, "");
}

TEST_F(ContainerVolumesTest, ReadOnlyMountRefusesWrites) {
  BERTH_SKIP_WITHOUT_DOCKER();
  Run ro = Docker(d_, {"run", "--rm", "-v", "rov:/data:ro", "busybox", "sh", "-c",
                       "touch /data/x"});
  EXPECT_NE(ro.exit_code, 0) << ro.output;
  EXPECT_NE(ro.output.find("Read-only file system"), std::string::npos) << ro.output;
  EXPECT_FALSE(PathExists(root_ + "/volumes/rov/_data/x"));
}

TEST_F(ContainerVolumesTest, BindMountSharesAHostDirectory) {
  BERTH_SKIP_WITHOUT_DOCKER();
  std::string host = dir_ + "/host";
  ASSERT_TRUE(MakeDirs(host).ok());
  ASSERT_TRUE(WriteFileAtomic(host + "/in", "from host\n").ok());
  Run run = Docker(d_, {"run", "--rm", "-v", host + ":/h", "busybox", "sh", "-c",
                        "cat /h/in; echo back > /h/out"});
  EXPECT_EQ(run.exit_code, 0) << run.output << Log(d_);
  EXPECT_EQ(run.output, "from host\n");
  EXPECT_EQ(ReadTrimmed(host + "/out"), "back");
  // A missing -v source is created, as Docker does.
  std::string missing = dir_ + "/made/here";
  Run made = Docker(d_, {"run", "--rm", "-v", missing + ":/m:ro", "busybox", "ls", "/m"});
  EXPECT_EQ(made.exit_code, 0) << made.output;
  EXPECT_TRUE(PathExists(missing));
}

TEST_F(ContainerVolumesTest, AnonymousVolumeInInspectAndRemovedByRmV) {
  BERTH_SKIP_WITHOUT_DOCKER();
  Run create = Docker(d_, {"create", "--name", "anon", "-v", "/data", "-v", "keep:/k",
                           "busybox", "true"});
  ASSERT_EQ(create.exit_code, 0) << create.output << Log(d_);
  std::string id = Trim(create.output);
  Run mounts = Docker(d_, {"inspect", "-f",
                           "{{range .Mounts}}{{.Type}} {{len .Name}} {{.Destination}} {{.RW}} "
                           "{{.Driver}};{{end}}",
                           "anon"});
  EXPECT_EQ(Trim(mounts.output), "volume 4 /k true local;volume 64 /data true local;")
      << mounts.output;
  std::string anon_name =
      Trim(Docker(d_, {"inspect", "-f", "{{(index .Mounts 1).Name}}", "anon"}).output);
  ASSERT_EQ(anon_name.size(), 64u);
  Run binds = Docker(d_, {"inspect", "-f", "{{.HostConfig.Binds}}", "anon"});
  EXPECT_EQ(Trim(binds.output), "[keep:/k]");

  Run in_use = Docker(d_, {"volume", "rm", anon_name});
  EXPECT_EQ(in_use.exit_code, 1);
  EXPECT_NE(in_use.output.find("remove " + anon_name + ": volume is in use - [" + id + "]"),
            std::string::npos)
      << in_use.output;
  Run dangling = Docker(d_, {"volume", "ls", "-q", "-f", "dangling=true"});
  EXPECT_EQ(dangling.output, "");

  ASSERT_EQ(Docker(d_, {"rm", "-v", "anon"}).exit_code, 0);
  EXPECT_EQ(Docker(d_, {"volume", "ls", "-q"}).output, "keep\n");
  EXPECT_FALSE(PathExists(root_ + "/volumes/" + anon_name));
}

TEST_F(ContainerVolumesTest, DiffAndCommitLeaveVolumeFilesOut) {
  BERTH_SKIP_WITHOUT_DOCKER();
  Run run = Docker(d_, {"run", "--name", "df", "-v", "dv:/data", "busybox", "sh", "-c",
                        "echo x > /data/f; echo y > /y"});
  ASSERT_EQ(run.exit_code, 0) << run.output << Log(d_);
  Run diff = Docker(d_, {"diff", "df"});
  EXPECT_EQ(diff.exit_code, 0) << diff.output;
  EXPECT_NE(diff.output.find("A /y"), std::string::npos) << diff.output;
  EXPECT_EQ(diff.output.find("/data/f"), std::string::npos) << diff.output;
  ASSERT_EQ(Docker(d_, {"commit", "df", "withvol:1"}).exit_code, 0);
  Run check = Docker(d_, {"run", "--rm", "withvol:1", "sh", "-c", "ls /data/f || echo none"});
  EXPECT_NE(check.output.find("none"), std::string::npos) << check.output;
  EXPECT_EQ(Docker(d_, {"rm", "df"}).exit_code, 0);
}

TEST_F(ContainerVolumesTest, NewVolumeStartsWithTheImageContentAtItsPath) {
  BERTH_SKIP_WITHOUT_DOCKER();
  // Named, at /bin: busybox's applet symlinks are copied as symlinks, and the shell still runs.
  Run bin = Docker(d_, {"run", "--rm", "-v", "binv:/bin", "busybox", "sh", "-c", "echo ok"});
  EXPECT_EQ(bin.exit_code, 0) << bin.output << Log(d_);
  EXPECT_EQ(bin.output, "ok\n");
  struct stat st {};
  ASSERT_EQ(::lstat((root_ + "/volumes/binv/_data/sh").c_str(), &st), 0);
  EXPECT_TRUE(S_ISLNK(st.st_mode));
  // Anonymous, at /tmp (1777) and /root (0700): the directory's own mode comes along.
  Run create = Docker(d_, {"create", "--name", "modes", "-v", "/tmp", "-v", "/root",
                           "-v", "nc:/etc:nocopy", "busybox", "true"});
  ASSERT_EQ(create.exit_code, 0) << create.output << Log(d_);
  auto source_of = [&](const std::string& dst) {
    return Trim(Docker(d_, {"inspect", "-f",
                            "{{range .Mounts}}{{if eq .Destination \"" + dst +
                                "\"}}{{.Source}}{{end}}{{end}}",
                            "modes"})
                    .output);
  };
  std::string tmp_src = source_of("/tmp");
  std::string root_src = source_of("/root");
  ASSERT_EQ(::stat(tmp_src.c_str(), &st), 0) << tmp_src;
  EXPECT_EQ(st.st_mode & 07777, 01777u);
  ASSERT_EQ(::stat(root_src.c_str(), &st), 0) << root_src;
  EXPECT_EQ(st.st_mode & 07777, 0700u);
  // nocopy: left empty.
  EXPECT_EQ(testing::CountEntries(root_ + "/volumes/nc/_data"), 0u);
  EXPECT_EQ(Docker(d_, {"rm", "-v", "modes"}).exit_code, 0);
  // An existing volume is not filled again.
  ASSERT_EQ(::unlink((root_ + "/volumes/binv/_data/ls").c_str()), 0);
  Run again = Docker(d_, {"run", "--rm", "-v", "binv:/bin", "busybox", "sh", "-c",
                          "test -e /bin/ls && echo back || echo gone"});
  EXPECT_EQ(again.output, "gone\n") << again.output;
}

TEST_F(ContainerVolumesTest, VolumesFromSharesAnotherContainersMounts) {
  BERTH_SKIP_WITHOUT_DOCKER();
  ASSERT_EQ(Docker(d_, {"create", "--name", "holder", "-v", "vf:/data", "-v", "/anon", "busybox",
                        "true"})
                .exit_code,
            0);
  Run write = Docker(d_, {"run", "--rm", "--volumes-from", "holder", "busybox", "sh", "-c",
                          "echo shared > /data/f; echo a > /anon/a"});
  EXPECT_EQ(write.exit_code, 0) << write.output << Log(d_);
  EXPECT_EQ(ReadTrimmed(root_ + "/volumes/vf/_data/f"), "shared");
  Run ro = Docker(d_, {"run", "--rm", "--volumes-from", "holder:ro", "busybox", "sh", "-c",
                       "cat /anon/a; touch /data/x"});
  EXPECT_NE(ro.exit_code, 0) << ro.output;
  EXPECT_NE(ro.output.find("a\n"), std::string::npos) << ro.output;
  EXPECT_NE(ro.output.find("Read-only file system"), std::string::npos) << ro.output;
  Run missing = Docker(d_, {"run", "--rm", "--volumes-from", "nosuch", "busybox", "true"});
  EXPECT_EQ(missing.exit_code, 125) << missing.output;
  EXPECT_NE(missing.output.find("No such container: nosuch"), std::string::npos)
      << missing.output;
  // --rm of the borrowers left the holder's anonymous volume; rm -v takes it.
  EXPECT_EQ(Trim(Docker(d_, {"volume", "ls", "-q"}).output).size(), 64u + 1 + 2);
  ASSERT_EQ(Docker(d_, {"rm", "-v", "holder"}).exit_code, 0);
  EXPECT_EQ(Docker(d_, {"volume", "ls", "-q"}).output, "vf\n");
}

// The announcement's hot upgrade: A (image v1) writes its data into its volume and stops; B,
// a different image, started with --volumes-from A, reads exactly that data and extends it.
TEST_F(ContainerVolumesTest, HotUpgradeThroughVolumesFrom) {
  BERTH_SKIP_WITHOUT_DOCKER();
  Run v2 = Docker(d_, {"run", "--name", "mkv2", "busybox", "touch", "/v2-marker"});
  ASSERT_EQ(v2.exit_code, 0) << v2.output << Log(d_);
  ASSERT_EQ(Docker(d_, {"commit", "mkv2", "app:v2"}).exit_code, 0);
  Run a = Docker(d_, {"run", "--name", "dbA", "-v", "/var/lib/db", "busybox", "sh", "-c",
                      "echo one > /var/lib/db/data"});
  ASSERT_EQ(a.exit_code, 0) << a.output << Log(d_);
  Run b = Docker(d_, {"run", "--rm", "--volumes-from", "dbA", "app:v2", "sh", "-c",
                      "cat /var/lib/db/data && echo two >> /var/lib/db/data && ls /v2-marker"});
  EXPECT_EQ(b.exit_code, 0) << b.output;
  EXPECT_EQ(b.output, "one\n/v2-marker\n");
  Run again = Berth(d_, {"run", "--rm", "--volumes-from", "dbA", "busybox", "cat",
                         "/var/lib/db/data"});
  EXPECT_EQ(again.output, "one\ntwo\n") << again.output;
}

// The announcement's backup and restore: tar the volume of A from a helper container into a
// bind-mounted host directory, restore it into a new container's volume, compare checksums.
TEST_F(ContainerVolumesTest, BackupAndRestoreThroughABindMount) {
  BERTH_SKIP_WITHOUT_DOCKER();
  const std::string backup = dir_ + "/backup";
  ASSERT_EQ(::mkdir(backup.c_str(), 0755), 0);
  Run a = Docker(d_, {"run", "--name", "bkA", "-v", "/var/lib/db", "busybox", "sh", "-c",
                      "mkdir /var/lib/db/t && seq 1 5000 > /var/lib/db/t/rows && "
                      "ln -s t/rows /var/lib/db/link && chown 7:8 /var/lib/db/t/rows"});
  ASSERT_EQ(a.exit_code, 0) << a.output << Log(d_);
  Run tar = Docker(d_, {"run", "--rm", "--volumes-from", "bkA", "-v", backup + ":/backup",
                        "busybox", "tar", "czf", "/backup/db.tgz", "/var/lib/db"});
  ASSERT_EQ(tar.exit_code, 0) << tar.output;
  EXPECT_TRUE(PathExists(backup + "/db.tgz"));
  ASSERT_EQ(Docker(d_, {"create", "--name", "bkB", "-v", "/var/lib/db", "busybox", "true"})
                .exit_code,
            0);
  Run restore = Docker(d_, {"run", "--rm", "--volumes-from", "bkB", "-v", backup + ":/backup",
                            "busybox", "tar", "xzf", "/backup/db.tgz", "-C", "/"});
  ASSERT_EQ(restore.exit_code, 0) << restore.output;
  const std::vector<std::string> sum = {"sh", "-c",
                                        "cd /var/lib/db && md5sum t/rows && readlink link && "
                                        "stat -c %u:%g t/rows"};
  auto check = [&](const std::string& from) {
    std::vector<std::string> args = {"run", "--rm", "--volumes-from", from, "busybox"};
    args.insert(args.end(), sum.begin(), sum.end());
    return Docker(d_, args);
  };
  Run original = check("bkA");
  Run restored = check("bkB");
  EXPECT_EQ(original.exit_code, 0) << original.output;
  EXPECT_EQ(restored.output, original.output);
  EXPECT_NE(original.output.find("t/rows\n7:8\n"), std::string::npos) << original.output;
}

// The announcement's sharing: two running containers on one named volume see each other's
// writes at once; the one that has it :ro gets EROFS.
TEST_F(ContainerVolumesTest, TwoRunningContainersShareANamedVolume) {
  BERTH_SKIP_WITHOUT_DOCKER();
  ASSERT_EQ(Docker(d_, {"run", "-d", "--name", "shw", "-v", "sharedlive:/data", "busybox",
                        "sleep", "1000"})
                .exit_code,
            0)
      << Log(d_);
  ASSERT_EQ(Docker(d_, {"run", "-d", "--name", "shr", "-v", "sharedlive:/data:ro", "busybox",
                        "sleep", "1000"})
                .exit_code,
            0);
  Run w = Docker(d_, {"exec", "shw", "sh", "-c", "echo live > /data/f"});
  EXPECT_EQ(w.exit_code, 0) << w.output;
  Run r = Docker(d_, {"exec", "shr", "cat", "/data/f"});
  EXPECT_EQ(r.output, "live\n");
  Run refused = Docker(d_, {"exec", "shr", "sh", "-c", "echo no > /data/g"});
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_NE(refused.output.find("Read-only file system"), std::string::npos) << refused.output;
  Run in_use = Docker(d_, {"volume", "rm", "sharedlive"});
  EXPECT_NE(in_use.exit_code, 0);
  EXPECT_NE(in_use.output.find("volume is in use"), std::string::npos) << in_use.output;
  EXPECT_EQ(Docker(d_, {"rm", "-f", "shw", "shr"}).exit_code, 0);
  EXPECT_EQ(ReadTrimmed(root_ + "/volumes/sharedlive/_data/f"), "live");  // outlives both
}

TEST_F(ContainerVolumesTest, MountFlagVolumesAndBinds) {
  BERTH_SKIP_WITHOUT_DOCKER();
  Run vol = Docker(d_, {"run", "--rm", "--mount", "type=volume,src=mv,dst=/m", "--mount",
                        "type=volume,dst=/anon", "busybox", "sh", "-c", "echo m > /m/f"});
  EXPECT_EQ(vol.exit_code, 0) << vol.output << Log(d_);
  EXPECT_EQ(ReadTrimmed(root_ + "/volumes/mv/_data/f"), "m");
  // --rm took the anonymous one.
  EXPECT_EQ(Docker(d_, {"volume", "ls", "-q"}).output, "mv\n");
  std::string host = dir_ + "/mhost";
  ASSERT_TRUE(MakeDirs(host).ok());
  Run ro = Docker(d_, {"run", "--rm", "--mount", "type=bind,src=" + host + ",dst=/b,readonly",
                       "busybox", "touch", "/b/x"});
  EXPECT_NE(ro.exit_code, 0) << ro.output;
  EXPECT_NE(ro.output.find("Read-only file system"), std::string::npos) << ro.output;
  Run missing = Docker(d_, {"run", "--rm", "--mount",
                            "type=bind,src=" + dir_ + "/nope,dst=/b", "busybox", "true"});
  EXPECT_EQ(missing.exit_code, 125) << missing.output;
  EXPECT_NE(missing.output.find("bind source path does not exist: " + dir_ + "/nope"),
            std::string::npos)
      << missing.output;
  EXPECT_FALSE(PathExists(dir_ + "/nope"));
  EXPECT_EQ(Trim(Docker(d_, {"ps", "-aq"}).output), "");
}

TEST_F(ContainerVolumesTest, ReferencesAndMountsSurviveADaemonRestart) {
  BERTH_SKIP_WITHOUT_DOCKER();
  Run create = Docker(d_, {"create", "--name", "keeper", "-v", "kept:/k", "busybox", "cat",
                           "/k/f"});
  ASSERT_EQ(create.exit_code, 0) << create.output << Log(d_);
  std::string id = Trim(create.output);
  ASSERT_TRUE(WriteFileAtomic(root_ + "/volumes/kept/_data/f", "still here\n").ok());
  ASSERT_EQ(::kill(d_.pid, SIGTERM), 0);
  ASSERT_TRUE(testing::WaitExit(d_.pid, std::chrono::seconds(30)).has_value());
  Forget(d_.pid);
  d_ = StartDaemon("d2", root_);
  ASSERT_TRUE(WaitReady(d_));
  Run in_use = Docker(d_, {"volume", "rm", "kept"});
  EXPECT_EQ(in_use.exit_code, 1);
  EXPECT_NE(in_use.output.find("volume is in use - [" + id + "]"), std::string::npos)
      << in_use.output;
  Run start = Docker(d_, {"start", "-a", "keeper"});
  EXPECT_EQ(start.exit_code, 0) << start.output << Log(d_);
  EXPECT_EQ(start.output, "still here\n");
  ASSERT_EQ(Docker(d_, {"rm", "keeper"}).exit_code, 0);
  EXPECT_EQ(Docker(d_, {"volume", "rm", "kept"}).exit_code, 0);
}

TEST_F(ContainerVolumesTest, BadMountsExit125AndLeaveNothing) {
  BERTH_SKIP_WITHOUT_DOCKER();
  struct Case {
    std::vector<std::string> flags;
    std::string message;
  };
  std::vector<Case> cases = {
      {{"-v", "badmode:/d:rx"}, "invalid mode: rx"},
      {{"-v", "dup1:/d", "-v", "/tmp:/d"}, "Duplicate mount point: /d"},
      {{"-v", "nm:rel"}, "mount path must be absolute"},
      {{"-v", "a:b:c:d"}, "invalid volume specification: 'a:b:c:d'"},
      {{"-v", "a/b:/d"}, "includes invalid characters for a local volume name"},
  };
  for (const Case& c : cases) {
    std::vector<std::string> args = {"run", "--rm"};
    args.insert(args.end(), c.flags.begin(), c.flags.end());
    args.insert(args.end(), {"busybox", "true"});
    Run r = Docker(d_, args);
    EXPECT_EQ(r.exit_code, 125) << c.message << ": " << r.output;
    EXPECT_NE(r.output.find(c.message), std::string::npos) << r.output;
    Run b = Berth(d_, args);
    EXPECT_EQ(b.exit_code, 125) << c.message << ": " << b.output;
  }
  EXPECT_EQ(Trim(Docker(d_, {"ps", "-aq"}).output), "");
  EXPECT_EQ(Docker(d_, {"volume", "ls", "-q"}).output, "");
  EXPECT_EQ(testing::CountEntries(root_ + "/volumes"), 0u);
  EXPECT_EQ(testing::CountEntries(root_ + "/containers"), 0u);
}

}  // namespace
}  // namespace berth
