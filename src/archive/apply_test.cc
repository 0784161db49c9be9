#include "archive/apply.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include <gtest/gtest.h>

#include "archive/tar_writer.h"
#include "archive/testing/fs_snapshot.h"
#include "archive/testing/raw_tar.h"
#include "base/file.h"
#include "sys/linux_syscalls.h"
#include "sys/testing/recording_syscalls.h"

namespace berth::archive {
namespace {

using testing::RawHeader;
using testing::RawTar;

class ApplyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = tmp_.path() + "/root";
    ASSERT_TRUE(MakeDirs(root_));
    // A sentinel tree beside the root: nothing may ever change it.
    ASSERT_TRUE(MakeDirs(tmp_.path() + "/outside/etc"));
    ASSERT_TRUE(WriteFileAtomic(tmp_.path() + "/outside/etc/passwd", "host\n"));
    ASSERT_TRUE(WriteFileAtomic(tmp_.path() + "/x", "host x\n"));
    root_fd_.Reset(::open(root_.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    ASSERT_TRUE(root_fd_.valid());
    outside_before_ = Outside();
  }
  void TearDown() override {
    EXPECT_EQ(testing::DiffSnapshots(outside_before_, Outside()), "") << "outside the root changed";
  }

  std::map<std::string, std::string> Outside() {
    auto all = testing::SnapshotTree(tmp_.path(), /*ignore_dir_times=*/true);
    std::map<std::string, std::string> out;
    for (auto& [k, v] : all) {
      if (k != "root" && !k.starts_with("root/") && k != ".") out[k] = v;
    }
    return out;
  }

  static ApplyOptions Options(WhiteoutMode mode = WhiteoutMode::kDelete) {
    ApplyOptions o;
    o.whiteout_mode = mode;
    o.chown = false;  // unit tests run unprivileged too
    return o;
  }

  Result<ApplyResult> Apply(const std::string& layer, ApplyOptions options = Options()) {
    StringReader r(layer);
    return ApplyLayer(r, root_fd_.get(), options, linux_);
  }

  std::string Read(const std::string& rel) {
    Result<std::string> s = ReadFile(root_ + "/" + rel);
    return s ? *s : "<" + s.error().message + ">";
  }
  bool Exists(const std::string& rel) { return PathExists(root_ + "/" + rel); }
  struct stat Lstat(const std::string& rel) {
    struct stat st {};
    EXPECT_EQ(::lstat((root_ + "/" + rel).c_str(), &st), 0) << rel;
    return st;
  }

  testing::ScopedTempDir tmp_;
  std::string root_;
  UniqueFd root_fd_;
  sys::LinuxSyscalls linux_;
  std::map<std::string, std::string> outside_before_;
};

std::string Gzip(const std::string& data) {
  StringWriter out;
  auto w = NewGzipWriter(out);
  EXPECT_TRUE(w && (*w)->Write(data) && (*w)->Close());
  return out.Take();
}

std::string Zstd(const std::string& data) {
  StringWriter out;
  auto w = NewZstdWriter(out);
  EXPECT_TRUE(w && (*w)->Write(data) && (*w)->Close());
  return out.Take();
}

TEST_F(ApplyTest, AppliesEntriesWithModesTimesAndLinks) {
  StringWriter out;
  auto w = TarWriter::Open(out);
  ASSERT_TRUE(w);
  // Sub-second times need PAX records; pax "restricted" writes them only when a header needs an
  // extension anyway, so give these entries one (an xattr libarchive must carry in PAX).
  TarEntry etc;
  etc.path = "etc/";
  etc.type = EntryType::kDir;
  etc.mode = 0750;
  etc.mtime = {1600000000, 5};
  etc.xattrs = {{"user.berth", "1"}};
  ASSERT_TRUE((*w)->WriteHeader(etc));
  TarEntry passwd = etc;
  passwd.path = "etc/passwd";
  passwd.type = EntryType::kFile;
  passwd.mode = 0640;
  passwd.mtime = {1700000000, 123456789};
  passwd.size = 11;
  ASSERT_TRUE((*w)->WriteHeader(passwd));
  ASSERT_TRUE((*w)->WriteData("root:x:0:0\n"));
  ASSERT_TRUE((*w)->AddFile("usr/bin/big", std::string(5 << 20, 'b'), 0755));
  TarEntry link;
  link.path = "etc/alias";
  link.type = EntryType::kSymlink;
  link.linkname = "/etc/passwd";
  link.mtime = {1500000000, 0};
  ASSERT_TRUE((*w)->WriteHeader(link));
  TarEntry hard;
  hard.path = "etc/passwd-";
  hard.type = EntryType::kHardlink;
  hard.linkname = "etc/passwd";
  hard.mode = 0640;
  hard.mtime = {1700000000, 123456789};  // applied to the shared inode, as Docker does
  hard.xattrs = etc.xattrs;
  ASSERT_TRUE((*w)->WriteHeader(hard));
  TarEntry fifo;
  fifo.path = "run/fifo";
  fifo.type = EntryType::kFifo;
  fifo.mode = 0620;
  ASSERT_TRUE((*w)->WriteHeader(fifo));
  ASSERT_TRUE((*w)->Close());

  Result<ApplyResult> r = Apply(out.str());
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(Read("etc/passwd"), "root:x:0:0\n");
  EXPECT_EQ(Lstat("etc/passwd").st_mode & 07777, 0640u);
  EXPECT_EQ(Lstat("etc/passwd").st_mtim.tv_sec, 1700000000);
  EXPECT_EQ(Lstat("etc/passwd").st_mtim.tv_nsec, 123456789);
  EXPECT_EQ(Lstat("etc/passwd").st_nlink, 2u);
  EXPECT_EQ(Lstat("etc/passwd-").st_ino, Lstat("etc/passwd").st_ino);
  EXPECT_EQ(Read("usr/bin/big"), std::string(5 << 20, 'b'));
  EXPECT_EQ(Lstat("usr").st_mode & 07777, 0755u);  // implicit parents: 0755
  EXPECT_TRUE(S_ISLNK(Lstat("etc/alias").st_mode));
  char target[64] = {};
  ASSERT_GT(::readlink((root_ + "/etc/alias").c_str(), target, sizeof(target)), 0);
  EXPECT_STREQ(target, "/etc/passwd");  // verbatim, not resolved
  EXPECT_EQ(Lstat("etc/alias").st_mtim.tv_sec, 1500000000);
  EXPECT_TRUE(S_ISFIFO(Lstat("run/fifo").st_mode));
  EXPECT_EQ(Lstat("run/fifo").st_mode & 07777, 0620u);
  // The directory's times are set after its contents were written.
  EXPECT_EQ(Lstat("etc").st_mode & 07777, 0750u);
  EXPECT_EQ(Lstat("etc").st_mtim.tv_sec, 1600000000);
  EXPECT_EQ(Lstat("etc").st_mtim.tv_nsec, 5);
}

TEST_F(ApplyTest, DigestsRawAndUncompressedStreamsAndTeesRawBytes) {
  RawTar tar;
  tar.File("a", "hello").Dir("d/");
  std::string plain = tar.Finish();
  std::string gz = Gzip(plain), zst = Zstd(plain);
  struct Case {
    std::string input;
    Compression compression;
  };
  for (const Case& c : {Case{plain, Compression::kNone}, Case{gz, Compression::kGzip},
                        Case{zst, Compression::kZstd}}) {
    StringWriter tee;
    ApplyOptions o = Options();
    o.tee = &tee;
    Result<ApplyResult> r = Apply(c.input, o);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->compression, c.compression);
    EXPECT_EQ(r->diff_id, oci::Digest::Of(plain));
    EXPECT_EQ(r->diff_size, plain.size());
    EXPECT_EQ(r->digest, oci::Digest::Of(c.input));
    EXPECT_EQ(r->size, c.input.size());
    EXPECT_TRUE(tee.str() == c.input);
  }
  EXPECT_EQ(Read("a"), "hello");
}

TEST_F(ApplyTest, TeeDigestsLeavesTheRawDigestToTheTee) {
  RawTar tar;
  tar.File("a", "hello").Dir("d/");
  std::string plain = tar.Finish();
  std::string gz = Gzip(plain);
  for (const std::string& input : {plain, gz}) {
    StringWriter tee;
    ApplyOptions o = Options();
    o.tee = &tee;
    o.tee_digests = true;
    Result<ApplyResult> r = Apply(input, o);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_FALSE(r->digest.valid());
    EXPECT_EQ(r->size, input.size());
    EXPECT_TRUE(tee.str() == input);
    if (r->compression == Compression::kNone) {
      EXPECT_FALSE(r->diff_id.valid()) << "an uncompressed diff_id is the tee's digest";
    } else {
      EXPECT_EQ(r->diff_id, oci::Digest::Of(plain));
    }
    EXPECT_EQ(r->diff_size, plain.size());
  }
  ApplyOptions no_tee = Options();
  no_tee.tee_digests = true;
  EXPECT_EQ(Apply(plain, no_tee).error().code, Code::kInvalidArgument);
}

TEST_F(ApplyTest, DigestCoversTrailingPaddingAfterEndOfArchive) {
  RawTar tar;
  tar.File("a", "x");
  std::string padded = tar.Finish() + std::string(10240 - 1536, '\0');
  Result<ApplyResult> r = Apply(padded);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->diff_size, padded.size());
  EXPECT_EQ(r->diff_id, oci::Digest::Of(padded));
}

