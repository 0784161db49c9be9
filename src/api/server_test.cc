// The server over real sockets, driven by libcurl (and a raw socket for hijack).
#include "api/server.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <future>
#include <map>
#include <thread>

#include <curl/curl.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "api/request.h"
#include "api/response_writer.h"
#include "api/router.h"
#include "base/file.h"
#include "base/strings.h"
#include "base/unique_fd.h"

namespace berth::api {
namespace {

using namespace std::chrono_literals;

struct Response {
  long status = 0;  // NOLINT(runtime/int): curl's type
  std::string body;
  std::map<std::string, std::string> headers;  // lower-case names
  CURLcode code = CURLE_OK;
};

size_t CollectBody(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

size_t CollectHeader(char* data, size_t size, size_t n, void* out) {
  std::string_view line(data, size * n);
  size_t colon = line.find(':');
  if (colon != std::string_view::npos) {
    (*static_cast<std::map<std::string, std::string>*>(out))[ToLower(line.substr(0, colon))] =
        std::string(TrimSpace(line.substr(colon + 1)));
  }
  return size * n;
}

// One curl easy handle: reusing it reuses the connection (keep-alive).
class Client {
 public:
  explicit Client(std::string socket_path) : socket_(std::move(socket_path)) {
    curl_ = curl_easy_init();
  }
  ~Client() { curl_easy_cleanup(curl_); }

  Response Do(const std::string& method, const std::string& path, const std::string& body = "",
              std::vector<std::string> extra_headers = {}) {
    Response r;
    curl_easy_reset(curl_);
    curl_easy_setopt(curl_, CURLOPT_UNIX_SOCKET_PATH, socket_.c_str());
    std::string url = "http://localhost" + path;
    curl_easy_setopt(curl_, CURLOPT_URL, url.c_str());
    if (method == "HEAD") {
      curl_easy_setopt(curl_, CURLOPT_NOBODY, 1L);
    } else {
      curl_easy_setopt(curl_, CURLOPT_CUSTOMREQUEST, method.c_str());
    }
    if (!body.empty()) {
      curl_easy_setopt(curl_, CURLOPT_POSTFIELDS, body.c_str());
      curl_easy_setopt(curl_, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    }
    curl_slist* headers = nullptr;
    for (const std::string& h : extra_headers) headers = curl_slist_append(headers, h.c_str());
    curl_easy_setopt(curl_, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl_, CURLOPT_WRITEFUNCTION, CollectBody);
    curl_easy_setopt(curl_, CURLOPT_WRITEDATA, &r.body);
    curl_easy_setopt(curl_, CURLOPT_HEADERFUNCTION, CollectHeader);
    curl_easy_setopt(curl_, CURLOPT_HEADERDATA, &r.headers);
    curl_easy_setopt(curl_, CURLOPT_TIMEOUT, 60L);
    r.code = curl_easy_perform(curl_);
    curl_easy_getinfo(curl_, CURLINFO_RESPONSE_CODE, &r.status);
    curl_slist_free_all(headers);
    return r;
  }

  long NumConnects() {  // NOLINT(runtime/int)
    long n = 0;         // NOLINT(runtime/int)
    curl_easy_getinfo(curl_, CURLINFO_NUM_CONNECTS, &n);
    return n;
  }
  CURL* handle() { return curl_; }

 private:
  std::string socket_;
  CURL* curl_;
};

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/berth-api-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    socket_ = dir_ + "/run/api.sock";
    router_.Handle("GET", "/_ping", [](Request& req, ResponseWriter& w) {
      return w.WriteBody(200, "text/plain; charset=utf-8", req.method() == "HEAD" ? "" : "OK");
    });
    router_.Handle("HEAD", "/_ping", [](Request&, ResponseWriter& w) {
      return w.WriteBody(200, "text/plain; charset=utf-8", "");
    });
    router_.Handle("GET", "/version", [](Request& req, ResponseWriter& w) {
      return w.WriteJson(200, {{"ApiVersion", req.api_version()}});
    });
    router_.Handle("GET", "/images/{name:.*}/json", [](Request& req, ResponseWriter& w) {
      return w.WriteJson(200, {{"name", req.Param("name")}, {"all", req.QueryBool("all")}});
    });
    router_.Handle("GET", "/containers/{id}/json", [](Request& req, ResponseWriter&) -> Status {
      return MakeError(Code::kNotFound, "No such container: " + std::string(req.Param("id")));
    });
    router_.Handle("POST", "/echo", [](Request& req, ResponseWriter& w) -> Status {
      BERTH_ASSIGN_OR_RETURN(nlohmann::json body, req.ReadJson());
      return w.WriteJson(201, body);
    });
  }

  void TearDown() override {
    server_.reset();
    EXPECT_TRUE(RemoveAll(dir_));
  }

  void StartServer() {
    server_ = std::make_unique<Server>(router_, ServerOptions{"Berth/test (linux)", 0660});
    ASSERT_TRUE(server_->Listen("unix://" + socket_));
    ASSERT_TRUE(server_->Start());
  }

  std::string dir_;
  std::string socket_;
  Router router_;
  std::unique_ptr<Server> server_;
};

TEST_F(ServerTest, SocketIsCreatedWithMode0660AndRemovedOnShutdown) {
  StartServer();
  struct stat st {};
  ASSERT_EQ(::stat(socket_.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0660u);
  server_->Shutdown(1s);
  EXPECT_FALSE(PathExists(socket_));
}

TEST_F(ServerTest, EveryResponseCarriesDockerdHeaders) {
  StartServer();
  Client c(socket_);
  Response r = c.Do("HEAD", "/_ping");
  ASSERT_EQ(r.code, CURLE_OK);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.headers["api-version"], "1.43");
  EXPECT_EQ(r.headers["docker-experimental"], "false");
  EXPECT_EQ(r.headers["ostype"], "linux");
  EXPECT_EQ(r.headers["server"], "Berth/test (linux)");
  EXPECT_EQ(r.headers["content-length"], "0");
  EXPECT_EQ(r.headers["content-type"], "text/plain; charset=utf-8");
  EXPECT_FALSE(r.headers["date"].empty());
  r = c.Do("GET", "/_ping");
  EXPECT_EQ(r.body, "OK");
  EXPECT_EQ(r.headers["content-length"], "2");
}

TEST_F(ServerTest, VersionPrefixIsStrippedAndNegotiated) {
  StartServer();
  Client c(socket_);
  Response r = c.Do("GET", "/v1.41/version");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(nlohmann::json::parse(r.body)["ApiVersion"], "1.41");
  r = c.Do("GET", "/version");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(nlohmann::json::parse(r.body)["ApiVersion"], "1.43");
  EXPECT_EQ(r.headers["content-type"], "application/json");
  EXPECT_EQ(r.body.back(), '\n');

  r = c.Do("GET", "/v1.11/version");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.headers["content-type"], "text/plain; charset=utf-8");
  EXPECT_EQ(r.body,
            "client version 1.11 is too old. Minimum supported API version is 1.24, please "
            "upgrade your client to a newer version\n");
  r = c.Do("GET", "/v1.44/version");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.headers["content-type"], "application/json");
  EXPECT_EQ(r.body,
            "{\"message\":\"client version 1.44 is too new. Maximum supported API version is "
            "1.43\"}\n");
  r = c.Do("GET", "/vabc/version");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.body, "{\"message\":\"page not found\"}\n");
}

