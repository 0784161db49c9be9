#include "archive/compression.h"

#include <cstring>
#include <string>

#include "archive/internal/codecs.h"

namespace berth::archive {
namespace {

constexpr std::string_view kGzipMagic("\x1f\x8b\x08", 3);
constexpr std::string_view kZstdMagic("\x28\xb5\x2f\xfd", 4);
constexpr std::string_view kBzip2Magic("BZh", 3);
constexpr std::string_view kXzMagic(
    "\xfd"
    "7zXZ\x00",
    6);
constexpr size_t kPeekSize = 6;  // the longest magic

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && s.substr(0, prefix.size()) == prefix;
}

class PlainReader final : public DecompressingReader {
 public:
  explicit PlainReader(std::unique_ptr<internal::PeekedSource> src) : src_(std::move(src)) {}
  Result<size_t> Read(char* buf, size_t size) override { return src_->Read(buf, size); }
  Compression compression() const override { return Compression::kNone; }

 private:
  std::unique_ptr<internal::PeekedSource> src_;
};

Result<std::unique_ptr<DecompressingReader>> Open(std::unique_ptr<Reader> owned, Reader& src) {
  std::string prefix(kPeekSize, '\0');
  size_t have = 0;
  while (have < kPeekSize) {
    BERTH_ASSIGN_OR_RETURN(size_t n, src.Read(prefix.data() + have, kPeekSize - have));
    if (n == 0) break;
    have += n;
  }
  prefix.resize(have);
  if (StartsWith(prefix, kBzip2Magic) || StartsWith(prefix, kXzMagic)) {
    return MakeError(Code::kNotImplemented,
                     std::string(StartsWith(prefix, kXzMagic) ? "xz" : "bzip2") +
                         " compressed layers are not supported (only gzip and zstd)");
  }
  Compression c = DetectCompression(prefix);
  auto source = std::make_unique<internal::PeekedSource>(std::move(owned), src, std::move(prefix));
  switch (c) {
    case Compression::kGzip:
      return internal::NewGzipReader(std::move(source));
    case Compression::kZstd:
      return internal::NewZstdReader(std::move(source));
    case Compression::kNone:
      break;
  }
  return std::unique_ptr<DecompressingReader>(std::make_unique<PlainReader>(std::move(source)));
}

}  // namespace

Compression DetectCompression(std::string_view first_bytes) {
  if (StartsWith(first_bytes, kGzipMagic)) return Compression::kGzip;
  if (StartsWith(first_bytes, kZstdMagic)) return Compression::kZstd;
  return Compression::kNone;
}

Result<std::unique_ptr<DecompressingReader>> NewDecompressingReader(std::unique_ptr<Reader> src) {
  Reader& ref = *src;
  return Open(std::move(src), ref);
}

Result<std::unique_ptr<DecompressingReader>> NewDecompressingReader(Reader& src) {
  return Open(nullptr, src);
}

namespace internal {

Result<size_t> PeekedSource::Read(char* buf, size_t size) {
  if (prefix_pos_ < prefix_.size()) {
    size_t n = std::min(size, prefix_.size() - prefix_pos_);
    std::memcpy(buf, prefix_.data() + prefix_pos_, n);
    prefix_pos_ += n;
    return n;
  }
  return src_.Read(buf, size);
}

}  // namespace internal
}  // namespace berth::archive
