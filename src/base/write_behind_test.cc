#include "base/write_behind.h"

#include <string>

#include <gtest/gtest.h>

namespace berth {
namespace {

std::string Pattern(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + (i * 7 + i / 251) % 26);
  return s;
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
