#include "api/errors.h"

#include <gtest/gtest.h>

namespace berth::api {
namespace {

TEST(ErrorsTest, MapsEveryCodeToDockerdStatus) {
  EXPECT_EQ(HttpStatusFor(Code::kNotFound), 404);
  EXPECT_EQ(HttpStatusFor(Code::kInvalidArgument), 400);
  EXPECT_EQ(HttpStatusFor(Code::kAlreadyExists), 409);
  EXPECT_EQ(HttpStatusFor(Code::kConflict), 409);
  EXPECT_EQ(HttpStatusFor(Code::kFailedPrecondition), 409);
  EXPECT_EQ(HttpStatusFor(Code::kPermissionDenied), 403);
  EXPECT_EQ(HttpStatusFor(Code::kUnauthenticated), 401);
  EXPECT_EQ(HttpStatusFor(Code::kUnavailable), 503);
  EXPECT_EQ(HttpStatusFor(Code::kNotImplemented), 501);
  EXPECT_EQ(HttpStatusFor(Code::kDataLoss), 500);
  EXPECT_EQ(HttpStatusFor(Code::kCancelled), 500);
  EXPECT_EQ(HttpStatusFor(Code::kResourceExhausted), 500);
  EXPECT_EQ(HttpStatusFor(Code::kInternal), 500);
}

TEST(ErrorsTest, BodyIsAMessageObjectWithNewline) {
  EXPECT_EQ(ErrorJson("No such image: x"), "{\"message\":\"No such image: x\"}\n");
  EXPECT_EQ(ErrorJson("quote \" and <html>"), "{\"message\":\"quote \\\" and <html>\"}\n");
}

TEST(ErrorsTest, InvalidUtf8DoesNotBreakTheBody) {
  std::string body = ErrorJson(std::string("bad \xff byte"));
  EXPECT_EQ(body.rfind("{\"message\":\"bad ", 0), 0u);
}

}  // namespace
}  // namespace berth::api
