// zstd with libzstd's streaming API (zstd.h "Streaming decompression"): ZSTD_decompressStream
// returns 0 exactly when a frame is fully decoded and flushed, and moves on to the next frame by
// itself, so concatenated frames are one stream.
#include <vector>

#include <fmt/format.h>
#include <zstd.h>

#include "archive/internal/codecs.h"

namespace berth::archive::internal {
namespace {

class ZstdReader final : public DecompressingReader {
 public:
  explicit ZstdReader(std::unique_ptr<PeekedSource> src)
      : src_(std::move(src)), in_buf_(kCodecBufferSize), ds_(ZSTD_createDStream()) {
    BERTH_CHECK(ds_ != nullptr);  // allocation failure
    ZSTD_initDStream(ds_);
  }
  ~ZstdReader() override { ZSTD_freeDStream(ds_); }
  ZstdReader(const ZstdReader&) = delete;
  ZstdReader& operator=(const ZstdReader&) = delete;

  Compression compression() const override { return Compression::kZstd; }

  Result<size_t> Read(char* buf, size_t size) override {
    if (done_ || size == 0) return size_t{0};
    ZSTD_outBuffer out{buf, size, 0};
    while (out.pos < out.size) {
      if (in_.pos == in_.size && !eof_) {
        if (out.pos > 0) break;
        BERTH_ASSIGN_OR_RETURN(size_t n, src_->Read(in_buf_.data(), in_buf_.size()));
        if (n == 0) {
          eof_ = true;
        } else {
          in_ = ZSTD_inBuffer{in_buf_.data(), n, 0};
        }
      }
      if (in_.pos == in_.size && eof_ && last_ret_ == 0) {
        done_ = true;
        break;
      }
      size_t before = out.pos;
      size_t ret = ZSTD_decompressStream(ds_, &out, &in_);
      if (ZSTD_isError(ret)) {
        return MakeError(Code::kDataLoss, fmt::format("zstd: {}", ZSTD_getErrorName(ret)));
      }
      last_ret_ = ret;
      if (ret != 0 && eof_ && in_.pos == in_.size && out.pos == before) {
        return MakeError(Code::kDataLoss, "zstd: unexpected end of zstd stream");
      }
    }
    return out.pos;
  }

 private:
  std::unique_ptr<PeekedSource> src_;
  std::vector<char> in_buf_;
  ZSTD_inBuffer in_{nullptr, 0, 0};
  ZSTD_DStream* ds_;
  size_t last_ret_ = 1;  // nonzero until a frame has been completed
  bool eof_ = false;
  bool done_ = false;
};

class ZstdWriter final : public CompressingWriter {
 public:
  ZstdWriter(Writer& dst, ZSTD_CCtx* cctx) : dst_(dst), out_(ZSTD_CStreamOutSize()), cctx_(cctx) {}
  ~ZstdWriter() override { ZSTD_freeCCtx(cctx_); }
  ZstdWriter(const ZstdWriter&) = delete;
  ZstdWriter& operator=(const ZstdWriter&) = delete;

  Status Write(std::string_view data) override {
    if (closed_) return MakeError(Code::kFailedPrecondition, "zstd: write after close");
    ZSTD_inBuffer in{data.data(), data.size(), 0};
    while (in.pos < in.size) {
      BERTH_ASSIGN_OR_RETURN([[maybe_unused]] size_t hint, Compress(in, ZSTD_e_continue));
    }
    return Ok();
  }

  Status Close() override {
    if (closed_) return Ok();
    closed_ = true;
    ZSTD_inBuffer in{nullptr, 0, 0};
    while (true) {
      BERTH_ASSIGN_OR_RETURN(size_t remaining, Compress(in, ZSTD_e_end));
      if (remaining == 0) return Ok();
    }
  }

 private:
  // One ZSTD_compressStream2 call; writes what it produced. Returns zstd's "remaining" hint.
  Result<size_t> Compress(ZSTD_inBuffer& in, ZSTD_EndDirective directive) {
    ZSTD_outBuffer out{out_.data(), out_.size(), 0};
    size_t ret = ZSTD_compressStream2(cctx_, &out, &in, directive);
    if (ZSTD_isError(ret)) {
      return MakeError(Code::kInternal, fmt::format("zstd: {}", ZSTD_getErrorName(ret)));
    }
    if (out.pos > 0) BERTH_RETURN_IF_ERROR(dst_.Write(std::string_view(out_.data(), out.pos)));
    return ret;
  }

  Writer& dst_;
  std::vector<char> out_;
  ZSTD_CCtx* cctx_;
  bool closed_ = false;
};

}  // namespace

std::unique_ptr<DecompressingReader> NewZstdReader(std::unique_ptr<PeekedSource> src) {
  return std::make_unique<ZstdReader>(std::move(src));
}

}  // namespace berth::archive::internal

namespace berth::archive {

Result<std::unique_ptr<CompressingWriter>> NewZstdWriter(Writer& dst, int level) {
  if (level < 1 || level > ZSTD_maxCLevel()) {
    return MakeError(Code::kInvalidArgument,
                     fmt::format("zstd: level {} out of range 1..{}", level, ZSTD_maxCLevel()));
  }
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  BERTH_CHECK(cctx != nullptr);
  size_t ret = ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, level);
  if (ZSTD_isError(ret)) {
    ZSTD_freeCCtx(cctx);
    return MakeError(Code::kInvalidArgument, fmt::format("zstd: {}", ZSTD_getErrorName(ret)));
  }
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 1);
  return std::unique_ptr<CompressingWriter>(std::make_unique<internal::ZstdWriter>(dst, cctx));
}

}  // namespace berth::archive
