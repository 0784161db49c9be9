// Table-driven tests with the test data of distribution/reference's normalize_test.go
// (familiar names, Docker Hub normalisation), plus the Engine API helpers.
#include <gtest/gtest.h>

#include "oci/reference.h"

namespace berth::oci {
namespace {

TEST(NormalizeTest, ValidateReferenceName) {
  for (std::string_view name :
       {"docker/docker", "library/debian", "debian", "docker.io/docker/docker",
        "docker.io/library/debian", "docker.io/debian", "index.docker.io/docker/docker",
        "index.docker.io/library/debian", "index.docker.io/debian", "127.0.0.1:5000/docker/docker",
        "127.0.0.1:5000/library/debian", "127.0.0.1:5000/debian", "192.168.0.1", "192.168.0.1:80",
        "192.168.0.1:8/debian", "192.168.0.2:25000/debian",
        "thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev", "[fc00::1]:5000/docker",
        "[fc00::1]:5000/docker/docker", "[fc00:1:2:3:4:5:6:7]:5000/library/debian",
        // Valid with a domain: no ambiguity with an image ID.
        "docker.io/1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a",
        "Docker/docker", "DOCKER/docker"}) {
    Result<Reference> r = ParseNormalizedNamed(name);
    EXPECT_TRUE(r) << name << ": " << (r ? "" : r.error().message);
  }
  for (std::string_view name :
       {"https://github.com/docker/docker", "docker/Docker", "-docker", "-docker/docker",
        "-docker.io/docker/docker", "docker///docker", "docker.io/docker/Docker",
        "docker.io/docker///docker", "[fc00::1]", "[fc00::1]:5000", "fc00::1:5000/debian",
        "[fe80::1%eth0]:5000/debian", "[2001:db8:3:4::192.0.2.33]:5000/debian",
        "1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a"}) {
    Result<Reference> r = ParseNormalizedNamed(name);
    EXPECT_FALSE(r) << name;
    if (!r) {
      EXPECT_EQ(r.error().code, Code::kInvalidArgument) << name;
    }
  }
}

TEST(NormalizeTest, ValidateRemoteName) {
  for (std::string_view name :
       {"docker/docker", "thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev",
        "docker-rules/docker", "docker---rules/docker", "doc/docker", "d/docker", "jess/t",
        "dock__er/docker"}) {
    EXPECT_TRUE(ParseNormalizedNamed(name)) << name;
  }
  for (std::string_view name :
       {"docker/Docker", "docker///docker",
        "1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a", "-docker/docker",
        "docker-/docker", "-docker-/docker", "____/____", "_docker/_docker", "dock..er/docker",
        "dock_.er/docker", "dock-.er/docker", "docker/",
        "this_is_not_a_valid_namespace_because_its_lenth_is_greater_than_255_this_is_not_a_valid_"
        "namespace_because_its_lenth_is_greater_than_255_this_is_not_a_valid_namespace_because_"
        "its_lenth_is_greater_than_255_this_is_not_a_valid_namespace_because_its_lenth_is_greater_"
        "than_255/docker"}) {
    EXPECT_FALSE(ParseNormalizedNamed(name)) << name;
  }
}

TEST(NormalizeTest, DockerErrorMessages) {
  Result<Reference> r = ParseNormalizedNamed("Busybox");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message,
            "invalid reference format: repository name (library/Busybox) must be lowercase");
  r = ParseNormalizedNamed("docker.io/library/Busybox:latest");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message,
            "invalid reference format: repository name (library/Busybox) must be lowercase");
  const std::string hex = "1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a";
  r = ParseNormalizedNamed(hex);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message,
            "invalid repository name (" + hex + "), cannot specify 64-byte hexadecimal strings");
  r = ParseNormalizedNamed(std::string(300, 'a'));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "repository name must not be more than 255 characters");
  r = ParseNormalizedNamed("busybox:bad tag");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "invalid reference format");
  r = ParseNormalizedNamed("");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "invalid reference format");
}

