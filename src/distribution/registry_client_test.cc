// RegistryClient against a small HTTP server on 127.0.0.1 (port 0) that answers as a registry
// would: content negotiation, the Bearer token flow, Basic auth, digest headers, Range.
#include "distribution/registry_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <functional>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "base/strings.h"
#include "oci/media_types.h"

namespace berth::distribution {
namespace {

struct HttpRequest {
  std::string method;
  std::string target;
  std::map<std::string, std::string> headers;  // lower-case names
};

// One connection at a time, one request per connection (Connection: close).
class TestServer {
 public:
  using Handler = std::function<std::string(const HttpRequest&)>;  // the raw response
  explicit TestServer(Handler h) : handler_(std::move(h)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    ::listen(fd_, 16);
    thread_ = std::thread([this] { Serve(); });
  }
  ~TestServer() {
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
  }
  std::string host() const { return "127.0.0.1:" + std::to_string(port_); }
  std::vector<HttpRequest> requests() {
    std::lock_guard lock(mu_);
    return requests_;
  }

 private:
  void Serve() {
    while (true) {
      int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) return;
      std::string in;
      char buf[4096];
      bool tls = false;
      while (in.find("\r\n\r\n") == std::string::npos) {
        ssize_t n = ::read(c, buf, sizeof buf);
        if (n <= 0) break;
        in.append(buf, static_cast<size_t>(n));
        tls = in[0] == '\x16';  // a TLS ClientHello: this server speaks plain HTTP only
        if (tls) break;
      }
      if (tls) {
        ::close(c);
        continue;
      }
      HttpRequest req;
      std::vector<std::string> lines = Split(in.substr(0, in.find("\r\n\r\n")), '\n');
      if (!lines.empty()) {
        std::vector<std::string> first = Split(TrimSpace(lines[0]), ' ');
        if (first.size() >= 2) {
          req.method = first[0];
          req.target = first[1];
        }
        for (size_t i = 1; i < lines.size(); ++i) {
          size_t colon = lines[i].find(':');
          if (colon == std::string::npos) continue;
          req.headers[ToLower(lines[i].substr(0, colon))] =
              std::string(TrimSpace(lines[i].substr(colon + 1)));
        }
      }
      {
        std::lock_guard lock(mu_);
        requests_.push_back(req);
      }
      std::string out = handler_(req);
      size_t off = 0;
      while (off < out.size()) {
        ssize_t n = ::send(c, out.data() + off, out.size() - off, MSG_NOSIGNAL);
        if (n <= 0) break;
        off += static_cast<size_t>(n);
      }
      ::close(c);
    }
  }

  Handler handler_;
  int fd_ = -1;
  int port_ = 0;
  std::thread thread_;
  std::mutex mu_;
  std::vector<HttpRequest> requests_;
};

std::string Auth(const HttpRequest& r) {
  auto it = r.headers.find("authorization");
  return it == r.headers.end() ? "" : it->second;
}

std::string Reply(int status, const std::map<std::string, std::string>& headers,
                  const std::string& body) {
  std::string out = "HTTP/1.1 " + std::to_string(status) + " X\r\n";
  for (const auto& [k, v] : headers) out += k + ": " + v + "\r\n";
  out += "Content-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n";
  return out + body;
}

const std::string kManifest =
    R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",)"
    R"("config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:)" +
    std::string(64, 'c') + R"(","size":2},"layers":[]})";

RegistryClient Client(const TestServer& s, AuthConfig auth = {}) {
  return RegistryClient(Endpoint{s.host(), true}, "me/busybox", std::move(auth), {});
}

TEST(RegistryClientTest, ManifestRequestAcceptsOciAndDockerTypesAndChecksTheDigestHeader) {
  oci::Digest digest = oci::Digest::Of(kManifest);
  TestServer s([&](const HttpRequest&) {
    return Reply(200,
                 {{"Content-Type", std::string(oci::kMediaTypeOciManifest)},
                  {"Docker-Content-Digest", digest.ToString()}},
                 kManifest);
  });
  RegistryClient c = Client(s);
  auto m = c.GetManifest("1");
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_EQ(m->bytes, kManifest);
  EXPECT_EQ(m->media_type, oci::kMediaTypeOciManifest);
  EXPECT_EQ(m->digest, digest);
  ASSERT_EQ(s.requests().size(), 1u);
  HttpRequest r = s.requests()[0];
  EXPECT_EQ(r.target, "/v2/me/busybox/manifests/1");
  for (std::string_view t : {oci::kMediaTypeOciManifest, oci::kMediaTypeDockerManifest,
                             oci::kMediaTypeOciIndex, oci::kMediaTypeDockerManifestList}) {
    EXPECT_NE(r.headers["accept"].find(t), std::string::npos) << t;
  }
}

