// Test helper for htpasswd files: bcrypt hashes as htpasswd -B writes them, for the tests of
// auth/ and of the modules that take an htpasswd file (registry/). Thread-safe (crypt_r).
#pragma once

#include <string>

namespace berth::auth::testing {

// "$2y$04$..." for `password` with a fresh salt (cost 4: fast, and still what htpasswd -B
// writes); a gtest failure and an empty or unusable hash if libcrypt refuses.
std::string Bcrypt(const std::string& password);

}  // namespace berth::auth::testing
