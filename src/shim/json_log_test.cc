#include "shim/json_log.h"

#include <stdlib.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "base/file.h"

namespace berth::shim {
namespace {

using ::std::string;
using ::std::vector;

constexpr int64_t kT0 = 1704067200'000000000;  // 2024-01-01T00:00:00Z
constexpr int64_t kSecond = 1'000'000'000;

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/berth-log-test-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) std::abort();
    path_ = tmpl;
  }
  ~TempDir() { (void)RemoveAll(path_); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const string& path() const { return path_; }

 private:
  string path_;
};

struct Entry {
  string stream;
  string log;
  int64_t time;
  friend bool operator==(const Entry&, const Entry&) = default;
};

std::ostream& operator<<(std::ostream& os, const Entry& e) {
  return os << e.stream << " " << e.time << " \"" << e.log << "\"";
}

struct ReadResult {
  vector<Entry> entries;
  LogReadStats stats;
};

ReadResult ReadAll(const string& path, LogQuery query = {}) {
  ReadResult out;
  auto stats = ReadJsonLog(path, query, [&](std::string_view s, std::string_view log, int64_t t) {
    out.entries.push_back(Entry{string(s), string(log), t});
    return true;
  });
  EXPECT_TRUE(stats) << stats.error().message;
  if (stats) out.stats = *stats;
  return out;
}

std::unique_ptr<JsonLogWriter> MustOpen(const string& path, int64_t max_size = 0,
                                        int max_file = 1) {
  auto w = JsonLogWriter::Open(path, max_size, max_file);
  EXPECT_TRUE(w) << w.error().message;
  return w ? *std::move(w) : nullptr;
}

// "line-007\n"
string Numbered(int i) {
  char buf[32];
  snprintf(buf, sizeof buf, "line-%03d\n", i);
  return buf;
}

vector<string> Logs(const vector<Entry>& entries) {
  vector<string> logs;
  for (const Entry& e : entries) logs.push_back(e.log);
  return logs;
}

TEST(JsonLogWriterTest, DockerFormat) {
  TempDir dir;
  string path = dir.path() + "/c-json.log";
  auto w = MustOpen(path);
  ASSERT_TRUE(w->Write("stdout", "hi\n", kT0 + 123456789));
  ASSERT_TRUE(w->Write("stderr", "a\"b\\c\t<&>\x01\xff\n", kT0));
  auto data = ReadFile(path);
  ASSERT_TRUE(data);
  EXPECT_EQ(
      *data,
      "{\"log\":\"hi\\n\",\"stream\":\"stdout\",\"time\":\"2024-01-01T00:00:00.123456789Z\"}\n"
      "{\"log\":\"a\\\"b\\\\c\\t\\u003c\\u0026\\u003e\\u0001\\ufffd\\n\",\"stream\":"
      "\"stderr\",\"time\":\"2024-01-01T00:00:00Z\"}\n");
  ReadResult r = ReadAll(path);
  ASSERT_EQ(r.entries.size(), 2u);
  EXPECT_EQ(r.entries[0], (Entry{"stdout", "hi\n", kT0 + 123456789}));
  EXPECT_EQ(r.entries[1].log, "a\"b\\c\t<&>\x01\xef\xbf\xbd\n");
}

TEST(JsonLogWriterTest, SplitsLinesAsDocker) {
  TempDir dir;
  string path = dir.path() + "/c-json.log";
  auto w = MustOpen(path);
  ASSERT_TRUE(w->Write("stdout", "one\ntw", kT0));
  ASSERT_TRUE(w->Write("stderr", "err\n", kT0 + 1));
  ASSERT_TRUE(w->Write("stdout", "o\nthree\n\nfour", kT0 + 2));
  // 40000 bytes without '\n': two full 16 KiB entries, the rest waits for its end.
  string big(40000, 'x');
  ASSERT_TRUE(w->Write("stderr", big, kT0 + 3));
  ASSERT_TRUE(w->Write("stderr", "y\n", kT0 + 4));
  ASSERT_TRUE(w->Write("stdout", "é", kT0 + 5));
  ASSERT_TRUE(w->Flush());

  ReadResult r = ReadAll(path);
  const string rest = string(40000 - 2 * kMaxLogLineSize, 'x') + "y\n";
  const vector<Entry> want = {
      {"stdout", "one\n", kT0},
      {"stderr", "err\n", kT0 + 1},
      {"stdout", "two\n", kT0},  // the time of its first byte
      {"stdout", "three\n", kT0 + 2},
      {"stdout", "\n", kT0 + 2},
      {"stderr", string(kMaxLogLineSize, 'x'), kT0 + 3},
      {"stderr", string(kMaxLogLineSize, 'x'), kT0 + 3},
      {"stderr", rest, kT0 + 3},
      {"stdout", "fouré", kT0 + 2},  // flushed without '\n'
  };
  EXPECT_EQ(r.entries, want);
  EXPECT_EQ(r.stats.corrupt_lines, 0);
}

