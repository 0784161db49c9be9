// The fixture of registry_compat_test: each test gets a TempDir and its own berth-registry on a
// data root in it (started by the test, so it can pass flags, kill and restart it), HTTP clients
// for it, and the checks the tests share. Nothing is shared between tests; TearDown checks that
// no process of the test is left.
#pragma once

#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "http_client.h"
#include "oci_layout.h"
#include "peers.h"
#include "processes.h"
#include "test_data.h"

namespace berth::registry_compat {

using registry_conformance::HttpClient;
using registry_conformance::HttpRequest;
using registry_conformance::HttpResponse;

// Why a test cannot run: the first of `tools` (names looked up in PATH) that is missing,
// or "".
std::string MissingTools(std::initializer_list<const char*> tools);

// `s` without trailing newlines and spaces (a command's one-line output).
std::string Trimmed(std::string s);

class CompatTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  // Creates (first call) and starts berth-registry on dir_/registry; `extra` follows `serve`.
  ::testing::AssertionResult StartRegistry(std::vector<std::string> extra = {});
  std::unique_ptr<HttpClient> Client() const;
  // GET of url on berth-registry (path or absolute URL).
  HttpResponse Get(const std::string& path) const;
  // The blob is in `repo` with exactly the bytes whose digest it is.
  ::testing::AssertionResult HasBlob(const std::string& repo, const std::string& digest) const;
  // A fresh busybox image layout in dir_/<name>.
  ::testing::AssertionResult MakeImage(const std::string& name, OciImage* image) const;

  static std::string Describe(const HttpResponse& r);

  TempDir dir_;
  std::unique_ptr<BerthRegistry> registry_;
};

}  // namespace berth::registry_compat
