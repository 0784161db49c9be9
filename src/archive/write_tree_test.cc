#include "archive/write_tree.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <regex>
#include <string>

#include <gtest/gtest.h>

#include "archive/apply.h"
#include "archive/tar_reader.h"
#include "archive/testing/fs_snapshot.h"
#include "base/file.h"
#include "sys/linux_syscalls.h"
#include "sys/testing/recording_syscalls.h"

namespace berth::archive {
namespace {

class WriteTreeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    src_ = tmp_.path() + "/src";
    ASSERT_TRUE(MakeDirs(src_ + "/etc/ssl"));
    ASSERT_TRUE(MakeDirs(src_ + "/var/cache/apt"));
    ASSERT_TRUE(MakeDirs(src_ + "/" + std::string(120, 'd')));
    ASSERT_TRUE(WriteFileAtomic(src_ + "/etc/passwd", "root:x:0:0\n", 0644));
    ASSERT_TRUE(WriteFileAtomic(src_ + "/etc/ssl/cert", std::string(3 << 20, 'c'), 0600));
    ASSERT_TRUE(WriteFileAtomic(src_ + "/var/cache/apt/pkg", "cache"));
    ASSERT_TRUE(
        WriteFileAtomic(src_ + "/" + std::string(120, 'd') + "/" + std::string(150, 'f'), "long"));
    ASSERT_TRUE(WriteFileAtomic(src_ + "/Zed", "upper case sorts first"));
    ASSERT_EQ(::link((src_ + "/etc/passwd").c_str(), (src_ + "/etc/passwd-").c_str()), 0);
    ASSERT_EQ(::symlink("/etc/passwd", (src_ + "/link").c_str()), 0);
    ASSERT_EQ(::mkfifo((src_ + "/fifo").c_str(), 0640), 0);
    ASSERT_EQ(::chmod((src_ + "/etc/ssl").c_str(), 02750), 0);
    user_xattrs_ = ::setxattr((src_ + "/etc/passwd").c_str(), "user.test", "v", 1, 0) == 0;
    // Whole-second times everywhere, since the tar keeps whole seconds.
    for (const char* p : {"etc/passwd", "etc/ssl/cert", "etc/ssl", "etc", "var/cache/apt/pkg",
                          "var/cache/apt", "var/cache", "var", "Zed", "fifo"}) {
      struct timespec t[2] = {{1600000000, 0}, {1600000000, 0}};
      ASSERT_EQ(::utimensat(AT_FDCWD, (src_ + "/" + p).c_str(), t, AT_SYMLINK_NOFOLLOW), 0) << p;
    }
    for (const std::string& p :
         {src_ + "/link", src_ + "/" + std::string(120, 'd') + "/" + std::string(150, 'f'),
          src_ + "/" + std::string(120, 'd')}) {
      struct timespec t[2] = {{1600000000, 0}, {1600000000, 0}};
      ASSERT_EQ(::utimensat(AT_FDCWD, p.c_str(), t, AT_SYMLINK_NOFOLLOW), 0) << p;
    }
    fd_.Reset(::open(src_.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    ASSERT_TRUE(fd_.valid());
  }

  Result<std::string> Write(const WriteTreeOptions& options = {}) {
    StringWriter out;
    BERTH_RETURN_IF_ERROR(WriteTree(fd_.get(), out, options));
    return out.Take();
  }

  static std::vector<TarEntry> Entries(const std::string& tar) {
    StringReader src(tar);
    auto reader = TarReader::Open(src);
    EXPECT_TRUE(reader);
    std::vector<TarEntry> out;
    while (reader) {
      auto e = (*reader)->Next();
      EXPECT_TRUE(e);
      if (!e || !*e) break;
      out.push_back(**e);
    }
    return out;
  }

  testing::ScopedTempDir tmp_;
  std::string src_;
  UniqueFd fd_;
  bool user_xattrs_ = false;
};

TEST_F(WriteTreeTest, WritesSortedDepthFirstWithHardLinksByInode) {
  Result<std::string> tar = Write();
  ASSERT_TRUE(tar) << tar.error().message;
  std::vector<std::string> paths;
  for (const TarEntry& e : Entries(*tar)) paths.push_back(e.path);
  std::string d(120, 'd');
  EXPECT_EQ(paths, (std::vector<std::string>{"Zed", d + "/", d + "/" + std::string(150, 'f'),
                                             "etc/", "etc/passwd", "etc/passwd-", "etc/ssl/",
                                             "etc/ssl/cert", "fifo", "link", "var/", "var/cache/",
                                             "var/cache/apt/", "var/cache/apt/pkg"}));
  std::vector<TarEntry> entries = Entries(*tar);
  EXPECT_EQ(entries[5].type, EntryType::kHardlink);
  EXPECT_EQ(entries[5].linkname, "etc/passwd");
  EXPECT_EQ(entries[6].mode, 02750u);
  EXPECT_EQ(entries[8].type, EntryType::kFifo);
  EXPECT_EQ(entries[9].type, EntryType::kSymlink);
  EXPECT_EQ(entries[9].linkname, "/etc/passwd");
  if (user_xattrs_) {
    ASSERT_EQ(entries[4].xattrs.size(), 1u);
    EXPECT_EQ(entries[4].xattrs[0], (std::pair<std::string, std::string>("user.test", "v")));
  }
}

TEST_F(WriteTreeTest, IsDeterministic) {
  Result<std::string> a = Write(), b = Write();
  ASSERT_TRUE(a && b);
  EXPECT_TRUE(*a == *b);
}

TEST_F(WriteTreeTest, ExcludesPathsAndEverythingUnderThem) {
  WriteTreeOptions o;
  o.exclude = {"/var/cache", "etc/ssl/cert", "nonexistent"};
  Result<std::string> tar = Write(o);
  ASSERT_TRUE(tar);
  for (const TarEntry& e : Entries(*tar)) {
    EXPECT_FALSE(e.path.starts_with("var/cache")) << e.path;
    EXPECT_NE(e.path, "etc/ssl/cert");
  }
}

TEST_F(WriteTreeTest, RoundTripsThroughApplyLayer) {
  Result<std::string> tar = Write();
  ASSERT_TRUE(tar);
  std::string dst = tmp_.path() + "/dst";
  ASSERT_TRUE(MakeDirs(dst));
  UniqueFd dst_fd(::open(dst.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  sys::LinuxSyscalls sys;
  StringReader r(*tar);
  ApplyOptions o;
  o.chown = geteuid() == 0;
  Result<ApplyResult> applied = ApplyLayer(r, dst_fd.get(), o, sys);
  ASSERT_TRUE(applied) << applied.error().message;
  auto strip = [](std::map<std::string, std::string> m) {
    m.erase(".");
    std::regex ctime(" ctime=[0-9.]+");
    for (auto& [k, v] : m) v = std::regex_replace(v, ctime, "");
    return m;
  };
  EXPECT_EQ(
      testing::DiffSnapshots(strip(testing::SnapshotTree(src_)), strip(testing::SnapshotTree(dst))),
      "");
}

TEST_F(WriteTreeTest, ReadErrorsNameTheEntry) {
  sys::LinuxSyscalls linux_syscalls;
  sys::testing::RecordingSyscalls rec(linux_syscalls);
  rec.FailCall("openat2", EACCES, {.arg_contains = "cert", .skip = 0, .times = 1});
  WriteTreeOptions o;
  o.sys = &rec;
  StringWriter out;
  Status st = WriteTree(fd_.get(), out, o);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, Code::kPermissionDenied);
  EXPECT_EQ(st.error().message, "write tree: \"etc/ssl/cert\": openat2 cert: Permission denied");
}

}  // namespace
}  // namespace berth::archive
