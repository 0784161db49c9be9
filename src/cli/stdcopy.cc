#include "cli/stdcopy.h"

#include <fmt/format.h>

namespace berth::cli {

Status StdDemuxer::Write(std::string_view data) {
  while (!data.empty()) {
    if (remaining_ == 0) {
      size_t take = std::min(data.size(), 8 - header_.size());
      header_.append(data.substr(0, take));
      data.remove_prefix(take);
      if (header_.size() < 8) return Ok();
      stream_ = static_cast<uint8_t>(header_[0]);
      remaining_ = static_cast<uint32_t>(static_cast<uint8_t>(header_[4])) << 24 |
                   static_cast<uint32_t>(static_cast<uint8_t>(header_[5])) << 16 |
                   static_cast<uint32_t>(static_cast<uint8_t>(header_[6])) << 8 |
                   static_cast<uint32_t>(static_cast<uint8_t>(header_[7]));
      header_.clear();
      if (stream_ > 3) {
        return MakeError(Code::kDataLoss, fmt::format("Unrecognized input header: {}", stream_));
      }
      continue;
    }
    size_t take = std::min<size_t>(data.size(), remaining_);
    std::string_view chunk = data.substr(0, take);
    data.remove_prefix(take);
    remaining_ -= static_cast<uint32_t>(take);
    switch (stream_) {
      case 0:
      case 1:
        BERTH_RETURN_IF_ERROR(out_->Write(chunk));
        break;
      case 2:
        BERTH_RETURN_IF_ERROR(err_->Write(chunk));
        break;
      default:
        system_error_.append(chunk);
        if (remaining_ == 0) {
          return MakeError(Code::kInternal,
                           fmt::format("error from daemon in stream: {}", system_error_));
        }
    }
  }
  return Ok();
}

Status StdDemuxer::Finish() const {
  if (!header_.empty() || remaining_ != 0) {
    return MakeError(Code::kDataLoss, "unexpected EOF in the middle of a stream frame");
  }
  return Ok();
}

Result<std::string> DetachKeyBytes(std::string_view keys) {
  std::string out;
  size_t start = 0;
  while (start <= keys.size()) {
    size_t comma = keys.find(',', start);
    std::string_view key = keys.substr(
        start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    if (key.size() == 1) {
      out += key[0];
    } else if (key.size() == 6 && key.starts_with("ctrl-") &&
               ((key[5] >= 'a' && key[5] <= 'z') || key[5] == '@' || key[5] == '[' ||
                key[5] == '\\' || key[5] == ']' || key[5] == '^' || key[5] == '_')) {
      char c = key[5];
      out += static_cast<char>(c >= 'a' && c <= 'z' ? c - 'a' + 1 : c - '@');
    } else if (key == "DEL") {
      out += '\x7f';
    } else {
      return MakeError(Code::kInvalidArgument, fmt::format("Unknown character: '{}'", key));
    }
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return out;
}

bool DetachFilter::Feed(std::string_view input, std::string& forward) {
  for (char c : input) {
    if (keys_.empty()) {
      forward += c;
      continue;
    }
    if (c == keys_[matched_]) {
      if (++matched_ == keys_.size()) {
        matched_ = 0;
        return true;
      }
      continue;
    }
    // Not the sequence after all: the held keys go out as typed.
    forward.append(keys_, 0, matched_);
    matched_ = 0;
    if (c == keys_[0]) {
      matched_ = 1;
    } else {
      forward += c;
    }
  }
  return false;
}

}  // namespace berth::cli
