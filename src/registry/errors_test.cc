#include "registry/errors.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace berth::registry {
namespace {

TEST(ErrorsTest, BodyHasTheSpecShape) {
  auto body = nlohmann::json::parse(
      ErrorBody({404, ErrorCode::kBlobUnknown, "blob unknown to registry", R"({"digest":"sha256:x"})"}));
  ASSERT_EQ(body["errors"].size(), 1u);
  EXPECT_EQ(body["errors"][0]["code"], "BLOB_UNKNOWN");
  EXPECT_EQ(body["errors"][0]["message"], "blob unknown to registry");
  EXPECT_EQ(body["errors"][0]["detail"]["digest"], "sha256:x");
  auto plain = nlohmann::json::parse(ErrorBody({400, ErrorCode::kNameInvalid, "bad", ""}));
  EXPECT_FALSE(plain["errors"][0].contains("detail"));
  EXPECT_EQ(ErrorCodeName(ErrorCode::kTooManyRequests), "TOOMANYREQUESTS");
  EXPECT_EQ(ErrorCodeName(ErrorCode::kManifestBlobUnknown), "MANIFEST_BLOB_UNKNOWN");
}

}  // namespace
}  // namespace berth::registry
