#include <string>

#include <gtest/gtest.h>

#include "archive/tar_reader.h"
#include "archive/tar_writer.h"
#include "archive/testing/raw_tar.h"

namespace berth::archive {
namespace {

std::vector<TarEntry> ReadEntries(const std::string& tar,
                                  std::vector<std::string>* data = nullptr) {
  StringReader src(tar);
  auto reader = TarReader::Open(src);
  EXPECT_TRUE(reader) << reader.error().message;
  std::vector<TarEntry> out;
  if (!reader) return out;
  while (true) {
    Result<std::optional<TarEntry>> e = (*reader)->Next();
    EXPECT_TRUE(e) << e.error().message;
    if (!e || !*e) break;
    out.push_back(**e);
    if (data != nullptr) {
      Result<std::string> d = ReadAll((*reader)->data(), 1 << 30);
      EXPECT_TRUE(d);
      data->push_back(d ? *d : "");
    }
  }
  return out;
}

Result<std::string> ReadError(const std::string& tar) {
  StringReader src(tar);
  BERTH_ASSIGN_OR_RETURN(auto reader, TarReader::Open(src));
  while (true) {
    BERTH_ASSIGN_OR_RETURN(std::optional<TarEntry> e, reader->Next());
    if (!e) return std::string("ok");
    BERTH_ASSIGN_OR_RETURN(std::string d, ReadAll(reader->data(), 1 << 30));
  }
}

TEST(TarTest, RoundTripsEveryEntryType) {
  StringWriter out;
  auto w = TarWriter::Open(out);
  ASSERT_TRUE(w);
  std::string long_name = std::string(150, 'd') + "/" + std::string(120, 'f');
  std::string utf8 = "r\xc3\xa9pertoire/\xe6\x97\xa5\xe6\x9c\xac.txt";
  ASSERT_TRUE((*w)->AddDirectory("etc", 0755, {100, 0}));
  ASSERT_TRUE((*w)->AddFile("etc/passwd", "root:x:0:0::/root:/bin/sh\n", 0644, {1700000000, 0}));
  ASSERT_TRUE((*w)->AddFile(long_name, "long", 04755));
  ASSERT_TRUE((*w)->AddFile(utf8, "utf8"));
  TarEntry e;
  e.path = "bin/ping";
  e.type = EntryType::kFile;
  e.mode = 0755;
  e.uid = 1000;
  e.gid = 2000;
  e.size = 4;
  e.mtime = {1700000000, 123456789};
  e.xattrs = {{"security.capability", std::string("\x01\x00\x00\x02\x00\x20", 6)},
              {"user.note", "hi"}};
  ASSERT_TRUE((*w)->WriteHeader(e));
  ASSERT_TRUE((*w)->WriteData("ping"));
  TarEntry link;
  link.path = "lib";
  link.type = EntryType::kSymlink;
  link.linkname = "usr/lib/" + std::string(200, 'x');
  link.mode = 0777;
  ASSERT_TRUE((*w)->WriteHeader(link));
  TarEntry hard;
  hard.path = "bin/ping6";
  hard.type = EntryType::kHardlink;
  hard.linkname = "bin/ping";
  hard.mode = 0755;
  ASSERT_TRUE((*w)->WriteHeader(hard));
  TarEntry dev;
  dev.path = "dev/null";
  dev.type = EntryType::kCharDevice;
  dev.devmajor = 1;
  dev.devminor = 3;
  dev.mode = 0666;
  ASSERT_TRUE((*w)->WriteHeader(dev));
  dev.path = "dev/sda";
  dev.type = EntryType::kBlockDevice;
  dev.devmajor = 8;
  dev.devminor = 0;
  ASSERT_TRUE((*w)->WriteHeader(dev));
  TarEntry fifo;
  fifo.path = "run/fifo";
  fifo.type = EntryType::kFifo;
  fifo.mode = 0600;
  ASSERT_TRUE((*w)->WriteHeader(fifo));
  ASSERT_TRUE((*w)->Close());
  EXPECT_EQ(out.str().size() % 512, 0u);

  std::vector<std::string> data;
  std::vector<TarEntry> got = ReadEntries(out.str(), &data);
  ASSERT_EQ(got.size(), 10u);
  EXPECT_EQ(got[0].path, "etc/");
  EXPECT_EQ(got[0].type, EntryType::kDir);
  EXPECT_EQ(got[0].mtime, (Timestamp{100, 0}));
  EXPECT_EQ(got[1].path, "etc/passwd");
  EXPECT_EQ(data[1], "root:x:0:0::/root:/bin/sh\n");
  EXPECT_EQ(got[1].size, 26);
  EXPECT_EQ(got[2].path, long_name);
  EXPECT_EQ(got[2].mode, 04755u);
  EXPECT_EQ(got[3].path, utf8);
  EXPECT_EQ(data[3], "utf8");
  EXPECT_EQ(got[4].uid, 1000);
  EXPECT_EQ(got[4].gid, 2000);
  EXPECT_EQ(got[4].mtime, (Timestamp{1700000000, 123456789}));
  EXPECT_EQ(got[4].xattrs, e.xattrs);
  EXPECT_EQ(got[5].type, EntryType::kSymlink);
  EXPECT_EQ(got[5].linkname, link.linkname);
  EXPECT_EQ(got[6].type, EntryType::kHardlink);
  EXPECT_EQ(got[6].linkname, "bin/ping");
  EXPECT_EQ(got[7].type, EntryType::kCharDevice);
  EXPECT_EQ(got[7].devmajor, 1u);
  EXPECT_EQ(got[7].devminor, 3u);
  EXPECT_EQ(got[8].type, EntryType::kBlockDevice);
  EXPECT_EQ(got[8].devmajor, 8u);
  EXPECT_EQ(got[9].type, EntryType::kFifo);
  EXPECT_EQ(got[9].mode, 0600u);
}

TEST(TarTest, AddFileFromReaderChecksSize) {
  StringWriter out;
  auto w = TarWriter::Open(out);
  ASSERT_TRUE(w);
  std::string big(3 << 20, 'z');
  StringReader src(big);
  ASSERT_TRUE((*w)->AddFile("blobs/sha256/abc", src, big.size(), 0444));
  StringReader shorter("abc");
  Status st = (*w)->AddFile("short", shorter, 4);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, Code::kDataLoss);

