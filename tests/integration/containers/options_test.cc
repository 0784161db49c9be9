// Container options end to end (issue 3), with real containers through the stock docker CLI and
// berth: --read-only, --tmpfs, --ulimit, --network container:NAME, --stop-signal / STOPSIGNAL /
// --stop-timeout, --init.
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "container_fixture.h"

namespace berth {
namespace {

using testing::ContainerFixture;
using Clock = std::chrono::steady_clock;

class OptionsTest : public ContainerFixture {
 protected:
  void SetUp() override {
    ContainerFixture::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    if (docker_.empty()) GTEST_SKIP() << "no docker CLI";
  }

  Run Cli(bool docker, std::vector<std::string> args) {
    return docker ? Docker(d_, std::move(args)) : Berth(d_, std::move(args));
  }

  // Waits until the container's log is `want`; the last log seen.
  std::string WaitLogs(const std::string& name, const std::string& want) {
    std::string logs;
    for (int i = 0; i < 250; ++i) {
      logs = Docker(d_, {"logs", name}).output;
      if (logs == want) break;
      ::usleep(20000);
    }
    return logs;
  }

  std::string Inspect(const std::string& name, const std::string& format) {
    return Trim(Docker(d_, {"inspect", "-f", format, name}).output);
  }
};

TEST_F(OptionsTest, ReadOnlyRootFailsWithErofsButDevShmAndTmpfsWork) {
  for (bool docker : {true, false}) {
    SCOPED_TRACE(docker ? "docker" : "berth");
    Run root = Cli(docker, {"run", "--rm", "--read-only", "busybox", "touch", "/x"});
    EXPECT_EQ(root.exit_code, 1) << root.output << Log(d_);
    EXPECT_EQ(root.output, "touch: /x: Read-only file system\n");
    // /tmp is part of the root: read-only too unless a tmpfs is mounted there.
    Run tmp = Cli(docker, {"run", "--rm", "--read-only", "busybox", "touch", "/tmp/x"});
    EXPECT_EQ(tmp.exit_code, 1) << tmp.output;
    EXPECT_EQ(tmp.output, "touch: /tmp/x: Read-only file system\n");
    // As Docker: /dev and /dev/shm stay writable tmpfs, /etc/hosts and friends are readable
    // (and bound read-only), /proc works, the root is mounted "ro".
    Run ok = Cli(docker, {"run", "--rm", "--read-only", "--tmpfs", "/tmp", "busybox", "sh", "-c",
                          "touch /tmp/x && echo shm > /dev/shm/y && cat /dev/shm/y && "
                          "echo z > /dev/null && touch /dev/made && "
                          "grep -q localhost /etc/hosts && test -s /etc/hostname && "
                          "test -f /etc/resolv.conf && hostname > /dev/null && "
                          "{ (echo x >> /etc/hosts) 2>/dev/null || echo hosts-ro; } && "
                          "grep ' / ' /proc/mounts | cut -d' ' -f4 | cut -d, -f1"});
    EXPECT_EQ(ok.exit_code, 0) << ok.output << Log(d_);
    EXPECT_EQ(ok.output, "shm\nhosts-ro\nro\n");
  }
  // Not read-only: the root and /etc/hosts are writable.
  Run rw = Docker(d_, {"run", "--rm", "busybox", "sh", "-c",
                       "touch /x && echo 1.2.3.4 x >> /etc/hosts && echo ok"});
  EXPECT_EQ(rw.output, "ok\n");
  EXPECT_EQ(Trim(Docker(d_, {"ps", "-aq"}).output), "");
}

TEST_F(OptionsTest, TmpfsHasItsOptionsAndDockersDefaults) {
  for (bool docker : {true, false}) {
    SCOPED_TRACE(docker ? "docker" : "berth");
    Run r = Cli(docker,
                {"run", "--rm", "--tmpfs", "/data:size=1m,mode=1770", "--tmpfs", "/plain",
                 "--tmpfs", "/run/x:exec", "busybox", "sh", "-c",
                 "grep -E ' /(data|plain|run/x) ' /proc/mounts | cut -d' ' -f1-4; "
                 "stat -c %a /data; "
                 "dd if=/dev/zero of=/data/f bs=1k count=2048 2>/dev/null || echo full; "
                 "cp /bin/busybox /plain/echo && { /plain/echo x 2>/dev/null || echo noexec; }; "
                 "cp /bin/busybox /run/x/echo && /run/x/echo exec"});
    EXPECT_EQ(r.exit_code, 0) << r.output << Log(d_);
    EXPECT_EQ(r.output,
              "tmpfs /data tmpfs rw,nosuid,nodev,noexec,relatime,size=1024k,mode=1770\n"
              "tmpfs /plain tmpfs rw,nosuid,nodev,noexec,relatime\n"
              "tmpfs /run/x tmpfs rw,nosuid,nodev,relatime\n"
              "1770\nfull\nnoexec\nexec\n");
  }
  // A bad option is refused at create, as Docker's.
  Run bad = Docker(d_, {"run", "--rm", "--tmpfs", "/data:bogus", "busybox", "true"});
  EXPECT_EQ(bad.exit_code, 125) << bad.output;
  EXPECT_NE(bad.output.find("invalid tmpfs option [\"bogus\"]"), std::string::npos)
      << bad.output;
  Run rel = Docker(d_, {"run", "--rm", "--tmpfs", "data", "busybox", "true"});
  EXPECT_EQ(rel.exit_code, 125) << rel.output;
  EXPECT_EQ(Trim(Docker(d_, {"ps", "-aq"}).output), "");
}

TEST_F(OptionsTest, MountTypeTmpfsIsATmpfsWithItsSizeAndMode) {
  for (bool docker : {true, false}) {
    SCOPED_TRACE(docker ? "docker" : "berth");
    Run r = Cli(docker, {"run", "--rm", "--mount", "type=tmpfs,destination=/t,tmpfs-size=1m,tmpfs-mode=0700",
                         "--mount", "type=tmpfs,dst=/ro,readonly", "busybox", "sh", "-c",
                         "grep -E ' /(t|ro) ' /proc/mounts | cut -d' ' -f1-4; stat -c %a /t; "
                         "dd if=/dev/zero of=/t/f bs=1k count=2048 2>/dev/null || echo full; "
                         "touch /ro/x 2>/dev/null || echo read-only"});
    EXPECT_EQ(r.exit_code, 0) << r.output << Log(d_);
    EXPECT_EQ(r.output,
              "tmpfs /ro tmpfs ro,nosuid,nodev,noexec,relatime\n"
              "tmpfs /t tmpfs rw,nosuid,nodev,noexec,relatime,size=1024k,mode=700\n"
              "700\nfull\nread-only\n");
  }
  Run bad = Docker(d_, {"run", "--rm", "--mount", "type=tmpfs,source=x,destination=/t", "busybox", "true"});
  EXPECT_EQ(bad.exit_code, 125) << bad.output;
  EXPECT_NE(bad.output.find("field Source must not be specified"), std::string::npos) << bad.output;
}

TEST_F(OptionsTest, UlimitsAreSeenInsideAndBadOnesRefused) {
  for (bool docker : {true, false}) {
    SCOPED_TRACE(docker ? "docker" : "berth");
    Run r = Cli(docker, {"run", "--rm", "--ulimit", "nofile=100:200", "--ulimit", "nproc=50",
                         "--ulimit", "core=0", "busybox", "sh", "-c",
                         "ulimit -n; ulimit -Hn; "
                         "awk '/Max open files/ {print $4, $5} /Max processes/ {print $3, $4} "
                         "/Max core/ {print $5, $6}' /proc/self/limits"});
    EXPECT_EQ(r.exit_code, 0) << r.output << Log(d_);
    EXPECT_EQ(r.output, "100\n200\n0 0\n50 50\n100 200\n");
    // Soft only: the hard limit is the same.
    Run soft = Cli(docker, {"run", "--rm", "--ulimit", "nofile=300", "busybox", "sh", "-c",
                            "ulimit -n; ulimit -Hn"});
    EXPECT_EQ(soft.output, "300\n300\n");
    for (const auto& [value, message] : std::vector<std::pair<std::string, std::string>>{
             {"nofile=200:100",
              "ulimit soft limit must be less than or equal to hard limit: 200 > 100"},
             {"bogus=1", "invalid ulimit type: bogus"},
             {"nofile", "invalid ulimit argument: nofile"},
             {"nofile=abc", "strconv.ParseInt: parsing \"abc\": invalid syntax"}}) {
      Run bad = Cli(docker, {"run", "--rm", "--ulimit", value, "busybox", "true"});
      EXPECT_EQ(bad.exit_code, 125) << value << ": " << bad.output;
      EXPECT_NE(bad.output.find("invalid argument \"" + value + "\" for \"--ulimit\" flag: " +
                                message),
                std::string::npos)
          << bad.output;
    }
  }
  // The daemon checks what a client sends without checking it first: the start fails.
  std::string body = R"({"Image":"busybox","Cmd":["true"],"HostConfig":{"Ulimits":[)"
                     R"({"Name":"nofile","Soft":200,"Hard":100}]}})";
  ASSERT_TRUE(WriteFileAtomic(dir_ + "/create.json", body));
  Run api = Shell("curl -s --unix-socket " + d_.socket +
                  " -H 'Content-Type: application/json' -d @" + dir_ +
                  "/create.json 'http://x/containers/create?name=ul' && curl -s -X POST "
                  "--unix-socket " + d_.socket + " http://x/containers/ul/start");
  EXPECT_NE(api.output.find("ulimit soft limit must be less than or equal to hard limit: 200 > "
                            "100"),
            std::string::npos)
      << api.output;
  EXPECT_NE(Trim(Docker(d_, {"inspect", "-f", "{{.State.Status}}", "ul"}).output), "running");
  EXPECT_EQ(Docker(d_, {"rm", "-f", "ul"}).exit_code, 0);
  EXPECT_EQ(Trim(Docker(d_, {"ps", "-aq"}).output), "");
}

TEST_F(OptionsTest, NetworkContainerSharesTheOthersNamespaceHostnameAndHosts) {
  ASSERT_EQ(Docker(d_, {"run", "-d", "--name", "neta", "-h", "nethost", "busybox", "sleep",
                        "1000"})
                .exit_code,
            0);
  const std::string probe =
      "readlink /proc/self/ns/net; cut -d: -f1 /proc/net/dev | tail -n +3 | sort | tr -d ' '; "
      "hostname; cat /etc/hosts /etc/resolv.conf | md5sum";
  Run own = Docker(d_, {"exec", "neta", "sh", "-c", probe});
  ASSERT_EQ(own.exit_code, 0) << own.output << Log(d_);
  for (bool docker : {true, false}) {
    SCOPED_TRACE(docker ? "docker" : "berth");
    for (const std::string& mode : {std::string("container:neta"), std::string("container:") +
                                        Inspect("neta", "{{.Id}}").substr(0, 12)}) {
      Run joined = Cli(docker, {"run", "--rm", "--network", mode, "busybox", "sh", "-c", probe});
      EXPECT_EQ(joined.exit_code, 0) << joined.output << Log(d_);
      EXPECT_EQ(joined.output, own.output) << mode;
    }
    // The other's interfaces, and its hostname (nethost), not one of the joiner's own; inspect
    // shows it in the joiner's Config too, as dockerd's.
    EXPECT_NE(own.output.find("\nlo\nnethost\n"), std::string::npos) << own.output;
    Run joiner = Cli(docker, {"run", "-d", "--name", "netj", "--network", "container:neta",
                              "busybox", "sleep", "1000"});
    ASSERT_EQ(joiner.exit_code, 0) << joiner.output;
    EXPECT_EQ(Inspect("netj", "{{.Config.Hostname}} {{.HostConfig.NetworkMode}}"),
              "nethost container:neta");
    EXPECT_EQ(Inspect("netj", "{{.HostsPath}} {{.ResolvConfPath}}"),
              Inspect("neta", "{{.HostsPath}} {{.ResolvConfPath}}"));
    EXPECT_EQ(Docker(d_, {"rm", "-f", "netj"}).exit_code, 0);
    // A hostname of its own conflicts with the network mode, as Docker's.
    Run hn = Cli(docker, {"run", "--rm", "-h", "x", "--network", "container:neta", "busybox",
                          "true"});
    EXPECT_EQ(hn.exit_code, 125) << hn.output;
    EXPECT_NE(hn.output.find("conflicting options: hostname and the network mode"),
              std::string::npos)
        << hn.output;
  }
  // Not running: the start fails with Docker's message; -d or not, run exits 125.
  ASSERT_EQ(Docker(d_, {"create", "--name", "netb", "busybox", "sleep", "1000"}).exit_code, 0);
  for (bool docker : {true, false}) {
    SCOPED_TRACE(docker ? "docker" : "berth");
    Run down = Cli(docker, {"run", "--rm", "--network", "container:netb", "busybox", "true"});
    EXPECT_EQ(down.exit_code, 125) << down.output;
    EXPECT_NE(down.output.find("cannot join network of a non running container: netb"),
              std::string::npos)
        << down.output;
    Run missing = Cli(docker, {"run", "--rm", "--network", "container:nosuch", "busybox", "true"});
    EXPECT_EQ(missing.exit_code, 125) << missing.output;
    EXPECT_NE(missing.output.find("No such container: nosuch"), std::string::npos)
        << missing.output;
  }
  EXPECT_EQ(Docker(d_, {"rm", "-f", "neta", "netb"}).exit_code, 0);
  EXPECT_EQ(Trim(Docker(d_, {"ps", "-aq"}).output), "");
}

TEST_F(OptionsTest, StopSignalIsSentAndTrappedOrKilledAfterTheTimeout) {
  const std::string trap_usr1 =
      "trap 'echo usr1; exit 0' USR1; echo ready; while :; do sleep 0.1; done";
  // --stop-signal, through both CLIs.
  for (bool docker : {true, false}) {
    SCOPED_TRACE(docker ? "docker" : "berth");
    ASSERT_EQ(Cli(docker, {"run", "-d", "--name", "sg", "--stop-signal", "USR1", "busybox", "sh",
                           "-c", trap_usr1})
                  .exit_code,
              0);
    EXPECT_EQ(Inspect("sg", "{{.Config.StopSignal}}"), "USR1");
    ASSERT_EQ(WaitLogs("sg", "ready\n"), "ready\n");
    auto t0 = Clock::now();
    Run stop = Cli(docker, {"stop", "sg"});
    EXPECT_EQ(stop.exit_code, 0) << stop.output;
    EXPECT_LT(Clock::now() - t0, std::chrono::seconds(5));
    EXPECT_EQ(Inspect("sg", "{{.State.Status}} {{.State.ExitCode}}"), "exited 0");
    EXPECT_EQ(Docker(d_, {"logs", "sg"}).output, "ready\nusr1\n");
    ASSERT_EQ(Docker(d_, {"rm", "sg"}).exit_code, 0);
  }
  // STOPSIGNAL from the image's config.
  Run imp = Berth(d_, {"import", "-c", "CMD [\"sh\"]", "-c", "STOPSIGNAL SIGUSR1",
                       dir_ + "/busybox.tar", "busybox:stopsig"});
  ASSERT_EQ(imp.exit_code, 0) << imp.output;
  ASSERT_EQ(Docker(d_, {"run", "-d", "--name", "si", "busybox:stopsig", "sh", "-c", trap_usr1})
                .exit_code,
            0);
  EXPECT_EQ(Inspect("si", "{{.Config.StopSignal}}"), "SIGUSR1");
  ASSERT_EQ(WaitLogs("si", "ready\n"), "ready\n");
  EXPECT_EQ(Docker(d_, {"stop", "si"}).exit_code, 0);
  EXPECT_EQ(Inspect("si", "{{.State.ExitCode}}"), "0");
  EXPECT_EQ(Docker(d_, {"logs", "si"}).output, "ready\nusr1\n");
  // --stop-timeout: a program that ignores SIGTERM is killed after that many seconds.
  ASSERT_EQ(Docker(d_, {"run", "-d", "--name", "st", "--stop-timeout", "1", "busybox", "sh", "-c",
                        "trap '' TERM; echo ready; while :; do sleep 0.1; done"})
                .exit_code,
            0);
  EXPECT_EQ(Inspect("st", "{{.Config.StopTimeout}}"), "1");
  ASSERT_EQ(WaitLogs("st", "ready\n"), "ready\n");
  auto t0 = Clock::now();
  EXPECT_EQ(Berth(d_, {"stop", "st"}).exit_code, 0);
  auto took = Clock::now() - t0;
  EXPECT_GE(took, std::chrono::milliseconds(900));
  EXPECT_LT(took, std::chrono::seconds(6));
  EXPECT_EQ(Inspect("st", "{{.State.ExitCode}}"), "137");
  // An invalid signal is refused at create.
  Run bad = Docker(d_, {"run", "--rm", "--stop-signal", "NOPE", "busybox", "true"});
  EXPECT_EQ(bad.exit_code, 125) << bad.output;
  EXPECT_NE(bad.output.find("Invalid signal: NOPE"), std::string::npos) << bad.output;
  EXPECT_EQ(Docker(d_, {"rm", "si", "st"}).exit_code, 0);
}

TEST_F(OptionsTest, InitIsPidOneForwardsSignalsAndReapsZombies) {
  for (bool docker : {true, false}) {
    SCOPED_TRACE(docker ? "docker" : "berth");
    Run r = Cli(docker, {"run", "--rm", "--init", "busybox", "sh", "-c",
                         "cat /proc/1/comm; echo $PPID; test $$ != 1 && echo child"});
    EXPECT_EQ(r.exit_code, 0) << r.output << Log(d_);
    EXPECT_EQ(r.output, "docker-init\n1\nchild\n");
    // The program's exit code is the container's.
    EXPECT_EQ(Cli(docker, {"run", "--rm", "--init", "busybox", "sh", "-c", "exit 3"}).exit_code,
              3);
  }
  // Signals reach the program through tini.
  ASSERT_EQ(Docker(d_, {"run", "-d", "--init", "--name", "in1", "busybox", "sh", "-c",
                        "trap 'echo term; exit 3' TERM; echo ready; while :; do sleep 0.1; done"})
                .exit_code,
            0);
  EXPECT_EQ(Inspect("in1", "{{.HostConfig.Init}}"), "true");
  ASSERT_EQ(WaitLogs("in1", "ready\n"), "ready\n");
  auto t0 = Clock::now();
  EXPECT_EQ(Docker(d_, {"stop", "in1"}).exit_code, 0);
  EXPECT_LT(Clock::now() - t0, std::chrono::seconds(5));
  EXPECT_EQ(Inspect("in1", "{{.State.ExitCode}}"), "3");
  EXPECT_EQ(Docker(d_, {"logs", "in1"}).output, "ready\nterm\n");
  // An orphan is reparented to PID 1: tini reaps it; a program that never waits (sleep) as
  // PID 1 leaves it a zombie (the control, so the check can fail).
  const std::string orphan = "(sleep 0.1 &); exec sleep 1000";
  ASSERT_EQ(Docker(d_, {"run", "-d", "--init", "--name", "reap", "busybox", "sh", "-c", orphan})
                .exit_code,
            0);
  ASSERT_EQ(Docker(d_, {"run", "-d", "--name", "noreap", "busybox", "sh", "-c", orphan})
                .exit_code,
            0);
  const std::vector<std::string> zombies = {"sh", "-c",
                                            "ps -o stat,comm | grep -c '^Z *sleep' || true"};
  std::string control;
  for (int i = 0; i < 100 && control != "1"; ++i) {
    ::usleep(50000);
    std::vector<std::string> args = {"exec", "noreap"};
    args.insert(args.end(), zombies.begin(), zombies.end());
    control = Trim(Docker(d_, args).output);
  }
  EXPECT_EQ(control, "1");
  std::vector<std::string> args = {"exec", "reap"};
  args.insert(args.end(), zombies.begin(), zombies.end());
  EXPECT_EQ(Trim(Docker(d_, args).output), "0");
  EXPECT_EQ(Docker(d_, {"rm", "-f", "in1", "reap", "noreap"}).exit_code, 0);
}

}  // namespace
}  // namespace berth
