// The Beast transport + ApiClient against a tiny HTTP/1.1 server on a temp unix socket (this test only).
#include "cli/client.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>

#include "base/file.h"
#include "base/unique_fd.h"

namespace berth::cli {
namespace {

struct SeenRequest {
  std::string method;
  std::string target;  // path?query
  std::map<std::string, std::string> headers;
  uint64_t body_bytes = 0;
  uint64_t body_hash = 1469598103934665603ull;  // FNV-1a
  std::string body;                             // first 4 KiB
};

uint64_t Fnv(uint64_t h, const char* data, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    h ^= static_cast<unsigned char>(data[i]);
    h *= 1099511628211ull;
  }
  return h;
}

// Reads an HTTP request (Content-Length or chunked body) from a connection.
class Conn {
 public:
  explicit Conn(int fd) : fd_(fd) {}

  bool ReadRequest(SeenRequest& req) {
    std::string head;
    if (!ReadUntil("\r\n\r\n", head)) return false;
    std::vector<std::string> lines;
    size_t start = 0;
    while (start < head.size()) {
      size_t end = head.find("\r\n", start);
      if (end == std::string::npos) end = head.size();
      lines.push_back(head.substr(start, end - start));
      start = end + 2;
    }
    size_t sp1 = lines[0].find(' '), sp2 = lines[0].rfind(' ');
    req.method = lines[0].substr(0, sp1);
    req.target = lines[0].substr(sp1 + 1, sp2 - sp1 - 1);
    for (size_t i = 1; i < lines.size(); ++i) {
      size_t colon = lines[i].find(':');
      if (colon == std::string::npos) continue;
      std::string name = lines[i].substr(0, colon);
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      req.headers[name] = lines[i].substr(colon + 2);
    }
    if (req.headers["transfer-encoding"] == "chunked") {
      while (true) {
        std::string size_line;
        if (!ReadUntil("\r\n", size_line)) return false;
        size_t size = std::stoul(size_line, nullptr, 16);
        if (!ReadBody(size + 2, req)) return false;  // data + CRLF
        req.body_bytes -= 2;
        if (size == 0) return true;
      }
    }
    auto it = req.headers.find("content-length");
    if (it != req.headers.end()) return ReadBody(std::stoul(it->second), req);
    return true;
  }

  void Send(std::string_view data) {
    while (!data.empty()) {
      ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return;
      data.remove_prefix(static_cast<size_t>(n));
    }
  }

 private:
  bool Fill() {
    char buf[65536];
    ssize_t n = ::read(fd_, buf, sizeof(buf));
    if (n <= 0) return false;
    buffered_.append(buf, static_cast<size_t>(n));
    return true;
  }
  bool ReadUntil(std::string_view delim, std::string& out) {
    while (true) {
      size_t pos = buffered_.find(delim);
      if (pos != std::string::npos) {
        out = buffered_.substr(0, pos);
        buffered_.erase(0, pos + delim.size());
        return true;
      }
      if (!Fill()) return false;
    }
  }
  // Consumes n bytes into the body counters; the last two of a chunk (CRLF) are not hashed.
  bool ReadBody(size_t n, SeenRequest& req) {
    size_t hashed = n >= 2 && req.headers["transfer-encoding"] == "chunked" ? n - 2 : n;
    size_t done = 0;
    while (done < n) {
      if (buffered_.empty() && !Fill()) return false;
      size_t take = std::min(n - done, buffered_.size());
      size_t hash_part = done < hashed ? std::min(take, hashed - done) : 0;
      req.body_hash = Fnv(req.body_hash, buffered_.data(), hash_part);
      if (req.body.size() < 4096)
        req.body.append(buffered_.data(), std::min(hash_part, 4096 - req.body.size()));
      req.body_bytes += take;
      buffered_.erase(0, take);
      done += take;
    }
    return true;
  }

