// The Registry over real stores in a temp dir, served by the real HttpServer, driven with
// libcurl: authentication, TLS (server and client certificates), garbage collection.
// The API's behaviour itself is covered by tests/integration/registry (the conformance suite).
#include "registry/registry.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <unistd.h>
#include <curl/curl.h>

#include <chrono>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>

#include <gtest/gtest.h>

#include "auth/htpasswd.h"
#include "auth/testing/bcrypt.h"
#include "base/cleanup.h"
#include "base/file.h"
#include "base/strings.h"
#include "base/unique_fd.h"
#include "meta/registry_meta.h"
#include "oci/digest.h"
#include "sql/database.h"
#include "storage/blob_store.h"

namespace berth::registry {
namespace {

struct Reply {
  long status = 0;
  std::string body;
  std::string headers;
  CURLcode code = CURLE_OK;
};

size_t Collect(char* p, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(p, size * n);
  return size * n;
}

struct CurlOptions {
  std::string user;  // "user:password"
  std::string ca;
  std::string cert, key;
};

CurlOptions User(std::string user) {
  CurlOptions o;
  o.user = std::move(user);
  return o;
}

CurlOptions Tls(std::string ca, std::string cert = "", std::string key = "") {
  CurlOptions o;
  o.ca = std::move(ca);
  o.cert = std::move(cert);
  o.key = std::move(key);
  return o;
}

Reply Request(const std::string& method, const std::string& url, const std::string& body = "",
              const CurlOptions& o = {}) {
  Reply r;
  CURL* c = curl_easy_init();
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method.c_str());
  if (method == "HEAD") curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
  if (method == "PUT" || method == "POST" || method == "PATCH") {
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  }
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, Collect);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &r.body);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, Collect);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &r.headers);
  if (!o.user.empty()) curl_easy_setopt(c, CURLOPT_USERPWD, o.user.c_str());
  if (!o.ca.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, o.ca.c_str());
  if (!o.cert.empty()) {
    curl_easy_setopt(c, CURLOPT_SSLCERT, o.cert.c_str());
    curl_easy_setopt(c, CURLOPT_SSLKEY, o.key.c_str());
  }
  curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
  r.code = curl_easy_perform(c);
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
  curl_easy_cleanup(c);
  return r;
}

using auth::testing::Bcrypt;

class RegistryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/registry_test_" + RandomHex(4);
    ASSERT_TRUE(MakeDirs(dir_ + "/data").ok());
    auto db = sql::Database::Open(dir_ + "/data/registry.db");
    ASSERT_TRUE(db.ok());
    db_ = std::move(*db);
    auto blobs = storage::OpenFilesystemBlobStore(dir_ + "/data");
    ASSERT_TRUE(blobs.ok());
    blobs_ = std::move(*blobs);
    auto meta = meta::OpenSqliteRegistryMeta(*db_);
    ASSERT_TRUE(meta.ok());
    meta_ = std::move(*meta);
  }
  void TearDown() override {
    StopServing();
    (void)RemoveAll(dir_);
  }
  // Stops the server, then waits for the registry's blocking work (whose completions go to
  // the server's executors) before either is destroyed, as berth-registry does at SIGTERM.
  void StopServing() {
    if (server_) server_->Stop();
    if (registry_) registry_->Shutdown();
    server_.reset();
    registry_.reset();
  }

  void Serve(RegistryOptions options = {}, HttpServerOptions http = {}) {
    options.clock = [this] { return now_; };
    registry_ = std::make_unique<Registry>(*db_, *blobs_, *meta_, options);
    http.threads = 2;
    server_ = std::make_unique<HttpServer>(
        [this](HttpExchange& ex) { return registry_->Handle(ex); }, http);
    auto bound = server_->Listen("127.0.0.1:0");
    ASSERT_TRUE(bound.ok());
    Status started = server_->Start();
    ASSERT_TRUE(started.ok()) << started.error().message;
    base_ = (http.tls_cert_file.empty() ? "http://" : "https://") + *bound;
  }

  std::string PushBlob(const std::string& repo, const std::string& data, const CurlOptions& o = {}) {
    std::string digest = oci::Digest::Of(data).ToString();
    auto r = Request("POST", base_ + "/v2/" + repo + "/blobs/uploads/?digest=" + digest, data, o);
    EXPECT_EQ(r.status, 201) << r.body;
    return digest;
  }

  std::string dir_;
  std::unique_ptr<sql::Database> db_;
  std::unique_ptr<storage::BlobStore> blobs_;
  std::unique_ptr<meta::RegistryMeta> meta_;
  std::unique_ptr<Registry> registry_;
  std::unique_ptr<HttpServer> server_;
  std::string base_;
  std::chrono::system_clock::time_point now_ = std::chrono::system_clock::now();
};

