// Hasher: a streaming digest whose value can be read at any point without ending the stream
// (IngestWriter::Digest() reports the digest so far). oci::Digester finishes on read, so the
// ingest paths use this instead. Private to content/. Thread-compatible.
#pragma once

#include <cstddef>
#include <memory>
#include <string_view>

#include "oci/digest.h"

namespace berth::content::internal {

class Hasher {
 public:
  explicit Hasher(oci::Algorithm algorithm);
  ~Hasher();
  Hasher(Hasher&&) noexcept;
  Hasher& operator=(Hasher&&) noexcept;

  void Update(std::string_view data);
  // The digest of everything so far; the hasher can still be updated.
  oci::Digest Peek() const;
  oci::Algorithm algorithm() const { return algorithm_; }

 private:
  struct Ctx;
  oci::Algorithm algorithm_;
  std::unique_ptr<Ctx> ctx_;
};

}  // namespace berth::content::internal