  int fd_;
  std::string buffered_;
};

// Serves each connection with `handler`: one request per connection, then close; or, with
// `keep_alive`, every request the client sends on it.
class FakeDaemon {
 public:
  using Handler = std::function<void(const SeenRequest&, Conn&)>;

  explicit FakeDaemon(Handler handler, bool keep_alive = false)
      : handler_(std::move(handler)), keep_alive_(keep_alive) {
    char tmpl[] = "/tmp/berth-cli-test-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    path_ = dir_ + "/berth.sock";
    listen_.Reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path_.c_str(), sizeof(addr.sun_path) - 1);
    EXPECT_EQ(::bind(listen_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    EXPECT_EQ(::listen(listen_.get(), 16), 0);
    thread_ = std::thread([this] { Serve(); });
  }
  ~FakeDaemon() {
    ::shutdown(listen_.get(), SHUT_RDWR);  // wakes accept()
    thread_.join();
    (void)RemoveAll(dir_);
  }

  std::string host() const { return "unix://" + path_; }
  std::vector<SeenRequest> requests() {
    std::lock_guard<std::mutex> lock(mu_);
    return seen_;
  }
  int connections() const { return connections_; }

 private:
  void Serve() {
    while (true) {
      UniqueFd conn(::accept4(listen_.get(), nullptr, nullptr, SOCK_CLOEXEC));
      if (!conn) return;
      ++connections_;
      Conn c(conn.get());
      do {
        SeenRequest req;
        if (!c.ReadRequest(req)) break;
        {
          std::lock_guard<std::mutex> lock(mu_);
          seen_.push_back(req);
        }
        handler_(req, c);
      } while (keep_alive_);
    }
  }

  Handler handler_;
  bool keep_alive_;
  std::atomic<int> connections_{0};
  std::string dir_;
  std::string path_;
  UniqueFd listen_;
  std::thread thread_;
  std::mutex mu_;
  std::vector<SeenRequest> seen_;
};

void Reply(Conn& c, int status, std::string_view body, std::string_view extra_headers = "",
           bool close = true) {
  c.Send("HTTP/1.1 " + std::to_string(status) + " X\r\nContent-Type: application/json\r\n" +
         std::string(extra_headers) + "Content-Length: " + std::to_string(body.size()) +
         (close ? "\r\nConnection: close" : "") + "\r\n\r\n" + std::string(body));
}

// A daemon whose /_ping advertises `api_version` (none when empty).
FakeDaemon::Handler PingThen(std::string api_version, FakeDaemon::Handler next) {
  return [api_version, next](const SeenRequest& req, Conn& c) {
    if (req.target == "/_ping") {
      Reply(c, 200, "", api_version.empty() ? "" : "Api-Version: " + api_version + "\r\n");
      return;
    }
    next(req, c);
  };
}

struct Connected {
  std::unique_ptr<Transport> transport;
  std::unique_ptr<ApiClient> client;
};

Connected Connect(const std::string& host, std::string version_override = "") {
  Result<HostSpec> spec = ParseHost(host);
  EXPECT_TRUE(spec.ok());
  Result<std::unique_ptr<Transport>> t = NewTransport(*spec, "Berth-Client/test");
  EXPECT_TRUE(t.ok());
  Connected s;
  s.transport = std::move(t).value();
  s.client = std::make_unique<ApiClient>(*s.transport, host, std::move(version_override));
  return s;
}

void OkJson(const SeenRequest&, Conn& c) { Reply(c, 200, "{\"ok\":true}"); }

class NegotiationTest : public testing::TestWithParam<std::pair<std::string, std::string>> {};

TEST_P(NegotiationTest, UsesMinOfServerVersionAndOurs) {
  auto [advertised, want] = GetParam();
  FakeDaemon daemon(PingThen(advertised, OkJson));
  Connected s = Connect(daemon.host());
  Result<nlohmann::ordered_json> got = s.client->GetJson("/version");
  ASSERT_TRUE(got.ok()) << got.error().message;
  std::vector<SeenRequest> seen = daemon.requests();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].method, "HEAD");
  EXPECT_EQ(seen[0].target, "/_ping");
  EXPECT_EQ(seen[0].headers["host"], "api.moby.localhost");
  EXPECT_EQ(seen[0].headers["user-agent"], "Berth-Client/test");
  EXPECT_EQ(seen[1].target, "/v" + want + "/version");
}

