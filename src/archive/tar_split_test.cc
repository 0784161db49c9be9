#include "archive/tar_split.h"

#include <fcntl.h>
#include <unistd.h>

#include <string>

#include <gtest/gtest.h>

#include "archive/apply.h"
#include "archive/tar_writer.h"
#include "archive/testing/fs_snapshot.h"
#include "archive/testing/raw_tar.h"
#include "base/file.h"
#include "sys/linux_syscalls.h"

namespace berth::archive {
namespace {

using testing::RawHeader;
using testing::RawTar;

std::string Pattern(size_t n, int seed) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>((i * 131 + static_cast<size_t>(seed)) % 251);
  return s;
}

class TarSplitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = tmp_.path() + "/root";
    ASSERT_TRUE(MakeDirs(root_));
    root_fd_.Reset(::open(root_.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    ASSERT_TRUE(root_fd_.valid());
  }

  // Applies `layer` with a recorder; `fallback` (if given) receives the stream on fallback.
  Result<ApplyResult> Apply(const std::string& layer, TarSplitRecorder& rec) {
    StringReader r(layer);
    ApplyOptions o;
    o.chown = false;
    o.recorder = &rec;
    return ApplyLayer(r, root_fd_.get(), o, linux_);
  }

  TarSplitRecorder::Options WithFallback() {
    TarSplitRecorder::Options o;
    o.open_fallback = [this]() -> Result<Writer*> { return &fallback_; };
    return o;
  }

  Result<std::string> Regenerate(const std::string& meta) {
    BERTH_ASSIGN_OR_RETURN(auto r, NewTarSplitReader(std::make_unique<StringReader>(meta),
                                                     root_fd_.get(), linux_));
    return ReadAll(*r, 1 << 30);
  }

  Result<std::string> RegenerateVerified(const std::string& meta, const std::string& original,
                                         std::string* got) {
    BERTH_ASSIGN_OR_RETURN(auto r, NewTarSplitReader(std::make_unique<StringReader>(meta),
                                                     root_fd_.get(), linux_));
    auto v = NewVerifyingReader(std::move(r), oci::Digest::Of(original),
                                static_cast<int64_t>(original.size()));
    char buf[4096];
    while (true) {
      BERTH_ASSIGN_OR_RETURN(size_t n, v->Read(buf, sizeof buf));
      if (n == 0) break;
      got->append(buf, n);
    }
    return *got;
  }

  std::string Layer() {
    StringWriter out;
    auto w = TarWriter::Open(out);
    EXPECT_TRUE(w);
    EXPECT_TRUE((*w)->AddDirectory("etc", 0750));
    EXPECT_TRUE((*w)->AddFile("etc/passwd", "root:x:0:0\n", 0640));
    EXPECT_TRUE((*w)->AddFile("etc/empty", "", 0600));
    for (size_t n : {511, 512, 513, 100000}) {
      EXPECT_TRUE((*w)->AddFile("data/f" + std::to_string(n), Pattern(n, static_cast<int>(n))));
    }
    EXPECT_TRUE((*w)->AddFile("usr/bin/big", Pattern(3 << 20, 7), 0755));
    // A name past ustar's 100 bytes: PAX path records before the header.
    EXPECT_TRUE((*w)->AddFile("usr/share/" + std::string(150, 'n') + "/long", "long\n"));
    TarEntry link;
    link.path = "etc/alias";
    link.type = EntryType::kSymlink;
    link.linkname = "/etc/passwd";
    EXPECT_TRUE((*w)->WriteHeader(link));
    TarEntry hard;
    hard.path = "etc/passwd-";
    hard.type = EntryType::kHardlink;
    hard.linkname = "etc/passwd";
    hard.mode = 0640;
    EXPECT_TRUE((*w)->WriteHeader(hard));
    EXPECT_TRUE((*w)->Close());
    return out.Take();
  }

  testing::ScopedTempDir tmp_;
  std::string root_;
  UniqueFd root_fd_;
  sys::LinuxSyscalls linux_;
  StringWriter fallback_;
};

TEST_F(TarSplitTest, RegeneratesTheExactStreamFromMetadataAndTree) {
  std::string layer = Layer();
  TarSplitRecorder rec(root_fd_.get(), linux_, {});
  ASSERT_TRUE(Apply(layer, rec));
  ASSERT_FALSE(rec.fell_back()) << rec.fallback_reason();
  // The file data is not in the metadata: far smaller than the layer.
  EXPECT_LT(rec.metadata().size(), layer.size() / 50);
  Result<std::string> again = Regenerate(rec.metadata());
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_TRUE(*again == layer);
  StringReader meta(rec.metadata());
  Status tree = VerifyTarSplitTree(meta, root_fd_.get(), linux_);
  EXPECT_TRUE(tree) << tree.error().message;
}

TEST_F(TarSplitTest, RawTarWithPaxRecordsAndTrailingBytes) {
  RawTar t;
  t.Dir("a/");
  t.Pax({{"path", "a/" + std::string(120, 'p')}, {"mtime", "1700000000.5"}});
  t.File("a/short-name-replaced", Pattern(1000, 3));
  t.File("a/b", Pattern(512, 4));
  t.Symlink("a/s", "../x");
  std::string layer = t.Finish() + std::string(4096, '\0');  // more zero blocks after the end
  TarSplitRecorder rec(root_fd_.get(), linux_, {});
  ASSERT_TRUE(Apply(layer, rec));
  ASSERT_FALSE(rec.fell_back()) << rec.fallback_reason();
  Result<std::string> again = Regenerate(rec.metadata());
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_TRUE(*again == layer);
}

TEST_F(TarSplitTest, ChangedFileIsDataLossAndTheStreamNeverCompletes) {
  std::string layer = Layer();
  TarSplitRecorder rec(root_fd_.get(), linux_, {});
  ASSERT_TRUE(Apply(layer, rec));
  ASSERT_FALSE(rec.fell_back());
  // Same size, one byte different: only the digest can tell.
  Result<std::string> big = ReadFile(root_ + "/usr/bin/big");
  ASSERT_TRUE(big);
  std::string changed = *big;
  changed[changed.size() - 1] ^= 1;
  ASSERT_TRUE(WriteFileAtomic(root_ + "/usr/bin/big", changed, 0755));
  std::string got;
  Result<std::string> r = RegenerateVerified(rec.metadata(), layer, &got);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Code::kDataLoss);
  EXPECT_LT(got.size(), layer.size());
}

