#include "oci/chain_id.h"

#include <gtest/gtest.h>

namespace berth::oci {
namespace {

Digest D(std::string_view s) { return *Digest::Parse(s); }

// The diff IDs of the config.md example.
const Digest kA = D("sha256:c6f988f4874bb0add23a778f753c65efe992244e148a1d2ec2a8b664fb66bbd1");
const Digest kB = D("sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef");

TEST(ChainIdTest, EmptyIsInvalid) {
  EXPECT_FALSE(ChainId({}).valid());
  EXPECT_TRUE(ChainIds({}).empty());
}

TEST(ChainIdTest, SingleLayerIsItsDiffId) { EXPECT_EQ(ChainId({kA}), kA); }

TEST(ChainIdTest, FollowsTheRecursion) {
  Digest ab = Digest::Of(kA.ToString() + " " + kB.ToString());
  EXPECT_EQ(ChainId({kA, kB}), ab);
  Digest aba = Digest::Of(ab.ToString() + " " + kA.ToString());
  EXPECT_EQ(ChainId({kA, kB, kA}), aba);
  EXPECT_NE(ChainId({kB, kA}), ab);  // order matters
}

TEST(ChainIdTest, KnownValue) {
  // printf 'sha256:c6f9...bd1 sha256:5f70...6ef' | sha256sum
  EXPECT_EQ(ChainId({kA, kB}).ToString(),
            "sha256:c3191d32a37d7159b2e30830937d2e30268ad6c375a773a8994911a3aba9b93f");
}

TEST(ChainIdTest, PrefixesMatchWholeStackIds) {
  std::vector<Digest> diff_ids = {kA, kB, kA, kB};
  std::vector<Digest> ids = ChainIds(diff_ids);
  ASSERT_EQ(ids.size(), diff_ids.size());
  for (size_t i = 0; i < ids.size(); ++i) {
    std::vector<Digest> prefix(diff_ids.begin(), diff_ids.begin() + static_cast<long>(i) + 1);
    EXPECT_EQ(ids[i], ChainId(prefix)) << i;
  }
}

}  // namespace
}  // namespace berth::oci
