// Table-driven tests with the test data of distribution/reference's reference_test.go,
// re-expressed for our API. Expected errors are Docker's messages.
#include "oci/reference.h"

#include <gtest/gtest.h>

namespace berth::oci {
namespace {

const std::string kF64(64, 'f');
const std::string kF128(128, 'f');

std::string Repeat(std::string_view s, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += s;
  return out;
}

constexpr std::string_view kInvalidFormat = "invalid reference format";
constexpr std::string_view kNameEmpty = "repository name must have at least one component";
constexpr std::string_view kUppercase = "repository name must be lowercase";
constexpr std::string_view kTooLong = "repository name must not be more than 255 characters";
constexpr std::string_view kDigestLength = "invalid checksum digest length";
constexpr std::string_view kDigestUnsupported = "unsupported digest algorithm";

struct ParseCase {
  std::string input;
  std::string_view err;  // empty: must parse
  std::string repository;
  std::string domain;
  std::string tag;
  std::string digest;
};

std::vector<ParseCase> ParseCases() {
  return {
      {"test_com", "", "test_com", "", "", ""},
      {"test.com:tag", "", "test.com", "", "tag", ""},
      {"test.com:5000", "", "test.com", "", "5000", ""},
      {"test.com/repo:tag", "", "test.com/repo", "test.com", "tag", ""},
      {"test:5000/repo", "", "test:5000/repo", "test:5000", "", ""},
      {"test:5000/repo:tag", "", "test:5000/repo", "test:5000", "tag", ""},
      {"test:5000/repo@sha256:" + kF64, "", "test:5000/repo", "test:5000", "", "sha256:" + kF64},
      {"test:5000/repo:tag@sha256:" + kF64, "", "test:5000/repo", "test:5000", "tag",
       "sha256:" + kF64},
      {"", kNameEmpty, "", "", "", ""},
      {":justtag", kInvalidFormat, "", "", "", ""},
      {"@sha256:" + kF64, kInvalidFormat, "", "", "", ""},
      {"repo@sha256:ffffffffffffffffffffffffffffffffff", kDigestLength, "", "", "", ""},
      {"validname@invaliddigest:" + kF64, kDigestUnsupported, "", "", "", ""},
      {"Uppercase:tag", kUppercase, "", "", "", ""},
      {"test:5000/Uppercase/lowercase:tag", kUppercase, "", "", "", ""},
      {"lowercase:Uppercase", "", "lowercase", "", "Uppercase", ""},
      {Repeat("a/", 128) + "a:tag", kTooLong, "", "", "", ""},
      {Repeat("a/", 127) + "a:tag-puts-this-over-max", "", Repeat("a/", 127) + "a", "a",
       "tag-puts-this-over-max", ""},
      {"aa/asdf$$^/aa", kInvalidFormat, "", "", "", ""},
      {"sub-dom1.foo.com/bar/baz/quux", "", "sub-dom1.foo.com/bar/baz/quux", "sub-dom1.foo.com", "",
       ""},
      {"sub-dom1.foo.com/bar/baz/quux:some-long-tag", "", "sub-dom1.foo.com/bar/baz/quux",
       "sub-dom1.foo.com", "some-long-tag", ""},
      {"b.gcr.io/test.example.com/my-app:test.example.com", "", "b.gcr.io/test.example.com/my-app",
       "b.gcr.io", "test.example.com", ""},
      {"xn--n3h.com/myimage:xn--n3h.com", "", "xn--n3h.com/myimage", "xn--n3h.com", "xn--n3h.com",
       ""},
      {"xn--7o8h.com/myimage:xn--7o8h.com@sha512:" + kF128, "", "xn--7o8h.com/myimage",
       "xn--7o8h.com", "xn--7o8h.com", "sha512:" + kF128},
      {"foo_bar.com:8080", "", "foo_bar.com", "", "8080", ""},
      {"foo/foo_bar.com:8080", "", "foo/foo_bar.com", "foo", "8080", ""},
      {"192.168.1.1", "", "192.168.1.1", "", "", ""},
      {"192.168.1.1:tag", "", "192.168.1.1", "", "tag", ""},
      {"192.168.1.1:5000", "", "192.168.1.1", "", "5000", ""},
      {"192.168.1.1/repo", "", "192.168.1.1/repo", "192.168.1.1", "", ""},
      {"192.168.1.1:5000/repo", "", "192.168.1.1:5000/repo", "192.168.1.1:5000", "", ""},
      {"192.168.1.1:5000/repo:5050", "", "192.168.1.1:5000/repo", "192.168.1.1:5000", "5050", ""},
      {"[2001:db8::1]", kInvalidFormat, "", "", "", ""},
      {"[2001:db8::1]:5000", kInvalidFormat, "", "", "", ""},
      {"[2001:db8::1]:tag", kInvalidFormat, "", "", "", ""},
      {"[2001:db8::1]/repo", "", "[2001:db8::1]/repo", "[2001:db8::1]", "", ""},
      {"[2001:db8:1:2:3:4:5:6]/repo:tag", "", "[2001:db8:1:2:3:4:5:6]/repo",
       "[2001:db8:1:2:3:4:5:6]", "tag", ""},
      {"[2001:db8::1]:5000/repo", "", "[2001:db8::1]:5000/repo", "[2001:db8::1]:5000", "", ""},
      {"[2001:db8::1]:5000/repo:tag", "", "[2001:db8::1]:5000/repo", "[2001:db8::1]:5000", "tag",
       ""},
      {"[2001:db8::1]:5000/repo@sha256:" + kF64, "", "[2001:db8::1]:5000/repo",
       "[2001:db8::1]:5000", "", "sha256:" + kF64},
      {"[2001:db8::1]:5000/repo:tag@sha256:" + kF64, "", "[2001:db8::1]:5000/repo",
       "[2001:db8::1]:5000", "tag", "sha256:" + kF64},
      {"[2001:db8::]:5000/repo", "", "[2001:db8::]:5000/repo", "[2001:db8::]:5000", "", ""},
      {"[::1]:5000/repo", "", "[::1]:5000/repo", "[::1]:5000", "", ""},
      {"[fe80::1%eth0]:5000/repo", kInvalidFormat, "", "", "", ""},
      {"[fe80::1%@invalidzone]:5000/repo", kInvalidFormat, "", "", "", ""},
  };
}

TEST(ReferenceTest, ParseTable) {
  for (const ParseCase& tc : ParseCases()) {
    SCOPED_TRACE(tc.input);
    Result<Reference> r = Reference::Parse(tc.input);
    if (!tc.err.empty()) {
      ASSERT_FALSE(r);
      EXPECT_EQ(r.error().code, Code::kInvalidArgument);
      EXPECT_EQ(r.error().message, tc.err);
      continue;
    }
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->String(), tc.input);
    EXPECT_EQ(r->Name(), tc.repository);
    EXPECT_EQ(r->domain(), tc.domain);
    EXPECT_EQ(r->tag(), tc.tag);
    EXPECT_EQ(r->has_digest(), !tc.digest.empty());
    if (r->has_digest()) {
      EXPECT_EQ(r->digest()->ToString(), tc.digest);
    }
  }
}

TEST(ReferenceTest, WithNameFailures) {
  for (const std::string& input : {std::string(""), std::string(":justtag"), "@sha256:" + kF64,
                                   "validname@invaliddigest:" + kF64, Repeat("a/", 128) + "a:tag",
                                   std::string("aa/asdf$$^/aa")}) {
    EXPECT_FALSE(WithName(input)) << input;
  }
  Result<Reference> r = WithName(Repeat("a/", 128) + "a");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, kTooLong);
}