TEST_F(TarSplitTest, IntactStreamPassesVerification) {
  std::string layer = Layer();
  TarSplitRecorder rec(root_fd_.get(), linux_, {});
  ASSERT_TRUE(Apply(layer, rec));
  std::string got;
  Result<std::string> r = RegenerateVerified(rec.metadata(), layer, &got);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(got == layer);
}

TEST_F(TarSplitTest, MissingOrShortFileIsDataLoss) {
  std::string layer = Layer();
  TarSplitRecorder rec(root_fd_.get(), linux_, {});
  ASSERT_TRUE(Apply(layer, rec));
  ASSERT_EQ(::truncate((root_ + "/data/f513").c_str(), 100), 0);
  Result<std::string> r = Regenerate(rec.metadata());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Code::kDataLoss);
  ASSERT_EQ(::unlink((root_ + "/data/f513").c_str()), 0);
  r = Regenerate(rec.metadata());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Code::kDataLoss);
}

TEST_F(TarSplitTest, TreeVerificationFindsLostEntriesWithoutData) {
  std::string layer = Layer();
  TarSplitRecorder rec(root_fd_.get(), linux_, {});
  ASSERT_TRUE(Apply(layer, rec));
  ASSERT_EQ(::unlink((root_ + "/etc/alias").c_str()), 0);  // a symlink: no data of its own
  StringReader meta(rec.metadata());
  Status st = VerifyTarSplitTree(meta, root_fd_.get(), linux_);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, Code::kDataLoss);
  EXPECT_NE(st.error().message.find("etc/alias"), std::string::npos) << st.error().message;

  ASSERT_EQ(::symlink("/etc/passwd", (root_ + "/etc/alias").c_str()), 0);
  ASSERT_EQ(::chmod((root_ + "/etc").c_str(), 0700), 0);  // the layer says 0750
  StringReader meta2(rec.metadata());
  EXPECT_FALSE(VerifyTarSplitTree(meta2, root_fd_.get(), linux_));
}