TEST_F(ApplyTest, NoOverwriteDirNonDirRefusesTypeChangesOnly) {
  RawTar first;
  first.Dir("d").File("d/keep", "k").File("f", "file");
  ASSERT_TRUE(Apply(first.Finish()));
  ApplyOptions o = Options();
  o.no_overwrite_dir_non_dir = true;
  RawTar file_over_dir;
  file_over_dir.File("d", "not a dir");
  Result<ApplyResult> r = Apply(file_over_dir.Finish(), o);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Code::kConflict);
  EXPECT_NE(r.error().message.find("cannot overwrite directory \"/d\" with non-directory"),
            std::string::npos)
      << r.error().message;
  EXPECT_EQ(Read("d/keep"), "k");
  RawTar dir_over_file;
  dir_over_file.Dir("f");
  r = Apply(dir_over_file.Finish(), o);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("cannot overwrite non-directory \"/f\" with directory"),
            std::string::npos)
      << r.error().message;
  EXPECT_EQ(Read("f"), "file");
  // Same kinds still replace or merge; without the option the type change goes through.
  RawTar same;
  same.File("f", "new").Dir("d").File("d/more", "m");
  ASSERT_TRUE(Apply(same.Finish(), o));
  EXPECT_EQ(Read("f"), "new");
  EXPECT_EQ(Read("d/keep"), "k");
  RawTar replace;
  replace.File("d", "now a file");
  ASSERT_TRUE(Apply(replace.Finish()));
  EXPECT_EQ(Read("d"), "now a file");
}