  StringWriter out2;
  auto w2 = TarWriter::Open(out2);
  ASSERT_TRUE(w2);
  StringReader longer("abcde");
  st = (*w2)->AddFile("long", longer, 4);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, Code::kInvalidArgument);
}

TEST(TarTest, WriterIsDeterministic) {
  auto make = [] {
    StringWriter out;
    auto w = TarWriter::Open(out);
    EXPECT_TRUE(w);
    EXPECT_TRUE((*w)->AddDirectory("a"));
    EXPECT_TRUE((*w)->AddFile("a/b", "x"));
    EXPECT_TRUE((*w)->Close());
    return out.Take();
  };
  EXPECT_EQ(make(), make());
}

TEST(TarTest, ReaderDataBlocksCoverTheFile) {
  StringWriter out;
  auto w = TarWriter::Open(out);
  ASSERT_TRUE(w);
  std::string content(5 << 20, 'q');
  content[12345] = 'r';
  ASSERT_TRUE((*w)->AddFile("f", content));
  ASSERT_TRUE((*w)->Close());
  StringReader src(out.Take());
  auto reader = TarReader::Open(src);
  ASSERT_TRUE(reader);
  auto e = (*reader)->Next();
  ASSERT_TRUE(e && *e);
  std::string got;
  while (true) {
    auto block = (*reader)->ReadBlock();
    ASSERT_TRUE(block);
    if (block->data.empty()) break;
    ASSERT_EQ(block->offset, static_cast<int64_t>(got.size()));
    got.append(block->data);
  }
  EXPECT_TRUE(got == content);
  auto end = (*reader)->Next();
  ASSERT_TRUE(end);
  EXPECT_FALSE(*end);
}

