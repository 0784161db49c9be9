#include "oci/digest.h"

#include <gtest/gtest.h>

namespace berth::oci {
namespace {

TEST(DigestTest, Sha256OfEmptyString) {
  EXPECT_EQ(Digest::Of("").ToString(),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(DigestTest, StreamingEqualsOneShot) {
  Digester d;
  d.Update("hello ");
  d.Update("world");
  EXPECT_EQ(d.Finish(), Digest::Of("hello world"));
}

TEST(DigestTest, CloneFinishesWithoutEndingTheOriginal) {
  Digester d;
  d.Update("hello ");
  Digester copy = d.Clone();
  EXPECT_EQ(copy.Finish(), Digest::Of("hello "));
  d.Update("world");
  EXPECT_EQ(d.Finish(), Digest::Of("hello world"));
}

TEST(DigestTest, CloneIsIndependentOfTheOriginal) {
  Digester d(Algorithm::kSha512);
  d.Update("abc");
  Digester copy = d.Clone();
  copy.Update("def");
  d.Update("xyz");
  EXPECT_EQ(copy.algorithm(), Algorithm::kSha512);
  EXPECT_EQ(copy.Finish(), Digest::Of("abcdef", Algorithm::kSha512));
  EXPECT_EQ(d.Finish(), Digest::Of("abcxyz", Algorithm::kSha512));
}

TEST(DigestTest, Sha512Accepted) {
  Digest d = Digest::Of("abc", Algorithm::kSha512);
  EXPECT_EQ(d.hex().size(), 128u);
  Result<Digest> p = Digest::Parse(d.ToString());
  ASSERT_TRUE(p);
  EXPECT_EQ(*p, d);
}

TEST(DigestTest, ParseRejectsMalformed) {
  for (const char* bad :
       {"", "sha256", "sha256:", "md5:abcd", "sha256:ABC",
        "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85",
        "sha256:E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855",
        "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85g"}) {
    Result<Digest> r = Digest::Parse(bad);
    EXPECT_FALSE(r) << bad;
    if (!r) {
      EXPECT_EQ(r.error().code, Code::kInvalidArgument);
    }
  }
}

}  // namespace
}  // namespace berth::oci
