#include "base/async_io.h"

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <string>

#include <gtest/gtest.h>

namespace berth {
namespace {

std::string Pattern(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + (i * 7 + i / 251) % 26);
  return s;
}

// Returns the data in pieces of at most `piece` bytes, then an error or the end.
class PieceReader : public Reader {
 public:
  PieceReader(std::string data, size_t piece, std::optional<Error> error = std::nullopt)
      : data_(std::move(data)), piece_(piece), error_(std::move(error)) {}
  Result<size_t> Read(char* buf, size_t size) override {
    if (pos_ == data_.size()) {
      if (error_) return *error_;
      return size_t{0};
    }
    size_t n = std::min({size, piece_, data_.size() - pos_});
    data_.copy(buf, n, pos_);
    pos_ += n;
    return n;
  }

 private:
  std::string data_;
  size_t pos_ = 0;
  size_t piece_;
  std::optional<Error> error_;
};

// Gives `first` bytes, then blocks in Read (as a recv on a quiet socket) until interrupted.
class BlockingReader : public Reader {
 public:
  explicit BlockingReader(size_t first) : first_(first) {}
  Result<size_t> Read(char* buf, size_t size) override {
    if (given_ < first_) {
      size_t n = std::min(size, first_ - given_);
      std::fill(buf, buf + n, 'x');
      given_ += n;
      return n;
    }
    std::unique_lock lock(mu_);
    blocked_ = true;
    cv_.notify_all();
    cv_.wait(lock, [&] { return interrupted_; });
    return size_t{0};  // what recv gives after shutdown(SHUT_RD)
  }
  void Interrupt() {
    std::lock_guard lock(mu_);
    interrupted_ = true;
    ++interrupts_;
    cv_.notify_all();
  }
  void WaitBlocked() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return blocked_; });
  }
  int interrupts() {
    std::lock_guard lock(mu_);
    return interrupts_;
  }

 private:
  size_t first_;
  size_t given_ = 0;
  std::mutex mu_;
  std::condition_variable cv_;
  bool blocked_ = false;
  bool interrupted_ = false;
  int interrupts_ = 0;
};

TEST(ReadAheadReaderTest, DeliversTheSourceInOrderWhateverTheReadSizes) {
  std::string data = Pattern(3 * 4096 + 17);
  PieceReader src(data, 1000);
  ReadAheadReader r(src, 4096);
  std::string got;
  char buf[777];
  while (true) {
    Result<size_t> n = r.Read(buf, sizeof(buf));
    ASSERT_TRUE(n.ok()) << n.error().message;
    if (*n == 0) break;
    got.append(buf, *n);
  }
  EXPECT_EQ(got, data);
  Result<size_t> again = r.Read(buf, sizeof(buf));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, 0u);
}

TEST(ReadAheadReaderTest, ReturnsTheSourceErrorAfterTheBytesBeforeIt) {
  std::string data = Pattern(10000);
  PieceReader src(data, 3000, MakeError(Code::kCancelled, "client went away"));
  ReadAheadReader r(src, 4096);
  std::string got;
  char buf[4096];
  while (true) {
    Result<size_t> n = r.Read(buf, sizeof(buf));
    if (!n) {
      EXPECT_EQ(n.error().code, Code::kCancelled);
      EXPECT_EQ(n.error().message, "client went away");
      break;
    }
    ASSERT_NE(*n, 0u) << "end of stream instead of the error";
    got.append(buf, *n);
  }
  EXPECT_EQ(got, data);
}

TEST(ReadAheadReaderTest, HandsOverWhatCameWhileTheSourceWaits) {
  // A client that sends a little and then waits must not have those bytes held back.
  BlockingReader src(10);
  ReadAheadReader r(src, 4096, [&] { src.Interrupt(); });
  char buf[100];
  size_t got = 0;
  while (got < 10) {
    Result<size_t> n = r.Read(buf, sizeof(buf));
    ASSERT_TRUE(n.ok());
    ASSERT_GT(*n, 0u);
    got += *n;
  }
  EXPECT_EQ(got, 10u);
}