TEST_F(TarSplitTest, PathTwiceFallsBackWithTheWholeStream) {
  RawTar t;
  t.File("a", Pattern(2000, 1));
  t.File("b", Pattern(700, 2));
  t.File("a", Pattern(10, 3));  // replaces the first "a": its bytes are gone from the tree
  t.File("c", Pattern(5000, 4));
  std::string layer = t.Finish();
  TarSplitRecorder rec(root_fd_.get(), linux_, WithFallback());
  ASSERT_TRUE(Apply(layer, rec));
  EXPECT_TRUE(rec.fell_back());
  EXPECT_NE(rec.fallback_reason().find("\"a\""), std::string::npos) << rec.fallback_reason();
  EXPECT_TRUE(fallback_.str() == layer);
}

TEST_F(TarSplitTest, EntryUnderASymlinkOrReplacingADirectoryFallsBack) {
  for (int variant = 0; variant < 4; ++variant) {
    SCOPED_TRACE(variant);
    RawTar t;
    t.Dir("d/");
    t.File("d/x", Pattern(3000, 1));
    if (variant == 0) {
      t.Symlink("s", "d");
      t.File("s/x", Pattern(100, 2));  // written through the symlink: replaces d/x
    } else if (variant == 1) {
      t.File("d", Pattern(100, 3));  // a file replacing the directory d
    } else if (variant == 2) {
      t.File("e/f/g", Pattern(100, 4));
      t.Symlink("e", "d");  // replaces a directory only implied by e/f/g, two levels up
    } else {
      t.Symlink("s", "d");
      t.File("s/new/deep", Pattern(100, 5));  // under the symlink, two levels down
    }
    std::string layer = t.Finish();
    std::string root = tmp_.path() + "/r" + std::to_string(variant);
    ASSERT_TRUE(MakeDirs(root));
    root_fd_.Reset(::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    fallback_ = StringWriter();
    TarSplitRecorder rec(root_fd_.get(), linux_, WithFallback());
    ASSERT_TRUE(Apply(layer, rec));
    EXPECT_TRUE(rec.fell_back());
    EXPECT_TRUE(fallback_.str() == layer);
  }
}

TEST_F(TarSplitTest, UnreadableFileFallsBackWhenReadingIsUnprivileged) {
  RawTar t;
  t.File("readable", Pattern(100, 1), 0644);
  t.File("secret", Pattern(100, 2), 0000);
  std::string layer = t.Finish();
  TarSplitRecorder::Options o = WithFallback();
  o.read_any = false;
  TarSplitRecorder rec(root_fd_.get(), linux_, o);
  ASSERT_TRUE(Apply(layer, rec));
  EXPECT_TRUE(rec.fell_back());
  EXPECT_TRUE(fallback_.str() == layer);
}

TEST_F(TarSplitTest, MetadataOverTheLimitFallsBack) {
  std::string layer = Layer();
  TarSplitRecorder::Options o = WithFallback();
  o.max_metadata = 1024;
  TarSplitRecorder rec(root_fd_.get(), linux_, o);
  ASSERT_TRUE(Apply(layer, rec));
  EXPECT_TRUE(rec.fell_back());
  EXPECT_TRUE(fallback_.str() == layer);
}

TEST_F(TarSplitTest, CorruptMetadataIsDataLoss) {
  std::string layer = Layer();
  TarSplitRecorder rec(root_fd_.get(), linux_, {});
  ASSERT_TRUE(Apply(layer, rec));
  std::string meta = rec.metadata();
  Result<std::string> r = Regenerate(meta.substr(0, meta.size() - 3));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Code::kDataLoss);
  r = Regenerate("not metadata at all");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Code::kDataLoss);
}

}  // namespace
}  // namespace berth::archive
