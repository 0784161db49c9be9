// gzip with ISA-L igzip: isal_inflate with crc_flag ISAL_GZIP parses the member header and
// verifies its CRC32 and size trailer; isal_deflate with gzip_flag IGZIP_GZIP writes them.
#include <algorithm>
#include <cstdint>
#include <limits>
#include <vector>

#include <fmt/format.h>
#include <isa-l/igzip_lib.h>

#include "archive/internal/codecs.h"

namespace berth::archive::internal {
namespace {

constexpr uint32_t kMaxChunk = std::numeric_limits<uint32_t>::max();

Error InflateError(int ret) {
  std::string_view what;
  switch (ret) {
    case ISAL_INVALID_BLOCK:
      what = "invalid deflate block";
      break;
    case ISAL_INVALID_SYMBOL:
      what = "invalid deflate symbol";
      break;
    case ISAL_INVALID_LOOKBACK:
      what = "invalid lookback distance";
      break;
    case ISAL_INVALID_WRAPPER:
      what = "invalid gzip header";
      break;
    case ISAL_UNSUPPORTED_METHOD:
      what = "unsupported gzip compression method";
      break;
    case ISAL_INCORRECT_CHECKSUM:
      what = "gzip checksum mismatch";
      break;
    default:
      what = "decompression failed";
      break;
  }
  return MakeError(Code::kDataLoss, fmt::format("gzip: {} (isal_inflate {})", what, ret));
}

class GzipReader final : public DecompressingReader {
 public:
  explicit GzipReader(std::unique_ptr<PeekedSource> src)
      : src_(std::move(src)), in_(kCodecBufferSize), state_(std::make_unique<inflate_state>()) {
    isal_inflate_init(state_.get());
    state_->crc_flag = ISAL_GZIP;
  }

  Compression compression() const override { return Compression::kGzip; }

  Result<size_t> Read(char* buf, size_t size) override {
    if (done_ || size == 0) return size_t{0};
    size_t produced = 0;
    while (produced < size) {
      if (member_finished_) {
        // Between members: either the end, or the next member (gzip allows concatenation).
        if (state_->avail_in == 0) {
          if (eof_ || produced > 0) {
            done_ = eof_;
            break;
          }
          BERTH_RETURN_IF_ERROR(Fill());
          continue;
        }
        if (state_->next_in[0] != 0x1f) {
          return MakeError(Code::kDataLoss, "gzip: trailing garbage after gzip stream");
        }
        uint8_t* next_in = state_->next_in;
        uint32_t avail_in = state_->avail_in;
        isal_inflate_reset(state_.get());
        state_->crc_flag = ISAL_GZIP;
        state_->next_in = next_in;
        state_->avail_in = avail_in;
        member_finished_ = false;
      }
      if (state_->avail_in == 0 && !eof_) {
        if (produced > 0) break;  // return what we have rather than block on the source
        BERTH_RETURN_IF_ERROR(Fill());
      }
      uint32_t avail_out = static_cast<uint32_t>(std::min<size_t>(size - produced, kMaxChunk));
      state_->next_out = reinterpret_cast<uint8_t*>(buf + produced);
      state_->avail_out = avail_out;
      int ret = isal_inflate(state_.get());
      size_t out = avail_out - state_->avail_out;
      produced += out;
      if (ret < 0) return InflateError(ret);
      if (state_->block_state == ISAL_BLOCK_FINISH) {
        member_finished_ = true;
        continue;
      }
      if (eof_ && state_->avail_in == 0 && out == 0) {
        return MakeError(Code::kDataLoss, "gzip: unexpected end of gzip stream");
      }
    }
    return produced;
  }

 private:
  Status Fill() {
    BERTH_ASSIGN_OR_RETURN(size_t n, src_->Read(reinterpret_cast<char*>(in_.data()), in_.size()));
    if (n == 0) {
      eof_ = true;
      return Ok();
    }
    state_->next_in = in_.data();
    state_->avail_in = static_cast<uint32_t>(n);
    return Ok();
  }