TEST(ReadAheadReaderTest, DestroyingMidStreamInterruptsABlockedSourceAndJoins) {
  BlockingReader src(5000);
  {
    ReadAheadReader r(src, 4096, [&] { src.Interrupt(); });
    char buf[100];
    Result<size_t> n = r.Read(buf, sizeof(buf));
    ASSERT_TRUE(n.ok());
    EXPECT_EQ(*n, 100u);
    src.WaitBlocked();
    // The consumer fails here (e.g. a bad tar entry) and drops the reader.
  }
  EXPECT_EQ(src.interrupts(), 1);
}

TEST(ReadAheadReaderTest, DoesNotInterruptAStreamReadToTheEnd) {
  BlockingReader blocking(0);  // only its counter is used
  PieceReader src(Pattern(100), 100);
  {
    ReadAheadReader r(src, 64, [&] { blocking.Interrupt(); });
    char buf[64];
    while (true) {
      Result<size_t> n = r.Read(buf, sizeof(buf));
      ASSERT_TRUE(n.ok());
      if (*n == 0) break;
    }
  }
  EXPECT_EQ(blocking.interrupts(), 0);
}

TEST(ReadAheadReaderTest, DestroyingBeforeAnyReadStopsTheThread) {
  std::string data = Pattern(1 << 20);
  PieceReader src(data, 4096);
  { ReadAheadReader r(src, 1024); }  // the thread is parked on a full ring: it must exit
  SUCCEED();
}

// Records writes; fails the n-th one if asked.
class RecordingWriter : public Writer {
 public:
  explicit RecordingWriter(int fail_at = -1) : fail_at_(fail_at) {}
  Status Write(std::string_view data) override {
    if (calls_++ == fail_at_) return MakeError(Code::kResourceExhausted, "disk full");
    out_.append(data);
    return Ok();
  }
  const std::string& out() const { return out_; }
  int calls() const { return calls_; }

 private:
  int fail_at_;
  int calls_ = 0;
  std::string out_;
};

TEST(WriteBehindWriterTest, WritesEverythingInOrderInLargePiecesByClose) {
  std::string data = Pattern(10 * 1024 + 5);
  RecordingWriter sink;
  WriteBehindWriter w(sink, 3, 1024);
  for (size_t at = 0; at < data.size(); at += 300) {
    ASSERT_TRUE(w.Write(std::string_view(data).substr(at, 300)).ok());
  }
  ASSERT_TRUE(w.Close().ok());
  EXPECT_EQ(sink.out(), data);
  EXPECT_EQ(sink.calls(), 11);  // ten full buffers and the rest
  EXPECT_FALSE(w.Write("more").ok());
}

TEST(WriteBehindWriterTest, ReportsTheSinkErrorToLaterWritesAndClose) {
  std::string data = Pattern(64 * 1024);
  RecordingWriter sink(/*fail_at=*/2);
  WriteBehindWriter w(sink, 2, 1024);
  Status last = Ok();
  for (size_t at = 0; at < data.size() && last.ok(); at += 1024) {
    last = w.Write(std::string_view(data).substr(at, 1024));
  }
  EXPECT_FALSE(last.ok()) << "the producer must learn of the failure before the end";
  Status closed = w.Close();
  ASSERT_FALSE(closed.ok());
  EXPECT_EQ(closed.error().code, Code::kResourceExhausted);
  EXPECT_EQ(sink.out(), data.substr(0, 2048));
}

TEST(WriteBehindWriterTest, DestroyingWithoutCloseDropsTheRestAndJoins) {
  RecordingWriter sink;
  {
    WriteBehindWriter w(sink, 2, 1024);
    ASSERT_TRUE(w.Write(Pattern(1500)).ok());
  }
  EXPECT_LE(sink.out().size(), 1024u);
}

}  // namespace
}  // namespace berth
