#include "content/internal/hasher.h"

#include <string>

#include <openssl/evp.h>

namespace berth::content::internal {

struct Hasher::Ctx {
  EVP_MD_CTX* md = nullptr;
  ~Ctx() { EVP_MD_CTX_free(md); }
};

Hasher::Hasher(oci::Algorithm algorithm) : algorithm_(algorithm), ctx_(std::make_unique<Ctx>()) {
  ctx_->md = EVP_MD_CTX_new();
  BERTH_CHECK(ctx_->md != nullptr);
  const EVP_MD* md = algorithm == oci::Algorithm::kSha256 ? EVP_sha256() : EVP_sha512();
  BERTH_CHECK(EVP_DigestInit_ex(ctx_->md, md, nullptr) == 1);
}

Hasher::~Hasher() = default;
Hasher::Hasher(Hasher&&) noexcept = default;
Hasher& Hasher::operator=(Hasher&&) noexcept = default;

void Hasher::Update(std::string_view data) {
  BERTH_CHECK(EVP_DigestUpdate(ctx_->md, data.data(), data.size()) == 1);
}

oci::Digest Hasher::Peek() const {
  Ctx copy;
  copy.md = EVP_MD_CTX_new();
  BERTH_CHECK(copy.md != nullptr);
  BERTH_CHECK(EVP_MD_CTX_copy_ex(copy.md, ctx_->md) == 1);
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  BERTH_CHECK(EVP_DigestFinal_ex(copy.md, out, &len) == 1);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(len * 2);
  for (unsigned i = 0; i < len; ++i) {
    hex += kHex[out[i] >> 4];
    hex += kHex[out[i] & 0xf];
  }
  return oci::Digest::FromHex(algorithm_, std::move(hex));
}

}  // namespace berth::content::internal