TEST(TarTest, EmptyArchiveHasNoEntries) {
  EXPECT_TRUE(ReadEntries(std::string(1024, '\0')).empty());
}

TEST(TarTest, NotATarIsInvalidArgument) {
  Result<std::string> r = ReadError("this is not a tar archive at all, just some text.....");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Code::kInvalidArgument);
  EXPECT_EQ(r.error().message, "not a tar archive");
  r = ReadError(std::string(2000, 'x'));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Code::kInvalidArgument);
}

TEST(TarTest, EmptyInputIsAnError) {
  Result<std::string> r = ReadError("");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Code::kInvalidArgument) << r.error().message;
}

TEST(TarTest, TruncatedTarIsDataLoss) {
  StringWriter out;
  auto w = TarWriter::Open(out);
  ASSERT_TRUE(w);
  ASSERT_TRUE((*w)->AddFile("a", std::string(100000, 'a')));
  ASSERT_TRUE((*w)->AddFile("b", "b"));
  ASSERT_TRUE((*w)->Close());
  for (size_t cut : {size_t{700}, size_t{50000}, size_t{100352 + 100}}) {
    Result<std::string> r = ReadError(out.str().substr(0, cut));
    ASSERT_FALSE(r) << cut;
    EXPECT_EQ(r.error().code, Code::kDataLoss) << cut << ": " << r.error().message;
  }
}

TEST(TarTest, CorruptHeaderChecksumIsAnError) {
  StringWriter out;
  auto w = TarWriter::Open(out);
  ASSERT_TRUE(w);
  ASSERT_TRUE((*w)->AddFile("a", "a"));
  ASSERT_TRUE((*w)->AddFile("b", "b"));
  ASSERT_TRUE((*w)->Close());
  std::string tar = out.Take();
  tar[1024 + 1] = 'X';  // second header's name; checksum no longer matches
  Result<std::string> r = ReadError(tar);
  ASSERT_FALSE(r);
}

TEST(TarTest, AbandonedWriterAddsNoEndMarker) {
  StringWriter out;
  {
    auto w = TarWriter::Open(out);
    ASSERT_TRUE(w);
    ASSERT_TRUE((*w)->AddFile("a", "a"));
  }
  EXPECT_EQ(out.str().find(std::string(1024, '\0'), 1024), std::string::npos);
}

}  // namespace
}  // namespace berth::archive

namespace berth::archive {
namespace {

TEST(TarTest, ReadsGoStylePaxRecordsWithUtf8AndBinaryValues) {
  std::string utf8 = "usr/share/\xe6\x97\xa5\xe6\x9c\xac/" + std::string(120, 'n');
  testing::RawTar tar;
  tar.Pax({{"path", utf8},
           {"mtime", "1700000000.5"},
           {"SCHILY.xattr.security.capability", std::string("\x01\x00\x00\x02\n", 5)}});
  tar.File("ignored-short-name", "data", 0755);
  std::vector<TarEntry> got = ReadEntries(tar.Finish());
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].path, utf8);
  EXPECT_EQ(got[0].mtime, (Timestamp{1700000000, 500000000}));
  ASSERT_EQ(got[0].xattrs.size(), 1u);
  EXPECT_EQ(got[0].xattrs[0].second, std::string("\x01\x00\x00\x02\n", 5));
}

TEST(TarTest, ReadsHostileNamesVerbatim) {
  testing::RawTar tar;
  tar.File("../../etc/x", "a")
      .File("/abs/path", "b")
      .Symlink("up", "../..")
      .Hardlink("h", "/etc/shadow");
  std::vector<TarEntry> got = ReadEntries(tar.Finish());
  ASSERT_EQ(got.size(), 4u);
  EXPECT_EQ(got[0].path, "../../etc/x");
  EXPECT_EQ(got[1].path, "/abs/path");
  EXPECT_EQ(got[2].linkname, "../..");
  EXPECT_EQ(got[3].linkname, "/etc/shadow");
}

}  // namespace
}  // namespace berth::archive
