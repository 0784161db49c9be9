#include "api/version.h"

#include <gtest/gtest.h>

namespace berth::api {
namespace {

TEST(VersionTest, ComparesNumericallyPartByPart) {
  EXPECT_EQ(CompareVersions("1.43", "1.43"), 0);
  EXPECT_LT(CompareVersions("1.9", "1.24"), 0);
  EXPECT_GT(CompareVersions("1.100", "1.43"), 0);
  EXPECT_GT(CompareVersions("1.43.1", "1.43"), 0);
  EXPECT_EQ(CompareVersions("1.43.0", "1.43"), 0);
  EXPECT_LT(CompareVersions("1", "1.24"), 0);
  EXPECT_GT(CompareVersions("2.0", "1.43"), 0);
}

TEST(VersionTest, SplitsTheVersionPrefix) {
  VersionedPath p = SplitVersionPrefix("/v1.43/images/json");
  EXPECT_EQ(p.version, "1.43");
  EXPECT_EQ(p.path, "/images/json");
  p = SplitVersionPrefix("/version");
  EXPECT_EQ(p.version, "");
  EXPECT_EQ(p.path, "/version");
  p = SplitVersionPrefix("/vabc/version");
  EXPECT_EQ(p.version, "");
  EXPECT_EQ(p.path, "/vabc/version");
  p = SplitVersionPrefix("/v1.43");
  EXPECT_EQ(p.version, "");
  p = SplitVersionPrefix("/v/version");
  EXPECT_EQ(p.version, "");
  p = SplitVersionPrefix("/v1.24/_ping");
  EXPECT_EQ(p.version, "1.24");
  EXPECT_EQ(p.path, "/_ping");
}

struct NegotiationCase {
  std::string requested;
  bool ok;
  std::string result_or_message;
};

class NegotiationTest : public ::testing::TestWithParam<NegotiationCase> {};

TEST_P(NegotiationTest, FollowsDockerd) {
  const NegotiationCase& c = GetParam();
  Result<std::string> r = NegotiateVersion(c.requested);
  ASSERT_EQ(r.ok(), c.ok) << c.requested;
  if (c.ok) {
    EXPECT_EQ(*r, c.result_or_message);
  } else {
    EXPECT_EQ(r.error().code, Code::kInvalidArgument);
    EXPECT_EQ(r.error().message, c.result_or_message);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Table, NegotiationTest,
    ::testing::Values(
        NegotiationCase{"", true, "1.43"}, NegotiationCase{"1.43", true, "1.43"},
        NegotiationCase{"1.24", true, "1.24"}, NegotiationCase{"1.41", true, "1.41"},
        NegotiationCase{"1.11", false,
                        "client version 1.11 is too old. Minimum supported API version is 1.24, "
                        "please upgrade your client to a newer version"},
        NegotiationCase{"1.12", false,
                        "client version 1.12 is too old. Minimum supported API version is 1.24, "
                        "please upgrade your client to a newer version"},
        NegotiationCase{"1.44", false,
                        "client version 1.44 is too new. Maximum supported API version is 1.43"},
        NegotiationCase{"1.50", false,
                        "client version 1.50 is too new. Maximum supported API version is "
                        "1.43"}));

TEST(VersionTest, JsonErrorsFrom124AndForUnversionedPaths) {
  EXPECT_TRUE(SupportsJsonErrors(""));
  EXPECT_TRUE(SupportsJsonErrors("1.24"));
  EXPECT_TRUE(SupportsJsonErrors("1.44"));
  EXPECT_FALSE(SupportsJsonErrors("1.23"));
  EXPECT_FALSE(SupportsJsonErrors("1.11"));
}

}  // namespace
}  // namespace berth::api
