// JsonLogWriter: Docker's json-file encoding, line splitting (moby daemon/logger/copier.go) and
// rotation (moby daemon/logger/loggerutils/logfile.go). The reader is json_log_reader.cc.
#include "shim/json_log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <string>
#include <utility>

#include "base/file.h"
#include "base/strings.h"

namespace berth::shim {
namespace {

// Appends `s` as a JSON string body the way Go's encoding/json does: <, > and & as \u00XX,
// invalid UTF-8 as U+FFFD, U+2028 and U+2029 escaped.
void AppendJsonString(std::string* out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  auto escape_u = [&](unsigned c) {
    out->append("\\u00");
    out->push_back(kHex[(c >> 4) & 0xf]);
    out->push_back(kHex[c & 0xf]);
  };
  size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      switch (c) {
        case '"':
          out->append("\\\"");
          break;
        case '\\':
          out->append("\\\\");
          break;
        case '\n':
          out->append("\\n");
          break;
        case '\r':
          out->append("\\r");
          break;
        case '\t':
          out->append("\\t");
          break;
        case '<':
        case '>':
        case '&':
          escape_u(c);
          break;
        default:
          if (c < 0x20) {
            escape_u(c);
          } else {
            out->push_back(static_cast<char>(c));
          }
      }
      ++i;
      continue;
    }
    // A UTF-8 sequence: its length from the lead byte, then check the continuation bytes and
    // reject overlong forms, surrogates and values past U+10FFFF.
    size_t len = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 ? 2 : 0;
    bool valid = len != 0 && c <= 0xf4 && i + len <= s.size();
    uint32_t cp = len == 2 ? (c & 0x1fu) : len == 3 ? (c & 0x0fu) : (c & 0x07u);
    for (size_t k = 1; valid && k < len; ++k) {
      auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xc0) != 0x80) valid = false;
      cp = (cp << 6) | (cc & 0x3fu);
    }
    if (valid) {
      if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
          (len == 4 && (cp < 0x10000 || cp > 0x10ffff))) {
        valid = false;
      }
    }
    if (!valid) {
      out->append("\\ufffd");
      ++i;
      continue;
    }
    if (cp == 0x2028 || cp == 0x2029) {
      out->append(cp == 0x2028 ? "\\u2028" : "\\u2029");
    } else {
      out->append(s.substr(i, len));
    }
    i += len;
  }
}

constexpr std::string_view kStreamNames[2] = {"stdout", "stderr"};

}  // namespace

Result<std::unique_ptr<JsonLogWriter>> JsonLogWriter::Open(std::string path, int64_t max_size,
                                                           int max_file) {
  if (max_size < 0) return MakeError(Code::kInvalidArgument, "max-size must be >= 0");
  if (max_file < 1) return MakeError(Code::kInvalidArgument, "max-file must be >= 1");
  BERTH_ASSIGN_OR_RETURN(UniqueFd fd,
                         OpenFile(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640));
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return ErrnoError("fstat " + path);
  return std::unique_ptr<JsonLogWriter>(
      new JsonLogWriter(std::move(path), std::move(fd), st.st_size, max_size, max_file));
}

JsonLogWriter::JsonLogWriter(std::string path, UniqueFd fd, int64_t size, int64_t max_size,
                             int max_file)
    : path_(std::move(path)),
      fd_(std::move(fd)),
      current_size_(size),
      max_size_(max_size),
      max_file_(max_file) {}

JsonLogWriter::~JsonLogWriter() = default;

Status JsonLogWriter::Write(std::string_view stream_name, std::string_view bytes,
                            int64_t unix_nanos) {
  size_t stream = 0;
  if (stream_name == kStreamNames[1]) {
    stream = 1;
  } else if (stream_name != kStreamNames[0]) {
    return MakeError(Code::kInvalidArgument,
                     "log stream must be stdout or stderr, not " + std::string(stream_name));
  }
  Pending& pending = pending_[stream];
  while (!bytes.empty()) {
    if (pending.bytes.empty()) pending.time = unix_nanos;
    size_t room = kMaxLogLineSize - pending.bytes.size();
    size_t nl = bytes.substr(0, room).find('\n');
    if (nl != std::string_view::npos) {
      // A complete line: write it straight from `bytes` when nothing is pending.
      std::string_view rest = bytes.substr(0, nl + 1);
      if (pending.bytes.empty()) {
        BERTH_RETURN_IF_ERROR(WriteEntry(stream, rest, pending.time));
      } else {
        pending.bytes.append(rest);
        BERTH_RETURN_IF_ERROR(WriteEntry(stream, pending.bytes, pending.time));
        pending.bytes.clear();
      }
      bytes.remove_prefix(nl + 1);
      continue;
    }
    if (bytes.size() < room) {
      pending.bytes.append(bytes);
      break;
    }
    // The line reaches the limit: its first kMaxLogLineSize bytes are an entry of their own.
    pending.bytes.append(bytes.substr(0, room));
    bytes.remove_prefix(room);
    BERTH_RETURN_IF_ERROR(WriteEntry(stream, pending.bytes, pending.time));
    pending.bytes.clear();
  }
  return Ok();
}

Status JsonLogWriter::Flush() {
  for (size_t stream = 0; stream < 2; ++stream) {
    Pending& pending = pending_[stream];
    if (pending.bytes.empty()) continue;
    BERTH_RETURN_IF_ERROR(WriteEntry(stream, pending.bytes, pending.time));
    pending.bytes.clear();
  }
  return Ok();
}

Status JsonLogWriter::WriteEntry(size_t stream, std::string_view line, int64_t unix_nanos) {
  entry_.clear();
  entry_.append(R"({"log":")");
  AppendJsonString(&entry_, line);
  entry_.append(R"(","stream":")");
  entry_.append(kStreamNames[stream]);
  entry_.append(R"(","time":")");
  entry_.append(FormatRfc3339Nano(unix_nanos));
  entry_.append("\"}\n");
  auto size = static_cast<int64_t>(entry_.size());
  if (max_size_ > 0 && current_size_ > 0 && current_size_ + size > max_size_) {
    BERTH_RETURN_IF_ERROR(Rotate());
  }
  BERTH_RETURN_IF_ERROR(WriteAll(fd_.get(), entry_));
  current_size_ += size;
  return Ok();
}

// path.<max_file-2> -> path.<max_file-1>, ..., path -> path.1 (path.<max_file-1> is dropped);
// with max_file 1 the file is truncated. Readers holding the old file keep reading it.
Status JsonLogWriter::Rotate() {
  if (max_file_ == 1) {
    if (::ftruncate(fd_.get(), 0) != 0) return ErrnoError("truncate " + path_);
    current_size_ = 0;
    return Ok();
  }
  auto name = [&](int n) { return n == 0 ? path_ : path_ + "." + std::to_string(n); };
  for (int n = max_file_ - 1; n >= 1; --n) {
    if (::rename(name(n - 1).c_str(), name(n).c_str()) != 0 && errno != ENOENT) {
      return ErrnoError("rotate " + name(n - 1));
    }
  }
  BERTH_ASSIGN_OR_RETURN(UniqueFd fd,
                         OpenFile(path_, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640));
  fd_ = std::move(fd);
  current_size_ = 0;
  return Ok();
}

}  // namespace berth::shim