TEST_F(ServerTest, UnknownPathsAndWrongMethodsAreNotFound) {
  StartServer();
  Client c(socket_);
  Response r = c.Do("GET", "/v1.43/nope");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.body, "{\"message\":\"page not found\"}\n");
  r = c.Do("POST", "/version");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.body, "{\"message\":\"page not found\"}\n");
  r = c.Do("HEAD", "/version");
  EXPECT_EQ(r.status, 404);
}

TEST_F(ServerTest, GreedyNamesAndQueryReachTheHandlerDecoded) {
  StartServer();
  Client c(socket_);
  Response r = c.Do("GET", "/v1.43/images/localhost:5000/me/busybox:1/json?all=1");
  ASSERT_EQ(r.status, 200);
  nlohmann::json j = nlohmann::json::parse(r.body);
  EXPECT_EQ(j["name"], "localhost:5000/me/busybox:1");
  EXPECT_EQ(j["all"], true);
  r = c.Do("GET", "/images/docker.io%2Flibrary%2Fbusybox/json?all=0");
  j = nlohmann::json::parse(r.body);
  EXPECT_EQ(j["name"], "docker.io/library/busybox");
  EXPECT_EQ(j["all"], false);
}

TEST_F(ServerTest, HandlerErrorsBecomeDockerStatusAndMessage) {
  StartServer();
  Client c(socket_);
  Response r = c.Do("GET", "/v1.43/containers/abc/json");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.headers["content-type"], "application/json");
  EXPECT_EQ(r.body, "{\"message\":\"No such container: abc\"}\n");
  r = c.Do("POST", "/echo", "{\"a\":", {"Content-Type: application/json"});
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("invalid JSON"), std::string::npos);
  r = c.Do("POST", "/echo", "{\"a\":[1,2]}", {"Content-Type: application/json"});
  EXPECT_EQ(r.status, 201);
  EXPECT_EQ(r.body, "{\"a\":[1,2]}\n");
}

