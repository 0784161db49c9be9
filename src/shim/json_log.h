// Docker's json-file log driver: the container's stdout and stderr as one JSON object per line,
//   {"log":"hi\n","stream":"stdout","time":"2024-01-01T00:00:00.123456789Z"}
// with size-based rotation (path, path.1 ... path.<max_file-1>, oldest last), and the reader
// behind `docker logs` (--since, --until, --tail, --follow) over the rotated files.
//
// The shim owns one JsonLogWriter per container; readers (the engine serving `docker logs`) open
// the files independently, any number at a time, and follow the writer's appends and rotations
// through inotify. Memory: the writer holds one encoding buffer and at most one partial line
// per stream (kMaxLogLineSize each); the reader one 64 KiB block and the line being decoded,
// whatever the files' sizes. Thread-safety: a JsonLogWriter is used by one thread; ReadJsonLog
// is reentrant.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "base/result.h"
#include "base/unique_fd.h"

namespace berth::shim {

// Docker's line limit: a line longer than this is written as several entries, the last of which
// ends with the '\n' (moby daemon/logger/copier.go, 16 KiB).
inline constexpr size_t kMaxLogLineSize = 16 * 1024;

class JsonLogWriter {
 public:
  // Opens (creates, 0640) `path` for appending. `max_size`: bytes per file, 0 = unlimited;
  // `max_file` >= 1: files kept, the current one included (1: the file is truncated when full).
  static Result<std::unique_ptr<JsonLogWriter>> Open(std::string path, int64_t max_size,
                                                     int max_file);
  ~JsonLogWriter();
  JsonLogWriter(const JsonLogWriter&) = delete;
  JsonLogWriter& operator=(const JsonLogWriter&) = delete;

  // Appends what the container wrote on `stream` ("stdout" or "stderr"; another name is
  // InvalidArgument) at `unix_nanos`: each complete line becomes an
  // entry ("log" ends with "\n"); the rest of a line waits for its '\n' and is written as its
  // own entry when it reaches kMaxLogLineSize. An entry's time is when its first byte arrived.
  Status Write(std::string_view stream, std::string_view bytes, int64_t unix_nanos);
  // Writes the pending partial lines (no trailing "\n"), as Docker does when the stream ends.
  Status Flush();

  int64_t current_size() const { return current_size_; }

 private:
  struct Pending {
    std::string bytes;  // at most kMaxLogLineSize
    int64_t time = 0;   // of its first byte
  };
  JsonLogWriter(std::string path, UniqueFd fd, int64_t size, int64_t max_size, int max_file);
  Status WriteEntry(size_t stream, std::string_view line, int64_t unix_nanos);
  Status Rotate();

  std::string path_;
  UniqueFd fd_;
  int64_t current_size_ = 0;
  int64_t max_size_ = 0;
  int max_file_ = 1;
  Pending pending_[2];  // stdout, stderr
  std::string entry_;   // the encoding buffer, reused
};

struct LogQuery {
  int64_t since = 0;  // unix nanos; entries before are skipped; 0 = unbounded
  int64_t until = 0;  // unix nanos; reading ends at the first entry after; 0 = unbounded
  int64_t tail = -1;  // the last N lines across the files; -1 = all
  bool follow = false;
};

// `stream` is "stdout" or "stderr". Return false to end the read (the client went away).
using LogCallback =
    std::function<bool(std::string_view stream, std::string_view bytes, int64_t time)>;
// With follow: true once the container has exited (and nothing more will be written). Polled
// when idle, at least every 100 ms; the files are drained after it turns true.
using LogStopPredicate = std::function<bool()>;

struct LogReadStats {
  int64_t entries = 0;        // given to the callback
  int64_t corrupt_lines = 0;  // not JSON, or missing log/stream/time: skipped
};

// Reads `path` and its rotated files, oldest first. The tail is found by reading the files
// backwards in blocks. With query.follow it then waits (inotify on the directory) for appends
// and rotations until `stop` returns true and the file is drained, or the callback returns
// false. A missing log file reads as empty.
Result<LogReadStats> ReadJsonLog(const std::string& path, const LogQuery& query,
                                 const LogCallback& callback, const LogStopPredicate& stop = {});

}  // namespace berth::shim
