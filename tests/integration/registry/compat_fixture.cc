#include "compat_fixture.h"

#include <unistd.h>

#include <cstdlib>
#include <sstream>

namespace berth::registry_compat {

std::string MissingTools(std::initializer_list<const char*> tools) {
  const char* path_env = std::getenv("PATH");
  std::string path = path_env == nullptr ? "/usr/sbin:/usr/bin:/sbin:/bin" : path_env;
  for (const char* tool : tools) {
    bool found = false;
    std::stringstream dirs(path);
    std::string d;
    while (!found && std::getline(dirs, d, ':')) {
      found = !d.empty() && !FindExecutable({(d + "/" + tool).c_str()}).empty();
    }
    if (!found) return std::string(tool) + " is not installed (scripts/install-deps.sh test)";
  }
  return "";
}

std::string Trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

void CompatTest::SetUp() {
  if (BerthRegistryBinary().empty()) {
    GTEST_SKIP() << "berth-registry is not built in this tree; set BERTH_REGISTRY_BINARY";
  }
  ASSERT_FALSE(dir_.path().empty()) << "mkdtemp failed";
}

void CompatTest::TearDown() {
  if (registry_) registry_->Kill();
  registry_.reset();
  std::vector<pid_t> left = ProcessesMentioning(dir_.path());
  EXPECT_TRUE(left.empty()) << left.size() << " processes of the test still run (first pid "
                            << (left.empty() ? 0 : left[0]) << "); the TempDir kills them";
}

::testing::AssertionResult CompatTest::StartRegistry(std::vector<std::string> extra) {
  if (!registry_) {
    registry_ = std::make_unique<BerthRegistry>(dir_.Sub("registry"), dir_.Sub("registry.log"),
                                                std::move(extra));
  }
  return registry_->Start();
}

std::unique_ptr<HttpClient> CompatTest::Client() const {
  return std::make_unique<HttpClient>(registry_->url());
}

HttpResponse CompatTest::Get(const std::string& path) const {
  return Client()->Do(HttpRequest{"GET", path, {}, ""});
}

::testing::AssertionResult CompatTest::HasBlob(const std::string& repo,
                                               const std::string& digest) const {
  HttpResponse r = Get("/v2/" + repo + "/blobs/" + digest);
  if (r.status != 200) {
    return ::testing::AssertionFailure()
           << "GET blob " << digest << " of " << repo << ": " << Describe(r);
  }
  if (registry_conformance::Sha256(r.body) != digest) {
    return ::testing::AssertionFailure()
           << "blob " << digest << " of " << repo << " comes back with other bytes ("
           << registry_conformance::Sha256(r.body) << ", " << r.body.size() << " bytes)";
  }
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult CompatTest::MakeImage(const std::string& name, OciImage* image) const {
  return MakeBusyboxImage(dir_.Sub(name), dir_.Sub(name + "-scratch"), image);
}

std::string CompatTest::Describe(const HttpResponse& r) {
  if (r.status == 0) return "no response: " + r.error;
  std::string body = r.body.size() > 300 ? r.body.substr(0, 300) + "..." : r.body;
  return "status " + std::to_string(r.status) + ", body '" + body + "'";
}

}  // namespace berth::registry_compat
