#include "oci/digest.h"

#include <openssl/evp.h>

#include "base/strings.h"

namespace berth::oci {

std::string_view AlgorithmName(Algorithm a) {
  return a == Algorithm::kSha256 ? "sha256" : "sha512";
}
size_t AlgorithmHexLength(Algorithm a) { return a == Algorithm::kSha256 ? 64 : 128; }

std::optional<Algorithm> AlgorithmFromName(std::string_view name) {
  if (name == "sha256") return Algorithm::kSha256;
  if (name == "sha512") return Algorithm::kSha512;
  return std::nullopt;
}

Result<Digest> Digest::Parse(std::string_view s) {
  size_t colon = s.find(':');
  if (colon == std::string_view::npos) {
    return MakeError(Code::kInvalidArgument,
                     "invalid digest \"" + std::string(s) + "\": no algorithm");
  }
  std::string_view alg = s.substr(0, colon);
  std::string_view hex = s.substr(colon + 1);
  std::optional<Algorithm> parsed = AlgorithmFromName(alg);
  if (!parsed) {
    return MakeError(Code::kInvalidArgument,
                     "unsupported digest algorithm \"" + std::string(alg) + "\"");
  }
  Algorithm a = *parsed;
  if (hex.size() != AlgorithmHexLength(a) || !IsHexLower(hex)) {
    return MakeError(Code::kInvalidArgument,
                     "invalid digest \"" + std::string(s) + "\": bad length or not lower-case hex");
  }
  return FromHex(a, std::string(hex));
}

Digest Digest::FromHex(Algorithm a, std::string hex) {
  Digest d;
  d.algorithm_ = a;
  d.hex_ = std::move(hex);
  return d;
}

Digest Digest::Of(std::string_view data, Algorithm a) {
  Digester dg(a);
  dg.Update(data);
  return dg.Finish();
}

std::string Digest::ToString() const {
  if (!valid()) return "";
  return std::string(AlgorithmName(algorithm_)) + ":" + hex_;
}

struct Digester::Impl {
  EVP_MD_CTX* ctx = nullptr;
  ~Impl() { EVP_MD_CTX_free(ctx); }
};

Digester::Digester(Algorithm a) : algorithm_(a), impl_(std::make_unique<Impl>()) {
  impl_->ctx = EVP_MD_CTX_new();
  BERTH_CHECK(impl_->ctx != nullptr);
  const EVP_MD* md = a == Algorithm::kSha256 ? EVP_sha256() : EVP_sha512();
  BERTH_CHECK(EVP_DigestInit_ex(impl_->ctx, md, nullptr) == 1);
}

Digester::~Digester() = default;
Digester::Digester(Digester&&) noexcept = default;
Digester& Digester::operator=(Digester&&) noexcept = default;

Digester Digester::Clone() const {
  Digester copy(algorithm_);
  BERTH_CHECK(EVP_MD_CTX_copy_ex(copy.impl_->ctx, impl_->ctx) == 1);
  return copy;
}

void Digester::Update(const void* data, size_t size) {
  BERTH_CHECK(EVP_DigestUpdate(impl_->ctx, data, size) == 1);
}

Digest Digester::Finish() {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  BERTH_CHECK(EVP_DigestFinal_ex(impl_->ctx, md, &len) == 1);
  static const char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(len * 2);
  for (unsigned i = 0; i < len; ++i) {
    hex += kHex[md[i] >> 4];
    hex += kHex[md[i] & 0xf];
  }
  return Digest::FromHex(algorithm_, std::move(hex));
}

}  // namespace berth::oci
