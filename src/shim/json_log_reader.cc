// ReadJsonLog: `docker logs` over a json-file log and its rotated files (moby
// daemon/logger/loggerutils/logfile.go ReadLogs/tailFiles/followLogs, reimplemented).
//
//   <dir>/<id>-json.log.2   oldest
//   <dir>/<id>-json.log.1
//   <dir>/<id>-json.log     being written
#include <fcntl.h>
#include <poll.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/file.h"
#include "base/strings.h"
#include "shim/json_log.h"

namespace berth::shim {
namespace {

constexpr size_t kBlockSize = 64 * 1024;
// A json-file line holds at most 16 KiB of output, at most 6 bytes each once escaped; a longer
// line is not ours: it is skipped as corrupt without being held whole.
constexpr size_t kMaxEntrySize = 1 << 20;
constexpr int kPollMillis = 100;

struct OpenLog {
  UniqueFd fd;
  off_t start = 0;  // where reading begins (the tail)
};

Result<ssize_t> PreadRetry(int fd, char* buf, size_t n, off_t offset) {
  while (true) {
    ssize_t r = ::pread(fd, buf, n, offset);
    if (r >= 0) return r;
    if (errno != EINTR) return ErrnoError("pread log");
  }
}

// The rotated files, oldest first, then `path`; all opened now, so a rotation while reading
// cannot shift names under us.
Result<std::vector<OpenLog>> OpenLogs(const std::string& path) {
  std::vector<OpenLog> logs;
  for (int n = 1;; ++n) {
    auto fd = OpenFile(path + "." + std::to_string(n), O_RDONLY | O_CLOEXEC);
    if (!fd) {
      if (fd.error().sys_errno == ENOENT) break;
      return std::move(fd).error();
    }
    logs.push_back(OpenLog{*std::move(fd), 0});
  }
  std::reverse(logs.begin(), logs.end());
  auto fd = OpenFile(path, O_RDONLY | O_CLOEXEC);
  if (fd) {
    logs.push_back(OpenLog{*std::move(fd), 0});
  } else if (fd.error().sys_errno != ENOENT) {
    return std::move(fd).error();
  }
  return logs;
}

Result<off_t> FileSize(int fd) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return ErrnoError("fstat log");
  return st.st_size;
}

// Sets each file's start so that the last `tail` lines remain, reading backwards in blocks from
// the newest file; files entirely before the tail get start = size.
Status FindTail(std::vector<OpenLog>* logs, int64_t tail) {
  std::vector<char> block(kBlockSize);
  int64_t wanted = tail;
  for (auto it = logs->rbegin(); it != logs->rend(); ++it) {
    BERTH_ASSIGN_OR_RETURN(off_t size, FileSize(it->fd.get()));
    if (wanted <= 0) {
      it->start = size;
      continue;
    }
    if (size == 0) continue;
    // The last line's own '\n' (or its missing one) ends it; every earlier '\n' starts a line.
    off_t end = size;
    char last = 0;
    BERTH_ASSIGN_OR_RETURN(ssize_t got, PreadRetry(it->fd.get(), &last, 1, size - 1));
    if (got == 1 && last == '\n') end = size - 1;
    int64_t lines = 1;  // the line that ends at `end`
    off_t start = 0;
    bool found = false;
    while (end > 0 && !found) {
      off_t from = std::max<off_t>(0, end - static_cast<off_t>(kBlockSize));
      auto n = static_cast<size_t>(end - from);
      BERTH_ASSIGN_OR_RETURN(ssize_t r, PreadRetry(it->fd.get(), block.data(), n, from));
      if (static_cast<size_t>(r) != n) return MakeError(Code::kDataLoss, "log shrank while read");
      for (size_t i = n; i-- > 0;) {
        if (block[i] != '\n') continue;
        if (lines == wanted) {
          start = from + static_cast<off_t>(i) + 1;
          found = true;
          break;
        }
        ++lines;
      }
      end = from;
    }
    it->start = start;
    wanted = found ? 0 : wanted - lines;
  }
  return Ok();
}

// Reads complete lines from a file, keeping a partial last line for the next call.
class LineReader {
 public:
  explicit LineReader(OpenLog log) : fd_(std::move(log.fd)), offset_(log.start) {}

