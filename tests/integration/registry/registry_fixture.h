// The registry under test and the fixture every conformance test derives from.
//
// RegistryEnvironment starts one registry for the whole binary on a fresh temp data root and
// stops it at the end (SIGTERM, then SIGKILL): berth-registry by default, Debian's
// docker-registry with BERTH_CONFORMANCE_TARGET=docker-registry (to check the tests themselves).
// BERTH_REGISTRY_BINARY overrides the berth-registry built in this tree.
// The child gets PR_SET_PDEATHSIG, so it dies with the test binary even if that crashes.
// RegistryTest gives each test an HttpClient and repository names of its own, so tests share
// no state and run alone or in any order (ctest runs each in its own process, with its own
// registry). Knobs read as in the upstream suite: OCI_DELETE_MANIFEST_BEFORE_BLOBS (default
// true), OCI_AUTOMATIC_CROSSMOUNT (unset: either answer, checked for consistency).
#pragma once

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "http_client.h"
#include "test_data.h"

namespace berth::registry_conformance {

enum class Target { kBerthRegistry, kDockerRegistry };

class RegistryEnvironment : public ::testing::Environment {
 public:
  void SetUp() override;
  void TearDown() override;

  // nullptr until SetUp succeeded; then the registry's "http://127.0.0.1:PORT".
  static const std::string* BaseUrl();
  // Why there is no registry ("" if there is one).
  static const std::string& SkipReason();
  static Target target();

 private:
  ::testing::AssertionResult StartBerthRegistry(const std::string& binary);
  ::testing::AssertionResult StartDockerRegistry();
  ::testing::AssertionResult WaitForPort(int port);
  std::string LogTail() const;
  void Kill();

  std::string dir_;
  std::string log_;
  pid_t pid_ = -1;
  int stdout_fd_ = -1;  // read end of berth-registry's stdout
};

class RegistryTest : public ::testing::Test {
 protected:
  void SetUp() override;

  // A repository name owned by this test: "conformance/<suite>/<test>-<random>[/<sub>]".
  std::string Repo(std::string_view sub = "") const;

  static std::string BlobPath(const std::string& repo, const std::string& digest);
  static std::string ManifestPath(const std::string& repo, const std::string& reference);
  static std::string UploadsPath(const std::string& repo);

  HttpResponse Do(const std::string& method, const std::string& url,
                  std::vector<std::pair<std::string, std::string>> headers = {},
                  std::string body = "");
  // POST /blobs/uploads/ (Content-Length 0): an upload session.
  HttpResponse StartUpload(const std::string& repo);
  // POST then PUT ?digest= with the whole body; 201 expected.
  ::testing::AssertionResult PushBlob(const std::string& repo, const Content& blob);
  HttpResponse PutManifest(const std::string& repo, const std::string& reference,
                           const Content& manifest);
  // PUT of the manifest; 201 expected.
  ::testing::AssertionResult PushManifest(const std::string& repo, const std::string& reference,
                                          const Content& manifest);
  // Pushes config and layers of `spec`, then the manifest under `reference`.
  ::testing::AssertionResult PushImage(const std::string& repo, const std::string& reference,
                                       const ManifestSpec& spec, Content* manifest = nullptr);

  // "status N, body ..." for failure messages.
  static std::string Describe(const HttpResponse& r);
  // The response is `status`, or says otherwise.
  static ::testing::AssertionResult IsStatus(const HttpResponse& r, long status);
  static ::testing::AssertionResult IsStatusIn(const HttpResponse& r, std::vector<long> statuses);
  // The body is the spec's error JSON {"errors":[{"code","message","detail"}]} with codes from
  // the spec's table, and one of them is `code` (any code if empty).
  static ::testing::AssertionResult HasError(const HttpResponse& r, std::string_view code = "");

  static bool DeleteManifestBeforeBlobs();           // OCI_DELETE_MANIFEST_BEFORE_BLOBS
  static std::optional<bool> AutomaticCrossmount();  // OCI_AUTOMATIC_CROSSMOUNT

  std::unique_ptr<HttpClient> client_;
};

}  // namespace berth::registry_conformance
