// Private to archive/: the codec implementations behind compression.h.
#pragma once

#include <memory>
#include <string>

#include "archive/compression.h"
#include "base/io.h"

namespace berth::archive::internal {

// The source of a decompressor: first the bytes already peeked, then the rest of the Reader.
class PeekedSource {
 public:
  PeekedSource(std::unique_ptr<Reader> owned, Reader& src, std::string prefix)
      : owned_(std::move(owned)), src_(src), prefix_(std::move(prefix)) {}
  Result<size_t> Read(char* buf, size_t size);

 private:
  std::unique_ptr<Reader> owned_;  // null when borrowed
  Reader& src_;
  std::string prefix_;
  size_t prefix_pos_ = 0;
};

std::unique_ptr<DecompressingReader> NewGzipReader(std::unique_ptr<PeekedSource> src);
std::unique_ptr<DecompressingReader> NewZstdReader(std::unique_ptr<PeekedSource> src);

// Size of the compressed-side buffers: large, so that each read of a network or file source
// and each codec call moves a lot of data (the apply path is benchmarked against tar -x).
inline constexpr size_t kCodecBufferSize = 1 << 20;

}  // namespace berth::archive::internal
