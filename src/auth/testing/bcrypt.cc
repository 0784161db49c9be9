#include "auth/testing/bcrypt.h"

#include <crypt.h>

#include <cstring>

#include <gtest/gtest.h>

namespace berth::auth::testing {

std::string Bcrypt(const std::string& password) {
  char salt[CRYPT_GENSALT_OUTPUT_SIZE];
  EXPECT_NE(::crypt_gensalt_rn("$2y$", 4, nullptr, 0, salt, sizeof(salt)), nullptr);
  struct crypt_data data;
  std::memset(&data, 0, sizeof(data));
  return ::crypt_r(password.c_str(), salt, &data);
}

}  // namespace berth::auth::testing
