#include "registry_fixture.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "loopback.h"

namespace berth::registry_conformance {
namespace {

struct State {
  std::optional<std::string> base_url;
  std::string skip_reason;
  Target target = Target::kBerthRegistry;
};

State& Shared() {
  static State state;
  return state;
}

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? "" : v;
}

// Forks and execs argv with stdout to `stdout_fd` (or the log), stderr to the log. The child
// dies with the parent thread (PR_SET_PDEATHSIG), so no registry outlives a crashed test.
pid_t SpawnChild(const std::vector<std::string>& argv, const std::string& log, int stdout_fd) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  int log_fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);
    int devnull = open("/dev/null", O_RDONLY);
    dup2(devnull, 0);
    dup2(stdout_fd >= 0 ? stdout_fd : log_fd, 1);
    dup2(log_fd, 2);
    execv(args[0], args.data());
    _exit(127);
  }
  if (log_fd >= 0) close(log_fd);
  return pid;
}

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// A per-process suffix, so that repositories differ between runs against one registry.
const std::string& RunId() {
  static const std::string id = RandomName(6);
  return id;
}

}  // namespace

// ---- RegistryEnvironment ----

const std::string* RegistryEnvironment::BaseUrl() {
  return Shared().base_url ? &*Shared().base_url : nullptr;
}
const std::string& RegistryEnvironment::SkipReason() { return Shared().skip_reason; }
Target RegistryEnvironment::target() { return Shared().target; }

void RegistryEnvironment::SetUp() {
  std::string target = Env("BERTH_CONFORMANCE_TARGET");
  char tmpl[] = "/tmp/berth-registry-conformance-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) {
    Shared().skip_reason = "mkdtemp failed";
    ADD_FAILURE() << Shared().skip_reason;
    return;
  }
  dir_ = tmpl;
  log_ = dir_ + "/registry.log";
  ::testing::AssertionResult started = ::testing::AssertionSuccess();
  if (target.empty() || target == "berth-registry") {
    Shared().target = Target::kBerthRegistry;
    std::string binary = Env("BERTH_REGISTRY_BINARY");  // e.g. a release build elsewhere
    if (binary.empty()) binary = BERTH_REGISTRY_PATH;
    if (binary.empty()) {
      Shared().skip_reason =
          "berth-registry is not built in this tree (the cmd module, or its berth-registry "
          "target, is missing); set BERTH_CONFORMANCE_TARGET=docker-registry to run the suite "
          "against Debian's docker-registry";
      return;
    }
    started = StartBerthRegistry(binary);
  } else if (target == "docker-registry") {
    Shared().target = Target::kDockerRegistry;
    started = StartDockerRegistry();
  } else {
    Shared().skip_reason =
        "BERTH_CONFORMANCE_TARGET=" + target + " is neither berth-registry nor docker-registry";
    ADD_FAILURE() << Shared().skip_reason;
    return;
  }
  if (!started) {
    Shared().skip_reason = std::string("the registry did not start: ") + started.message();
    ADD_FAILURE() << Shared().skip_reason << "\nlog tail:\n" << LogTail();
    Kill();
  }
}

::testing::AssertionResult RegistryEnvironment::StartBerthRegistry(const std::string& binary) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return ::testing::AssertionFailure() << "pipe2 failed";
  pid_ = SpawnChild({binary, "serve", "--listen", "127.0.0.1:0", "--data-root", dir_ + "/data"},
                    log_, fds[1]);
  close(fds[1]);
  stdout_fd_ = fds[0];
  // Contract: one line "listening on 127.0.0.1:PORT" once it accepts connections.
  Listening listening = AwaitListening(fds[0], std::chrono::seconds(30));
  if (listening.host.empty()) {
    return ::testing::AssertionFailure()
           << "no 'listening on 127.0.0.1:PORT' line on stdout within 30 s ("
           << listening.failure << "); stdout: " << listening.output;
  }
  Shared().base_url = "http://" + listening.host;
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult RegistryEnvironment::StartDockerRegistry() {
  std::string binary;
  for (const char* candidate : {"/usr/bin/docker-registry", "/usr/local/bin/docker-registry"}) {
    if (access(candidate, X_OK) == 0) binary = candidate;
  }
  if (binary.empty()) {
    return ::testing::AssertionFailure()
           << "docker-registry is not installed (apt-get install docker-registry)";
  }
  int port = FreePort();
  if (port < 0) return ::testing::AssertionFailure() << "no free port";
  std::string config = dir_ + "/config.yml";
  WriteDockerRegistryConfig(config, dir_, port);
  pid_ = SpawnChild({binary, "serve", config}, log_, -1);
  ::testing::AssertionResult ready = WaitForPort(port);
  if (ready) Shared().base_url = "http://127.0.0.1:" + std::to_string(port);
  return ready;
}