  // Calls on_line for each complete line up to EOF. Returns false if on_line did.
  template <typename F>
  Result<bool> ReadAvailable(F&& on_line) {
    std::vector<char>& buf = Buffer();
    while (true) {
      BERTH_ASSIGN_OR_RETURN(ssize_t r, PreadRetry(fd_.get(), buf.data(), buf.size(), offset_));
      if (r == 0) return true;
      offset_ += r;
      std::string_view data(buf.data(), static_cast<size_t>(r));
      while (!data.empty()) {
        size_t nl = data.find('\n');
        if (nl == std::string_view::npos) {
          AppendCarry(data);
          break;
        }
        bool go = true;
        if (skipping_) {
          skipping_ = false;
          go = on_line(std::string_view(), /*oversized=*/true);
        } else if (carry_.empty()) {
          go = on_line(data.substr(0, nl), false);
        } else {
          AppendCarry(data.substr(0, nl));
          bool oversized = skipping_;
          skipping_ = false;
          go = on_line(carry_, oversized);
          carry_.clear();
        }
        data.remove_prefix(nl + 1);
        if (!go) return false;
      }
    }
  }

  // With max_file 1 the writer truncates the file instead of rotating: start over when the file
  // is now shorter than what was read. A truncation refilled past our offset before we look is
  // not seen (nor is it by Docker).
  Result<bool> RewindIfTruncated() {
    BERTH_ASSIGN_OR_RETURN(off_t size, FileSize(fd_.get()));
    if (size >= offset_) return false;
    offset_ = 0;
    carry_.clear();
    skipping_ = false;
    return true;
  }

  // What is left after the last '\n' (a line being written, or a torn one at the end).
  bool HasPartial() const { return !carry_.empty() || skipping_; }
  int fd() const { return fd_.get(); }

 private:
  static std::vector<char>& Buffer() {
    thread_local std::vector<char> buf(kBlockSize);
    return buf;
  }
  void AppendCarry(std::string_view data) {
    if (skipping_) return;
    if (carry_.size() + data.size() > kMaxEntrySize) {
      carry_.clear();
      skipping_ = true;
      return;
    }
    carry_.append(data);
  }

  UniqueFd fd_;
  off_t offset_ = 0;
  std::string carry_;
  bool skipping_ = false;
};

enum class Verdict { kContinue, kStop };

class Reader {
 public:
  Reader(const LogQuery& query, const LogCallback& callback) : query_(query), callback_(callback) {}

  // One line of the file: decoded and handed over, or counted as corrupt.
  bool OnLine(std::string_view line, bool oversized) {
    if (oversized || line.empty()) {
      if (oversized) ++stats_.corrupt_lines;
      return true;
    }
    std::string_view stream;
    int64_t time = 0;
    std::string text;
    if (!Decode(line, &stream, &text, &time)) {
      ++stats_.corrupt_lines;
      return true;
    }
    if (query_.since != 0 && time < query_.since) return true;
    if (query_.until != 0 && time > query_.until) {
      done_ = true;
      return false;
    }
    ++stats_.entries;
    if (!callback_(stream, text, time)) {
      done_ = true;
      return false;
    }
    return true;
  }

  bool done() const { return done_; }
  LogReadStats& stats() { return stats_; }

 private:
  static bool Decode(std::string_view line, std::string_view* stream, std::string* text,
                     int64_t* time) {
    try {
      nlohmann::json j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
      if (!j.is_object()) return false;
      auto log = j.find("log");
      auto s = j.find("stream");
      auto t = j.find("time");
      if (log == j.end() || s == j.end() || t == j.end() || !log->is_string() || !s->is_string() ||
          !t->is_string()) {
        return false;
      }
      const auto& name = s->get_ref<const std::string&>();
      if (name == "stdout" || name == "stderr") {
        *stream = name == "stdout" ? "stdout" : "stderr";  // static storage, not the json's
      } else {
        return false;
      }
      if (!ParseRfc3339(t->get_ref<const std::string&>(), time)) return false;
      *text = log->get<std::string>();
      return true;
    } catch (const nlohmann::json::exception&) {
      return false;  // counted by the caller as a corrupt line
    }
  }

  const LogQuery& query_;
  const LogCallback& callback_;
  LogReadStats stats_;
  bool done_ = false;
};

Result<ino_t> InodeOf(int fd) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return ErrnoError("fstat log");
  return st.st_ino;
}

// The inode now at `path`, or 0 if there is none (between rotation's rename and create).
ino_t InodeAt(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return 0;
  return st.st_ino;
}