TEST_F(RegistryTest, HtpasswdUsersReadOrWriteAndStrangersGet401) {
  ASSERT_TRUE(WriteFileAtomic(dir_ + "/rw", "writer:" + Bcrypt("w-pass") + "\n").ok());
  ASSERT_TRUE(WriteFileAtomic(dir_ + "/ro", "reader:" + Bcrypt("r-pass") + "\n").ok());
  auto authenticator = auth::HtpasswdAuthenticator::Load(dir_ + "/rw", dir_ + "/ro");
  ASSERT_TRUE(authenticator.ok());
  RegistryOptions options;
  options.authenticator = authenticator->get();
  Serve(options);

  auto anonymous = Request("GET", base_ + "/v2/");
  EXPECT_EQ(anonymous.status, 401);
  EXPECT_NE(anonymous.body.find("UNAUTHORIZED"), std::string::npos);
  EXPECT_EQ(Request("GET", base_ + "/v2/", "", User("writer:wrong")).status, 401);
  EXPECT_EQ(Request("GET", base_ + "/v2/", "", User("writer:w-pass")).status, 200);

  std::string digest = PushBlob("me/x", "data", User("writer:w-pass"));
  // The reader pulls but may not push or delete.
  EXPECT_EQ(Request("GET", base_ + "/v2/me/x/blobs/" + digest, "", User("reader:r-pass")).status, 200);
  auto denied = Request("POST", base_ + "/v2/me/x/blobs/uploads/", "", User("reader:r-pass"));
  EXPECT_EQ(denied.status, 403);
  EXPECT_NE(denied.body.find("DENIED"), std::string::npos);
  EXPECT_EQ(Request("DELETE", base_ + "/v2/me/x/blobs/" + digest, "", User("reader:r-pass")).status, 403);
  EXPECT_EQ(Request("GET", base_ + "/v2/me/x/blobs/" + digest, "", User("reader:wrong")).status, 401);
  // Health stays open for probes.
  EXPECT_EQ(Request("GET", base_ + "/healthz").status, 200);
}

// Makes a self-signed certificate for 127.0.0.1 with the openssl command.
void MakeCert(const std::string& dir, const std::string& name) {
  std::string cmd = "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
                    "-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 -days 1 -keyout " +
                    dir + "/" + name + ".key -out " + dir + "/" + name + ".crt 2>/dev/null";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
}

TEST_F(RegistryTest, ServesHttpsAndChecksClientCertificates) {
  MakeCert(dir_, "server");
  MakeCert(dir_, "client");
  MakeCert(dir_, "stranger");
  HttpServerOptions http;
  http.tls_cert_file = dir_ + "/server.crt";
  http.tls_key_file = dir_ + "/server.key";
  http.tls_client_ca_file = dir_ + "/client.crt";
  Serve({}, http);
  CurlOptions ok = Tls(dir_ + "/server.crt", dir_ + "/client.crt", dir_ + "/client.key");
  auto r = Request("GET", base_ + "/v2/", "", ok);
  EXPECT_EQ(r.status, 200) << curl_easy_strerror(r.code);
  // A large blob goes through TLS both ways intact (no sendfile on this path).
  std::string big(3 << 20, 'x');
  for (size_t i = 0; i < big.size(); i += 4096) big[i] = static_cast<char>(i / 4096);
  std::string digest = PushBlob("me/tls", big, ok);
  r = Request("GET", base_ + "/v2/me/tls/blobs/" + digest, "", ok);
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(r.body == big);
  // No client certificate, or one the CA did not sign: no HTTP exchange at all.
  EXPECT_NE(Request("GET", base_ + "/v2/", "", Tls(dir_ + "/server.crt")).code, CURLE_OK);
  EXPECT_NE(Request("GET", base_ + "/v2/", "",
                    Tls(dir_ + "/server.crt", dir_ + "/stranger.crt", dir_ + "/stranger.key"))
                .code,
            CURLE_OK);
  // Plain HTTP to the TLS port is no HTTP exchange either.
  std::string plain = "http://" + base_.substr(8) + "/v2/";
  EXPECT_NE(Request("GET", plain).status, 200);
}