  std::unique_ptr<PeekedSource> src_;
  std::vector<uint8_t> in_;
  std::unique_ptr<inflate_state> state_;
  bool eof_ = false;              // the source is exhausted
  bool member_finished_ = false;  // the current member's trailer was verified
  bool done_ = false;
};

class GzipWriter final : public CompressingWriter {
 public:
  GzipWriter(Writer& dst, int level)
      : dst_(dst), out_(kCodecBufferSize), stream_(std::make_unique<isal_zstream>()) {
    isal_deflate_init(stream_.get());
    stream_->gzip_flag = IGZIP_GZIP;
    stream_->level = static_cast<uint32_t>(level);
    size_t level_buf_size = 0;
    switch (level) {
      case 1:
        level_buf_size = ISAL_DEF_LVL1_DEFAULT;
        break;
      case 2:
        level_buf_size = ISAL_DEF_LVL2_DEFAULT;
        break;
      case 3:
        level_buf_size = ISAL_DEF_LVL3_DEFAULT;
        break;
      default:
        break;
    }
    level_buf_.resize(level_buf_size);
    stream_->level_buf = level_buf_.empty() ? nullptr : level_buf_.data();
    stream_->level_buf_size = static_cast<uint32_t>(level_buf_.size());
  }

  Status Write(std::string_view data) override {
    if (closed_) return MakeError(Code::kFailedPrecondition, "gzip: write after close");
    while (!data.empty()) {
      uint32_t chunk = static_cast<uint32_t>(std::min<size_t>(data.size(), kMaxChunk));
      // isal_deflate reads but does not modify the input; its API is not const-correct.
      stream_->next_in = const_cast<uint8_t*>(reinterpret_cast<const uint8_t*>(data.data()));
      stream_->avail_in = chunk;
      stream_->end_of_stream = 0;
      while (stream_->avail_in > 0) BERTH_RETURN_IF_ERROR(Deflate());
      data.remove_prefix(chunk);
    }
    return Ok();
  }

  Status Close() override {
    if (closed_) return Ok();
    closed_ = true;
    stream_->next_in = nullptr;
    stream_->avail_in = 0;
    stream_->end_of_stream = 1;
    while (stream_->internal_state.state != ZSTATE_END) BERTH_RETURN_IF_ERROR(Deflate());
    return Ok();
  }

 private:
  Status Deflate() {
    stream_->next_out = out_.data();
    stream_->avail_out = static_cast<uint32_t>(out_.size());
    int ret = isal_deflate(stream_.get());
    if (ret != COMP_OK) {
      return MakeError(Code::kInternal, fmt::format("gzip: isal_deflate failed ({})", ret));
    }
    size_t n = out_.size() - stream_->avail_out;
    if (n > 0) {
      return dst_.Write(std::string_view(reinterpret_cast<const char*>(out_.data()), n));
    }
    return Ok();
  }

  Writer& dst_;
  std::vector<uint8_t> out_;
  std::vector<uint8_t> level_buf_;
  std::unique_ptr<isal_zstream> stream_;
  bool closed_ = false;
};

}  // namespace

std::unique_ptr<DecompressingReader> NewGzipReader(std::unique_ptr<PeekedSource> src) {
  return std::make_unique<GzipReader>(std::move(src));
}

}  // namespace berth::archive::internal

namespace berth::archive {

Result<std::unique_ptr<CompressingWriter>> NewGzipWriter(Writer& dst, int level) {
  if (level < ISAL_DEF_MIN_LEVEL || level > ISAL_DEF_MAX_LEVEL) {
    return MakeError(Code::kInvalidArgument,
                     fmt::format("gzip: level {} out of ISA-L's range {}..{}", level,
                                 ISAL_DEF_MIN_LEVEL, ISAL_DEF_MAX_LEVEL));
  }
  return std::unique_ptr<CompressingWriter>(std::make_unique<internal::GzipWriter>(dst, level));
}

}  // namespace berth::archive
