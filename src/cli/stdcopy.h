// Byte-stream pieces of attach, logs and exec: docker's stdcopy demultiplexer for Tty=false
// streams, and the detach-key filter on stdin (moby/term's escapeProxy and ToBytes). Both work
// on chunks as they arrive and never hold more than a frame header or a partial key sequence.
// Not thread-safe; one per stream.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/io.h"
#include "base/result.h"

namespace berth::cli {

// Splits a multiplexed stream: frames of [stream, 0, 0, 0, size (big-endian uint32)] + payload,
// stream 0/1 to `out`, 2 to `err`; 3 (systemerr) fails with the payload as message.
class StdDemuxer : public Writer {
 public:
  StdDemuxer(Writer* out, Writer* err) : out_(out), err_(err) {}
  Status Write(std::string_view data) override;
  // Whether the stream ended between frames.
  Status Finish() const;

 private:
  Writer* out_;
  Writer* err_;
  std::string header_;
  std::string system_error_;
  uint32_t remaining_ = 0;
  uint8_t stream_ = 0;
};

// docker's default detach sequence, ctrl-p ctrl-q.
inline constexpr std::string_view kDefaultDetachKeys = "ctrl-p,ctrl-q";

// "ctrl-p,ctrl-q" -> "\x10\x11" (term.ToBytes): single characters, ctrl-@..ctrl-_, DEL.
Result<std::string> DetachKeyBytes(std::string_view keys);

// Passes stdin through, holding back bytes that may start the detach sequence.
class DetachFilter {
 public:
  explicit DetachFilter(std::string keys) : keys_(std::move(keys)) {}
  // Appends to `forward` what may be sent now; true once the whole sequence was typed (what
  // came before it is in `forward`, the sequence itself is never sent).
  bool Feed(std::string_view input, std::string& forward);

 private:
  std::string keys_;
  size_t matched_ = 0;
};

}  // namespace berth::cli
