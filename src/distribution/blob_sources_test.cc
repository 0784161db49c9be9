#include "distribution/blob_sources.h"

#include <gtest/gtest.h>

#include "sql/database.h"

namespace berth::distribution {
namespace {

TEST(BlobSourcesTest, RemembersPerRegistryMostRecentFirst) {
  auto db = sql::Database::Open(":memory:");
  ASSERT_TRUE(db.ok());
  auto sources = BlobSources::Open(**db);
  ASSERT_TRUE(sources.ok());
  oci::Digest a = oci::Digest::Of("a"), b = oci::Digest::Of("b");
  ASSERT_TRUE((*sources)->Remember("reg:5000", "me/one", a).ok());
  ASSERT_TRUE((*sources)->Remember("reg:5000", "me/two", a).ok());
  ASSERT_TRUE((*sources)->Remember("other:5000", "me/three", a).ok());
  ASSERT_TRUE((*sources)->Remember("reg:5000", "me/one", a).ok());  // seen again: first
  auto got = (*sources)->Repositories("reg:5000", a);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, (std::vector<std::string>{"me/one", "me/two"}));
  EXPECT_EQ(*(*sources)->Repositories("reg:5000", a, 1), std::vector<std::string>{"me/one"});
  EXPECT_TRUE((*sources)->Repositories("reg:5000", b)->empty());
  ASSERT_TRUE((*sources)->Forget("reg:5000", "me/one", a).ok());
  EXPECT_EQ(*(*sources)->Repositories("reg:5000", a), std::vector<std::string>{"me/two"});
}

TEST(BlobSourcesTest, RemembersCompressedLayers) {
  auto db = sql::Database::Open(":memory:");
  ASSERT_TRUE(db.ok());
  auto sources = BlobSources::Open(**db);
  ASSERT_TRUE(sources.ok());
  oci::Digest tar = oci::Digest::Of("tar"), gz = oci::Digest::Of("gz");
  EXPECT_FALSE((*sources)->Compressed(tar)->has_value());
  ASSERT_TRUE((*sources)->RememberCompressed(tar, {gz, 42, "application/vnd.oci.image.layer.v1.tar+gzip"}).ok());
  auto got = (*sources)->Compressed(tar);
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ((*got)->digest, gz);
  EXPECT_EQ((*got)->size, 42);
  EXPECT_EQ((*got)->media_type, "application/vnd.oci.image.layer.v1.tar+gzip");
}

}  // namespace
}  // namespace berth::distribution