TEST(JsonLogWriterTest, RotatesKeepingMaxFile) {
  TempDir dir;
  string path = dir.path() + "/c-json.log";
  // Each entry is 69 bytes; 3 fit in 210.
  auto w = MustOpen(path, 210, 3);
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(w->Write("stdout", Numbered(i), kT0 + i * kSecond));
  }
  EXPECT_TRUE(PathExists(path + ".1"));
  EXPECT_TRUE(PathExists(path + ".2"));
  EXPECT_FALSE(PathExists(path + ".3"));
  for (const string& p : {path, path + ".1", path + ".2"}) {
    auto data = ReadFile(p);
    ASSERT_TRUE(data);
    EXPECT_LE(data->size(), 210u) << p;
  }
  // 20 lines in files of 3: the last file has 2 (18, 19), then 15-17, then 12-14.
  ReadResult r = ReadAll(path);
  vector<string> want;
  for (int i = 12; i < 20; ++i) want.push_back(Numbered(i));
  EXPECT_EQ(Logs(r.entries), want);

  // Reopening appends to the current file and keeps counting its size.
  w.reset();
  w = MustOpen(path, 210, 3);
  ASSERT_TRUE(w->Write("stdout", Numbered(20), kT0));
  EXPECT_EQ(ReadAll(path).entries.size(), 9u);
}

TEST(JsonLogWriterTest, MaxFileOneTruncates) {
  TempDir dir;
  string path = dir.path() + "/c-json.log";
  auto w = MustOpen(path, 150, 1);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(w->Write("stdout", Numbered(i), kT0));
  EXPECT_FALSE(PathExists(path + ".1"));
  EXPECT_EQ(Logs(ReadAll(path).entries), (vector<string>{Numbered(4)}));
}

TEST(JsonLogWriterTest, RejectsBadLimitsAndStreams) {
  TempDir dir;
  EXPECT_FALSE(JsonLogWriter::Open(dir.path() + "/l", 100, 0));
  EXPECT_FALSE(JsonLogWriter::Open(dir.path() + "/l", -1, 1));
  auto w = MustOpen(dir.path() + "/l");
  Status s = w->Write("stdin", "x\n", kT0);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, Code::kInvalidArgument);
  EXPECT_TRUE(ReadAll(dir.path() + "/l").entries.empty());
}

TEST(ReadJsonLogTest, TailAcrossRotatedFiles) {
  TempDir dir;
  string path = dir.path() + "/c-json.log";
  auto w = MustOpen(path, 210, 5);
  for (int i = 0; i < 14; ++i) ASSERT_TRUE(w->Write("stdout", Numbered(i), kT0));
  // Files hold 0-2, 3-5, 6-8, 9-11, 12-13.
  struct Case {
    int64_t tail;
    int first;
  };
  for (const Case& tc : {Case{0, 14}, Case{1, 13}, Case{2, 12}, Case{3, 11}, Case{7, 7}, Case{9, 5},
                         Case{14, 0}, Case{100, 0}, Case{-1, 0}}) {
    LogQuery q;
    q.tail = tc.tail;
    vector<string> want;
    for (int i = tc.first; i < 14; ++i) want.push_back(Numbered(i));
    EXPECT_EQ(Logs(ReadAll(path, q).entries), want) << "tail " << tc.tail;
  }
}

TEST(ReadJsonLogTest, TailReadsBackwardsOverManyBlocks) {
  TempDir dir;
  string path = dir.path() + "/c-json.log";
  auto w = MustOpen(path);
  const int n = 5000;  // about 350 KiB: several 64 KiB blocks
  for (int i = 0; i < n; ++i) ASSERT_TRUE(w->Write("stdout", Numbered(i), kT0));
  for (int64_t tail : {1, 949, 950, 951, 3000, 4999}) {
    LogQuery q;
    q.tail = tail;
    ReadResult r = ReadAll(path, q);
    ASSERT_EQ(r.entries.size(), static_cast<size_t>(tail));
    EXPECT_EQ(r.entries.front().log, Numbered(n - static_cast<int>(tail)));
    EXPECT_EQ(r.entries.back().log, Numbered(n - 1));
  }
}

