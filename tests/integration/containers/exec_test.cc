// docker exec against berthd with real containers, through the stock docker CLI and berth:
// output, exit codes, -e/-w/-u, stdin, -d, errors; and real terminals driven through tmux for
// `run -it`, `exec -it` and `attach` (tty, window size, exit codes, detach keys).
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "base/unique_fd.h"
#include "container_fixture.h"

namespace berth {
namespace {

using testing::ContainerFixture;
using Clock = std::chrono::steady_clock;

class ExecTest : public ContainerFixture {
 protected:
  void SetUp() override {
    ContainerFixture::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    if (docker_.empty()) GTEST_SKIP() << "no docker CLI";
  }

  void StartSleeper(const std::string& name) {
    Run r = Docker(d_, {"run", "-d", "--name", name, "busybox", "sleep", "1000"});
    ASSERT_EQ(r.exit_code, 0) << r.output << Log(d_);
  }
};

TEST_F(ExecTest, OutputAndExitCode) {
  StartSleeper("e1");
  Run r = Docker(d_, {"exec", "e1", "sh", "-c", "echo out; echo err >&2; exit 5"});
  EXPECT_EQ(r.exit_code, 5) << r.output << Log(d_);
  EXPECT_NE(r.output.find("out\n"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("err\n"), std::string::npos) << r.output;
  Run ok = Docker(d_, {"exec", "e1", "echo", "hi"});
  EXPECT_EQ(ok.exit_code, 0) << ok.output;
  EXPECT_EQ(ok.output, "hi\n");
  Run b = Berth(d_, {"exec", "e1", "sh", "-c", "echo via-berth; exit 4"});
  EXPECT_EQ(b.exit_code, 4) << b.output;
  EXPECT_EQ(b.output, "via-berth\n");
  // As dockerd's, an exec that has ended is no longer among the container's ExecIDs.
  std::string ids = Trim(Docker(d_, {"inspect", "-f", "{{len .ExecIDs}}", "e1"}).output);
  EXPECT_EQ(ids, "0");
}

TEST_F(ExecTest, UnknownCommandIs127) {
  StartSleeper("e1");
  Run r = Docker(d_, {"exec", "e1", "no-such-command"});
  EXPECT_EQ(r.exit_code, 127) << r.output << Log(d_);
  EXPECT_NE(r.output.find("executable file not found"), std::string::npos) << r.output;
  Run dir = Docker(d_, {"exec", "e1", "/etc"});
  EXPECT_EQ(dir.exit_code, 126) << dir.output;
}

TEST_F(ExecTest, EnvWorkdirAndUser) {
  StartSleeper("e1");
  Run r = Docker(d_, {"exec", "-e", "FOO=bar", "-w", "/tmp", "e1", "sh", "-c", "echo $FOO; pwd"});
  EXPECT_EQ(r.exit_code, 0) << r.output << Log(d_);
  EXPECT_EQ(r.output, "bar\n/tmp\n");
  // The container's env is kept (PATH), and the default cwd is the container's.
  Run path = Docker(d_, {"exec", "e1", "sh", "-c", "echo $PATH; pwd"});
  EXPECT_NE(path.output.find("/bin"), std::string::npos) << path.output;
  EXPECT_NE(path.output.find("\n/\n"), std::string::npos) << path.output;
  Run u = Docker(d_, {"exec", "-u", "nobody", "e1", "id", "-u"});
  EXPECT_EQ(u.exit_code, 0) << u.output;
  EXPECT_EQ(u.output, "65534\n");
  Run root = Docker(d_, {"exec", "e1", "id", "-u"});
  EXPECT_EQ(root.output, "0\n");
}

TEST_F(ExecTest, StdinFromAFile) {
  StartSleeper("e1");
  std::string in = dir_ + "/stdin.txt";
  ASSERT_TRUE(WriteFileAtomic(in, "line one\nline two\n"));
  Run r = Docker(d_, {"exec", "-i", "e1", "sh", "-c", "cat; echo end"}, {}, in);
  EXPECT_EQ(r.exit_code, 0) << r.output << Log(d_);
  EXPECT_EQ(r.output, "line one\nline two\nend\n");
  Run b = Berth(d_, {"exec", "-i", "e1", "wc", "-l"}, {}, in);
  EXPECT_EQ(b.exit_code, 0) << b.output;
  EXPECT_EQ(Trim(b.output), "2");
}

TEST_F(ExecTest, DetachedExecRuns) {
  StartSleeper("e1");
  Run d = Docker(d_, {"exec", "-d", "e1", "sh", "-c", "echo done > /tmp/marker"});
  EXPECT_EQ(d.exit_code, 0) << d.output << Log(d_);
  std::string got;
  auto deadline = Clock::now() + std::chrono::seconds(10);
  while (Clock::now() < deadline) {
    got = Docker(d_, {"exec", "e1", "cat", "/tmp/marker"}).output;
    if (got == "done\n") break;
  }
  EXPECT_EQ(got, "done\n");
}

TEST_F(ExecTest, StoppedContainerIsAnError) {
  ASSERT_EQ(Docker(d_, {"create", "--name", "st", "busybox", "true"}).exit_code, 0);
  Run r = Docker(d_, {"exec", "st", "true"});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("is not running"), std::string::npos) << r.output;
  Run none = Docker(d_, {"exec", "no-such-container", "true"});
  EXPECT_EQ(none.exit_code, 1) << none.output;
  EXPECT_NE(none.output.find("No such container"), std::string::npos) << none.output;
}

TEST_F(ExecTest, PausedContainerIsAnError) {
  StartSleeper("e1");
  ASSERT_EQ(Docker(d_, {"pause", "e1"}).exit_code, 0);
  Run r = Docker(d_, {"exec", "e1", "true"});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("is paused, unpause the container before exec"), std::string::npos)
      << r.output;
  ASSERT_EQ(Docker(d_, {"unpause", "e1"}).exit_code, 0);
}

TEST_F(ExecTest, SharesThePidNamespaceAndHostname) {
  ASSERT_EQ(
      Docker(d_, {"run", "-d", "--name", "e1", "--hostname", "boxhost", "busybox", "sleep", "1000"})
          .exit_code,
      0);
  Run comm = Docker(d_, {"exec", "e1", "cat", "/proc/1/comm"});
  EXPECT_EQ(comm.output, "sleep\n") << Log(d_);
  Run host = Docker(d_, {"exec", "e1", "hostname"});
  EXPECT_EQ(host.output, "boxhost\n");
}

// The Engine API directly, for what the CLIs never send (AttachStdout false): one request on
// its own connection, read to EOF. The exec start's stream ends with the process.
struct RawResponse {
  std::string head;
  std::string body;
};

RawResponse RawRequest(const std::string& socket_path, const std::string& method,
                       const std::string& path, const std::string& json) {
  RawResponse r;
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  socket_path.copy(addr.sun_path, sizeof(addr.sun_path) - 1);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) return r;
  std::string req = method + " /v1.43" + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" +
                    "Content-Type: application/json\r\nContent-Length: " +
                    std::to_string(json.size()) + "\r\n\r\n" + json;
  if (!WriteAll(fd.get(), req)) return r;
  std::string got;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd.get(), buf, sizeof(buf))) > 0) got.append(buf, static_cast<size_t>(n));
  size_t end = got.find("\r\n\r\n");
  if (end == std::string::npos) return {got, ""};
  return {got.substr(0, end), got.substr(end + 4)};
}