// docker-registry prints nothing at log level warn, so readiness is a connect() that succeeds.
::testing::AssertionResult RegistryEnvironment::WaitForPort(int port) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    if (CanConnect(port)) return ::testing::AssertionSuccess();
    if (auto status = WaitPid(pid_, std::chrono::milliseconds(20))) {
      pid_ = -1;
      return ::testing::AssertionFailure()
             << "the registry exited (wait status " << *status << ") before listening";
    }
  }
  return ::testing::AssertionFailure() << "nothing listens on port " << port << " after 30 s";
}

void RegistryEnvironment::TearDown() {
  if (pid_ > 0) {
    kill(pid_, SIGTERM);
    std::optional<int> status = WaitPid(pid_, std::chrono::seconds(10));
    if (!status) {
      Kill();
      ADD_FAILURE() << "the registry did not exit within 10 s of SIGTERM";
    } else if (Shared().target == Target::kBerthRegistry) {
      EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0)
          << "SIGTERM must end berth-registry with exit status 0; it ended with "
          << (WIFEXITED(*status) ? "exit status " + std::to_string(WEXITSTATUS(*status))
                                 : "signal " + std::to_string(WTERMSIG(*status)))
          << "\nlog tail:\n"
          << LogTail();
    }
    pid_ = -1;
  }
  if (stdout_fd_ >= 0) close(stdout_fd_);  // kept open so a late write gets no SIGPIPE
  stdout_fd_ = -1;
  if (!dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  Shared().base_url.reset();
}

void RegistryEnvironment::Kill() {
  if (pid_ <= 0) return;
  kill(pid_, SIGKILL);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
}

std::string RegistryEnvironment::LogTail() const {
  std::ifstream in(log_);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string all = ss.str();
  return all.size() > 4000 ? all.substr(all.size() - 4000) : all;
}

// ---- RegistryTest ----

void RegistryTest::SetUp() {
  const std::string* base = RegistryEnvironment::BaseUrl();
  if (base == nullptr) {
    GTEST_SKIP() << RegistryEnvironment::SkipReason();
  }
  client_ = std::make_unique<HttpClient>(*base);
}

std::string RegistryTest::Repo(std::string_view sub) const {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string name =
      "conformance/" + Lower(info->test_suite_name()) + "/" + Lower(info->name()) + "-" + RunId();
  if (!sub.empty()) name += "/" + std::string(sub);
  return name;
}

std::string RegistryTest::BlobPath(const std::string& repo, const std::string& digest) {
  return "/v2/" + repo + "/blobs/" + digest;
}
std::string RegistryTest::ManifestPath(const std::string& repo, const std::string& reference) {
  return "/v2/" + repo + "/manifests/" + reference;
}
std::string RegistryTest::UploadsPath(const std::string& repo) {
  return "/v2/" + repo + "/blobs/uploads/";
}

HttpResponse RegistryTest::Do(const std::string& method, const std::string& url,
                              std::vector<std::pair<std::string, std::string>> headers,
                              std::string body) {
  HttpRequest request{method, url, std::move(headers), std::move(body)};
  return client_->Do(request);
}

HttpResponse RegistryTest::StartUpload(const std::string& repo) {
  return Do("POST", UploadsPath(repo));
}

::testing::AssertionResult RegistryTest::PushBlob(const std::string& repo, const Content& blob) {
  HttpResponse post = StartUpload(repo);
  if (post.status != 202 || post.Header("Location").empty()) {
    return ::testing::AssertionFailure()
           << "POST " << UploadsPath(repo) << ": want 202 with Location, got " << Describe(post);
  }
  HttpResponse put = Do("PUT", WithQuery(post.Header("Location"), "digest", blob.digest),
                        {{"Content-Type", "application/octet-stream"}}, blob.bytes);
  if (put.status != 201) {
    return ::testing::AssertionFailure()
           << "PUT of blob " << blob.digest << ": want 201, got " << Describe(put);
  }
  return ::testing::AssertionSuccess();
}

HttpResponse RegistryTest::PutManifest(const std::string& repo, const std::string& reference,
                                       const Content& manifest) {
  return Do("PUT", ManifestPath(repo, reference), {{"Content-Type", manifest.media_type}},
            manifest.bytes);
}

