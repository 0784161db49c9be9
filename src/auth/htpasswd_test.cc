#include "auth/htpasswd.h"

#include <openssl/evp.h>

#include <string>

#include <gtest/gtest.h>

#include "auth/testing/bcrypt.h"
#include "base/file.h"
#include "base/strings.h"

namespace berth::auth {
namespace {

using testing::Bcrypt;

std::string Basic(const std::string& user, const std::string& password) {
  std::string plain = user + ":" + password;
  std::string out(4 * ((plain.size() + 2) / 3) + 1, '\0');
  int n = ::EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                            reinterpret_cast<const unsigned char*>(plain.data()),
                            static_cast<int>(plain.size()));
  out.resize(static_cast<size_t>(n));
  return "Basic " + out;
}

class HtpasswdTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/htpasswd_test_" + RandomHex(4);
    ASSERT_TRUE(MakeDirs(dir_).ok());
    ASSERT_TRUE(WriteFileAtomic(dir_ + "/rw", "# writers\nalice:" + Bcrypt("a-secret") +
                                                  "\n\nboth:" + Bcrypt("b") + "\n")
                    .ok());
    ASSERT_TRUE(WriteFileAtomic(dir_ + "/ro", "bob:" + Bcrypt("bob's:pw") + "\nboth:" + Bcrypt("b") + "\n").ok());
  }
  void TearDown() override { (void)RemoveAll(dir_); }
  std::string dir_;
};

TEST_F(HtpasswdTest, ReadWriteAndReadOnlyUsers) {
  auto a = HtpasswdAuthenticator::Load(dir_ + "/rw", dir_ + "/ro");
  ASSERT_TRUE(a.ok()) << a.error().message;
  auto& auth = **a;
  EXPECT_EQ(auth.Verify(Basic("alice", "a-secret")), Access::kReadWrite);
  EXPECT_EQ(auth.Verify(Basic("bob", "bob's:pw")), Access::kRead);  // ':' in a password
  EXPECT_EQ(auth.Verify(Basic("both", "b")), Access::kReadWrite);
  EXPECT_EQ(auth.Verify(Basic("alice", "wrong")), Access::kDenied);
  EXPECT_EQ(auth.Verify(Basic("mallory", "a-secret")), Access::kDenied);
  EXPECT_EQ(auth.Verify(""), Access::kDenied);
  EXPECT_EQ(auth.Verify("Bearer abc"), Access::kDenied);
}

TEST_F(HtpasswdTest, CachedAcceptsOnlyWhatWasVerified) {
  auto a = HtpasswdAuthenticator::Load(dir_ + "/rw", "");
  ASSERT_TRUE(a.ok());
  auto& auth = **a;
  EXPECT_EQ(auth.Cached(Basic("alice", "a-secret")), std::nullopt);  // needs bcrypt first
  EXPECT_EQ(auth.Cached(Basic("nobody", "x")), Access::kDenied);     // refused without bcrypt
  EXPECT_EQ(auth.Cached("Basic !!!!"), Access::kDenied);
  EXPECT_EQ(auth.Verify(Basic("alice", "a-secret")), Access::kReadWrite);
  EXPECT_EQ(auth.Cached(Basic("alice", "a-secret")), Access::kReadWrite);
  // Another password for a remembered user is not taken from the cache.
  EXPECT_EQ(auth.Cached(Basic("alice", "a-secreT")), std::nullopt);
  EXPECT_EQ(auth.Verify(Basic("alice", "a-secreT")), Access::kDenied);
  EXPECT_EQ(auth.Cached(Basic("alice", "a-secret")), Access::kReadWrite);
  EXPECT_EQ(auth.Cached(Basic("bob", "bob's:pw")), Access::kDenied);  // not in the rw file
}

TEST_F(HtpasswdTest, RefusesOtherHashKinds) {
  ASSERT_TRUE(WriteFileAtomic(dir_ + "/md5", "carol:$apr1$abc$0123456789012345678901\n").ok());
  auto a = HtpasswdAuthenticator::Load(dir_ + "/md5", "");
  ASSERT_FALSE(a.ok());
  EXPECT_NE(a.error().message.find(":1: "), std::string::npos) << a.error().message;
  EXPECT_FALSE(HtpasswdAuthenticator::Load(dir_ + "/missing", "").ok());
}

TEST(BasicAuthorizationTest, Parses) {
  auto c = ParseBasicAuthorization("Basic dXNlcjpwYXNz");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->first, "user");
  EXPECT_EQ(c->second, "pass");
  c = ParseBasicAuthorization("basic dTpw");  // "u:p"
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->second, "p");
  EXPECT_FALSE(ParseBasicAuthorization("Basic dXNlcg==").ok());  // no colon
  EXPECT_FALSE(ParseBasicAuthorization("Basic abc").ok());
  EXPECT_FALSE(ParseBasicAuthorization("Digest x").ok());
}

}  // namespace
}  // namespace berth::auth
