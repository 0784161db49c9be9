// Bad input at the HTTP level, over raw sockets against the real server: clients sending their
// request header one byte a second are cut off (--header-timeout) while others are served
// promptly; a blob upload announcing Content-Length: 1 TiB is refused (an error answer, or the
// connection closed) before its data fills the disk, nothing of it is stored, and the server
// goes on serving.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <thread>

#include "compat_fixture.h"

namespace berth::registry_compat {
namespace {

using registry_conformance::WithQuery;
using Clock = std::chrono::steady_clock;

constexpr int kHeaderTimeoutSeconds = 2;

int Connect(const std::string& host) {
  int port = std::stoi(host.substr(host.rfind(':') + 1));
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

// What the server did to a connection: answered (the bytes it sent) and/or closed it.
struct Outcome {
  bool closed = false;
  std::string answer;
};

// Reads what is there within `ms`; closed when the peer closed or reset the connection.
void ReadSome(int fd, int ms, Outcome* o) {
  pollfd p{fd, POLLIN, 0};
  while (poll(&p, 1, ms) > 0) {
    char buf[4096];
    ssize_t n = recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) {
      o->closed = true;
      return;
    }
    o->answer.append(buf, static_cast<size_t>(n));
    ms = 0;
  }
}

long StatusOf(const std::string& answer) {
  if (answer.rfind("HTTP/1.", 0) != 0 || answer.size() < 12) return 0;
  return std::stol(answer.substr(9, 3));
}

uint64_t BytesBelow(const std::string& dir) {
  uint64_t total = 0;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_regular_file(ec)) total += it->file_size(ec);
  }
  return total;
}

