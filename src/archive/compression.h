// Layer compression: detection by content, streaming decompression (gzip with ISA-L igzip,
// zstd with libzstd) and streaming compression.
//
// A layer's media type says how it is compressed, but Docker trusts the bytes instead
// (moby pkg/archive DetectCompression), and so do we: NewDecompressingReader peeks at the first
// bytes and picks the decoder. Concatenated gzip members and zstd frames are decoded as one
// stream. Corrupt or truncated input fails with Code::kDataLoss ("unexpected end of gzip
// stream"); bzip2 and xz are recognised and refused with kNotImplemented.
// Readers and writers here are single-threaded and own their codec state.
#pragma once

#include <memory>
#include <string_view>

#include "base/io.h"
#include "base/result.h"
#include "oci/media_types.h"

namespace berth::archive {

// One vocabulary with the layer media types (oci/media_types.h).
using Compression = oci::Compression;
using oci::CompressionName;  // "none", "gzip", "zstd"

// By magic number: gzip 1f 8b 08, zstd 28 b5 2f fd; anything else (including too few bytes)
// is kNone.
Compression DetectCompression(std::string_view first_bytes);

// A Reader yielding the decompressed bytes of its source.
class DecompressingReader : public Reader {
 public:
  // What the source turned out to be.
  virtual Compression compression() const = 0;
};

// Takes ownership of `src`.
Result<std::unique_ptr<DecompressingReader>> NewDecompressingReader(std::unique_ptr<Reader> src);
// Borrows `src`, which must outlive the returned reader.
Result<std::unique_ptr<DecompressingReader>> NewDecompressingReader(Reader& src);

// A Writer that compresses into another Writer. Close() writes the stream's trailer; without it
// the output is incomplete. Writing after Close() fails.
class CompressingWriter : public Writer {
 public:
  virtual Status Close() = 0;
};

// gzip (RFC 1952) with ISA-L's isal_deflate. `level` is an ISA-L level, 0 (fastest) to 3
// (smallest); 1 is ISA-L's default and what Berth pushes. `dst` must outlive the writer.
Result<std::unique_ptr<CompressingWriter>> NewGzipWriter(Writer& dst, int level = 1);
// zstd frame with libzstd; `level` from 1 to ZSTD_maxCLevel() (3 is zstd's default).
Result<std::unique_ptr<CompressingWriter>> NewZstdWriter(Writer& dst, int level = 3);

}  // namespace berth::archive