TEST(ReadJsonLogTest, SinceAndUntil) {
  TempDir dir;
  string path = dir.path() + "/c-json.log";
  auto w = MustOpen(path, 210, 4);
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(w->Write("stdout", Numbered(i), kT0 + i * kSecond));
  }
  LogQuery q;
  q.since = kT0 + 3 * kSecond;
  q.until = kT0 + 6 * kSecond;
  EXPECT_EQ(Logs(ReadAll(path, q).entries),
            (vector<string>{Numbered(3), Numbered(4), Numbered(5), Numbered(6)}));
  q = LogQuery{};
  q.since = kT0 + 8 * kSecond + 1;
  EXPECT_EQ(Logs(ReadAll(path, q).entries), (vector<string>{Numbered(9)}));
  q = LogQuery{};
  q.until = kT0 - 1;
  EXPECT_TRUE(ReadAll(path, q).entries.empty());
  // tail is counted before since filters, as Docker does.
  q = LogQuery{};
  q.tail = 3;
  q.since = kT0 + 8 * kSecond;
  EXPECT_EQ(Logs(ReadAll(path, q).entries), (vector<string>{Numbered(8), Numbered(9)}));
}

TEST(ReadJsonLogTest, CorruptLinesAreSkippedAndCounted) {
  TempDir dir;
  string path = dir.path() + "/c-json.log";
  ASSERT_TRUE(
      WriteFileAtomic(path,
                      "{\"log\":\"a\\n\",\"stream\":\"stdout\",\"time\":\"2024-01-01T00:00:00Z\"}\n"
                      "garbage{\n"
                      "{\"log\":\"b\\n\",\"stream\":\"stdout\"}\n"
                      "{\"log\":\"c\\n\",\"stream\":\"other\",\"time\":\"2024-01-01T00:00:00Z\"}\n"
                      "{\"log\":\"d\\n\",\"stream\":\"stderr\",\"time\":\"2024-01-01T00:00:01Z\"}\n"
                      "{\"log\":\"torn"));
  ReadResult r = ReadAll(path);
  EXPECT_EQ(r.entries, (vector<Entry>{{"stdout", "a\n", kT0}, {"stderr", "d\n", kT0 + kSecond}}));
  EXPECT_EQ(r.stats.corrupt_lines, 4);
  EXPECT_EQ(r.stats.entries, 2);
}

TEST(ReadJsonLogTest, MissingFileIsEmptyAndCallbackCanStop) {
  TempDir dir;
  string path = dir.path() + "/c-json.log";
  EXPECT_TRUE(ReadAll(path).entries.empty());
  auto w = MustOpen(path);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(w->Write("stdout", Numbered(i), kT0));
  int seen = 0;
  auto stats = ReadJsonLog(path, LogQuery{},
                           [&](std::string_view, std::string_view, int64_t) { return ++seen < 2; });
  ASSERT_TRUE(stats);
  EXPECT_EQ(seen, 2);
}

// The reader follows a writer on another thread through appends and rotations, and ends once
// the stop predicate says the container exited and the file is drained.
TEST(ReadJsonLogTest, FollowSeesAppendsAndRotationsUntilStopped) {
  TempDir dir;
  string path = dir.path() + "/c-json.log";
  auto w = MustOpen(path, 210, 3);
  ASSERT_TRUE(w->Write("stdout", Numbered(0), kT0));

  std::mutex mu;
  std::condition_variable cv;
  size_t seen = 0;
  std::atomic<bool> exited{false};
  const int n = 40;  // many rotations: files of 3 entries

  std::thread writer([&] {
    for (int i = 1; i < n; ++i) {
      {
        // Line i once the reader has line i-1: it is following, and at most one rotation
        // happens between two of its looks (a reader slower than two rotations would miss the
        // file in between, as Docker's does).
        std::unique_lock<std::mutex> lock(mu);
        // A bound only so that a broken reader fails the test instead of hanging it.
        if (!cv.wait_for(lock, std::chrono::seconds(30),
                         [&] { return seen >= static_cast<size_t>(i); })) {
          ADD_FAILURE() << "the reader never got line " << i - 1;
          break;
        }
      }
      ASSERT_TRUE(w->Write(i % 2 ? "stderr" : "stdout", Numbered(i), kT0));
    }
    exited = true;
  });

  vector<string> got;
  LogQuery q;
  q.follow = true;
  auto stats = ReadJsonLog(
      path, q,
      [&](std::string_view, std::string_view log, int64_t) {
        got.emplace_back(log);
        std::lock_guard<std::mutex> lock(mu);
        seen = got.size();
        cv.notify_all();
        return true;
      },
      [&] { return exited.load(); });
  writer.join();
  ASSERT_TRUE(stats) << stats.error().message;
  vector<string> want;
  for (int i = 0; i < n; ++i) want.push_back(Numbered(i));
  EXPECT_EQ(got, want);
  EXPECT_TRUE(PathExists(path + ".2"));
  EXPECT_EQ(stats->corrupt_lines, 0);
}