// Splits Docker's multiplexed stream into what came on stdout and on stderr.
std::pair<std::string, std::string> Demux(const std::string& body) {
  std::pair<std::string, std::string> out;
  size_t at = 0;
  while (at + 8 <= body.size()) {
    auto b = [&](size_t i) { return static_cast<uint32_t>(static_cast<unsigned char>(body[at + i])); };
    uint32_t size = b(4) << 24 | b(5) << 16 | b(6) << 8 | b(7);
    std::string data = body.substr(at + 8, size);
    (body[at] == 2 ? out.second : out.first) += data;
    at += 8 + size;
  }
  return out;
}

std::string ExecIdFrom(const std::string& body) {
  size_t at = body.find("\"Id\":\"");
  return at == std::string::npos ? "" : body.substr(at + 6, 64);
}

TEST_F(ExecTest, AttachStdoutAndStderrChooseWhatTheStreamCarries) {
  StartSleeper("e1");
  struct Case {
    bool out, err;
    std::string want_out, want_err;
  };
  for (const Case& c : {Case{true, true, "out\n", "err\n"}, Case{false, true, "", "err\n"},
                        Case{true, false, "out\n", ""}, Case{false, false, "", ""}}) {
    SCOPED_TRACE(std::string("stdout ") + (c.out ? "on" : "off") + ", stderr " +
                 (c.err ? "on" : "off"));
    std::string create = std::string(R"({"AttachStdout":)") + (c.out ? "true" : "false") +
                         R"(,"AttachStderr":)" + (c.err ? "true" : "false") +
                         R"(,"Cmd":["sh","-c","echo out; echo err >&2; exit 3"]})";
    RawResponse made = RawRequest(d_.socket, "POST", "/containers/e1/exec", create);
    std::string id = ExecIdFrom(made.body);
    ASSERT_EQ(id.size(), 64u) << made.head << made.body;
    RawResponse started =
        RawRequest(d_.socket, "POST", "/exec/" + id + "/start", R"({"Detach":false,"Tty":false})");
    auto [out, err] = Demux(started.body);
    EXPECT_EQ(out, c.want_out) << started.body;
    EXPECT_EQ(err, c.want_err) << started.body;
    // The process ran to its end either way.
    std::string inspect = testing::HttpCall(d_.socket, "GET", "/exec/" + id + "/json");
    EXPECT_NE(inspect.find("\"ExitCode\":3"), std::string::npos) << inspect;
  }
  // With a tty the one output is stdout's: not attached, nothing comes.
  RawResponse made = RawRequest(d_.socket, "POST", "/containers/e1/exec",
                                R"({"AttachStdout":false,"AttachStderr":true,"Tty":true,)"
                                R"("Cmd":["sh","-c","echo tty-out"]})");
  std::string id = ExecIdFrom(made.body);
  ASSERT_EQ(id.size(), 64u) << made.body;
  RawResponse started =
      RawRequest(d_.socket, "POST", "/exec/" + id + "/start", R"({"Detach":false,"Tty":true})");
  EXPECT_EQ(started.body.find("tty-out"), std::string::npos) << started.body;
}