class BadInputTest : public CompatTest {
 protected:
  // Sends `head` (a request header announcing 1 TiB), then body bytes, 64 KiB at a time, for at
  // most 16 MiB or 5 s, watching for an answer or a close. How the server took it, and how
  // many body bytes went out before.
  Outcome SendHugeBody(const std::string& head, uint64_t* sent) {
    Outcome o;
    *sent = 0;
    int fd = Connect(registry_->host());
    if (fd < 0) {
      ADD_FAILURE() << "cannot connect to " << registry_->host();
      return o;
    }
    std::string chunk(64 << 10, 'x');
    bool ok = send(fd, head.data(), head.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(head.size());
    auto deadline = Clock::now() + std::chrono::seconds(5);
    while (ok && *sent < (16u << 20) && Clock::now() < deadline) {
      ReadSome(fd, 0, &o);
      if (o.closed || !o.answer.empty()) break;
      pollfd p{fd, POLLOUT, 0};
      if (poll(&p, 1, 100) <= 0) continue;
      ssize_t n = send(fd, chunk.data(), chunk.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n < 0 && errno != EAGAIN) {
        o.closed = true;  // EPIPE or ECONNRESET: the server closed it
        break;
      }
      if (n > 0) *sent += static_cast<uint64_t>(n);
    }
    ReadSome(fd, 500, &o);
    close(fd);
    return o;
  }

  void ExpectServing() {
    HttpResponse r = Get("/v2/");
    EXPECT_EQ(r.status, 200) << "after the bad client: " << Describe(r);
  }
};

TEST_F(BadInputTest, HeaderSentOneByteASecondIsCutOffWhileOthersAreServed) {
  ASSERT_TRUE(StartRegistry({"--header-timeout", std::to_string(kHeaderTimeoutSeconds)}));
  const std::string header =
      "GET /v2/ HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: one-byte-a-second\r\n\r\n";
  constexpr int kSlowClients = 8;
  struct Slow {
    Outcome outcome;
    size_t bytes_sent = 0;
    std::chrono::milliseconds cut_after{0};
  };
  std::vector<Slow> slow(kSlowClients);
  std::vector<std::thread> threads;
  for (int i = 0; i < kSlowClients; ++i) {
    threads.emplace_back([&, i] {
      Slow& s = slow[static_cast<size_t>(i)];
      int fd = Connect(registry_->host());
      if (fd < 0) return;
      auto start = Clock::now();
      // At most 4 timeouts' worth of bytes: the whole header would take ~55 s.
      for (int sec = 0; sec < 4 * kHeaderTimeoutSeconds && s.bytes_sent < header.size(); ++sec) {
        if (send(fd, &header[s.bytes_sent], 1, MSG_NOSIGNAL) != 1) {
          s.outcome.closed = true;
          break;
        }
        ++s.bytes_sent;
        ReadSome(fd, 1000, &s.outcome);
        if (s.outcome.closed) break;
      }
      s.cut_after = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
      close(fd);
    });
  }
  // Meanwhile others are served, each quickly.
  int served = 0;
  auto until =
      Clock::now() + std::chrono::seconds(kHeaderTimeoutSeconds) + std::chrono::milliseconds(500);
  while (Clock::now() < until) {
    auto start = Clock::now();
    HttpResponse r = Get("/v2/");
    auto took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
    EXPECT_EQ(r.status, 200) << Describe(r);
    EXPECT_LT(took.count(), 1500) << "a GET /v2/ took " << took.count() << " ms";
    ++served;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  for (auto& t : threads) t.join();
  EXPECT_GT(served, 10);
  for (const Slow& s : slow) {
    EXPECT_TRUE(s.outcome.closed) << "a client sending a byte a second was not cut off after "
                                  << s.cut_after.count() << " ms and " << s.bytes_sent << " bytes";
    EXPECT_LE(s.cut_after.count(), (kHeaderTimeoutSeconds + 2) * 1000);
    EXPECT_LT(s.bytes_sent, header.size());
    // It is never answered as if its request were whole; a 408 is allowed.
    long status = StatusOf(s.outcome.answer);
    EXPECT_TRUE(s.outcome.answer.empty() || status == 408) << s.outcome.answer;
  }
  ExpectServing();
  ASSERT_TRUE(registry_->Stop());
}

TEST_F(BadInputTest, TerabyteContentLengthIsRefusedAndNothingIsStored) {
  ASSERT_TRUE(StartRegistry());
  const std::string repo = "compat/huge";
  const std::string digest = registry_conformance::Sha256(registry_conformance::RandomBytes(64));
  const std::string uploads_dir = registry_->data_root() + "/uploads";
  auto client = Client();

  // PUT to an upload session, and a monolithic POST.
  HttpResponse post = client->Do({"POST", "/v2/" + repo + "/blobs/uploads/", {}, ""});
  ASSERT_EQ(post.status, 202) << Describe(post);
  const std::string location = HttpClient::RelativePath(post.Header("Location"));
  const std::vector<std::pair<std::string, std::string>> requests = {
      {"PUT", WithQuery(location, "digest", digest)},
      {"POST", WithQuery("/v2/" + repo + "/blobs/uploads/", "digest", digest)}};
  for (const auto& [method, target] : requests) {
    SCOPED_TRACE(method + " " + target);
    uint64_t before = BytesBelow(uploads_dir);
    uint64_t sent = 0;
    Outcome o =
        SendHugeBody(method + " " + target +
                         " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
                         "application/octet-stream\r\nContent-Length: 1099511627776\r\n\r\n",
                     &sent);
    long status = StatusOf(o.answer);
    EXPECT_TRUE(status >= 400 || (o.answer.empty() && o.closed))
        << "after " << sent << " body bytes the server neither refused nor closed; answer: '"
        << o.answer.substr(0, 300) << "'";
    EXPECT_LT(BytesBelow(uploads_dir), before + (1u << 20))
        << "the server stored " << BytesBelow(uploads_dir) - before << " bytes of the body";
    EXPECT_EQ(Get("/v2/" + repo + "/blobs/" + digest).status, 404);
    ExpectServing();
  }
  // The session is intact or gone, never holding the refused body.
  HttpResponse status = client->Do({"GET", location, {}, ""});
  EXPECT_TRUE(status.status == 404 || (status.status == 204 && status.Header("Range") == "0-0"))
      << Describe(status);
  // And an ordinary push still works.
  registry_conformance::Content blob = registry_conformance::RandomBlob(1 << 20);
  HttpResponse push =
      client->Do({"POST",
                  WithQuery("/v2/" + repo + "/blobs/uploads/", "digest", blob.digest),
                  {{"Content-Type", "application/octet-stream"}},
                  blob.bytes});
  EXPECT_EQ(push.status, 201) << Describe(push);
  EXPECT_TRUE(HasBlob(repo, blob.digest));
  ASSERT_TRUE(registry_->Stop());
}

}  // namespace
}  // namespace berth::registry_compat
