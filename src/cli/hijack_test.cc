// The real hijack path (Beast over a unix socket) and the stream pump, against a small server in
// this process: frames demultiplexed, stdin forwarded and half-closed, detach keys.
#include "cli/transport.h"

#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <functional>
#include <thread>

#include <gtest/gtest.h>

#include "base/file.h"
#include "base/unique_fd.h"
#include "cli/internal/streams.h"
#include "cli/testing/fake_transport.h"

namespace berth::cli {
namespace {

std::string Frame(char stream, std::string_view payload) {
  std::string out = {stream, 0, 0, 0, 0, 0, 0, static_cast<char>(payload.size())};
  return out + std::string(payload);
}

void WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n <= 0) return;
    data.remove_prefix(static_cast<size_t>(n));
  }
}

// Reads the request head (up to the blank line); returns it.
std::string ReadHead(int fd) {
  std::string head;
  char c;
  while (head.find("\r\n\r\n") == std::string::npos && ::read(fd, &c, 1) == 1) head += c;
  return head;
}

std::string ReadToEof(int fd) {
  std::string out;
  char buf[256];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof(buf))) > 0) out.append(buf, static_cast<size_t>(n));
  return out;
}

// One-connection server on a unix socket in a temp dir; `handler` runs on its thread.
class OneShotServer {
 public:
  explicit OneShotServer(std::function<void(int)> handler) {
    char tmpl[] = "/tmp/berth-hijack-test-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    path_ = dir_ + "/d.sock";
    listen_.Reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path_.c_str(), sizeof(addr.sun_path) - 1);
    EXPECT_EQ(::bind(listen_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    EXPECT_EQ(::listen(listen_.get(), 4), 0);
    thread_ = std::thread([this, handler = std::move(handler)] {
      UniqueFd conn(::accept4(listen_.get(), nullptr, nullptr, SOCK_CLOEXEC));
      if (conn.valid()) handler(conn.get());
    });
  }
  ~OneShotServer() {
    Wait();
    (void)RemoveAll(dir_);
  }
  // Until the handler has returned (what it recorded is then complete).
  void Wait() {
    if (thread_.joinable()) thread_.join();
  }
  HostSpec host() const { return *ParseHost("unix://" + path_); }

 private:
  std::string dir_, path_;
  UniqueFd listen_;
  std::thread thread_;
};

constexpr std::string_view k101 =
    "HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\n"
    "Connection: Upgrade\r\nUpgrade: tcp\r\n\r\n";

Request AttachRequest() {
  Request req;
  req.method = "POST";
  req.path = "/v1.43/containers/c1/attach";
  req.query = {{"stream", "1"}, {"stdin", "1"}, {"stdout", "1"}, {"stderr", "1"}};
  return req;
}

TEST(HijackTest, DemultiplexesForwardsStdinAndHalfCloses) {
  std::string head, stdin_seen;
  OneShotServer server([&](int fd) {
    head = ReadHead(fd);
    // The reply header and the first frames in one write: bytes past the header must not be
    // lost by the client's HTTP parser.
    WriteAll(fd, std::string(k101) + Frame(1, "out1 ") + Frame(2, "err1\n"));
    stdin_seen = ReadToEof(fd);  // ends only when the client half-closes
    WriteAll(fd, Frame(1, "got " + std::to_string(stdin_seen.size()) + "\n"));
  });
  Result<Upgraded> up = UpgradeOver(server.host(), "test-agent", AttachRequest());
  ASSERT_TRUE(up.ok()) << up.error().message;
  ASSERT_NE(up->conn, nullptr);
  StringReader in("hello from stdin");
  StringWriter out, err;
  Environment env;
  env.in = &in;
  env.out = &out;
  env.err = &err;
  Result<PumpEnd> end = PumpStreams(env, *up->conn, AttachStreams{false, true, "\x10\x11"});
  ASSERT_TRUE(end.ok()) << end.error().message;
  EXPECT_EQ(*end, PumpEnd::kOutputDone);
  EXPECT_EQ(out.str(), "out1 got 16\n");
  EXPECT_EQ(err.str(), "err1\n");
  EXPECT_EQ(stdin_seen, "hello from stdin");
  EXPECT_NE(head.find("POST /v1.43/containers/c1/attach?stderr=1&stdin=1&stdout=1&stream=1 "
                      "HTTP/1.1\r\n"),
            std::string::npos)
      << head;
  EXPECT_NE(head.find("Connection: Upgrade\r\n"), std::string::npos) << head;
  EXPECT_NE(head.find("Upgrade: tcp\r\n"), std::string::npos) << head;
  EXPECT_NE(head.find("Host: api.moby.localhost\r\n"), std::string::npos) << head;
}

TEST(HijackTest, DetachKeysEndTheSessionWithoutSendingThem) {
  std::string stdin_seen;
  OneShotServer server([&](int fd) {
    ReadHead(fd);
    WriteAll(fd, std::string(k101) + "raw tty output");
    stdin_seen = ReadToEof(fd);  // the client shuts the socket down on detach
  });
  Result<Upgraded> up = UpgradeOver(server.host(), "test-agent", AttachRequest());
  ASSERT_TRUE(up.ok()) << up.error().message;
  StringReader in("ls\r\x10\x11never sent");
  StringWriter out, err;
  Environment env;
  env.in = &in;
  env.out = &out;
  env.err = &err;
  Result<PumpEnd> end = PumpStreams(env, *up->conn, AttachStreams{true, true, "\x10\x11"});
  ASSERT_TRUE(end.ok()) << end.error().message;
  EXPECT_EQ(*end, PumpEnd::kDetached);
  up->conn.reset();
  server.Wait();
  EXPECT_EQ(stdin_seen, "ls\r");
  EXPECT_TRUE(std::string("raw tty output").starts_with(out.str()));
}

TEST(HijackTest, RefusedUpgradeComesBackAsAReply) {
  OneShotServer server([](int fd) {
    ReadHead(fd);
    WriteAll(fd,
             "HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: 29\r\n"
             "\r\n{\"message\":\"No such c: c1\"}\n\n");
  });
  Result<Upgraded> up = UpgradeOver(server.host(), "test-agent", AttachRequest());
  ASSERT_TRUE(up.ok()) << up.error().message;
  EXPECT_EQ(up->conn, nullptr);
  EXPECT_EQ(up->response.status, 404);
  EXPECT_EQ(ErrorFromResponse(up->response).message, "Error response from daemon: No such c: c1");
}

TEST(HijackTest, PendingRequestReadsAChunkedReplyLater) {
  std::string head;
  OneShotServer server([&](int fd) {
    head = ReadHead(fd);
    WriteAll(
        fd,
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
        "Transfer-Encoding: chunked\r\n\r\n1e\r\n{\"Error\":null,\"StatusCode\":3}\n\r\n0\r\n\r\n");
  });
  Request wait;
  wait.method = "POST";
  wait.path = "/v1.43/containers/c1/wait";
  wait.query = {{"condition", "next-exit"}};
  Result<std::unique_ptr<PendingResponse>> pending = SendOver(server.host(), "test-agent", wait);
  ASSERT_TRUE(pending.ok()) << pending.error().message;
  Result<Response> got = (*pending)->Await();
  ASSERT_TRUE(got.ok()) << got.error().message;
  EXPECT_EQ(got->status, 200);
  EXPECT_EQ(got->body, "{\"Error\":null,\"StatusCode\":3}\n");
  EXPECT_NE(head.find("POST /v1.43/containers/c1/wait?condition=next-exit HTTP/1.1\r\n"),
            std::string::npos);
  EXPECT_NE(head.find("Content-Length: 0\r\n"), std::string::npos) << head;
}

TEST(SignalProxyTest, ForwardsSignalsToTheContainerAsKill) {
  testing::FakeTransport fake;
  fake.On("POST /v1.43/containers/c1/kill", {204, "", {}});
  ApiClient api(fake, "unix:///test.sock");
  {
    SignalProxy proxy(api, "c1");
    ASSERT_EQ(::raise(SIGUSR1), 0);
    ASSERT_EQ(::raise(SIGTERM), 0);
  }  // forwards what is pending, then restores the old handlers
  std::vector<testing::RecordedRequest> reqs = fake.ApiRequests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[0].path, "/v1.43/containers/c1/kill");
  EXPECT_EQ(reqs[0].query, (Params{{"signal", "USR1"}}));
  EXPECT_EQ(reqs[1].query, (Params{{"signal", "TERM"}}));
}

}  // namespace
}  // namespace berth::cli