TEST(RegistryClientTest, ManifestWhoseContentDisagreesWithItsDigestHeaderIsDataLoss) {
  TestServer s([&](const HttpRequest&) {
    return Reply(200,
                 {{"Content-Type", std::string(oci::kMediaTypeOciManifest)},
                  {"Docker-Content-Digest", "sha256:" + std::string(64, '0')}},
                 kManifest);
  });
  RegistryClient c = Client(s);
  auto m = c.GetManifest("1");
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().code, Code::kDataLoss);
  EXPECT_NE(m.error().message.find("sha256:" + std::string(64, '0')), std::string::npos);
}

TEST(RegistryClientTest, VagueContentTypeIsDetectedFromTheDocument) {
  std::string index = R"({"schemaVersion":2,"manifests":[]})";
  TestServer s([&](const HttpRequest& r) {
    return Reply(200, {{"Content-Type", "application/json"}},
                 r.target.ends_with("/idx") ? index : kManifest);
  });
  RegistryClient c = Client(s);
  EXPECT_EQ(c.GetManifest("1")->media_type, oci::kMediaTypeOciManifest);
  EXPECT_EQ(c.GetManifest("idx")->media_type, oci::kMediaTypeOciIndex);
}

TEST(RegistryClientTest, UnknownTagIsNotFoundWithTheRegistryMessage) {
  TestServer s([](const HttpRequest&) {
    return Reply(404, {{"Content-Type", "application/json"}},
                 R"({"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]})");
  });
  RegistryClient c = Client(s);
  auto m = c.GetManifest("nope");
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().code, Code::kNotFound);
  EXPECT_EQ(m.error().message,
            "manifest for " + s.host() + "/me/busybox:nope not found: manifest unknown");
}

TEST(RegistryClientTest, BearerChallengeFetchesATokenWithBasicCredentialsAndRetries) {
  std::string host;
  TestServer s([&](const HttpRequest& r) {
    if (r.target.starts_with("/token")) {
      if (Auth(r) != BasicAuthorization("anchor", "pw")) {
        return Reply(401, {}, "");
      }
      return Reply(200, {{"Content-Type", "application/json"}}, R"({"token":"T0K"})");
    }
    if (Auth(r) != "Bearer T0K") {
      return Reply(401,
                   {{"WWW-Authenticate",
                     "Bearer realm=\"http://" + host + "/token\",service=\"test\",scope=\"x\""}},
                   R"({"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]})");
    }
    return Reply(200, {{"Content-Type", std::string(oci::kMediaTypeOciManifest)}}, kManifest);
  });
  host = s.host();
  AuthConfig auth;
  auth.username = "anchor";
  auth.password = "pw";
  RegistryClient c = Client(s, auth);
  auto m = c.GetManifest("1");
  ASSERT_TRUE(m) << m.error().message;
  auto reqs = s.requests();
  ASSERT_EQ(reqs.size(), 3u);
  EXPECT_EQ(reqs[1].target, "/token?service=test&scope=repository%3Ame%2Fbusybox%3Apull");
  EXPECT_EQ(reqs[2].headers["authorization"], "Bearer T0K");
  // The token is kept: the next request goes straight through.
  ASSERT_TRUE(c.GetManifest("2"));
  EXPECT_EQ(s.requests().size(), 4u);
}

TEST(RegistryClientTest, TokenEndpointRefusalIsUnauthenticated) {
  std::string host;
  TestServer s([&](const HttpRequest& r) {
    if (r.target.starts_with("/token")) return Reply(401, {}, "");
    return Reply(401, {{"WWW-Authenticate", "Bearer realm=\"http://" + host + "/token\""}}, "");
  });
  host = s.host();
  RegistryClient c = Client(s);
  auto m = c.GetManifest("1");
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().code, Code::kUnauthenticated);
  EXPECT_NE(m.error().message.find("pull access denied for " + s.host() + "/me/busybox"),
            std::string::npos)
      << m.error().message;
}

TEST(RegistryClientTest, LoginPingGetsATokenWithoutScopeAndReportsRefusalAsDockerDoes) {
  std::string host;
  TestServer s([&](const HttpRequest& r) {
    if (r.target.starts_with("/token")) {
      if (Auth(r) != BasicAuthorization("u", "right")) return Reply(401, {}, "");
      return Reply(200, {}, R"({"access_token":"A"})");
    }
    if (Auth(r) != "Bearer A") {
      return Reply(
          401,
          {{"WWW-Authenticate", "Bearer realm=\"http://" + host + "/token\",service=\"test\""}},
          "");
    }
    return Reply(200, {}, "{}");
  });
  host = s.host();
  AuthConfig good;
  good.username = "u";
  good.password = "right";
  RegistryClient ok(Endpoint{s.host(), true}, "", good, {});
  ASSERT_TRUE(ok.Ping());
  EXPECT_EQ(s.requests()[1].target, "/token?service=test");
  AuthConfig bad = good;
  bad.password = "wrong";
  RegistryClient refused(Endpoint{s.host(), true}, "", bad, {});
  Status st = refused.Ping();
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, Code::kUnauthenticated);
  EXPECT_EQ(st.error().message,
            "login attempt to http://" + s.host() + "/v2/ failed with status: 401 Unauthorized");
}