TEST_F(ApplyTest, ConfinesDotDotAndAbsolutePathsToTheRoot) {
  RawTar tar;
  tar.File("../../x", "escaped?")
      .File("/abs/path", "abs")
      .File("a/../../../../outside/etc/passwd", "inside");
  Result<ApplyResult> r = Apply(tar.Finish());
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(Read("x"), "escaped?");
  EXPECT_EQ(Read("abs/path"), "abs");
  EXPECT_EQ(Read("outside/etc/passwd"), "inside");
}

TEST_F(ApplyTest, SymlinksToRootAndDotDotAreFollowedInsideTheRoot) {
  RawTar tar;
  tar.Symlink("up", "..")
      .Symlink("abs", "/")
      .Symlink("deep", "../../../../..")
      .Symlink("etc", "/outside/etc")  // absolute: means root/outside/etc
      .Dir("outside/etc/")
      .File("up/a", "a")
      .File("abs/b", "b")
      .File("deep/x", "x")
      .File("etc/passwd", "layer");
  Result<ApplyResult> r = Apply(tar.Finish());
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(Read("a"), "a");
  EXPECT_EQ(Read("b"), "b");
  EXPECT_EQ(Read("x"), "x");
  EXPECT_EQ(Read("outside/etc/passwd"), "layer");
}

TEST_F(ApplyTest, DirectoryReplacedBySymlinkThenWrittenIntoStaysInside) {
  RawTar tar;
  tar.Dir("d/")
      .File("d/old", "old")
      .Dir("elsewhere/")
      .Symlink("d", "../../elsewhere")
      .File("d/new", "new");
  Result<ApplyResult> r = Apply(tar.Finish());
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(S_ISLNK(Lstat("d").st_mode));
  EXPECT_EQ(Read("elsewhere/new"), "new");
  EXPECT_FALSE(PathExists(tmp_.path() + "/elsewhere"));
}

TEST_F(ApplyTest, HardLinkTargetsResolveInsideTheRoot) {
  RawTar tar;
  tar.File("etc/passwd", "root").Hardlink("h", "../../etc/passwd").Hardlink("h2", "/etc/passwd");
  Result<ApplyResult> r = Apply(tar.Finish());
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(Lstat("h").st_ino, Lstat("etc/passwd").st_ino);
  EXPECT_EQ(Lstat("h2").st_ino, Lstat("etc/passwd").st_ino);
  // Writing a file over the link replaces the link; its target is untouched.
  RawTar over;
  over.File("h", "new content");
  ASSERT_TRUE(Apply(over.Finish()));
  EXPECT_EQ(Read("etc/passwd"), "root");
  EXPECT_EQ(Read("h"), "new content");
}