// Reads what `current` has, switching to the new file at `path` after a rotation (the old one
// is read to its end first: the writer no longer appends to it). One file written and rotated
// away between two looks is still read (as path.1); a reader slower than that loses files, as
// Docker's does.
Result<bool> DrainFollowing(const std::string& path, std::unique_ptr<LineReader>* current,
                            Reader* reader) {
  auto on_line = [&](std::string_view line, bool oversized) {
    return reader->OnLine(line, oversized);
  };
  while (true) {
    if (*current) {
      BERTH_ASSIGN_OR_RETURN(bool go, (*current)->ReadAvailable(on_line));
      if (!go) return false;
    }
    ino_t now = InodeAt(path);
    if (now == 0) return true;
    std::string next = path;
    if (*current) {
      BERTH_ASSIGN_OR_RETURN(ino_t ours, InodeOf((*current)->fd()));
      if (ours == now) {
        BERTH_ASSIGN_OR_RETURN(bool rewound, (*current)->RewindIfTruncated());
        if (rewound) continue;
        return true;
      }
      if ((*current)->HasPartial()) ++reader->stats().corrupt_lines;  // torn by a crash
      // Ours is normally path.1 now. If it is not, the writer rotated twice since we looked:
      // path.1 is a file we have not read, and it comes before path.
      ino_t first = InodeAt(path + ".1");
      if (first != 0 && first != ours && first != now) next = path + ".1";
    }
    auto fd = OpenFile(next, O_RDONLY | O_CLOEXEC);
    if (!fd) {
      if (fd.error().sys_errno == ENOENT) return true;  // rotated again; the next wake sees it
      return std::move(fd).error();
    }
    *current = std::make_unique<LineReader>(OpenLog{*std::move(fd), 0});
  }
}

Result<LogReadStats> Follow(const std::string& path, std::unique_ptr<LineReader> current,
                            Reader* reader, const LogStopPredicate& stop) {
  std::string dir = ".";
  if (size_t slash = path.rfind('/'); slash != std::string::npos) {
    dir = slash == 0 ? "/" : path.substr(0, slash);
  }
  UniqueFd inotify(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
  if (!inotify) return ErrnoError("inotify_init1");
  // The directory, not the file: a rotation replaces the file.
  if (::inotify_add_watch(inotify.get(), dir.c_str(),
                          IN_MODIFY | IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_CLOSE_WRITE) <
      0) {
    return ErrnoError("inotify_add_watch " + dir);
  }
  std::vector<char> events(4096);
  while (true) {
    // Asked before draining: whatever was written before the exit is read below.
    bool stopping = stop && stop();
    BERTH_ASSIGN_OR_RETURN(bool go, DrainFollowing(path, &current, reader));
    if (!go || stopping) break;
    struct pollfd pfd = {inotify.get(), POLLIN, 0};
    int n = ::poll(&pfd, 1, kPollMillis);
    if (n < 0 && errno != EINTR) return ErrnoError("poll inotify");
    while (::read(inotify.get(), events.data(), events.size()) > 0) {
      // Drained; which file changed does not matter, DrainFollowing looks.
    }
  }
  if (current && current->HasPartial() && !reader->done()) ++reader->stats().corrupt_lines;
  return reader->stats();
}

}  // namespace

Result<LogReadStats> ReadJsonLog(const std::string& path, const LogQuery& query,
                                 const LogCallback& callback, const LogStopPredicate& stop) {
  BERTH_ASSIGN_OR_RETURN(std::vector<OpenLog> logs, OpenLogs(path));
  if (query.tail >= 0) BERTH_RETURN_IF_ERROR(FindTail(&logs, query.tail));

  Reader reader(query, callback);
  auto on_line = [&](std::string_view line, bool oversized) {
    return reader.OnLine(line, oversized);
  };
  std::unique_ptr<LineReader> last;
  for (size_t i = 0; i < logs.size(); ++i) {
    auto lines = std::make_unique<LineReader>(std::move(logs[i]));
    BERTH_ASSIGN_OR_RETURN(bool go, lines->ReadAvailable(on_line));
    if (!go) return reader.stats();
    if (i + 1 == logs.size()) {
      last = std::move(lines);
    } else if (lines->HasPartial()) {
      ++reader.stats().corrupt_lines;  // a rotated file ends with complete lines
    }
  }
  if (query.follow) return Follow(path, std::move(last), &reader, stop);
  if (last && last->HasPartial()) ++reader.stats().corrupt_lines;
  return reader.stats();
}

}  // namespace berth::shim