TEST_F(ExecTest, ExecRecordsEndWithTheirContainer) {
  StartSleeper("e1");
  Run done = Docker(d_, {"exec", "e1", "sh", "-c", "exit 7"});
  EXPECT_EQ(done.exit_code, 7);
  // A running exec is among the container's ExecIDs; ended ones are not, but stay inspectable.
  RawResponse made = RawRequest(d_.socket, "POST", "/containers/e1/exec",
                                R"({"Cmd":["sh","-c","exit 4"]})");
  std::string ended = ExecIdFrom(made.body);
  ASSERT_EQ(ended.size(), 64u) << made.body;
  RawRequest(d_.socket, "POST", "/exec/" + ended + "/start", R"({"Detach":false})");
  ASSERT_EQ(Docker(d_, {"exec", "-d", "e1", "sleep", "1000"}).exit_code, 0);
  EXPECT_EQ(Trim(Docker(d_, {"inspect", "-f", "{{len .ExecIDs}}", "e1"}).output), "1");
  std::string inspect = testing::HttpCall(d_.socket, "GET", "/exec/" + ended + "/json");
  EXPECT_NE(inspect.find("\"ExitCode\":4"), std::string::npos) << inspect;
  EXPECT_NE(inspect.find("\"Running\":false"), std::string::npos) << inspect;
  // Removing the container removes its execs.
  ASSERT_EQ(Docker(d_, {"rm", "-f", "e1"}).exit_code, 0);
  std::string gone = testing::HttpCall(d_.socket, "GET", "/exec/" + ended + "/json");
  EXPECT_NE(gone.find("No such exec instance: " + ended), std::string::npos) << gone;
  // ... and a new container with execs of its own is unaffected.
  StartSleeper("e2");
  Run e2 = Berth(d_, {"exec", "e2", "echo", "fine"});
  EXPECT_EQ(e2.output, "fine\n");
}

// Real terminals: each test drives docker or berth inside a tmux session on its own server
// socket, which TearDown kills.
class TerminalTest : public ExecTest {
 protected:
  void TearDown() override {
    if (!tmux_socket_.empty()) (void)Shell("tmux -S " + tmux_socket_ + " kill-server");
    ExecTest::TearDown();
  }

