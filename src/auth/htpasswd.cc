#include "auth/htpasswd.h"

#include <crypt.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include <cstring>

#include "base/file.h"
#include "base/strings.h"

namespace berth::auth {
namespace {

std::string Sha256(std::string_view s) {
  unsigned char out[SHA256_DIGEST_LENGTH];
  ::SHA256(reinterpret_cast<const unsigned char*>(s.data()), s.size(), out);
  return std::string(reinterpret_cast<const char*>(out), sizeof(out));
}

bool IsBcrypt(std::string_view hash) {
  return (hash.starts_with("$2y$") || hash.starts_with("$2b$") || hash.starts_with("$2a$")) &&
         hash.size() == 60;
}

Status LoadFile(const std::string& path, Access access,
                std::map<std::string, std::pair<std::string, Access>, std::less<>>& out) {
  if (path.empty()) return Ok();
  auto text = ReadFile(path);
  if (!text) return text.error().WithContext("htpasswd");
  int n = 0;
  for (const std::string& raw : Split(*text, '\n')) {
    ++n;
    std::string_view line = TrimSpace(raw);
    if (line.empty() || line.front() == '#') continue;
    size_t colon = line.find(':');
    std::string_view user = colon == std::string_view::npos ? line : line.substr(0, colon);
    std::string_view hash = colon == std::string_view::npos ? "" : line.substr(colon + 1);
    if (user.empty() || !IsBcrypt(hash)) {
      return MakeError(Code::kInvalidArgument,
                       path + ":" + std::to_string(n) +
                           ": want user:bcrypt-hash (htpasswd -B); other hash kinds are not accepted");
    }
    auto& entry = out[std::string(user)];
    if (entry.first.empty() || access == Access::kReadWrite) entry = {std::string(hash), access};
  }
  return Ok();
}

}  // namespace

Result<std::pair<std::string, std::string>> ParseBasicAuthorization(std::string_view header) {
  header = TrimSpace(header);
  if (header.size() < 6 || ToLower(header.substr(0, 6)) != "basic ") {
    return MakeError(Code::kInvalidArgument, "not basic authorization");
  }
  std::string_view b64 = TrimSpace(header.substr(6));
  if (b64.empty() || b64.size() % 4 != 0 || b64.size() > 4096) {
    return MakeError(Code::kInvalidArgument, "malformed basic authorization");
  }
  std::string decoded(b64.size() / 4 * 3, '\0');
  int n = ::EVP_DecodeBlock(reinterpret_cast<unsigned char*>(decoded.data()),
                            reinterpret_cast<const unsigned char*>(b64.data()),
                            static_cast<int>(b64.size()));
  if (n < 0) return MakeError(Code::kInvalidArgument, "malformed basic authorization");
  size_t padding = b64.ends_with("==") ? 2 : b64.ends_with('=') ? 1 : 0;
  decoded.resize(static_cast<size_t>(n) - padding);
  size_t colon = decoded.find(':');
  if (colon == std::string::npos) {
    return MakeError(Code::kInvalidArgument, "malformed basic authorization");
  }
  return std::make_pair(decoded.substr(0, colon), decoded.substr(colon + 1));
}

Result<std::unique_ptr<HtpasswdAuthenticator>> HtpasswdAuthenticator::Load(
    const std::string& read_write_file, const std::string& read_only_file) {
  std::map<std::string, std::pair<std::string, Access>, std::less<>> entries;
  if (Status st = LoadFile(read_write_file, Access::kReadWrite, entries); !st) return st.error();
  if (Status st = LoadFile(read_only_file, Access::kRead, entries); !st) return st.error();
  auto a = std::unique_ptr<HtpasswdAuthenticator>(new HtpasswdAuthenticator());
  for (auto& [user, e] : entries) a->users_[user] = User{e.first, e.second};
  return a;
}

std::optional<Access> HtpasswdAuthenticator::Cached(std::string_view authorization) const {
  auto creds = ParseBasicAuthorization(authorization);
  if (!creds) return Access::kDenied;
  auto user = users_.find(creds->first);
  if (user == users_.end()) return Access::kDenied;
  std::string digest = Sha256(creds->second);
  std::lock_guard lock(mu_);
  auto it = verified_.find(creds->first);
  if (it == verified_.end()) return std::nullopt;
  if (CRYPTO_memcmp(it->second.data(), digest.data(), digest.size()) != 0) return std::nullopt;
  return user->second.access;
}

Access HtpasswdAuthenticator::Verify(std::string_view authorization) {
  auto creds = ParseBasicAuthorization(authorization);
  if (!creds) return Access::kDenied;
  auto user = users_.find(creds->first);
  if (user == users_.end()) return Access::kDenied;
  struct crypt_data data;
  std::memset(&data, 0, sizeof(data));
  const char* out = ::crypt_r(creds->second.c_str(), user->second.hash.c_str(), &data);
  bool ok = out != nullptr && out[0] != '*' && std::strlen(out) == user->second.hash.size() &&
            CRYPTO_memcmp(out, user->second.hash.data(), user->second.hash.size()) == 0;
  if (!ok) return Access::kDenied;
  std::lock_guard lock(mu_);
  verified_[creds->first] = Sha256(creds->second);
  return user->second.access;
}

}  // namespace berth::auth