TEST(NormalizeTest, ParseRepositoryInfo) {
  const struct {
    std::string_view remote_name, familiar_name, full_name, ambiguous_name, domain;
  } cases[] = {
      {"fooo/bar", "fooo/bar", "docker.io/fooo/bar", "index.docker.io/fooo/bar", "docker.io"},
      {"library/ubuntu", "ubuntu", "docker.io/library/ubuntu", "library/ubuntu", "docker.io"},
      {"nonlibrary/ubuntu", "nonlibrary/ubuntu", "docker.io/nonlibrary/ubuntu", "", "docker.io"},
      {"other/library", "other/library", "docker.io/other/library", "", "docker.io"},
      {"private/moonbase", "127.0.0.1:8000/private/moonbase", "127.0.0.1:8000/private/moonbase", "",
       "127.0.0.1:8000"},
      {"privatebase", "127.0.0.1:8000/privatebase", "127.0.0.1:8000/privatebase", "",
       "127.0.0.1:8000"},
      {"private/moonbase", "example.com/private/moonbase", "example.com/private/moonbase", "",
       "example.com"},
      {"privatebase", "example.com/privatebase", "example.com/privatebase", "", "example.com"},
      {"private/moonbase", "example.com:8000/private/moonbase", "example.com:8000/private/moonbase",
       "", "example.com:8000"},
      {"privatebasee", "example.com:8000/privatebasee", "example.com:8000/privatebasee", "",
       "example.com:8000"},
      {"library/ubuntu-12.04-base", "ubuntu-12.04-base", "docker.io/library/ubuntu-12.04-base",
       "index.docker.io/library/ubuntu-12.04-base", "docker.io"},
      {"library/foo", "foo", "docker.io/library/foo", "docker.io/foo", "docker.io"},
      {"library/foo/bar", "library/foo/bar", "docker.io/library/foo/bar", "", "docker.io"},
      {"store/foo/bar", "store/foo/bar", "docker.io/store/foo/bar", "", "docker.io"},
      {"bar", "Foo/bar", "Foo/bar", "", "Foo"},
      {"bar", "FOO/bar", "FOO/bar", "", "FOO"},
  };
  for (const auto& tc : cases) {
    std::vector<std::string_view> inputs = {tc.familiar_name, tc.full_name};
    if (!tc.ambiguous_name.empty()) inputs.push_back(tc.ambiguous_name);
    for (std::string_view input : inputs) {
      SCOPED_TRACE(input);
      Result<Reference> r = ParseNormalizedNamed(input);
      ASSERT_TRUE(r) << r.error().message;
      EXPECT_EQ(r->FamiliarName(), tc.familiar_name);
      EXPECT_EQ(r->String(), tc.full_name);
      EXPECT_EQ(r->domain(), tc.domain);
      EXPECT_EQ(r->path(), tc.remote_name);
    }
  }
}

TEST(NormalizeTest, ParseReferenceWithTagAndDigest) {
  const std::string short_ref =
      "busybox:latest@sha256:86e0e091d0da6bde2456dbb48306f3956bbeb2eae1b5b9a43045843f69fe4aaa";
  Result<Reference> r = ParseNormalizedNamed(short_ref);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->String(), "docker.io/library/" + short_ref);
  EXPECT_TRUE(r->has_tag());
  EXPECT_TRUE(r->has_digest());
  EXPECT_EQ(r->FamiliarString(), short_ref);
}

TEST(NormalizeTest, InvalidReferenceComponents) {
  EXPECT_FALSE(ParseNormalizedNamed("-foo"));
  Result<Reference> r = ParseNormalizedNamed("busybox");
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->WithTag("-foo"));
}

TEST(NormalizeTest, ParseAnyReference) {
  const std::string hex = "dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9c";
  const struct {
    std::string reference, equivalent;
    bool digest_only;
  } cases[] = {
      {"redis", "docker.io/library/redis", false},
      {"redis:latest", "docker.io/library/redis:latest", false},
      {"docker.io/library/redis:latest", "docker.io/library/redis:latest", false},
      {"redis@sha256:" + hex, "docker.io/library/redis@sha256:" + hex, false},
      {"docker.io/library/redis@sha256:" + hex, "docker.io/library/redis@sha256:" + hex, false},
      {"dmcgowan/myapp", "docker.io/dmcgowan/myapp", false},
      {"dmcgowan/myapp:latest", "docker.io/dmcgowan/myapp:latest", false},
      {"docker.io/mcgowan/myapp:latest", "docker.io/mcgowan/myapp:latest", false},
      {"dmcgowan/myapp@sha256:" + hex, "docker.io/dmcgowan/myapp@sha256:" + hex, false},
      {"docker.io/dmcgowan/myapp@sha256:" + hex, "docker.io/dmcgowan/myapp@sha256:" + hex, false},
      {hex, "sha256:" + hex, true},
      {"sha256:" + hex, "sha256:" + hex, true},
      {hex.substr(0, 63), "docker.io/library/" + hex.substr(0, 63), false},
      {"dbcc1", "docker.io/library/dbcc1", false},
  };
  for (const auto& tc : cases) {
    SCOPED_TRACE(tc.reference);
    Result<Reference> r = ParseAnyReference(tc.reference);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->String(), tc.equivalent);
    EXPECT_EQ(r->has_name(), !tc.digest_only);
    if (!tc.digest_only) {
      Result<Reference> expected = Reference::Parse(tc.equivalent);
      ASSERT_TRUE(expected);
      EXPECT_EQ(*r, *expected);
    }
  }
}

