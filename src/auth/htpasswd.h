// Basic authentication against htpasswd files (bcrypt entries, as `htpasswd -B` writes and
// distribution accepts), with two levels: users who may push and delete, and users who may
// only pull.
//
// bcrypt is slow on purpose (tens of milliseconds a check), so a successful check is
// remembered: the same user with the same password is then accepted by comparing SHA-256
// digests in constant time (Cached), and only a first or changed password pays for bcrypt
// (Verify, to be run off the request threads). Passwords are never stored or logged.
//
// Thread-safety: safe for concurrent use.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "base/result.h"

namespace berth::auth {

enum class Access { kDenied, kRead, kReadWrite };

// The user and password of an "Authorization: Basic <base64>" header; InvalidArgument for
// any other scheme or a malformed value.
Result<std::pair<std::string, std::string>> ParseBasicAuthorization(std::string_view header);

class HtpasswdAuthenticator {
 public:
  // Either path may be empty. A user listed in both gets read-write. Lines are "user:hash"
  // with a bcrypt hash ($2y$, $2b$, $2a$); blank lines and '#' comments are skipped; anything
  // else is InvalidArgument naming the file and line.
  static Result<std::unique_ptr<HtpasswdAuthenticator>> Load(const std::string& read_write_file,
                                                             const std::string& read_only_file);

  // The access `authorization` grants if it matches a remembered successful check, or if it
  // can be refused without bcrypt (absent, malformed, unknown user); nullopt when only
  // Verify can tell.
  std::optional<Access> Cached(std::string_view authorization) const;
  // The full check (bcrypt). Remembers a success.
  Access Verify(std::string_view authorization);

 private:
  struct User {
    std::string hash;
    Access access = Access::kRead;
  };
  std::map<std::string, User, std::less<>> users_;
  mutable std::mutex mu_;
  std::map<std::string, std::string, std::less<>> verified_;  // user -> sha256(password)
};

}  // namespace berth::auth