TEST_F(RegistryTest, BadTlsFilesAreRefusedAtStart) {
  HttpServerOptions http;
  http.tls_cert_file = dir_ + "/missing.crt";
  http.tls_key_file = dir_ + "/missing.key";
  HttpServer server([](HttpExchange&) -> Awaitable<void> { co_return; }, http);
  ASSERT_TRUE(server.Listen("127.0.0.1:0").ok());
  Status st = server.Start();
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("missing.crt"), std::string::npos) << st.error().message;
}

TEST_F(RegistryTest, GarbageCollectionKeepsReferencedAndRecentBlobs) {
  RegistryOptions options;
  options.gc_grace = std::chrono::hours(1);
  options.upload_expiry = std::chrono::hours(24);
  Serve(options);
  std::string config = R"({"architecture":"amd64","os":"linux"})";
  std::string layer = "layer bytes";
  std::string cd = PushBlob("me/app", config);
  std::string ld = PushBlob("me/app", layer);
  std::string orphan = PushBlob("me/app", "nobody references me");
  std::string manifest =
      R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":")" +
      cd + R"(","size":)" + std::to_string(config.size()) +
      R"(},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":")" + ld +
      R"(","size":)" + std::to_string(layer.size()) + "}]}";
  auto put = Request("PUT", base_ + "/v2/me/app/manifests/v1", manifest);
  ASSERT_EQ(put.status, 201) << put.body;
  auto abandoned = Request("POST", base_ + "/v2/me/app/blobs/uploads/");
  ASSERT_EQ(abandoned.status, 202);

  // Within the grace period nothing goes.
  auto report = registry_->CollectGarbage();
  ASSERT_TRUE(report.ok()) << report.error().message;
  EXPECT_EQ(report->blobs_removed, 0);
  EXPECT_EQ(Request("HEAD", base_ + "/v2/me/app/blobs/" + orphan).status, 200);

  // Two hours later the orphan goes; the manifest's blobs and the manifest stay.
  now_ += std::chrono::hours(2);
  report = registry_->CollectGarbage();
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->blobs_removed, 1);
  EXPECT_EQ(Request("HEAD", base_ + "/v2/me/app/blobs/" + orphan).status, 404);
  EXPECT_EQ(Request("HEAD", base_ + "/v2/me/app/blobs/" + ld).status, 200);
  EXPECT_EQ(Request("GET", base_ + "/v2/me/app/manifests/v1").status, 200);
  EXPECT_EQ(blobs_->Stat(*oci::Digest::Parse(orphan)).error().code, Code::kNotFound);

  // Once the manifest is deleted, its blobs and its own bytes go too.
  auto head = Request("GET", base_ + "/v2/me/app/manifests/v1");
  std::string md = oci::Digest::Of(head.body).ToString();
  ASSERT_EQ(Request("DELETE", base_ + "/v2/me/app/manifests/" + md).status, 202);
  report = registry_->CollectGarbage();
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->blobs_removed, 3);
  EXPECT_EQ(blobs_->Stat(*oci::Digest::Parse(ld)).error().code, Code::kNotFound);
  EXPECT_EQ(blobs_->Stat(*oci::Digest::Parse(md)).error().code, Code::kNotFound);

  // The abandoned upload goes once it has been idle past the expiry (by its file time).
  EXPECT_EQ(report->uploads_removed, 0);
  std::string location;
  for (const std::string& line : Split(abandoned.headers, '\n')) {
    if (ToLower(line).starts_with("location:")) location = std::string(TrimSpace(line.substr(9)));
  }
  ASSERT_FALSE(location.empty());
  EXPECT_EQ(Request("GET", base_ + location).status, 204);
  now_ += std::chrono::hours(25);
  report = registry_->CollectGarbage();
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->uploads_removed, 1);
  EXPECT_EQ(Request("GET", base_ + location).status, 404);
}