  // Starts `command` in a detached 80x24 session "t"; the pane stays open after it exits and
  // shows "EXIT=<code>".
  void StartTmux(const std::string& command) {
    tmux_socket_ = dir_ + "/tmux.sock";
    std::string env = "DOCKER_CONFIG=" + dir_ + "/docker-config HOME=" + dir_;
    std::string inner = env + " " + command + "; echo EXIT=$?; exec cat";
    Run r = Shell("TERM=xterm tmux -S " + tmux_socket_ + " new-session -d -s t -x 80 -y 24 " +
                  Quote("sh -c " + Quote(inner)));
    ASSERT_EQ(r.exit_code, 0) << r.output;
  }

  static std::string Quote(const std::string& s) {
    std::string out = "'";
    for (char ch : s) {
      if (ch == '\'') {
        out += "'\\''";
      } else {
        out += ch;
      }
    }
    return out + "'";
  }

  void Keys(const std::string& keys) {
    Run r = Shell("tmux -S " + tmux_socket_ + " send-keys -t t " + keys);
    ASSERT_EQ(r.exit_code, 0) << r.output;
  }
  void Type(const std::string& line) {
    Keys("-l " + Quote(line) + " && tmux -S " + tmux_socket_ + " send-keys -t t Enter");
  }

  std::string Screen() { return Shell("tmux -S " + tmux_socket_ + " capture-pane -p -t t").output; }

  // Waits until the pane shows `text`.
  ::testing::AssertionResult WaitFor(const std::string& text) {
    std::string screen;
    auto deadline = Clock::now() + std::chrono::seconds(20);
    while (Clock::now() < deadline) {
      screen = Screen();
      if (screen.find(text) != std::string::npos) return ::testing::AssertionSuccess();
    }
    return ::testing::AssertionFailure() << "no \"" << text << "\" on the screen:\n" << screen;
  }

  std::string DockerCmd() { return docker_ + " -H unix://" + d_.socket; }
  std::string BerthCmd() { return std::string(BERTH_PATH) + " -H unix://" + d_.socket; }

  // tty, stty size before and after a resize, then `exit 3`.
  void CheckTerminal() {
    ASSERT_TRUE(WaitFor("/ #")) << Log(d_);  // capture-pane drops trailing spaces
    Type("tty");
    EXPECT_TRUE(WaitFor("/dev/pts/0"));
    Type("stty size");
    EXPECT_TRUE(WaitFor("24 80"));
    Run rs = Shell("tmux -S " + tmux_socket_ + " resize-window -t t -x 100 -y 30");
    ASSERT_EQ(rs.exit_code, 0) << rs.output;
    // The resize reaches the process through SIGWINCH and the API; ask until it shows.
    bool resized = false;
    auto deadline = Clock::now() + std::chrono::seconds(20);
    while (!resized && Clock::now() < deadline) {
      Type("stty size");
      resized = WaitFor("30 100");
    }
    EXPECT_TRUE(resized) << Screen();
    Type("exit 3");
    EXPECT_TRUE(WaitFor("EXIT=3")) << Log(d_);
  }

  std::string tmux_socket_;
};

TEST_F(TerminalTest, DockerRunIt) {
  StartTmux(DockerCmd() + " run -it --name t1 busybox sh");
  CheckTerminal();
}

TEST_F(TerminalTest, BerthRunIt) {
  StartTmux(BerthCmd() + " run -it --name t1 busybox sh");
  CheckTerminal();
}

TEST_F(TerminalTest, DockerExecIt) {
  StartSleeper("e1");
  StartTmux(DockerCmd() + " exec -it e1 sh");
  CheckTerminal();
  // The container goes on.
  EXPECT_EQ(Trim(Docker(d_, {"inspect", "-f", "{{.State.Running}}", "e1"}).output), "true");
}

TEST_F(TerminalTest, DockerAttachThenDetachKeysLeaveItRunning) {
  ASSERT_EQ(Docker(d_, {"run", "-dit", "--name", "a1", "busybox", "sh"}).exit_code, 0);
  StartTmux(DockerCmd() + " attach a1");
  Type("echo attached-$((40+2))");
  ASSERT_TRUE(WaitFor("attached-42")) << Log(d_);
  // The CLI reads the detach keys itself and leaves; its exit code is the CLI's business.
  Keys("C-p C-q");
  EXPECT_TRUE(WaitFor("read escape sequence"));
  EXPECT_TRUE(WaitFor("EXIT="));
  EXPECT_EQ(Trim(Docker(d_, {"inspect", "-f", "{{.State.Running}}", "a1"}).output), "true");
}

}  // namespace
}  // namespace berth