TEST(ReferenceTest, DomainAndPath) {
  const struct {
    std::string_view input, domain, path;
  } cases[] = {
      {"test.com/foo", "test.com", "foo"},
      {"test_com/foo", "", "test_com/foo"},
      {"test:8080/foo", "test:8080", "foo"},
      {"test.com:8080/foo", "test.com:8080", "foo"},
      {"test-com:8080/foo", "test-com:8080", "foo"},
      {"xn--n3h.com:18080/foo", "xn--n3h.com:18080", "foo"},
  };
  for (const auto& tc : cases) {
    Result<Reference> r = WithName(tc.input);
    ASSERT_TRUE(r) << tc.input;
    EXPECT_EQ(r->domain(), tc.domain) << tc.input;
    EXPECT_EQ(r->path(), tc.path) << tc.input;
    EXPECT_TRUE(r->IsNameOnly());
  }
}

TEST(ReferenceTest, WithTag) {
  const Digest digest = *Digest::Parse("sha256:" + kF64);
  const struct {
    std::string_view name;
    bool with_digest;
    std::string_view tag;
    std::string combined;
  } cases[] = {
      {"test.com/foo", false, "tag", "test.com/foo:tag"},
      {"foo", false, "tag2", "foo:tag2"},
      {"test.com:8000/foo", false, "tag4", "test.com:8000/foo:tag4"},
      {"test.com:8000/foo", false, "TAG5", "test.com:8000/foo:TAG5"},
      // distribution uses a 36-hex digest here; oci::Digest holds full-length ones only.
      {"test.com:8000/foo", true, "TAG5", "test.com:8000/foo:TAG5@sha256:" + kF64},
  };
  for (const auto& tc : cases) {
    Result<Reference> named = WithName(tc.name);
    ASSERT_TRUE(named) << tc.name;
    Reference base = tc.with_digest ? named->WithDigest(digest) : *named;
    Result<Reference> tagged = base.WithTag(tc.tag);
    ASSERT_TRUE(tagged) << tc.combined;
    EXPECT_EQ(tagged->String(), tc.combined);
  }
}