TEST_F(ApplyTest, HardLinkToMissingTargetFailsNamingTheEntry) {
  RawTar tar;
  tar.Hardlink("h", "../outside/etc/passwd");  // exists outside the root only
  Result<ApplyResult> r = Apply(tar.Finish());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Code::kNotFound);
  EXPECT_EQ(r.error().message.find("apply layer: entry \"h\": hard link target"), 0u)
      << r.error().message;
}

TEST_F(ApplyTest, SymlinkLoopFailsWithAnError) {
  RawTar tar;
  tar.Symlink("loop", "loop").File("loop/x", "x");
  Result<ApplyResult> r = Apply(tar.Finish());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().sys_errno, ELOOP) << r.error().message;
  EXPECT_EQ(r.error().message.find("apply layer: entry \"loop/x\": "), 0u) << r.error().message;
}

TEST_F(ApplyTest, ReplacesEntriesOfAnotherType) {
  RawTar tar;
  tar.File("a", "file")
      .Dir("a/")
      .File("a/b", "b")
      .Dir("c/")
      .File("c/d", "d")
      .File("c", "now a file")
      .Dir("m/")
      .File("m/keep", "k")
      .Dir("m/", 0700)
      .Symlink("s", "/nowhere")
      .File("s", "not a link");
  Result<ApplyResult> r = Apply(tar.Finish());
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(Read("a/b"), "b");
  EXPECT_EQ(Read("c"), "now a file");
  EXPECT_EQ(Read("m/keep"), "k");  // a directory over a directory merges
  EXPECT_EQ(Lstat("m").st_mode & 07777, 0700u);
  EXPECT_TRUE(S_ISREG(Lstat("s").st_mode));
}

TEST_F(ApplyTest, DeleteModeWhiteoutsAndOpaqueDirectories) {
  RawTar lower;
  lower.File("a/x", "x").File("a/y", "y").File("b/z", "z").File("b/sub/deep", "d").File("c", "c");
  ASSERT_TRUE(Apply(lower.Finish()));
  RawTar upper;
  upper.File("a/.wh.x", "")
      .File("b/new", "n")  // added before the opaque marker: kept
      .File("b/.wh..wh..opq", "")
      .File(".wh.c", "")
      .File(".wh.missing", "");
  Result<ApplyResult> r = Apply(upper.Finish());
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_FALSE(Exists("a/x"));
  EXPECT_TRUE(Exists("a/y"));
  EXPECT_FALSE(Exists("b/z"));
  EXPECT_FALSE(Exists("b/sub"));
  EXPECT_EQ(Read("b/new"), "n");
  EXPECT_FALSE(Exists("c"));
  EXPECT_FALSE(Exists("a/.wh.x"));
}

TEST_F(ApplyTest, WhiteoutOfDotDotDotOrEmptyIsRefused) {
  RawTar lower;
  lower.File("a/keep", "k");
  ASSERT_TRUE(Apply(lower.Finish()));
  for (const char* name : {"a/.wh...", "a/.wh..", "a/.wh.", ".wh.."}) {
    RawTar tar;
    tar.File(name, "");
    Result<ApplyResult> r = Apply(tar.Finish());
    ASSERT_FALSE(r) << name;
    EXPECT_EQ(r.error().code, Code::kInvalidArgument);
    EXPECT_NE(r.error().message.find("refused"), std::string::npos) << r.error().message;
    EXPECT_EQ(r.error().message.find(std::string("apply layer: entry \"") + name + "\""), 0u)
        << r.error().message;
  }
  EXPECT_EQ(Read("a/keep"), "k");
}

TEST_F(ApplyTest, AufsMetadataIsSkippedAndRootEntryAppliesToRoot) {
  RawTar tar;
  tar.Dir("./", 0750).File(".wh..wh.plnk/1234.5", "aufs").Dir(".wh..wh.aufs/");
  Result<ApplyResult> r = Apply(tar.Finish());
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_FALSE(Exists(".wh..wh.plnk"));
  EXPECT_FALSE(Exists(".wh..wh.aufs"));
  EXPECT_EQ(Lstat(".").st_mode & 07777, 0750u);
  RawTar bad;
  bad.File("./", "not a dir");
  EXPECT_FALSE(Apply(bad.Finish()));
}

