#include "registry/http_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <map>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "base/file.h"
#include "base/strings.h"
#include "base/unique_fd.h"

namespace berth::registry {
namespace {

// A raw HTTP/1.1 client over one TCP connection, so tests control every byte.
class RawClient {
 public:
  explicit RawClient(uint16_t port) {
    fd_ = UniqueFd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  }
  bool connected() const { return connected_; }
  void Send(std::string_view s) { ASSERT_TRUE(WriteAll(fd_.get(), s).ok()); }

  struct Response {
    int status = 0;
    std::map<std::string, std::string> headers;  // lower-case names
    std::string body;
  };

  // Reads one response; `head` true for a response to HEAD (no body). status 0 on EOF.
  Response Read(bool head = false, int timeout_ms = 5000) {
    Response r;
    size_t end;
    while ((end = buf_.find("\r\n\r\n")) == std::string::npos) {
      if (!Fill(timeout_ms)) return r;
    }
    std::string head_text = buf_.substr(0, end);
    buf_.erase(0, end + 4);
    auto lines = Split(head_text, '\n');
    r.status = std::atoi(lines[0].substr(9, 3).c_str());
    for (size_t i = 1; i < lines.size(); ++i) {
      std::string line = lines[i];
      if (!line.empty() && line.back() == '\r') line.pop_back();
      size_t colon = line.find(':');
      if (colon == std::string::npos) continue;
      r.headers[ToLower(line.substr(0, colon))] = std::string(TrimSpace(line.substr(colon + 1)));
    }
    if (head || r.status == 100 || r.status == 204) return r;
    size_t length = static_cast<size_t>(std::atoll(r.headers["content-length"].c_str()));
    while (buf_.size() < length) {
      if (!Fill(timeout_ms)) break;
    }
    r.body = buf_.substr(0, length);
    buf_.erase(0, std::min(length, buf_.size()));
    return r;
  }

  // True if the server closed the connection (EOF) within the timeout.
  bool ClosedWithin(int timeout_ms) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd p{fd_.get(), POLLIN, 0};
      if (::poll(&p, 1, 50) == 1) {
        char c[4096];
        ssize_t n = ::read(fd_.get(), c, sizeof(c));
        if (n <= 0) return true;
      }
    }
    return false;
  }

 private:
  bool Fill(int timeout_ms) {
    pollfd p{fd_.get(), POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) != 1) return false;
    char c[65536];
    ssize_t n = ::read(fd_.get(), c, sizeof(c));
    if (n <= 0) return false;
    buf_.append(c, static_cast<size_t>(n));
    return true;
  }
  UniqueFd fd_;
  bool connected_ = false;
  std::string buf_;
};

class HttpServerTest : public ::testing::Test {
 protected:
  void Start(HttpHandler handler, HttpServerOptions options = {}) {
    options.threads = 2;
    server_ = std::make_unique<HttpServer>(std::move(handler), options);
    auto bound = server_->Listen("127.0.0.1:0");
    ASSERT_TRUE(bound.ok()) << bound.error().message;
    port_ = static_cast<uint16_t>(std::atoi(bound->substr(bound->rfind(':') + 1).c_str()));
    ASSERT_TRUE(server_->Start().ok());
  }
  void TearDown() override {
    if (server_) server_->Stop();
  }

  // Echoes method, path, query "q", header "X-Test" and the body.
  static Awaitable<void> Echo(HttpExchange& ex) {
    std::string body;
    char buf[1000];
    for (;;) {
      auto n = co_await ex.ReadBody(buf, sizeof(buf));
      if (!n.ok() || *n == 0) break;
      body.append(buf, *n);
    }
    ex.SetHeader("X-Path", ex.path());
    ex.SetHeader("X-Q", ex.Query("q"));
    ex.SetHeader("X-Test", ex.Header("x-test"));
    (void)co_await ex.Respond(200, "text/plain", std::string(ex.method()) + " " + body);
  }

  std::unique_ptr<HttpServer> server_;
  uint16_t port_ = 0;
};

TEST_F(HttpServerTest, KeepAliveBodiesHeadersAndDecoding) {
  Start(Echo);
  RawClient c(port_);
  ASSERT_TRUE(c.connected());
  c.Send("POST /a%20b/c?q=x%2By+z&r HTTP/1.1\r\nHost: h\r\nX-Test: v1\r\nContent-Length: 5\r\n\r\nhello");
  auto r = c.Read();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "POST hello");
  EXPECT_EQ(r.headers["x-path"], "/a b/c");
  EXPECT_EQ(r.headers["x-q"], "x+y z");
  EXPECT_EQ(r.headers["x-test"], "v1");
  EXPECT_FALSE(r.headers["date"].empty());
  // The same connection serves the next request, chunked this time.
  c.Send("PUT /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n");
  r = c.Read();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "PUT abcde");
  // HEAD gets the length but no body, and the connection stays usable.
  c.Send("HEAD /x HTTP/1.1\r\nHost: h\r\n\r\nGET /y HTTP/1.1\r\nHost: h\r\n\r\n");
  r = c.Read(/*head=*/true);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.headers["content-length"], "5");
  r = c.Read();
  EXPECT_EQ(r.body, "GET ");
}

TEST_F(HttpServerTest, Http10KeepAliveIsConfirmed) {
  Start(Echo);
  RawClient c(port_);
  c.Send("HEAD /x HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n");
  auto r = c.Read(/*head=*/true);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.headers["connection"], "keep-alive");
  c.Send("GET /y HTTP/1.0\r\n\r\n");
  r = c.Read();
  EXPECT_EQ(r.headers["connection"], "close");
  EXPECT_TRUE(c.ClosedWithin(2000));
}