INSTANTIATE_TEST_SUITE_P(Versions, NegotiationTest,
                         testing::Values(std::make_pair("1.41", "1.41"),
                                         std::make_pair("1.43", "1.43"),
                                         std::make_pair("1.45", "1.43"),
                                         std::make_pair("", "1.24")));

TEST(ApiClientTest, VersionOverrideSkipsPing) {
  FakeDaemon daemon(OkJson);
  Connected s = Connect(daemon.host(), "1.40");
  ASSERT_TRUE(s.client->GetJson("/info").ok());
  std::vector<SeenRequest> seen = daemon.requests();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].target, "/v1.40/info");
}

TEST(ApiClientTest, EncodesQueryLikeGo) {
  FakeDaemon daemon(PingThen("1.43", OkJson));
  Connected s = Connect(daemon.host());
  Request req;
  req.method = "POST";
  req.path = "/images/busybox:latest/tag";
  req.query = {{"tag", "v1"},
               {"repo", "example.com/a b"},
               {"changes", "ENV A=b"},
               {"changes", "CMD [\"sh\"]"}};
  ASSERT_TRUE(s.client->Do(req).ok());
  EXPECT_EQ(daemon.requests()[1].target,
            "/v1.43/images/busybox:latest/tag?changes=ENV+A%3Db&changes=CMD+%5B%22sh%22%5D&"
            "repo=example.com%2Fa+b&tag=v1");
}

TEST(ApiClientTest, MapsErrorReplyToDaemonMessageAndCode) {
  FakeDaemon daemon(PingThen("1.43", [](const SeenRequest&, Conn& c) {
    Reply(c, 404, "{\"message\":\"No such image: nope:latest\"}\n");
  }));
  Connected s = Connect(daemon.host());
  Result<nlohmann::ordered_json> got = s.client->GetJson("/images/nope/json");
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error().code, Code::kNotFound);
  EXPECT_EQ(got.error().message, "Error response from daemon: No such image: nope:latest");
}

TEST(ApiClientTest, MapsPlainTextErrorAndConflict) {
  FakeDaemon daemon(PingThen(
      "1.43", [](const SeenRequest&, Conn& c) { Reply(c, 409, "conflict: unable to delete\n"); }));
  Connected s = Connect(daemon.host());
  Request req;
  req.method = "DELETE";
  req.path = "/images/x";
  Result<Response> got = s.client->Do(req);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error().code, Code::kConflict);
  EXPECT_EQ(got.error().message, "Error response from daemon: conflict: unable to delete");
  EXPECT_EQ(daemon.requests()[1].method, "DELETE");
}

TEST(ApiClientTest, ConnectionFailureGivesDockerStyleMessage) {
  Connected s = Connect("unix:///nonexistent/berth-test.sock");
  Result<nlohmann::ordered_json> got = s.client->GetJson("/version");
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error().code, Code::kUnavailable);
  EXPECT_EQ(got.error().message,
            "Cannot connect to the Berth daemon at unix:///nonexistent/berth-test.sock. Is the "
            "berth daemon running?");
}

// Generates `size` bytes of a pattern without holding them.
class PatternReader : public Reader {
 public:
  explicit PatternReader(uint64_t size) : left_(size) {}
  Result<size_t> Read(char* buf, size_t size) override {
    size_t n = static_cast<size_t>(std::min<uint64_t>(size, left_));
    for (size_t i = 0; i < n; ++i) buf[i] = static_cast<char>((offset_ + i) * 31 % 251);
    offset_ += n;
    left_ -= n;
    max_read_ = std::max(max_read_, n);
    return n;
  }
  size_t max_read() const { return max_read_; }