TEST(RegistryClientTest, BasicChallengeIsAnsweredWithTheCredentials) {
  TestServer s([&](const HttpRequest& r) {
    if (Auth(r) != BasicAuthorization("u", "p")) {
      return Reply(401, {{"WWW-Authenticate", "Basic realm=\"Registry Realm\""}}, "");
    }
    return Reply(200, {{"Content-Type", std::string(oci::kMediaTypeOciManifest)}}, kManifest);
  });
  AuthConfig auth;
  auth.username = "u";
  auth.password = "p";
  RegistryClient with = Client(s, auth);
  EXPECT_TRUE(with.GetManifest("1"));
  RegistryClient without = Client(s);
  auto m = without.GetManifest("1");
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().code, Code::kUnauthenticated);
}

class StringSink : public BlobSink {
 public:
  Status Begin(int64_t offset) override {
    begins.push_back(offset);
    if (offset == 0) data.clear();
    return Ok();
  }
  Status Write(std::string_view d) override {
    data.append(d);
    return Ok();
  }
  std::vector<int64_t> begins;
  std::string data;
};

TEST(RegistryClientTest, BlobResumesWithRangeAndRestartsWhenTheRangeIsIgnored) {
  const std::string blob = "0123456789abcdef";
  bool honour_range = true;
  TestServer s([&](const HttpRequest& r) {
    auto range = r.headers.find("range");
    if (range != r.headers.end() && honour_range) {
      int64_t from = std::stoll(range->second.substr(6));
      return Reply(206, {{"Content-Range", "bytes " + std::to_string(from) + "-15/16"}},
                   blob.substr(static_cast<size_t>(from)));
    }
    return Reply(200, {}, blob);
  });
  RegistryClient c = Client(s);
  oci::Digest d = oci::Digest::Of(blob);
  StringSink sink;
  sink.data = blob.substr(0, 10);
  ASSERT_TRUE(c.FetchBlob(d, 10, sink));
  EXPECT_EQ(sink.begins, std::vector<int64_t>{10});
  EXPECT_EQ(sink.data, blob);
  EXPECT_EQ(s.requests().back().headers["range"], "bytes=10-");

  honour_range = false;
  StringSink again;
  again.data = blob.substr(0, 10);
  ASSERT_TRUE(c.FetchBlob(d, 10, again));
  EXPECT_EQ(again.begins, std::vector<int64_t>{0});
  EXPECT_EQ(again.data, blob);
}

TEST(RegistryClientTest, TagListFollowsLinkPages) {
  TestServer s([](const HttpRequest& r) {
    if (r.target == "/v2/me/busybox/tags/list") {
      return Reply(200, {{"Link", "</v2/me/busybox/tags/list?last=b&n=2>; rel=\"next\""}},
                   R"({"name":"me/busybox","tags":["a","b"]})");
    }
    if (r.target == "/v2/me/busybox/tags/list?last=b&n=2") {
      return Reply(200, {}, R"({"name":"me/busybox","tags":["c"]})");
    }
    return Reply(
        404, {},
        R"({"errors":[{"code":"NAME_UNKNOWN","message":"repository name not known to registry"}]})");
  });
  RegistryClient c = Client(s);
  auto tags = c.ListTags();
  ASSERT_TRUE(tags) << tags.error().message;
  EXPECT_EQ(*tags, (std::vector<std::string>{"a", "b", "c"}));
  RegistryClient other(Endpoint{s.host(), true}, "me/none", {}, {});
  auto none = other.ListTags();
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code, Code::kNotFound);
  EXPECT_NE(none.error().message.find("repository name not known to registry"), std::string::npos);
}

TEST(RegistryClientTest, ConfigBlobIsVerified) {
  TestServer s([](const HttpRequest&) { return Reply(200, {}, "{\"x\":1}"); });
  RegistryClient c = Client(s);
  EXPECT_TRUE(c.GetBlob(oci::Digest::Of("{\"x\":1}"), 1024));
  auto bad = c.GetBlob(oci::Digest::Of("{\"x\":2}"), 1024);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, Code::kDataLoss);
}

TEST(RegistryClientTest, UnreachableRegistryIsUnavailable) {
  int port = 0;
  {
    TestServer s([](const HttpRequest&) { return Reply(200, {}, ""); });
    port = std::stoi(s.host().substr(10));
  }
  RegistryClient c(Endpoint{"127.0.0.1:" + std::to_string(port), true}, "x", {}, {});
  auto m = c.GetManifest("1");
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().code, Code::kUnavailable);
}

}  // namespace
}  // namespace berth::distribution