TEST_F(ServerTest, KeepAliveServesManyRequestsOnOneConnection) {
  StartServer();
  Client c(socket_);
  ASSERT_EQ(c.Do("GET", "/_ping").status, 200);
  EXPECT_EQ(c.NumConnects(), 1);
  for (int i = 0; i < 5; ++i) {
    ASSERT_EQ(c.Do("GET", "/version").status, 200);
    EXPECT_EQ(c.NumConnects(), 0) << "request " << i << " opened a new connection";
  }
  // An error response and an unread body do not cost the connection either.
  ASSERT_EQ(c.Do("POST", "/nope", std::string(1000, 'x')).status, 404);
  ASSERT_EQ(c.Do("GET", "/_ping").status, 200);
  EXPECT_EQ(c.NumConnects(), 0);
}

TEST_F(ServerTest, StreamedChunksReachTheClientAsTheyAreWritten) {
  std::promise<void> first_seen;
  std::future<void> first_seen_future = first_seen.get_future();
  router_.Handle("GET", "/stream", [&](Request&, ResponseWriter& w) -> Status {
    BERTH_RETURN_IF_ERROR(w.StartStream(200, "application/json"));
    BERTH_RETURN_IF_ERROR(w.Write("{\"status\":\"first\"}\n"));
    // Without a flush per write the client would never see the first chunk: fail, not hang.
    if (first_seen_future.wait_for(30s) != std::future_status::ready) {
      return MakeError(Code::kInternal, "client never saw the first chunk");
    }
    BERTH_RETURN_IF_ERROR(w.Write("{\"status\":\"second\"}\n"));
    return w.End();
  });
  StartServer();

  struct Sink {
    std::string body;
    std::promise<void>* first_seen;
    bool signalled = false;
  } sink{"", &first_seen};
  CURL* curl = curl_easy_init();
  curl_easy_setopt(curl, CURLOPT_UNIX_SOCKET_PATH, socket_.c_str());
  curl_easy_setopt(curl, CURLOPT_URL, "http://localhost/v1.43/stream");
  curl_easy_setopt(
      curl, CURLOPT_WRITEFUNCTION, +[](char* d, size_t s, size_t n, void* p) {
        auto* k = static_cast<Sink*>(p);
        k->body.append(d, s * n);
        if (!k->signalled && k->body.find("first") != std::string::npos) {
          k->signalled = true;
          k->first_seen->set_value();
        }
        return s * n;
      });
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &sink);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 60L);
  std::map<std::string, std::string> headers;
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, CollectHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &headers);
  CURLcode code = curl_easy_perform(curl);
  long status = 0;  // NOLINT(runtime/int)
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_cleanup(curl);
  if (!sink.signalled) first_seen.set_value();
  ASSERT_EQ(code, CURLE_OK);
  EXPECT_EQ(status, 200);
  EXPECT_EQ(headers["transfer-encoding"], "chunked");
  EXPECT_EQ(sink.body, "{\"status\":\"first\"}\n{\"status\":\"second\"}\n");
}