 private:
  uint64_t left_;
  uint64_t offset_ = 0;
  size_t max_read_ = 0;
};

TEST(ApiClientTest, StreamsALargeRequestBodyChunked) {
  constexpr uint64_t kSize = 48ull << 20;
  FakeDaemon daemon(PingThen("1.43", [](const SeenRequest& req, Conn& c) {
    Reply(c, 200, "{\"bytes\":" + std::to_string(req.body_bytes) + "}");
  }));
  Connected s = Connect(daemon.host());
  PatternReader body(kSize);
  Request req;
  req.method = "POST";
  req.path = "/images/load";
  req.body_stream = &body;
  Result<Response> got = s.client->Do(req);
  ASSERT_TRUE(got.ok()) << got.error().message;
  SeenRequest seen = daemon.requests()[1];
  EXPECT_EQ(seen.headers["transfer-encoding"], "chunked");
  EXPECT_EQ(seen.body_bytes, kSize);
  uint64_t want_hash = 1469598103934665603ull;
  PatternReader again(kSize);
  std::vector<char> buf(1 << 16);
  while (true) {
    size_t n = *again.Read(buf.data(), buf.size());
    if (n == 0) break;
    want_hash = Fnv(want_hash, buf.data(), n);
  }
  EXPECT_EQ(seen.body_hash, want_hash);
  EXPECT_LE(body.max_read(), 1u << 20);  // read piecewise, never whole
}

TEST(ApiClientTest, SendsSmallJsonBodyWithLength) {
  FakeDaemon daemon(PingThen("1.43", OkJson));
  Connected s = Connect(daemon.host());
  Request req;
  req.method = "POST";
  req.path = "/auth";
  req.headers = {{"Content-Type", "application/json"}};
  req.body = "{\"a\":1}";
  ASSERT_TRUE(s.client->Do(req).ok());
  SeenRequest seen = daemon.requests()[1];
  EXPECT_EQ(seen.headers["content-length"], "7");
  EXPECT_EQ(seen.headers["content-type"], "application/json");
  EXPECT_EQ(seen.body, "{\"a\":1}");
}

void SendChunked(Conn& c, const std::vector<std::string>& chunks) {
  c.Send(
      "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
      "Connection: close\r\n\r\n");
  for (const std::string& chunk : chunks) {
    char size[32];
    std::snprintf(size, sizeof(size), "%zx\r\n", chunk.size());
    c.Send(size);
    c.Send(chunk);
    c.Send("\r\n");
  }
  c.Send("0\r\n\r\n");
}

TEST(ApiClientTest, StreamsAChunkedResponseAsLines) {
  FakeDaemon daemon(PingThen("1.43", [](const SeenRequest&, Conn& c) {
    // Lines split across chunk boundaries on purpose.
    std::vector<std::string> chunks;
    for (int i = 0; i < 500; ++i) {
      std::string line = "{\"status\":\"line " + std::to_string(i) + "\"}\n";
      chunks.push_back(line.substr(0, 5));
      chunks.push_back(line.substr(5));
    }
    chunks.push_back("{\"status\":\"no newline at end\"}");
    SendChunked(c, chunks);
  }));
  Connected s = Connect(daemon.host());
  Request req;
  req.method = "POST";
  req.path = "/images/create";
  std::vector<std::string> lines;
  Status st = s.client->StreamLines(req, [&](std::string_view line) {
    lines.emplace_back(line);
    return Ok();
  });
  ASSERT_TRUE(st.ok()) << st.error().message;
  ASSERT_EQ(lines.size(), 501u);
  EXPECT_EQ(lines[0], "{\"status\":\"line 0\"}");
  EXPECT_EQ(lines[499], "{\"status\":\"line 499\"}");
  EXPECT_EQ(lines[500], "{\"status\":\"no newline at end\"}");
}