TEST(ReferenceTest, WithDigest) {
  const Digest digest = *Digest::Parse("sha256:" + kF64);
  const struct {
    std::string_view name, tag;
    std::string combined;
  } cases[] = {
      {"test.com/foo", "", "test.com/foo@sha256:" + kF64},
      {"foo", "", "foo@sha256:" + kF64},
      {"test.com:8000/foo", "", "test.com:8000/foo@sha256:" + kF64},
      {"test.com:8000/foo", "latest", "test.com:8000/foo:latest@sha256:" + kF64},
  };
  for (const auto& tc : cases) {
    Result<Reference> named = WithName(tc.name);
    ASSERT_TRUE(named);
    Reference base = *named;
    if (!tc.tag.empty()) base = *base.WithTag(tc.tag);
    EXPECT_EQ(base.WithDigest(digest).String(), tc.combined);
  }
}

TEST(ReferenceTest, ParseNamedRequiresCanonicalForm) {
  const struct {
    std::string_view input, domain, path;
    bool ok;
  } cases[] = {
      {"test.com/foo", "test.com", "foo", true},
      {"test:8080/foo", "test:8080", "foo", true},
      {"test_com/foo", "", "", false},
      {"test.com", "", "", false},
      {"foo", "", "", false},
      {"library/foo", "", "", false},
      {"docker.io/library/foo", "docker.io", "library/foo", true},
      {"docker.io/foo", "", "", false},  // ambiguous: the parser adds "library/"
  };
  for (const auto& tc : cases) {
    Result<Reference> r = ParseNamed(tc.input);
    ASSERT_EQ(r.ok(), tc.ok) << tc.input;
    if (!r) {
      EXPECT_EQ(r.error().message, "repository name must be canonical") << tc.input;
      continue;
    }
    EXPECT_EQ(r->domain(), tc.domain);
    EXPECT_EQ(r->path(), tc.path);
  }
}

TEST(ReferenceTest, TagGrammar) {
  EXPECT_TRUE(IsValidTag("latest"));
  EXPECT_TRUE(IsValidTag("_under"));
  EXPECT_TRUE(IsValidTag("v1.2.3-rc.1_x"));
  EXPECT_TRUE(IsValidTag(std::string(128, 'a')));
  EXPECT_FALSE(IsValidTag(std::string(129, 'a')));
  EXPECT_FALSE(IsValidTag(""));
  EXPECT_FALSE(IsValidTag("-foo"));
  EXPECT_FALSE(IsValidTag(".foo"));
  EXPECT_FALSE(IsValidTag("a:b"));
  EXPECT_FALSE(IsValidTag("a/b"));
  Result<Reference> r = Reference::Parse("foo:" + std::string(129, 'a'));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, kInvalidFormat);
  Result<Reference> bad_tag = Reference::Parse("foo")->WithTag("-foo");
  ASSERT_FALSE(bad_tag);
  EXPECT_EQ(bad_tag.error().message, "invalid tag format");
}

TEST(ReferenceTest, PathComponentSeparators) {
  for (std::string_view good : {"a", "a.b", "a_b", "a__b", "a-b", "a---b", "a.b_c__d-e", "0"}) {
    EXPECT_TRUE(Reference::Parse(good)) << good;
  }
  for (std::string_view bad : {"a..b", "a___b", "a._b", "a-.b", "a_.b", "-a", "a-", "_a", "a_",
                               ".a", "a.", "a//b", "a/", "/a", "a b", "a\tb"}) {
    EXPECT_FALSE(Reference::Parse(bad)) << bad;
  }
}

TEST(ReferenceTest, DigestErrorsFollowGoDigest) {
  Result<Reference> r = Reference::Parse("foo@sha256:" + std::string(64, 'F'));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "invalid checksum digest format");
  r = Reference::Parse("foo@sha512:" + kF64);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, kDigestLength);
  r = Reference::Parse("foo@sha256:" + std::string(31, 'f'));  // under the 32-hex minimum
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, kInvalidFormat);
}

TEST(ReferenceTest, HugeInputIsRefusedQuickly) {
  std::string huge(1 << 20, 'a');
  Result<Reference> r = Reference::Parse(huge);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, kTooLong);
  EXPECT_FALSE(ParseNormalizedNamed(huge + ":tag"));
}

TEST(ReferenceTest, SplitRepositoryTag) {
  const struct {
    std::string_view input, name, tag;
    bool is_digest;
  } cases[] = {
      {"busybox", "busybox", "", false},
      {"busybox:latest", "busybox", "latest", false},
      {"localhost:5000/busybox", "localhost:5000/busybox", "", false},
      {"localhost:5000/busybox:1.36", "localhost:5000/busybox", "1.36", false},
      {"busybox@sha256:abc", "busybox", "sha256:abc", true},
      {"host:5000/x@sha256:abc", "host:5000/x", "sha256:abc", true},
      {"", "", "", false},
  };
  for (const auto& tc : cases) {
    RepositoryTag got = SplitRepositoryTag(tc.input);
    EXPECT_EQ(got.name, tc.name) << tc.input;
    EXPECT_EQ(got.tag, tc.tag) << tc.input;
    EXPECT_EQ(got.is_digest, tc.is_digest) << tc.input;
  }
}

}  // namespace
}  // namespace berth::oci
