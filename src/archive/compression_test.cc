#include "archive/compression.h"

#include <cstdint>
#include <random>
#include <string>

#include <gtest/gtest.h>

namespace berth::archive {
namespace {

// Compressible but not trivial: words with random numbers, plus a random binary run.
std::string TestData(size_t size, uint32_t seed = 1) {
  std::mt19937 rng(seed);
  std::string out;
  out.reserve(size);
  while (out.size() < size) {
    if (rng() % 16 == 0) {
      for (int i = 0; i < 64; ++i) out.push_back(static_cast<char>(rng()));
    } else {
      out += "line " + std::to_string(rng() % 1000) + " of a layer\n";
    }
  }
  out.resize(size);
  return out;
}

Result<std::string> ReadAllChunked(Reader& r, size_t chunk) {
  std::string out;
  std::string buf(chunk, '\0');
  while (true) {
    BERTH_ASSIGN_OR_RETURN(size_t n, r.Read(buf.data(), buf.size()));
    if (n == 0) return out;
    out.append(buf.data(), n);
  }
}

std::string Gzip(std::string_view data, int level = 1) {
  StringWriter sink;
  auto w = NewGzipWriter(sink, level);
  EXPECT_TRUE(w);
  EXPECT_TRUE((*w)->Write(data));
  EXPECT_TRUE((*w)->Close());
  return sink.Take();
}

std::string Zstd(std::string_view data, int level = 3) {
  StringWriter sink;
  auto w = NewZstdWriter(sink, level);
  EXPECT_TRUE(w);
  EXPECT_TRUE((*w)->Write(data));
  EXPECT_TRUE((*w)->Close());
  return sink.Take();
}

Result<std::string> Decompress(std::string data, size_t chunk = 65536,
                               Compression* detected = nullptr) {
  BERTH_ASSIGN_OR_RETURN(auto r,
                         NewDecompressingReader(std::make_unique<StringReader>(std::move(data))));
  if (detected != nullptr) *detected = r->compression();
  return ReadAllChunked(*r, chunk);
}

TEST(CompressionTest, DetectsByMagic) {
  EXPECT_EQ(DetectCompression(std::string_view("\x1f\x8b\x08\x00", 4)), Compression::kGzip);
  EXPECT_EQ(DetectCompression("\x28\xb5\x2f\xfd"), Compression::kZstd);
  EXPECT_EQ(DetectCompression("\x1f\x8b"), Compression::kNone);  // too short
  EXPECT_EQ(DetectCompression("etc/passwd"), Compression::kNone);
  EXPECT_EQ(DetectCompression(""), Compression::kNone);
}

TEST(CompressionTest, GzipRoundTripAtEveryLevelAndReadSize) {
  std::string data = TestData(3 << 20);
  for (int level = 0; level <= 3; ++level) {
    std::string gz = Gzip(data, level);
    EXPECT_LT(gz.size(), data.size()) << level;
    for (size_t chunk : {size_t{1} << 20, size_t{4096}, size_t{7}}) {
      if (chunk == 7 && level != 1) continue;  // slow; one level is enough
      Compression c = Compression::kNone;
      Result<std::string> out = Decompress(gz, chunk, &c);
      ASSERT_TRUE(out) << out.error().message;
      EXPECT_EQ(c, Compression::kGzip);
      EXPECT_TRUE(*out == data) << "level " << level << " chunk " << chunk;
    }
  }
}

TEST(CompressionTest, GzipWriterRejectsLevelOutsideIsal) {
  StringWriter sink;
  auto w = NewGzipWriter(sink, 9);
  ASSERT_FALSE(w);
  EXPECT_EQ(w.error().code, Code::kInvalidArgument);
}

TEST(CompressionTest, WriteAfterCloseFails) {
  StringWriter sink;
  auto w = NewGzipWriter(sink);
  ASSERT_TRUE(w);
  ASSERT_TRUE((*w)->Close());
  EXPECT_FALSE((*w)->Write("x"));
}

TEST(CompressionTest, EmptyGzipAndZstdStreamsDecodeToNothing) {
  Result<std::string> out = Decompress(Gzip(""));
  ASSERT_TRUE(out) << out.error().message;
  EXPECT_EQ(*out, "");
  out = Decompress(Zstd(""));
  ASSERT_TRUE(out) << out.error().message;
  EXPECT_EQ(*out, "");
}

TEST(CompressionTest, ConcatenatedGzipMembersAreOneStream) {
  std::string a = TestData(100000, 2), b = TestData(300000, 3);
  Result<std::string> out = Decompress(Gzip(a) + Gzip(b) + Gzip("") + Gzip("end"), 1000);
  ASSERT_TRUE(out) << out.error().message;
  EXPECT_TRUE(*out == a + b + "end");
}

TEST(CompressionTest, GzipHeaderWithFileNameIsParsed) {
  std::string gz = Gzip("hello world");
  ASSERT_EQ(gz[3], '\0');  // FLG: none
  gz[3] = 0x08;            // FNAME
  gz.insert(10, std::string("layer.tar\0", 10));
  Result<std::string> out = Decompress(gz);
  ASSERT_TRUE(out) << out.error().message;
  EXPECT_EQ(*out, "hello world");
}

TEST(CompressionTest, TruncatedGzipIsDataLoss) {
  std::string gz = Gzip(TestData(200000));
  for (size_t cut : {size_t{3}, size_t{10}, gz.size() / 2, gz.size() - 8, gz.size() - 1}) {
    Result<std::string> out = Decompress(gz.substr(0, cut));
    ASSERT_FALSE(out) << cut;
    EXPECT_EQ(out.error().code, Code::kDataLoss) << cut;
    EXPECT_NE(out.error().message.find("unexpected end of gzip stream"), std::string::npos)
        << cut << ": " << out.error().message;
  }
}

TEST(CompressionTest, CorruptGzipIsDataLoss) {
  std::string gz = Gzip(TestData(200000));
  std::string bad_crc = gz;
  bad_crc[gz.size() - 6] = static_cast<char>(bad_crc[gz.size() - 6] ^ 0xff);
  std::string bad_body = gz;
  for (size_t i = 100; i < 200; ++i) bad_body[i] = static_cast<char>(0xff);
  for (const std::string& bad : {bad_crc, bad_body, gz + "garbage"}) {
    Result<std::string> out = Decompress(bad);
    ASSERT_FALSE(out);
    EXPECT_EQ(out.error().code, Code::kDataLoss) << out.error().message;
  }
  Result<std::string> out = Decompress(gz + "garbage");
  ASSERT_FALSE(out);
  EXPECT_EQ(out.error().message, "gzip: trailing garbage after gzip stream");
  out = Decompress(bad_crc);
  ASSERT_FALSE(out);
  EXPECT_NE(out.error().message.find("checksum"), std::string::npos) << out.error().message;
}

TEST(CompressionTest, ZstdRoundTripAndConcatenatedFrames) {
  std::string a = TestData(2 << 20, 4), b = TestData(1000, 5);
  for (size_t chunk : {size_t{1} << 20, size_t{3}}) {
    Compression c = Compression::kNone;
    Result<std::string> out = Decompress(Zstd(a, 1) + Zstd(b, 19), chunk == 3 ? 5000 : chunk, &c);
    ASSERT_TRUE(out) << out.error().message;
    EXPECT_EQ(c, Compression::kZstd);
    EXPECT_TRUE(*out == a + b);
  }
}

TEST(CompressionTest, TruncatedAndCorruptZstdIsDataLoss) {
  std::string zst = Zstd(TestData(500000, 6));
  for (size_t cut : {size_t{4}, size_t{10}, zst.size() / 2, zst.size() - 1}) {
    Result<std::string> out = Decompress(zst.substr(0, cut));
    ASSERT_FALSE(out) << cut;
    EXPECT_EQ(out.error().code, Code::kDataLoss);
    EXPECT_EQ(out.error().message, "zstd: unexpected end of zstd stream") << cut;
  }
  std::string bad = zst;
  for (size_t i = 50; i < 90; ++i) bad[i] = 'x';
  Result<std::string> out = Decompress(bad);
  ASSERT_FALSE(out);
  EXPECT_EQ(out.error().code, Code::kDataLoss);
  out = Decompress(zst + "junk");
  ASSERT_FALSE(out);
  EXPECT_EQ(out.error().code, Code::kDataLoss);
}

TEST(CompressionTest, PlainDataPassesThroughIncludingShortInput) {
  for (std::string data : {std::string(), std::string("ab"), TestData(100000, 7)}) {
    Compression c = Compression::kGzip;
    Result<std::string> out = Decompress(data, 3, &c);
    ASSERT_TRUE(out);
    EXPECT_EQ(c, Compression::kNone);
    EXPECT_TRUE(*out == data);
  }
}

TEST(CompressionTest, XzAndBzip2AreRefusedClearly) {
  Result<std::string> out =
      Decompress(std::string("\xfd"
                             "7zXZ\x00rest",
                             10));
  ASSERT_FALSE(out);
  EXPECT_EQ(out.error().code, Code::kNotImplemented);
  EXPECT_NE(out.error().message.find("xz"), std::string::npos);
  out = Decompress("BZh91AY&SY");
  ASSERT_FALSE(out);
  EXPECT_EQ(out.error().code, Code::kNotImplemented);
}

class FailingReader : public Reader {
 public:
  explicit FailingReader(std::string prefix) : prefix_(std::move(prefix)) {}
  Result<size_t> Read(char* buf, size_t size) override {
    if (!prefix_.empty()) {
      size_t n = std::min(size, prefix_.size());
      prefix_.copy(buf, n);
      prefix_.erase(0, n);
      return n;
    }
    return MakeError(Code::kUnavailable, "connection reset");
  }

 private:
  std::string prefix_;
};

TEST(CompressionTest, SourceErrorsPropagate) {
  std::string gz = Gzip(TestData(100000));
  FailingReader src(gz.substr(0, 1000));
  auto r = NewDecompressingReader(src);
  ASSERT_TRUE(r);
  Result<std::string> out = ReadAllChunked(**r, 65536);
  ASSERT_FALSE(out);
  EXPECT_EQ(out.error().code, Code::kUnavailable);
}

}  // namespace
}  // namespace berth::archive