// Two rotations while the reader is busy (blocked in its callback): the file rotated away in
// between is found as path.1 and read before the new one.
TEST(ReadJsonLogTest, FollowCatchesUpAfterTwoRotations) {
  TempDir dir;
  string path = dir.path() + "/c-json.log";
  auto w = MustOpen(path, 210, 4);  // three entries per file
  ASSERT_TRUE(w->Write("stdout", Numbered(0), kT0));
  std::mutex mu;
  std::condition_variable cv;
  bool reader_busy = false;
  bool written = false;
  std::atomic<bool> exited{false};
  std::thread writer([&] {
    {
      std::unique_lock<std::mutex> lock(mu);
      cv.wait(lock, [&] { return reader_busy; });
    }
    for (int i = 1; i < 7; ++i) ASSERT_TRUE(w->Write("stdout", Numbered(i), kT0));
    {
      std::lock_guard<std::mutex> lock(mu);
      written = true;
    }
    cv.notify_all();
    exited = true;
  });
  vector<string> got;
  LogQuery q;
  q.follow = true;
  auto stats = ReadJsonLog(
      path, q,
      [&](std::string_view, std::string_view log, int64_t) {
        got.emplace_back(log);
        if (got.size() == 1) {
          std::unique_lock<std::mutex> lock(mu);
          reader_busy = true;
          cv.notify_all();
          cv.wait(lock, [&] { return written; });
        }
        return true;
      },
      [&] { return exited.load(); });
  writer.join();
  ASSERT_TRUE(stats) << stats.error().message;
  EXPECT_TRUE(PathExists(path + ".2"));
  vector<string> want;
  for (int i = 0; i < 7; ++i) want.push_back(Numbered(i));
  EXPECT_EQ(got, want);
}

// With max_file 1 the file is truncated when full; a follower starts it over.
TEST(ReadJsonLogTest, FollowSeesTruncation) {
  TempDir dir;
  string path = dir.path() + "/c-json.log";
  auto w = MustOpen(path, 150, 1);  // two entries per file
  ASSERT_TRUE(w->Write("stdout", Numbered(0), kT0));
  std::mutex mu;
  std::condition_variable cv;
  size_t seen = 0;
  std::atomic<bool> exited{false};
  const int n = 9;
  std::thread writer([&] {
    for (int i = 1; i < n; ++i) {
      {
        std::unique_lock<std::mutex> lock(mu);
        // A bound only so that a broken reader fails the test instead of hanging it.
        if (!cv.wait_for(lock, std::chrono::seconds(30),
                         [&] { return seen >= static_cast<size_t>(i); })) {
          ADD_FAILURE() << "the reader never got line " << i - 1;
          break;
        }
      }
      ASSERT_TRUE(w->Write("stdout", Numbered(i), kT0));
    }
    exited = true;
  });
  vector<string> got;
  LogQuery q;
  q.follow = true;
  auto stats = ReadJsonLog(
      path, q,
      [&](std::string_view, std::string_view log, int64_t) {
        got.emplace_back(log);
        std::lock_guard<std::mutex> lock(mu);
        seen = got.size();
        cv.notify_all();
        return true;
      },
      [&] { return exited.load(); });
  writer.join();
  ASSERT_TRUE(stats) << stats.error().message;
  vector<string> want;
  for (int i = 0; i < n; ++i) want.push_back(Numbered(i));
  EXPECT_EQ(got, want);
  EXPECT_FALSE(PathExists(path + ".1"));
}

TEST(ReadJsonLogTest, FollowWaitsForTheFileToAppear) {
  TempDir dir;
  string path = dir.path() + "/c-json.log";
  std::atomic<bool> exited{false};
  std::atomic<int> polls{0};
  std::thread writer([&] {
    while (polls.load() < 2) std::this_thread::yield();  // the reader is waiting
    auto w = MustOpen(path);
    ASSERT_TRUE(w->Write("stdout", "late\n", kT0));
    exited = true;
  });
  vector<string> got;
  LogQuery q;
  q.follow = true;
  auto stats = ReadJsonLog(
      path, q,
      [&](std::string_view, std::string_view log, int64_t) {
        got.emplace_back(log);
        return true;
      },
      [&] {
        ++polls;
        return exited.load();
      });
  writer.join();
  ASSERT_TRUE(stats);
  EXPECT_EQ(got, vector<string>{"late\n"});
}

}  // namespace
}  // namespace berth::shim