TEST_F(HttpServerTest, ExpectContinueIsAnsweredWhenTheBodyIsRead) {
  Start(Echo);
  RawClient c(port_);
  c.Send("PUT /x HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n");
  auto r = c.Read();
  EXPECT_EQ(r.status, 100);
  c.Send("xyz");
  r = c.Read();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "PUT xyz");
}

TEST_F(HttpServerTest, SendsFilesWithSendfile) {
  std::string dir = ::testing::TempDir() + "/http_server_test_" + RandomHex(4);
  ASSERT_TRUE(MakeDirs(dir).ok());
  std::string data(8 << 20, '\0');
  uint32_t x = 12345;
  for (char& ch : data) {
    x = x * 1103515245u + 12345u;
    ch = static_cast<char>(x >> 24);
  }
  ASSERT_TRUE(WriteFileAtomic(dir + "/f", data).ok());
  auto fd = OpenFile(dir + "/f", O_RDONLY | O_CLOEXEC);
  ASSERT_TRUE(fd.ok());
  int raw = fd->get();
  Start([raw](HttpExchange& ex) -> Awaitable<void> {
    int64_t off = ex.HasQuery("off") ? std::atoll(std::string(ex.Query("off")).c_str()) : 0;
    int64_t len = std::atoll(std::string(ex.Query("len")).c_str());
    (void)co_await ex.RespondFile(200, "application/octet-stream", raw, off, len);
  });
  RawClient c(port_);
  c.Send("GET /f?len=" + std::to_string(data.size()) + " HTTP/1.1\r\nHost: h\r\n\r\n");
  auto r = c.Read();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body.size(), data.size());
  EXPECT_TRUE(r.body == data);
  c.Send("GET /f?off=100&len=50 HTTP/1.1\r\nHost: h\r\n\r\n");
  r = c.Read();
  EXPECT_EQ(r.body, data.substr(100, 50));
  // Promising more than the file holds cuts the connection instead of a short clean body.
  c.Send("GET /f?off=" + std::to_string(data.size() - 10) + "&len=20 HTTP/1.1\r\nHost: h\r\n\r\n");
  EXPECT_TRUE(c.ClosedWithin(2000));
  ASSERT_TRUE(RemoveAll(dir).ok());
}

TEST_F(HttpServerTest, SlowHeadersAreCutOff) {
  HttpServerOptions options;
  options.header_timeout = std::chrono::milliseconds(300);
  Start(Echo, options);
  RawClient c(port_);
  auto start = std::chrono::steady_clock::now();
  c.Send("GET / HTTP/1.1\r\n");
  for (int i = 0; i < 3; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    c.Send("X");
  }
  EXPECT_TRUE(c.ClosedWithin(3000));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
  // Others are still served.
  RawClient d(port_);
  d.Send("GET /ok HTTP/1.1\r\nHost: h\r\n\r\n");
  EXPECT_EQ(d.Read().status, 200);
}

TEST_F(HttpServerTest, OversizedAndMalformedHeaders) {
  HttpServerOptions options;
  options.max_header_bytes = 1024;
  Start(Echo, options);
  RawClient c(port_);
  c.Send("GET / HTTP/1.1\r\nX-Big: " + std::string(4096, 'a') + "\r\n\r\n");
  EXPECT_EQ(c.Read().status, 431);
  RawClient d(port_);
  d.Send("NOT HTTP AT ALL\r\n\r\n");
  EXPECT_EQ(d.Read().status, 400);
}

TEST_F(HttpServerTest, AnUnreadLargeBodyClosesTheConnection) {
  Start([](HttpExchange& ex) -> Awaitable<void> {
    (void)co_await ex.Respond(413, "text/plain", "too big");
  });
  RawClient c(port_);
  c.Send("PUT /x HTTP/1.1\r\nHost: h\r\nContent-Length: 1000000000000\r\n\r\nabc");
  auto r = c.Read();
  EXPECT_EQ(r.status, 413);
  EXPECT_EQ(r.headers["connection"], "close");
  EXPECT_TRUE(c.ClosedWithin(2000));
  // A small unread body is drained and the connection kept.
  RawClient d(port_);
  d.Send("PUT /x HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabcGET /y HTTP/1.1\r\nHost: h\r\n\r\n");
  EXPECT_EQ(d.Read().status, 413);
  EXPECT_EQ(d.Read().status, 413);
}

TEST_F(HttpServerTest, ManyConnectionsAtOnce) {
  Start(Echo);
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int t = 0; t < 16; ++t) {
    threads.emplace_back([&] {
      RawClient c(port_);
      for (int i = 0; i < 50; ++i) {
        c.Send("GET /x HTTP/1.1\r\nHost: h\r\n\r\n");
        if (c.Read().body == "GET ") ok++;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 16 * 50);
}

TEST(HttpServerListenTest, BadAddresses) {
  HttpServer server([](HttpExchange&) -> Awaitable<void> { co_return; }, {});
  EXPECT_FALSE(server.Listen("nonsense").ok());
  EXPECT_FALSE(server.Listen("127.0.0.1:99999").ok());
  EXPECT_FALSE(server.Listen("not-an-ip:80").ok());
}

}  // namespace
}  // namespace berth::registry