TEST_F(ServerTest, ErrorAfterStreamStartTruncatesTheResponse) {
  router_.Handle("GET", "/broken", [](Request&, ResponseWriter& w) -> Status {
    BERTH_RETURN_IF_ERROR(w.StartStream(200, "application/x-tar"));
    BERTH_RETURN_IF_ERROR(w.Write("partial"));
    return MakeError(Code::kDataLoss, "layer digest mismatch");
  });
  StartServer();
  Client c(socket_);
  Response r = c.Do("GET", "/broken");
  EXPECT_NE(r.code, CURLE_OK);  // the chunked body never ended
  EXPECT_EQ(r.body, "partial");
}

// Uploads `total` bytes of a known pattern through a curl read callback; the handler checks
// the pattern as it streams and answers with the count.
struct Upload {
  uint64_t total;
  uint64_t sent = 0;
};

size_t ProducePattern(char* buf, size_t size, size_t n, void* p) {
  auto* u = static_cast<Upload*>(p);
  size_t len = std::min<uint64_t>(size * n, u->total - u->sent);
  for (size_t i = 0; i < len; ++i) buf[i] = static_cast<char>((u->sent + i) % 251);
  u->sent += len;
  return len;
}

Status CountPattern(Request& req, ResponseWriter& w) {
  std::vector<char> buf(64 * 1024);
  uint64_t total = 0;
  while (true) {
    BERTH_ASSIGN_OR_RETURN(size_t n, req.body().Read(buf.data(), buf.size()));
    if (n == 0) break;
    for (size_t i = 0; i < n; ++i) {
      if (buf[i] != static_cast<char>((total + i) % 251)) {
        return MakeError(Code::kDataLoss, "byte " + std::to_string(total + i) + " corrupted");
      }
    }
    total += n;
  }
  return w.WriteJson(200, {{"bytes", total}});
}

Response PostUpload(const std::string& socket, uint64_t total, bool chunked) {
  Upload upload{total};
  Response r;
  CURL* curl = curl_easy_init();
  curl_easy_setopt(curl, CURLOPT_UNIX_SOCKET_PATH, socket.c_str());
  curl_easy_setopt(curl, CURLOPT_URL, "http://localhost/v1.43/upload");
  curl_easy_setopt(curl, CURLOPT_POST, 1L);
  curl_easy_setopt(curl, CURLOPT_READFUNCTION, ProducePattern);
  curl_easy_setopt(curl, CURLOPT_READDATA, &upload);
  curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/x-tar");
  if (chunked) {
    headers = curl_slist_append(headers, "Transfer-Encoding: chunked");
  } else {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(total));
  }
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, CollectBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &r.body);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 300L);
  r.code = curl_easy_perform(curl);
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &r.status);
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  return r;
}

TEST_F(ServerTest, ChunkedUploadArrivesDechunked) {
  router_.Handle("POST", "/upload", CountPattern);
  StartServer();
  Response r = PostUpload(socket_, 3 * 1024 * 1024 + 17, /*chunked=*/true);
  ASSERT_EQ(r.code, CURLE_OK);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(nlohmann::json::parse(r.body)["bytes"], 3 * 1024 * 1024 + 17);
}

int64_t PeakRssKib() {
  Result<std::string> status = ReadFile("/proc/self/status");
  if (!status) return -1;
  for (const std::string& line : Split(*status, '\n')) {
    if (line.starts_with("VmHWM:")) return std::stoll(line.substr(6));
  }
  return -1;
}