TEST_F(ApplyTest, CorruptTruncatedEmptyAndNonTarInputFailClearly) {
  RawTar tar;
  tar.File("a", std::string(100000, 'a'));
  std::string gz = Gzip(tar.Finish()), zst = Zstd(tar.Finish());
  Result<ApplyResult> r = Apply(gz.substr(0, gz.size() / 2));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Code::kDataLoss);
  EXPECT_NE(r.error().message.find("unexpected end of gzip stream"), std::string::npos)
      << r.error().message;
  EXPECT_EQ(r.error().message.find("apply layer"), 0u);
  r = Apply(zst.substr(0, zst.size() - 3));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Code::kDataLoss);
  std::string bad = gz;
  bad[bad.size() - 5] = static_cast<char>(bad[bad.size() - 5] ^ 1);  // size trailer
  r = Apply(bad);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Code::kDataLoss);
  r = Apply("");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Code::kInvalidArgument) << r.error().message;
  r = Apply(std::string(4096, 'x'));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "apply layer: not a tar archive");
  r = Apply(tar.bytes().substr(0, 5000));  // truncated tar
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Code::kDataLoss);
}

TEST_F(ApplyTest, SyscallErrorsNameTheEntryAndKeepErrno) {
  sys::testing::RecordingSyscalls rec(linux_);
  rec.FailCall("fchmod", EIO);
  RawTar tar;
  tar.File("etc/passwd", "x");
  StringReader r(tar.Finish());
  Result<ApplyResult> res = ApplyLayer(r, root_fd_.get(), Options(), rec);
  ASSERT_FALSE(res);
  EXPECT_EQ(res.error().sys_errno, EIO);
  EXPECT_EQ(res.error().message, "apply layer: entry \"etc/passwd\": fchmod " +
                                     rec.calls().back().args[0] + ": Input/output error");

  sys::testing::RecordingSyscalls full(linux_);
  full.FailCall("pwrite", ENOSPC);
  StringReader r2(tar.Finish());
  res = ApplyLayer(r2, root_fd_.get(), Options(), full);
  ASSERT_FALSE(res);
  EXPECT_EQ(res.error().code, Code::kResourceExhausted);
}

TEST_F(ApplyTest, ResolvesEachParentDirectoryOnceForARunOfEntries) {
  RawTar tar;
  tar.Dir("usr/").Dir("usr/bin/");
  for (int i = 0; i < 50; ++i) tar.File("usr/bin/tool" + std::to_string(i), "t");
  sys::testing::RecordingSyscalls rec(linux_);
  StringReader r(tar.Finish());
  ASSERT_TRUE(ApplyLayer(r, root_fd_.get(), Options(), rec));
  // 50 creates + the two parents resolved once each (+ the final pass over directory times).
  EXPECT_LE(rec.Count("openat2"), 50u + 4u);
  EXPECT_EQ(rec.Count("fstatat"), 2u);  // directory times only: no per-entry stat
  EXPECT_EQ(rec.Count("syncfs"), 0u);
}

TEST_F(ApplyTest, SyncOptionSyncsTheFileSystemOnce) {
  sys::testing::RecordingSyscalls rec(linux_);
  RawTar tar;
  tar.File("a", "a").File("b", "b");
  StringReader r(tar.Finish());
  ApplyOptions o = Options();
  o.sync = true;
  ASSERT_TRUE(ApplyLayer(r, root_fd_.get(), o, rec));
  EXPECT_EQ(rec.Count("syncfs"), 1u);
}

TEST_F(ApplyTest, SparseFilesKeepHolesAndTheirSize) {
  // PAX GNU sparse 1.0: the data starts with the map (count, then offset/size pairs), padded
  // to a block, followed by the data of the non-hole regions. Here: "hello" at 4096 of 2 MiB.
  RawTar tar;
  std::string map = "1\n4096\n5\n";
  map.resize(512, '\0');
  tar.Pax({{"GNU.sparse.major", "1"},
           {"GNU.sparse.minor", "0"},
           {"GNU.sparse.name", "sparse"},
           {"GNU.sparse.realsize", std::to_string(2 << 20)}});
  tar.File("GNUSparseFile.0/sparse", map + "hello");
  tar.File("empty", "");
  Result<ApplyResult> r = Apply(tar.Finish());
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(Lstat("sparse").st_size, 2 << 20);
  std::string want(2 << 20, '\0');
  want.replace(4096, 5, "hello");
  EXPECT_TRUE(Read("sparse") == want);
  EXPECT_LT(Lstat("sparse").st_blocks * 512, 1 << 20);  // the holes stay holes
  EXPECT_EQ(Lstat("empty").st_size, 0);
}

}  // namespace
}  // namespace berth::archive