TEST(NormalizeTest, NormalizedSplitHostname) {
  const struct {
    std::string_view input, domain, path;
  } cases[] = {
      {"test.com/foo", "test.com", "foo"},
      {"test_com/foo", "docker.io", "test_com/foo"},
      {"docker/migrator", "docker.io", "docker/migrator"},
      {"test.com:8080/foo", "test.com:8080", "foo"},
      {"test-com:8080/foo", "test-com:8080", "foo"},
      {"foo", "docker.io", "library/foo"},
      {"xn--n3h.com/foo", "xn--n3h.com", "foo"},
      {"xn--n3h.com:18080/foo", "xn--n3h.com:18080", "foo"},
      {"docker.io/foo", "docker.io", "library/foo"},
      {"docker.io/library/foo", "docker.io", "library/foo"},
      {"docker.io/library/foo/bar", "docker.io", "library/foo/bar"},
      {"localhost/foo", "localhost", "foo"},
      {"localhost:5000/foo", "localhost:5000", "foo"},
  };
  for (const auto& tc : cases) {
    Result<Reference> r = ParseNormalizedNamed(tc.input);
    ASSERT_TRUE(r) << tc.input;
    EXPECT_EQ(r->domain(), tc.domain) << tc.input;
    EXPECT_EQ(r->path(), tc.path) << tc.input;
  }
}

TEST(NormalizeTest, ParseDockerRef) {
  const std::string digest =
      "sha256:e6693c20186f837fc393390135d8a598a96a833917917789d63766cab6c59582";
  const struct {
    std::string input, expected;
  } cases[] = {
      {"busybox", "docker.io/library/busybox:latest"},
      {"busybox:latest", "docker.io/library/busybox:latest"},
      {"busybox@" + digest, "docker.io/library/busybox@" + digest},
      {"library/busybox", "docker.io/library/busybox:latest"},
      {"docker.io/busybox", "docker.io/library/busybox:latest"},
      {"docker.io/library/busybox", "docker.io/library/busybox:latest"},
      {"docker.io/busybox:latest", "docker.io/library/busybox:latest"},
      {"library/busybox:latest", "docker.io/library/busybox:latest"},
      {"docker.io/library/busybox:latest", "docker.io/library/busybox:latest"},
      {"gcr.io/library/busybox", "gcr.io/library/busybox:latest"},
      {"gcr.io/library/busybox:latest@" + digest, "gcr.io/library/busybox@" + digest},
  };
  for (const auto& tc : cases) {
    Result<Reference> r = ParseDockerRef(tc.input);
    ASSERT_TRUE(r) << tc.input;
    EXPECT_EQ(r->String(), tc.expected) << tc.input;
    EXPECT_TRUE(Reference::Parse(r->String())) << tc.input;
  }
}

TEST(NormalizeTest, FamiliarForms) {
  const struct {
    std::string_view input, familiar_string;
  } cases[] = {
      {"docker.io/library/busybox:latest", "busybox:latest"},
      {"index.docker.io/library/busybox:latest", "busybox:latest"},
      {"docker.io/me/x", "me/x"},
      {"localhost:5000/x", "localhost:5000/x"},
      {"localhost/x:1", "localhost/x:1"},
      {"docker.io/library/a/b", "library/a/b"},
      {"quay.io/library/busybox", "quay.io/library/busybox"},
  };
  for (const auto& tc : cases) {
    Result<Reference> r = ParseNormalizedNamed(tc.input);
    ASSERT_TRUE(r) << tc.input;
    EXPECT_EQ(r->FamiliarString(), tc.familiar_string) << tc.input;
  }
}

TEST(EngineApiReferenceTest, RepoTagReference) {
  Result<Reference> r = RepoTagReference("busybox", "");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->String(), "docker.io/library/busybox:latest");
  r = RepoTagReference("localhost:5000/me/app", "v2");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->String(), "localhost:5000/me/app:v2");
  r = RepoTagReference("busybox:1", "2");  // the tag parameter wins
  ASSERT_TRUE(r);
  EXPECT_EQ(r->FamiliarString(), "busybox:2");
  r = RepoTagReference("", "");
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->has_name());
  r = RepoTagReference(
      "busybox@sha256:e6693c20186f837fc393390135d8a598a96a833917917789d63766cab6c59582", "");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "cannot import digest reference");
  r = RepoTagReference("busybox", "bad tag");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "invalid tag format");
  EXPECT_FALSE(RepoTagReference("Busybox", "x"));
}

TEST(EngineApiReferenceTest, ImageTagOrDigestReference) {
  const std::string digest =
      "sha256:e6693c20186f837fc393390135d8a598a96a833917917789d63766cab6c59582";
  Result<Reference> r = ImageTagOrDigestReference("busybox", "1.36");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->String(), "docker.io/library/busybox:1.36");
  r = ImageTagOrDigestReference("busybox:old", digest);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->String(), "docker.io/library/busybox@" + digest);
  r = ImageTagOrDigestReference("busybox", "");
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->IsNameOnly());
  EXPECT_FALSE(ImageTagOrDigestReference("busybox", "sha256:nothex"));
}

}  // namespace
}  // namespace berth::oci