TEST_F(ServerTest, HundredMegabyteUploadStreamsWithoutGrowingRss) {
  router_.Handle("POST", "/upload", CountPattern);
  StartServer();
  PostUpload(socket_, 1 << 20, false);  // warm up allocators and buffers
  // Reset the peak RSS counter (proc(5), /proc/pid/clear_refs "5").
  {
    UniqueFd fd(::open("/proc/self/clear_refs", O_WRONLY | O_CLOEXEC));
    ASSERT_TRUE(fd);
    ASSERT_EQ(::write(fd.get(), "5", 1), 1);
  }
  int64_t before = PeakRssKib();
  constexpr uint64_t kTotal = uint64_t{100} << 20;
  Response r = PostUpload(socket_, kTotal, false);
  int64_t after = PeakRssKib();
  ASSERT_EQ(r.code, CURLE_OK);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(nlohmann::json::parse(r.body)["bytes"], kTotal);
  EXPECT_LT(after - before, 32 * 1024) << "peak RSS grew by " << (after - before) << " KiB";
}

TEST_F(ServerTest, SlowHandlerDoesNotStallOtherConnections) {
  std::promise<void> entered;
  std::promise<void> release;
  std::shared_future<void> release_future = release.get_future().share();
  router_.Handle("GET", "/slow", [&](Request&, ResponseWriter& w) {
    entered.set_value();
    release_future.wait();
    return w.WriteBody(200, "text/plain", "slow");
  });
  StartServer();
  std::thread slow([&] {
    Client c(socket_);
    EXPECT_EQ(c.Do("GET", "/slow").body, "slow");
  });
  ASSERT_EQ(entered.get_future().wait_for(60s), std::future_status::ready);
  Client c(socket_);
  EXPECT_EQ(c.Do("GET", "/_ping").status, 200);
  release.set_value();
  slow.join();
}

TEST_F(ServerTest, ShutdownLetsInFlightRequestsFinish) {
  std::promise<void> entered;
  std::promise<void> release;
  std::shared_future<void> release_future = release.get_future().share();
  router_.Handle("GET", "/busy", [&](Request&, ResponseWriter& w) {
    entered.set_value();
    release_future.wait();
    return w.WriteBody(200, "text/plain", "done");
  });
  StartServer();
  Client idle(socket_);
  ASSERT_EQ(idle.Do("GET", "/_ping").status, 200);  // leaves an idle keep-alive connection
  Response busy_response;
  std::thread busy([&] {
    Client c(socket_);
    busy_response = c.Do("GET", "/busy");
  });
  ASSERT_EQ(entered.get_future().wait_for(60s), std::future_status::ready);
  std::thread stopper([&] { server_->Shutdown(60s); });
  // Shutdown removes the socket first; then it waits for the busy request.
  while (PathExists(socket_)) std::this_thread::yield();
  release.set_value();
  stopper.join();
  busy.join();
  EXPECT_EQ(busy_response.status, 200);
  EXPECT_EQ(busy_response.body, "done");
}