// Counts bytes; remembers the largest single write.
class CountingWriter : public Writer {
 public:
  Status Write(std::string_view data) override {
    total_ += data.size();
    hash_ = Fnv(hash_, data.data(), data.size());
    return Ok();
  }
  uint64_t total_ = 0;
  uint64_t hash_ = 1469598103934665603ull;
};

TEST(ApiClientTest, StreamsABinaryResponseIntoAWriter) {
  std::string chunk(1 << 16, '\0');
  for (size_t i = 0; i < chunk.size(); ++i) chunk[i] = static_cast<char>(i % 256);
  FakeDaemon daemon(PingThen("1.43", [&chunk](const SeenRequest&, Conn& c) {
    SendChunked(c, std::vector<std::string>(128, chunk));  // 8 MiB
  }));
  Connected s = Connect(daemon.host());
  Request req;
  req.path = "/images/get";
  CountingWriter sink;
  Result<Response> got = s.client->Do(req, &sink);
  ASSERT_TRUE(got.ok()) << got.error().message;
  EXPECT_TRUE(got->body.empty());
  EXPECT_EQ(sink.total_, 128u << 16);
  uint64_t want = 1469598103934665603ull;
  for (int i = 0; i < 128; ++i) want = Fnv(want, chunk.data(), chunk.size());
  EXPECT_EQ(sink.hash_, want);
}

TEST(ApiClientTest, ErrorBodyIsNotWrittenToTheSink) {
  FakeDaemon daemon(PingThen(
      "1.43", [](const SeenRequest&, Conn& c) { Reply(c, 500, "{\"message\":\"boom\"}"); }));
  Connected s = Connect(daemon.host());
  Request req;
  req.path = "/images/get";
  CountingWriter sink;
  Result<Response> got = s.client->Do(req, &sink);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error().message, "Error response from daemon: boom");
  EXPECT_EQ(sink.total_, 0u);
}

class FailingWriter : public Writer {
 public:
  Status Write(std::string_view) override {
    return MakeError(Code::kResourceExhausted, "disk full");
  }
};

TEST(ApiClientTest, SinkFailureAbortsWithTheSinkError) {
  FakeDaemon daemon(PingThen("1.43", [](const SeenRequest&, Conn& c) {
    SendChunked(c, {"data", "more"});
  }));
  Connected s = Connect(daemon.host());
  Request req;
  req.path = "/images/get";
  FailingWriter sink;
  Result<Response> got = s.client->Do(req, &sink);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error().message, "disk full");
}

TEST(ParseHostTest, AcceptsUnixAndTcp) {
  Result<HostSpec> u = ParseHost("unix:///run/berth/berth.sock");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->socket_path, "/run/berth/berth.sock");
  EXPECT_EQ(u->base_url, "http://api.moby.localhost");
  Result<HostSpec> t = ParseHost("tcp://127.0.0.1:2375");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->socket_path, "");
  EXPECT_EQ(t->base_url, "http://127.0.0.1:2375");
  EXPECT_FALSE(ParseHost("ssh://x").ok());
  EXPECT_FALSE(ParseHost("unix://").ok());
}

TEST(ApiVersionTest, ComparesNumerically) {
  EXPECT_LT(CompareApiVersions("1.9", "1.43"), 0);
  EXPECT_EQ(CompareApiVersions("1.43", "1.43"), 0);
  EXPECT_GT(CompareApiVersions("1.44", "1.43"), 0);
}

TEST(LineWriterTest, SplitsAcrossWritesAndStripsCr) {
  std::vector<std::string> lines;
  LineWriter w([&](std::string_view l) {
    lines.emplace_back(l);
    return Ok();
  });
  ASSERT_TRUE(w.Write("ab").ok());
  ASSERT_TRUE(w.Write("c\r\nd\n\ne").ok());
  ASSERT_TRUE(w.Finish().ok());
  EXPECT_EQ(lines, (std::vector<std::string>{"abc", "d", "", "e"}));
}

}  // namespace
}  // namespace berth::cli