TEST_F(RegistryTest, ATerabyteBodyIsRefusedUpFrontAndNothingIsKept) {
  Serve();
  std::string port = base_.substr(base_.rfind(':') + 1);
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(std::atoi(port.c_str())));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  std::string digest = oci::Digest::Of("x").ToString();
  ASSERT_TRUE(WriteAll(fd.get(), "POST /v2/me/huge/blobs/uploads/?digest=" + digest +
                                     " HTTP/1.1\r\nHost: h\r\nContent-Length: 1099511627776\r\n\r\nabc")
                  .ok());
  std::string reply;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd.get(), buf, sizeof(buf))) > 0) reply.append(buf, static_cast<size_t>(n));
  EXPECT_TRUE(reply.starts_with("HTTP/1.1 413 ")) << reply;
  EXPECT_NE(reply.find("SIZE_INVALID"), std::string::npos) << reply;
  // Nothing stored: no blob, no upload session; the server still answers.
  EXPECT_EQ(Request("HEAD", base_ + "/v2/me/huge/blobs/" + digest).status, 404);
  auto uploads = meta_->UploadsStartedBefore(std::chrono::system_clock::now() + std::chrono::hours(1));
  ASSERT_TRUE(uploads.ok());
  EXPECT_TRUE(uploads->empty());
  int count = 0;
  ASSERT_TRUE(blobs_->WalkUploads([&](const std::string&, auto) {
                ++count;
                return Ok();
              }).ok());
  EXPECT_EQ(count, 0);
  EXPECT_EQ(Request("GET", base_ + "/v2/").status, 200);
}

TEST_F(RegistryTest, AChunkedUploadThatFillsTheDiskStopsWith413) {
  if (::geteuid() != 0) GTEST_SKIP() << "mounting a small tmpfs needs root";
  std::string small = dir_ + "/small";
  ASSERT_TRUE(MakeDirs(small).ok());
  ASSERT_EQ(::mount("tmpfs", small.c_str(), "tmpfs", 0, "size=12m"), 0) << std::strerror(errno);
  // Whatever happens below, nothing keeps the tmpfs busy and it goes.
  Cleanup unmount([&] {
    StopServing();
    meta_.reset();
    blobs_.reset();
    db_.reset();
    EXPECT_EQ(::umount2(small.c_str(), MNT_DETACH), 0);
  });
  {
    auto db = sql::Database::Open(small + "/registry.db");
    ASSERT_TRUE(db.ok());
    auto blobs = storage::OpenFilesystemBlobStore(small);
    ASSERT_TRUE(blobs.ok());
    auto meta = meta::OpenSqliteRegistryMeta(**db);
    ASSERT_TRUE(meta.ok());
    db_ = std::move(*db);
    blobs_ = std::move(*blobs);
    meta_ = std::move(*meta);
    Serve();
    std::string data(24 << 20, 'x');
    for (size_t i = 0; i < data.size(); i += 4096) data[i] = static_cast<char>(i >> 12);
    auto started = Request("POST", base_ + "/v2/me/full/blobs/uploads/");
    ASSERT_EQ(started.status, 202);
    std::string location;
    for (const std::string& line : Split(started.headers, '\n')) {
      if (ToLower(line).starts_with("location:")) location = std::string(TrimSpace(line.substr(9)));
    }
    // curl sends a body of unknown length chunked.
    CURL* c = curl_easy_init();
    std::string url = base_ + location + "?digest=" + oci::Digest::Of(data).ToString();
    curl_easy_setopt(c, CURLOPT_URL, url.c_str());
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "PUT");
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, data.data());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(data.size()));
    struct curl_slist* headers = curl_slist_append(nullptr, "Transfer-Encoding: chunked");
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    std::string body;
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, Collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
    (void)curl_easy_perform(c);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(headers);
    curl_easy_cleanup(c);
    EXPECT_EQ(status, 413) << body;
    EXPECT_NE(body.find("SIZE_INVALID"), std::string::npos) << body;
    // The server goes on; the blob is not there.
    EXPECT_EQ(Request("GET", base_ + "/v2/").status, 200);
    EXPECT_EQ(Request("HEAD", base_ + "/v2/me/full/blobs/" + oci::Digest::Of(data).ToString()).status, 404);
  }
}

}  // namespace
}  // namespace berth::registry
