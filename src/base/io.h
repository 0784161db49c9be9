// Byte streams: the narrow Reader/Writer interfaces every streaming path uses (layer apply,
// ingest, HTTP bodies, save/load), so large data is never held in memory whole.
// Implementations here: over a file descriptor and over a string. Not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/result.h"

namespace berth {

class Reader {
 public:
  virtual ~Reader() = default;
  // Reads up to `size` bytes into `buf`. Returns 0 only at end of stream.
  virtual Result<size_t> Read(char* buf, size_t size) = 0;
};

class Writer {
 public:
  virtual ~Writer() = default;
  // Writes all of `data` or fails.
  virtual Status Write(std::string_view data) = 0;
};

// Reads from a borrowed fd (not closed here).
class FdReader : public Reader {
 public:
  explicit FdReader(int fd) : fd_(fd) {}
  Result<size_t> Read(char* buf, size_t size) override;

 private:
  int fd_;
};

// Writes to a borrowed fd (not closed here).
class FdWriter : public Writer {
 public:
  explicit FdWriter(int fd) : fd_(fd) {}
  Status Write(std::string_view data) override;

 private:
  int fd_;
};

class StringReader : public Reader {
 public:
  explicit StringReader(std::string data) : data_(std::move(data)) {}
  Result<size_t> Read(char* buf, size_t size) override;

 private:
  std::string data_;
  size_t pos_ = 0;
};

class StringWriter : public Writer {
 public:
  Status Write(std::string_view data) override {
    out_.append(data);
    return Ok();
  }
  const std::string& str() const { return out_; }
  std::string Take() { return std::move(out_); }

 private:
  std::string out_;
};

// Copies `src` to `dst` until end of stream; returns the number of bytes copied.
Result<uint64_t> Copy(Reader& src, Writer& dst);
// Reads all of `src` into a string; fails with ResourceExhausted past `limit` bytes.
Result<std::string> ReadAll(Reader& src, size_t limit);

}  // namespace berth