namespace berth::cli {
namespace {

void OkJsonKeepAlive(const SeenRequest& req, Conn& c) {
  Reply(c, 200, req.method == "HEAD" ? "" : "{\"ok\":true}", "Api-Version: 1.43\r\n", false);
}

TEST(TransportTest, KeepsOneConnectionAcrossRequests) {
  FakeDaemon daemon(OkJsonKeepAlive, /*keep_alive=*/true);
  Connected s = Connect(daemon.host());
  ASSERT_TRUE(s.client->GetJson("/version").ok());
  ASSERT_TRUE(s.client->GetJson("/info").ok());
  std::vector<SeenRequest> seen = daemon.requests();
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[0].target, "/_ping");
  EXPECT_EQ(seen[2].target, "/v1.43/info");
  EXPECT_EQ(daemon.connections(), 1);
}

TEST(TransportTest, SendsAgainWhenTheDaemonClosedTheIdleConnection) {
  // Replies as if keeping the connection, then closes it: the next request on it reads EOF.
  FakeDaemon daemon(OkJsonKeepAlive, /*keep_alive=*/false);
  Connected s = Connect(daemon.host());
  Result<nlohmann::ordered_json> got = s.client->GetJson("/version");
  ASSERT_TRUE(got.ok()) << got.error().message;
  EXPECT_EQ((*got)["ok"], true);
  EXPECT_EQ(daemon.requests().size(), 2u);
  EXPECT_EQ(daemon.connections(), 2);
}

// Records writes; the first one releases the daemon's second chunk.
class SignallingWriter : public Writer {
 public:
  Status Write(std::string_view data) override {
    got_ += data;
    first_.store(true);
    return Ok();
  }
  std::atomic<bool> first_{false};
  std::string got_;
};

TEST(TransportTest, HandsABodyToTheSinkAsItArrives) {
  SignallingWriter sink;
  FakeDaemon daemon(PingThen("1.43", [&sink](const SeenRequest&, Conn& c) {
    c.Send("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
           "6\r\nfirst\n\r\n");
    // `logs -f`: the rest comes only once the client has shown the first part.
    for (int i = 0; i < 500 && !sink.first_.load(); ++i) ::usleep(10000);
    c.Send(std::string(sink.first_.load() ? "7\r\nsecond\n\r\n" : "5\r\nlate\n\r\n") +
           "0\r\n\r\n");
  }));
  Connected s = Connect(daemon.host());
  Request req;
  req.path = "/containers/x/logs";
  Result<Response> got = s.client->Do(req, &sink);
  ASSERT_TRUE(got.ok()) << got.error().message;
  EXPECT_EQ(sink.got_, "first\nsecond\n");
}

TEST(TransportTest, HeadReplyHasNoBodyToWaitFor) {
  FakeDaemon daemon(
      [](const SeenRequest&, Conn& c) {
        // A HEAD reply carries the length of the body it does not send.
        c.Send("HTTP/1.1 200 OK\r\nContent-Length: 42\r\nApi-Version: 1.43\r\n\r\n");
      },
      /*keep_alive=*/true);
  Result<HostSpec> spec = ParseHost(daemon.host());
  ASSERT_TRUE(spec.ok());
  auto t = NewTransport(*spec, "Berth-Client/test");
  ASSERT_TRUE(t.ok());
  Request req;
  req.method = "HEAD";
  req.path = "/_ping";
  Result<Response> got = (*t)->RoundTrip(req, nullptr);
  ASSERT_TRUE(got.ok()) << got.error().message;
  EXPECT_EQ(got->status, 200);
  EXPECT_EQ(got->headers["api-version"], "1.43");
  got = (*t)->RoundTrip(req, nullptr);  // the same connection, still in step
  ASSERT_TRUE(got.ok()) << got.error().message;
  EXPECT_EQ(daemon.connections(), 1);
}

}  // namespace
}  // namespace berth::cli