::testing::AssertionResult RegistryTest::PushManifest(const std::string& repo,
                                                      const std::string& reference,
                                                      const Content& manifest) {
  HttpResponse put = PutManifest(repo, reference, manifest);
  if (put.status != 201) {
    return ::testing::AssertionFailure()
           << "PUT " << ManifestPath(repo, reference) << ": want 201, got " << Describe(put);
  }
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult RegistryTest::PushImage(const std::string& repo,
                                                   const std::string& reference,
                                                   const ManifestSpec& spec, Content* manifest) {
  if (auto r = PushBlob(repo, spec.config); !r) return r;
  for (const auto& layer : spec.layers) {
    if (auto r = PushBlob(repo, layer); !r) return r;
  }
  Content m = MakeManifest(spec);
  if (auto r = PushManifest(repo, reference, m); !r) return r;
  if (manifest != nullptr) *manifest = std::move(m);
  return ::testing::AssertionSuccess();
}

std::string RegistryTest::Describe(const HttpResponse& r) {
  if (r.status == 0) return "no response: " + r.error;
  std::string body = r.body.size() > 300 ? r.body.substr(0, 300) + "..." : r.body;
  return "status " + std::to_string(r.status) + ", body '" + body + "'";
}

::testing::AssertionResult RegistryTest::IsStatus(const HttpResponse& r, long status) {
  return IsStatusIn(r, {status});
}

::testing::AssertionResult RegistryTest::IsStatusIn(const HttpResponse& r,
                                                    std::vector<long> statuses) {
  if (std::find(statuses.begin(), statuses.end(), r.status) != statuses.end()) {
    return ::testing::AssertionSuccess();
  }
  auto failure = ::testing::AssertionFailure() << "want status";
  for (long s : statuses) failure << " " << s;
  return failure << ", got " << Describe(r);
}

::testing::AssertionResult RegistryTest::HasError(const HttpResponse& r, std::string_view code) {
  // The spec's table, plus TAG_INVALID and MANIFEST_UNVERIFIED, which the upstream suite still
  // accepts (earlier spec versions had them).
  static const std::set<std::string> kCodes = {
      "BLOB_UNKNOWN",          "BLOB_UPLOAD_INVALID", "BLOB_UPLOAD_UNKNOWN", "DIGEST_INVALID",
      "MANIFEST_BLOB_UNKNOWN", "MANIFEST_INVALID",    "MANIFEST_UNKNOWN",    "NAME_INVALID",
      "NAME_UNKNOWN",          "SIZE_INVALID",        "UNAUTHORIZED",        "DENIED",
      "UNSUPPORTED",           "TOOMANYREQUESTS",     "TAG_INVALID",         "MANIFEST_UNVERIFIED"};
  nlohmann::json body = nlohmann::json::parse(r.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded() || !body.is_object() || !body.contains("errors") ||
      !body["errors"].is_array() || body["errors"].empty()) {
    return ::testing::AssertionFailure()
           << "want an error body {\"errors\":[{\"code\",\"message\",\"detail\"}]}, got "
           << Describe(r);
  }
  bool found = code.empty();
  for (const auto& e : body["errors"]) {
    if (!e.is_object() || !e.contains("code") || !e["code"].is_string() ||
        kCodes.count(e["code"].get<std::string>()) == 0) {
      return ::testing::AssertionFailure()
             << "error entry without a code from the spec's table: " << e.dump();
    }
    if (e.contains("message") && !e["message"].is_string()) {
      return ::testing::AssertionFailure() << "error message is not a string: " << e.dump();
    }
    if (e["code"].get<std::string>() == code) found = true;
  }
  if (!found) {
    return ::testing::AssertionFailure() << "want error code " << code << ", got " << Describe(r);
  }
  return ::testing::AssertionSuccess();
}

bool RegistryTest::DeleteManifestBeforeBlobs() {
  std::string v = Lower(Env("OCI_DELETE_MANIFEST_BEFORE_BLOBS"));
  return !(v == "0" || v == "false" || v == "f");
}

std::optional<bool> RegistryTest::AutomaticCrossmount() {
  const char* v = std::getenv("OCI_AUTOMATIC_CROSSMOUNT");
  if (v == nullptr) return std::nullopt;
  std::string s = Lower(v);
  return s == "1" || s == "true" || s == "t";
}

}  // namespace berth::registry_conformance