TEST_F(ServerTest, ShutdownCutsHandlersBlockedOnTheClientAfterGrace) {
  std::promise<void> entered;
  router_.Handle("POST", "/upload", [&](Request& req, ResponseWriter& w) -> Status {
    entered.set_value();
    char buf[16];
    BERTH_ASSIGN_OR_RETURN(size_t n, req.body().Read(buf, sizeof(buf)));  // never arrives
    return w.WriteJson(200, {{"n", n}});
  });
  StartServer();
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  socket_.copy(addr.sun_path, socket_.size());
  ASSERT_EQ(::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  std::string req = "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n";
  ASSERT_TRUE(WriteAll(fd.get(), req));
  ASSERT_EQ(entered.get_future().wait_for(60s), std::future_status::ready);
  server_->Shutdown(10ms);  // returns: the blocked read was cut
  SUCCEED();
}

TEST_F(ServerTest, HijackHandsOverTheRawConnection) {
  router_.Handle("POST", "/containers/{id}/attach", [](Request&, ResponseWriter& w) -> Status {
    BERTH_ASSIGN_OR_RETURN(std::unique_ptr<HijackedStream> conn,
                           w.Hijack("application/vnd.docker.raw-stream"));
    char buf[5];
    size_t got = 0;
    while (got < sizeof(buf)) {
      BERTH_ASSIGN_OR_RETURN(size_t n, conn->Read(buf + got, sizeof(buf) - got));
      if (n == 0) return MakeError(Code::kCancelled, "client closed early");
      got += n;
    }
    std::string upper(buf, sizeof(buf));
    for (char& ch : upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    BERTH_RETURN_IF_ERROR(conn->Write(upper));
    return conn->CloseWrite();
  });
  StartServer();
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  socket_.copy(addr.sun_path, socket_.size());
  ASSERT_EQ(::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  // The first stdin bytes travel in the same packet as the request: they must not be lost.
  std::string req =
      "POST /v1.43/containers/c1/attach?stream=1&stdin=1 HTTP/1.1\r\nHost: x\r\n"
      "Connection: Upgrade\r\nUpgrade: tcp\r\nContent-Length: 0\r\n\r\nhel";
  ASSERT_TRUE(WriteAll(fd.get(), req));
  ASSERT_TRUE(WriteAll(fd.get(), "lo"));
  std::string got;
  char buf[4096];
  while (true) {
    ssize_t n = ::read(fd.get(), buf, sizeof(buf));
    ASSERT_GE(n, 0);
    if (n == 0) break;
    got.append(buf, static_cast<size_t>(n));
  }
  EXPECT_EQ(got.rfind("HTTP/1.1 101 UPGRADED\r\n", 0), 0u) << got;
  EXPECT_NE(got.find("Content-Type: application/vnd.docker.raw-stream\r\n"), std::string::npos);
  EXPECT_NE(got.find("Upgrade: tcp\r\n"), std::string::npos);
  EXPECT_EQ(got.substr(got.find("\r\n\r\n") + 4), "HELLO");
}

TEST_F(ServerTest, StaleSocketIsReplacedButALiveOneIsRefused) {
  ASSERT_TRUE(MakeDirs(dir_ + "/run"));
  {
    // A socket file nobody listens on, as a crashed daemon leaves behind.
    UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    socket_.copy(addr.sun_path, socket_.size());
    ASSERT_EQ(::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  }
  ASSERT_TRUE(PathExists(socket_));
  StartServer();
  Client c(socket_);
  EXPECT_EQ(c.Do("GET", "/_ping").status, 200);

  Server second(router_, ServerOptions{"Berth/test (linux)", 0660});
  Status st = second.Listen("unix://" + socket_);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, Code::kAlreadyExists);
  EXPECT_EQ(c.Do("GET", "/_ping").status, 200);  // the first server still has its socket
}

TEST_F(ServerTest, ServesTcpOnlyWhenAsked) {
  Server tcp(router_, ServerOptions{"Berth/test (linux)", 0660});
  ASSERT_TRUE(tcp.Listen("tcp://127.0.0.1:0"));
  ASSERT_TRUE(tcp.Start());
  ASSERT_EQ(tcp.addresses().size(), 1u);
  std::string url = "http://" + tcp.addresses()[0].substr(6) + "/_ping";
  CURL* curl = curl_easy_init();
  std::string body;
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, CollectBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 60L);
  EXPECT_EQ(curl_easy_perform(curl), CURLE_OK);
  curl_easy_cleanup(curl);
  EXPECT_EQ(body, "OK");
}

TEST(ListenAddressTest, ParsesDockerdHostSyntax) {
  Result<ListenAddress> a = ParseListenAddress("unix:///run/berth/berth.sock");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->kind, ListenAddress::Kind::kUnix);
  EXPECT_EQ(a->path, "/run/berth/berth.sock");
  a = ParseListenAddress("tcp://127.0.0.1:2375");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->kind, ListenAddress::Kind::kTcp);
  EXPECT_EQ(a->host, "127.0.0.1");
  EXPECT_EQ(a->port, 2375);
  a = ParseListenAddress("tcp://[::1]:2375");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->host, "::1");
  a = ParseListenAddress("tcp://:2375");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->host, "0.0.0.0");
  EXPECT_FALSE(ParseListenAddress("tcp://127.0.0.1"));
  EXPECT_FALSE(ParseListenAddress("tcp://127.0.0.1:99999"));
  EXPECT_FALSE(ParseListenAddress("unix://relative.sock"));
  EXPECT_FALSE(ParseListenAddress("fd://"));
  EXPECT_FALSE(ParseListenAddress("/run/berth.sock"));
}

}  // namespace
}  // namespace berth::api
