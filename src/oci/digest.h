// Digest: a content address "algorithm:hex" (OCI image spec, descriptor.md "Digests").
// sha256 is the default and what Berth writes; sha512 is accepted and verified.
// Digester computes one over a stream. No I/O. Thread-compatible.
#pragma once

#include <compare>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"

namespace berth::oci {

enum class Algorithm { kSha256, kSha512 };

std::string_view AlgorithmName(Algorithm a);
// "sha256" -> kSha256, "sha512" -> kSha512; nullopt for any other name.
std::optional<Algorithm> AlgorithmFromName(std::string_view name);
size_t AlgorithmHexLength(Algorithm a);

class Digest {
 public:
  Digest() = default;  // empty; valid() is false
  // Parses "sha256:<64 lower hex>" or "sha512:<128 lower hex>". Anything else is InvalidArgument.
  static Result<Digest> Parse(std::string_view s);
  static Digest Of(std::string_view data, Algorithm a = Algorithm::kSha256);
  static Digest FromHex(Algorithm a, std::string hex);  // hex must already be valid

  bool valid() const { return !hex_.empty(); }
  Algorithm algorithm() const { return algorithm_; }
  const std::string& hex() const { return hex_; }
  std::string ToString() const;  // "sha256:abc..."
  std::string Encoded() const { return hex_; }
  std::string Short() const { return hex_.substr(0, 12); }  // Docker's 12-char short ID

  friend bool operator==(const Digest& a, const Digest& b) = default;
  friend auto operator<=>(const Digest& a, const Digest& b) = default;

 private:
  Algorithm algorithm_ = Algorithm::kSha256;
  std::string hex_;
};

// Streaming digest (OpenSSL EVP; uses the CPU's SHA extensions where present).
class Digester {
 public:
  explicit Digester(Algorithm a = Algorithm::kSha256);
  ~Digester();
  Digester(Digester&&) noexcept;
  Digester& operator=(Digester&&) noexcept;
  void Update(const void* data, size_t size);
  void Update(std::string_view data) { Update(data.data(), data.size()); }
  // An independent digester in the same state (EVP_MD_CTX_copy_ex): finishing the copy gives
  // the digest so far while this one goes on, and each can be updated without the other.
  Digester Clone() const;
  // Digest of everything so far. The digester can not be updated afterwards.
  Digest Finish();
  Algorithm algorithm() const { return algorithm_; }

 private:
  struct Impl;
  Algorithm algorithm_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace berth::oci
