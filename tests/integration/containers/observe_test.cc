// Events, top, stats (one sample and streaming), logs -f and port through the stock docker CLI
// and berth against berthd, with real containers.
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "base/unique_fd.h"
#include "container_fixture.h"

namespace berth {
namespace {

using testing::ContainerFixture;

class ObserveTest : public ContainerFixture {
 protected:
  static std::string Timestamp(int64_t ns) {
    return fmt::format("{}.{:09d}", ns / 1000000000, ns % 1000000000);
  }
  // The container actions of `docker events` output lines "<type> <action>".
  static std::vector<std::string> Actions(const std::string& output) {
    std::vector<std::string> out;
    for (const auto& line : Split(output, '\n')) {
      if (line.rfind("container ", 0) == 0) out.push_back(line.substr(10));
    }
    return out;
  }
  // How many threads berthd has (one per open API connection, besides its fixed ones).
  size_t DaemonThreads() { return testing::CountEntries(fmt::format("/proc/{}/task", d_.pid)); }
  // Waits until berthd has `n` threads or fewer; the last count.
  size_t WaitThreadsAtMost(size_t n) {
    size_t now = DaemonThreads();
    for (int i = 0; i < 250 && now > n; ++i) {
      ::usleep(20000);
      now = DaemonThreads();
    }
    return now;
  }
  // The docker CLI's argv against this daemon, for Spawn.
  std::vector<std::string> DockerArgv(std::vector<std::string> args) {
    std::vector<std::string> argv = {docker_, "-H", "unix://" + d_.socket};
    argv.insert(argv.end(), args.begin(), args.end());
    return argv;
  }
  std::vector<std::string> DockerEnv() {
    return {"DOCKER_CONFIG=" + dir_ + "/docker-config", "HOME=" + dir_};
  }
  // A running container whose main process is `sleep 600`; its name.
  std::string StartSleeper(const std::string& name) {
    Run run = Docker(d_, {"run", "-d", "--name", name, "busybox", "sleep", "600"});
    EXPECT_EQ(run.exit_code, 0) << run.output << Log(d_);
    return name;
  }
};

TEST_F(ObserveTest, EventsOfARunAreCreateAttachStartDieDestroy) {
  BERTH_SKIP_WITHOUT_DOCKER();
  const std::vector<std::string> expected = {"create", "attach", "start", "die", "destroy"};
  for (bool docker : {true, false}) {
    SCOPED_TRACE(docker ? "docker" : "berth");
    std::string since = Timestamp(NowUnixNanos());
    std::vector<std::string> run = {"run", "--rm", "busybox", "true"};
    Run r = docker ? Docker(d_, run) : Berth(d_, run);
    ASSERT_EQ(r.exit_code, 0) << r.output << Log(d_);
    std::string until = Timestamp(NowUnixNanos());
    std::vector<std::string> events = {
        "events", "--since", since, "--until", until, "--format", "{{.Type}} {{.Action}}"};
    Run ev = docker ? Docker(d_, events) : Berth(d_, events);
    ASSERT_EQ(ev.exit_code, 0) << ev.output;
    EXPECT_EQ(Actions(ev.output), expected) << ev.output;
  }
  // The JSON carries the actor's name and image, and die its exit code.
  std::string since = Timestamp(NowUnixNanos());
  ASSERT_EQ(Docker(d_, {"run", "--rm", "--name", "ev", "busybox", "sh", "-c", "exit 3"}).exit_code,
            3);
  Run die = Docker(d_, {"events", "--since", since, "--until", Timestamp(NowUnixNanos()),
                        "--filter", "event=die", "--filter", "container=ev", "--format",
                        "{{.Actor.Attributes.name}} {{.Actor.Attributes.image}} "
                        "{{.Actor.Attributes.exitCode}} {{.Status}} {{.From}}"});
  EXPECT_EQ(die.output, "ev busybox 3 die busybox\n") << die.output;
}

TEST_F(ObserveTest, ImageEventsOfTagAndRmi) {
  BERTH_SKIP_WITHOUT_DOCKER();
  std::string since = Timestamp(NowUnixNanos());
  ASSERT_EQ(Docker(d_, {"tag", "busybox", "other:v1"}).exit_code, 0);
  ASSERT_EQ(Docker(d_, {"rmi", "other:v1"}).exit_code, 0);
  Run ev = Docker(d_, {"events", "--since", since, "--until", Timestamp(NowUnixNanos()), "--filter",
                       "type=image", "--format", "{{.Action}} {{.Actor.Attributes.name}}"});
  ASSERT_EQ(ev.exit_code, 0) << ev.output;
  std::vector<std::string> lines = Split(ev.output, '\n');
  ASSERT_GE(lines.size(), 2u) << ev.output;
  EXPECT_EQ(lines[0], "tag other:v1");
  EXPECT_EQ(lines[1].substr(0, 13), "untag sha256:") << ev.output;
}

TEST_F(ObserveTest, TopListsTheContainersProcessOnly) {
  BERTH_SKIP_WITHOUT_DOCKER();
  StartSleeper("top1");
  Run top = Docker(d_, {"top", "top1"});
  ASSERT_EQ(top.exit_code, 0) << top.output << Log(d_);
  auto lines = Split(top.output, '\n');
  ASSERT_GE(lines.size(), 2u) << top.output;
  EXPECT_NE(lines[0].find("PID"), std::string::npos) << top.output;
  EXPECT_NE(lines[1].find("sleep 600"), std::string::npos) << top.output;
  EXPECT_EQ(top.output.find("berthd"), std::string::npos) << top.output;
  Run berth_top = Berth(d_, {"top", "top1", "-o", "pid,comm"});
  ASSERT_EQ(berth_top.exit_code, 0) << berth_top.output;
  EXPECT_NE(berth_top.output.find("sleep"), std::string::npos) << berth_top.output;
  EXPECT_EQ(Docker(d_, {"rm", "-f", "top1"}).exit_code, 0);
  // Not running: an error.
  ASSERT_EQ(Docker(d_, {"create", "--name", "top2", "busybox", "true"}).exit_code, 0);
  Run stopped = Docker(d_, {"top", "top2"});
  EXPECT_NE(stopped.exit_code, 0);
  EXPECT_NE(stopped.output.find("is not running"), std::string::npos) << stopped.output;
}

TEST_F(ObserveTest, StatsNoStreamShowsMemory) {
  BERTH_SKIP_WITHOUT_DOCKER();
  StartSleeper("st1");
  for (bool docker : {true, false}) {
    SCOPED_TRACE(docker ? "docker" : "berth");
    std::vector<std::string> args = {"stats", "--no-stream", "--format",
                                     "{{.Name}}|{{.MemUsage}}|{{.PIDs}}", "st1"};
    Run st = docker ? Docker(d_, args) : Berth(d_, args);
    ASSERT_EQ(st.exit_code, 0) << st.output << Log(d_);
    auto fields = Split(Trim(st.output), '|');
    ASSERT_EQ(fields.size(), 3u) << st.output;
    EXPECT_EQ(fields[0], "st1");
    // "<usage> / <limit>", with a non-zero usage (a running sleep uses memory).
    EXPECT_NE(fields[1].find(" / "), std::string::npos) << st.output;
    EXPECT_NE(fields[1].substr(0, 2), "0B") << st.output;
    EXPECT_EQ(fields[2], "1") << st.output;
  }
  // Without --format the table has the container with a memory figure.
  Run table = Docker(d_, {"stats", "--no-stream", "st1"});
  ASSERT_EQ(table.exit_code, 0) << table.output;
  EXPECT_NE(table.output.find("st1"), std::string::npos) << table.output;
  EXPECT_NE(table.output.find("MEM USAGE"), std::string::npos) << table.output;
  EXPECT_EQ(Docker(d_, {"rm", "-f", "st1"}).exit_code, 0);
}

TEST_F(ObserveTest, LogsFollowAWritingContainerUntilItExits) {
  BERTH_SKIP_WITHOUT_DOCKER();
  ASSERT_EQ(Docker(d_, {"run", "-d", "--name", "lf", "busybox", "sh", "-c",
                        "sleep 0.5; for i in 1 2 3; do echo line$i; echo err$i >&2; sleep 0.3; "
                        "done"})
                .exit_code,
            0);
  std::string dlog = dir_ + "/docker-logs.out";
  std::string blog = dir_ + "/berth-logs.out";
  pid_t dpid = testing::Spawn(DockerArgv({"logs", "-f", "lf"}), dlog, DockerEnv());
  pid_t bpid = StartBerth(d_, {"logs", "--follow", "lf"}, "", blog);
  ASSERT_GT(dpid, 0);
  ASSERT_GT(bpid, 0);
  // Both followers run while the container still writes (it runs for about 1.4 s).
  EXPECT_EQ(Trim(Docker(d_, {"inspect", "-f", "{{.State.Running}}", "lf"}).output), "true");
  std::optional<int> dcode = testing::WaitExit(dpid, std::chrono::seconds(30));
  std::optional<int> bcode = testing::WaitExit(bpid, std::chrono::seconds(30));
  if (!dcode) ::kill(dpid, SIGKILL), ::waitpid(dpid, nullptr, 0);
  if (!bcode) ::kill(bpid, SIGKILL), ::waitpid(bpid, nullptr, 0);
  EXPECT_EQ(dcode, 0);
  EXPECT_EQ(bcode, 0);
  EXPECT_EQ(Trim(Docker(d_, {"inspect", "-f", "{{.State.Status}}", "lf"}).output), "exited");
  // stdout and stderr both arrive, each in order (the two pipes interleave as they will).
  for (const std::string& log : {dlog, blog}) {
    std::string out = ReadTrimmed(log) + "\n";
    std::string outs, errs;
    for (const std::string& line : Split(out, '\n')) {
      if (line.rfind("line", 0) == 0) outs += line + " ";
      if (line.rfind("err", 0) == 0) errs += line + " ";
    }
    EXPECT_EQ(outs, "line1 line2 line3 ") << log << ": " << out;
    EXPECT_EQ(errs, "err1 err2 err3 ") << log << ": " << out;
  }
  // Following a container that has already exited prints its log and ends at once.
  Run done = Docker(d_, {"logs", "-f", "--tail", "1", "lf"});
  EXPECT_EQ(done.exit_code, 0);
  EXPECT_EQ(Split(Trim(done.output), '\n').size(), 1u) << done.output;
}

TEST_F(ObserveTest, StatsStreamSendsSamplesUntilTheClientGoes) {
  BERTH_SKIP_WITHOUT_DOCKER();
  StartSleeper("ss1");
  // Settled: the fewest threads seen over a second (the CLIs' connections have ended).
  size_t baseline = DaemonThreads();
  for (int i = 0; i < 50; ++i) {
    ::usleep(20000);
    baseline = std::min(baseline, DaemonThreads());
  }
  // The API with stream=true: a JSON object a second; read two, then hang up.
  {
    UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    d_.socket.copy(addr.sun_path, sizeof(addr.sun_path) - 1);
    ASSERT_EQ(::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    ASSERT_TRUE(WriteAll(fd.get(), "GET /v1.43/containers/ss1/stats?stream=true HTTP/1.1\r\n"
                                   "Host: x\r\n\r\n"));
    std::string got;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
    size_t samples = 0;
    while (samples < 2 && std::chrono::steady_clock::now() < deadline) {
      pollfd p{fd.get(), POLLIN, 0};
      if (::poll(&p, 1, 500) <= 0) continue;
      char buf[8192];
      ssize_t n = ::read(fd.get(), buf, sizeof(buf));
      if (n <= 0) break;
      got.append(buf, static_cast<size_t>(n));
      samples = 0;
      for (size_t at = got.find("\"read\":"); at != std::string::npos;
           at = got.find("\"read\":", at + 1)) {
        ++samples;
      }
    }
    EXPECT_EQ(samples, 2u) << got;
    EXPECT_EQ(got.rfind("HTTP/1.1 200", 0), 0u) << got;
    EXPECT_NE(got.find("\"memory_stats\""), std::string::npos);
    EXPECT_GT(DaemonThreads(), baseline);  // the stream's connection
  }
  // berthd notices the hang-up and ends the stream: its connection thread goes.
  EXPECT_LE(WaitThreadsAtMost(baseline), baseline);
  // The CLIs without --no-stream: redraw until stopped.
  for (bool docker : {true, false}) {
    SCOPED_TRACE(docker ? "docker" : "berth");
    std::string log = dir_ + (docker ? "/docker-stats.out" : "/berth-stats.out");
    std::vector<std::string> args = {"stats", "--format", "{{.Name}} {{.PIDs}}", "ss1"};
    pid_t pid = docker ? testing::Spawn(DockerArgv(args), log, DockerEnv())
                       : StartBerth(d_, args, "", log);
    ASSERT_GT(pid, 0);
    std::string out;
    for (int i = 0; i < 300; ++i) {
      out = ReadTrimmed(log);
      size_t n = 0;
      for (size_t at = out.find("ss1 1"); at != std::string::npos; at = out.find("ss1 1", at + 1)) {
        ++n;
      }
      if (n >= 2) break;
      ::usleep(20000);
    }
    // Still streaming: it has not exited by itself.
    EXPECT_FALSE(testing::WaitExit(pid, std::chrono::milliseconds(10)).has_value());
    ::kill(pid, SIGTERM);
    if (!testing::WaitExit(pid, std::chrono::seconds(10))) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
    EXPECT_NE(out.find("ss1 1"), out.rfind("ss1 1")) << out;
    EXPECT_LE(WaitThreadsAtMost(baseline), baseline);
  }
  EXPECT_TRUE(testing::PingOnce(d_.socket));
  EXPECT_EQ(Docker(d_, {"rm", "-f", "ss1"}).exit_code, 0);
}

TEST_F(ObserveTest, PortOfAContainerWithoutPublishedPorts) {
  BERTH_SKIP_WITHOUT_DOCKER();
  StartSleeper("pp");
  for (bool docker : {true, false}) {
    SCOPED_TRACE(docker ? "docker" : "berth");
    auto cli = [&](std::vector<std::string> args) {
      return docker ? Docker(d_, args) : Berth(d_, args);
    };
    Run all = cli({"port", "pp"});
    EXPECT_EQ(all.exit_code, 0) << all.output;
    EXPECT_EQ(all.output, "");
    Run one = cli({"port", "pp", "80"});
    EXPECT_EQ(one.exit_code, 1) << one.output;
    Run udp = cli({"port", "pp", "53/udp"});
    EXPECT_EQ(udp.exit_code, 1) << udp.output;
    EXPECT_NE(udp.output.find("Error: No public port '53/udp' published for pp"),
              std::string::npos)
        << udp.output;
    Run unknown = cli({"port", "nosuch"});
    EXPECT_EQ(unknown.exit_code, 1) << unknown.output;
    EXPECT_EQ(unknown.output, "Error response from daemon: No such container: nosuch\n");
    Run usage = cli({"port"});
    EXPECT_EQ(usage.exit_code, 1) << usage.output;
  }
  // The two agree on a port given without its protocol, and on a bad port.
  for (const std::string& port :
       {std::string("80"), std::string("http"), std::string("70000"), std::string("80/")}) {
    Run k = Docker(d_, {"port", "pp", port});
    Run b = Berth(d_, {"port", "pp", port});
    EXPECT_EQ(b.exit_code, k.exit_code) << port;
    EXPECT_EQ(b.output, k.output) << port;
  }
  // An exposed port without a bridge network is published nowhere.
  Run expose = Docker(d_, {"run", "-d", "--name", "px", "--expose", "80", "busybox", "sleep", "600"});
  ASSERT_EQ(expose.exit_code, 0) << expose.output;
  EXPECT_EQ(Docker(d_, {"port", "px"}).output, "");
  EXPECT_EQ(Berth(d_, {"port", "px"}).output, "");
  EXPECT_EQ(Docker(d_, {"rm", "-f", "pp", "px"}).exit_code, 0);
}

}  // namespace
}  // namespace berth
