// Hostile layers applied as root. Each test applies into <tmp>/root while <tmp> also holds a
// sentinel tree (<tmp>/outside, <tmp>/x) and proves that everything outside the root is
// byte-for-byte and stat-for-stat (times, ctimes, owners, modes, xattrs) unchanged, and that
// what lands inside is what Docker would produce.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <map>
#include <string>

#include <gtest/gtest.h>

#include "archive/apply.h"
#include "archive/tar_reader.h"
#include "archive/tar_split.h"
#include "archive/testing/fs_snapshot.h"
#include "archive/testing/raw_tar.h"
#include "archive/write_tree.h"
#include "base/file.h"
#include "base/strings.h"
#include "sys/linux_syscalls.h"

namespace berth::archive {
namespace {

using testing::RawHeader;
using testing::RawTar;

class ApplyLayerPrivilegedTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root";
    root_ = tmp_.path() + "/root";
    outside_ = tmp_.path() + "/outside";
    ASSERT_TRUE(MakeDirs(root_));
    ASSERT_TRUE(MakeDirs(outside_ + "/etc"));
    ASSERT_TRUE(WriteFileAtomic(outside_ + "/etc/passwd", "host passwd\n", 0644));
    ASSERT_TRUE(WriteFileAtomic(outside_ + "/secret", "host secret\n", 0600));
    ASSERT_TRUE(WriteFileAtomic(outside_ + "/suid", "#!/bin/sh\n", 04755));
    ASSERT_EQ(::chmod((outside_ + "/suid").c_str(), 04755), 0);
    ASSERT_EQ(::symlink("/etc/passwd", (outside_ + "/link").c_str()), 0);
    ASSERT_EQ(::mkfifo((outside_ + "/fifo").c_str(), 0600), 0);
    ASSERT_EQ(::setxattr(outside_.c_str(), "trusted.berth", "outside", 7, 0), 0);
    ASSERT_TRUE(WriteFileAtomic(tmp_.path() + "/x", "host x\n"));
    root_fd_.Reset(::open(root_.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    ASSERT_TRUE(root_fd_.valid());
    before_ = Outside();
  }

  void TearDown() override {
    if (IsSkipped()) return;
    EXPECT_EQ(testing::DiffSnapshots(before_, Outside()), "")
        << "the tree outside the root changed";
  }

  // Everything in <tmp> except <tmp>/root, with all times; <tmp> itself too.
  std::map<std::string, std::string> Outside() {
    std::map<std::string, std::string> out;
    for (auto& [k, v] : testing::SnapshotTree(tmp_.path())) {
      if (k != "root" && !k.starts_with("root/")) out[k] = v;
    }
    return out;
  }

  Result<ApplyResult> Apply(const std::string& layer, WhiteoutMode mode = WhiteoutMode::kOverlay) {
    StringReader r(layer);
    ApplyOptions o;
    o.whiteout_mode = mode;
    return ApplyLayer(r, root_fd_.get(), o, sys_);
  }

  std::string In(const std::string& rel) { return root_ + "/" + rel; }
  std::string Read(const std::string& rel) {
    Result<std::string> s = ReadFile(In(rel));
    return s ? *s : "<" + s.error().message + ">";
  }
  struct stat Lstat(const std::string& rel) {
    struct stat st {};
    EXPECT_EQ(::lstat(In(rel).c_str(), &st), 0) << rel;
    return st;
  }
  std::string Xattr(const std::string& rel, const char* name) {
    char buf[256];
    ssize_t n = ::lgetxattr(In(rel).c_str(), name, buf, sizeof(buf));
    return n < 0 ? "<none>" : std::string(buf, static_cast<size_t>(n));
  }
  // Where a host path that a hostile layer aims at would land if it escaped.
  static std::string HostCanary() { return "/tmp/berth-escape-canary-" + std::to_string(getpid()); }

  testing::ScopedTempDir tmp_;
  std::string root_, outside_;
  UniqueFd root_fd_;
  sys::LinuxSyscalls sys_;
  std::map<std::string, std::string> before_;
};

TEST_F(ApplyLayerPrivilegedTest, DotDotPathsAreConfined) {
  std::string canary = HostCanary();
  bool etc_x_existed = PathExists("/etc/x");
  RawTar tar;
  tar.File("../../etc/x", "layer etc/x")
      .File("../../../../../../../.." + canary, "escaped")
      .File("../outside/secret", "layer secret")
      .File("../../x", "layer x")
      .File("a/../../../outside/etc/passwd", "layer passwd");
  Result<ApplyResult> r = Apply(tar.Finish());
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_FALSE(PathExists(canary));
  EXPECT_EQ(PathExists("/etc/x"), etc_x_existed);
  EXPECT_EQ(Read("etc/x"), "layer etc/x");
  EXPECT_EQ(Read(canary.substr(1)), "escaped");
  EXPECT_EQ(Read("outside/secret"), "layer secret");
  EXPECT_EQ(Read("x"), "layer x");
  EXPECT_EQ(Read("outside/etc/passwd"), "layer passwd");
}

TEST_F(ApplyLayerPrivilegedTest, AbsolutePathsAreConfined) {
  RawTar tar;
  tar.File(outside_ + "/secret", "layer secret").File("/abs/path", "abs");
  Result<ApplyResult> r = Apply(tar.Finish());
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(Read(outside_.substr(1) + "/secret"), "layer secret");
  EXPECT_EQ(Read("abs/path"), "abs");
}

TEST_F(ApplyLayerPrivilegedTest, SymlinksToRootAndDotDotThenWrittenThroughStayInside) {
  RawTar tar;
  tar.Symlink("slash", "/")
      .Symlink("up", "../..")
      .Symlink("host", outside_)  // absolute host path: means <root><outside_>
      .Symlink("rel", "../../../outside")
      .Dir("outside/")  // what "rel" means inside the root
      .File("slash/x", "via slash")
      .File("up/secret", "via up")
      .File("rel/y", "via rel");
  Result<ApplyResult> r = Apply(tar.Finish());
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(Read("x"), "via slash");
  EXPECT_EQ(Read("secret"), "via up");
  EXPECT_EQ(Read("outside/y"), "via rel");

  // A dangling symlink as a parent ("host" means <root><outside_>, which does not exist): an
  // error, as Docker's MkdirAll gives, and never a write through it.
  RawTar through;
  through.File("host/pwned", "pwned");
  Result<ApplyResult> r2 = Apply(through.Finish());
  ASSERT_FALSE(r2);
  EXPECT_EQ(r2.error().message.find("apply layer: entry \"host/pwned\""), 0u) << r2.error().message;
  EXPECT_FALSE(PathExists(outside_ + "/pwned"));
}

TEST_F(ApplyLayerPrivilegedTest, HardLinksCannotReachOutside) {
  for (const std::string& target :
       {std::string("../outside/secret"), outside_ + "/secret",
        "/proc/self/root" + outside_ + "/secret", std::string("../../x")}) {
    RawTar tar;
    tar.Hardlink("h", target);
    Result<ApplyResult> r = Apply(tar.Finish());
    ASSERT_FALSE(r) << target;
    EXPECT_EQ(r.error().code, Code::kNotFound) << r.error().message;
    EXPECT_EQ(r.error().message.find("apply layer: entry \"h\": hard link target"), 0u);
  }
  // A link to a file inside, then a file written at the link's path: the target is untouched.
  RawTar tar;
  tar.File("etc/shadow", "inside").Hardlink("h", "/etc/shadow").File("h", "overwritten");
  Result<ApplyResult> r = Apply(tar.Finish());
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(Read("etc/shadow"), "inside");
  EXPECT_EQ(Read("h"), "overwritten");
  EXPECT_EQ(Lstat("etc/shadow").st_nlink, 1u);
  // A hard link to a symlink links the symlink itself, never what it points at.
  RawTar sym;
  sym.Symlink("s", outside_ + "/secret").Hardlink("hs", "s");
  ASSERT_TRUE(Apply(sym.Finish()));
  EXPECT_TRUE(S_ISLNK(Lstat("hs").st_mode));
}

TEST_F(ApplyLayerPrivilegedTest, DirectoryReplacedBySymlinkThenWrittenInto) {
  RawTar tar;
  tar.Dir("d/").File("d/a", "a").Symlink("d", "/").File("d/b", "b");
  Result<ApplyResult> r = Apply(tar.Finish());
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(S_ISLNK(Lstat("d").st_mode));
  EXPECT_EQ(Read("b"), "b");
  RawTar out;
  out.Dir("e/").Symlink("e", outside_).File("e/pwned", "pwned");
  Result<ApplyResult> r2 = Apply(out.Finish());
  EXPECT_FALSE(r2);  // <root><outside_> does not exist: an error, nothing written outside
  EXPECT_FALSE(PathExists(outside_ + "/pwned"));
}

TEST_F(ApplyLayerPrivilegedTest, SymlinkLoopsFail) {
  RawTar tar;
  tar.Symlink("a", "b").Symlink("b", "a").File("a/x", "x");
  Result<ApplyResult> r = Apply(tar.Finish());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().sys_errno, ELOOP) << r.error().message;
}

TEST_F(ApplyLayerPrivilegedTest, WhiteoutsOfDotDotAndDotAreRefused) {
  RawTar lower;
  lower.File("a/keep", "k");
  ASSERT_TRUE(Apply(lower.Finish(), WhiteoutMode::kDelete));
  for (WhiteoutMode mode : {WhiteoutMode::kOverlay, WhiteoutMode::kDelete}) {
    for (const char* name : {".wh..", ".wh...", "a/.wh...", "a/.wh..", "../.wh..", ".wh."}) {
      RawTar tar;
      tar.File(name, "");
      Result<ApplyResult> r = Apply(tar.Finish(), mode);
      ASSERT_FALSE(r) << name;
      EXPECT_EQ(r.error().code, Code::kInvalidArgument) << r.error().message;
    }
  }
  EXPECT_EQ(Read("a/keep"), "k");
}

TEST_F(ApplyLayerPrivilegedTest, OverlayWhiteoutsAndOpaqueDirectories) {
  RawTar tar;
  RawHeader wh;
  wh.name = "etc/.wh.passwd";
  wh.uid = 12;
  wh.gid = 34;
  tar.Dir("etc/")
      .Add(wh)
      .Dir("var/")
      .File("var/.wh..wh..opq", "")
      .File("var/new", "n")
      .File("opq/.wh..wh..opq", "");
  Result<ApplyResult> r = Apply(tar.Finish());
  ASSERT_TRUE(r) << r.error().message;
  struct stat st = Lstat("etc/passwd");
  EXPECT_TRUE(S_ISCHR(st.st_mode));
  EXPECT_EQ(st.st_rdev, makedev(0, 0));
  EXPECT_EQ(st.st_uid, 12u);
  EXPECT_EQ(st.st_gid, 34u);
  EXPECT_FALSE(PathExists(In("etc/.wh.passwd")));
  EXPECT_EQ(Xattr("var", "trusted.overlay.opaque"), "y");
  EXPECT_EQ(Xattr("opq", "trusted.overlay.opaque"), "y");  // parent created on the way
  EXPECT_EQ(Xattr("etc", "trusted.overlay.opaque"), "<none>");
  EXPECT_FALSE(PathExists(In("var/.wh..wh..opq")));
  EXPECT_EQ(Read("var/new"), "n");
}

TEST_F(ApplyLayerPrivilegedTest, DevicesFifosSetuidOwnersAndTimes) {
  RawTar tar;
  RawHeader h;
  h.name = "dev/null";
  h.typeflag = '3';
  h.devmajor = 1;
  h.devminor = 3;
  h.mode = 0666;
  tar.Add(h);
  h.name = "dev/sda";
  h.typeflag = '4';
  h.devmajor = 8;
  h.devminor = 1;
  h.mode = 0660;
  h.gid = 6;
  tar.Add(h);
  h = RawHeader{};
  h.name = "run/fifo";
  h.typeflag = '6';
  h.mode = 0620;
  tar.Add(h);
  h = RawHeader{};
  h.name = "usr/bin/su";
  h.mode = 04755;
  h.uid = 1000;  // chown to a non-root owner clears setuid: the mode must come after
  h.gid = 1000;
  tar.Pax({{"mtime", "1700000000.123456789"}}).Add(h, "#!su");
  h.name = "usr/bin/wall";
  h.mode = 02755;
  h.uid = 0;
  h.gid = 5;
  tar.Add(h, "#!wall");
  h = RawHeader{};
  h.name = "tmp/";
  h.typeflag = '5';
  h.mode = 01777;
  h.uid = 7;
  h.gid = 8;
  tar.Pax({{"mtime", "1600000000.5"}}).Add(h);
  tar.File("tmp/inside", "written after the directory's mtime");
  h = RawHeader{};
  h.name = "usr/lib/link";
  h.typeflag = '2';
  h.linkname = "/nonexistent";
  h.uid = 33;
  h.gid = 44;
  tar.Pax({{"mtime", "1500000000.25"}}).Add(h);
  Result<ApplyResult> r = Apply(tar.Finish());
  ASSERT_TRUE(r) << r.error().message;

  EXPECT_TRUE(S_ISCHR(Lstat("dev/null").st_mode));
  EXPECT_EQ(Lstat("dev/null").st_rdev, makedev(1, 3));
  EXPECT_EQ(Lstat("dev/null").st_mode & 07777, 0666u);
  EXPECT_TRUE(S_ISBLK(Lstat("dev/sda").st_mode));
  EXPECT_EQ(Lstat("dev/sda").st_rdev, makedev(8, 1));
  EXPECT_EQ(Lstat("dev/sda").st_gid, 6u);
  EXPECT_TRUE(S_ISFIFO(Lstat("run/fifo").st_mode));
  EXPECT_EQ(Lstat("run/fifo").st_mode & 07777, 0620u);
  struct stat su = Lstat("usr/bin/su");
  EXPECT_EQ(su.st_mode & 07777, 04755u);
  EXPECT_EQ(su.st_uid, 1000u);
  EXPECT_EQ(su.st_mtim.tv_sec, 1700000000);
  EXPECT_EQ(su.st_mtim.tv_nsec, 123456789);
  EXPECT_EQ(Lstat("usr/bin/wall").st_mode & 07777, 02755u);
  EXPECT_EQ(Lstat("usr/bin/wall").st_gid, 5u);
  struct stat t = Lstat("tmp");
  EXPECT_EQ(t.st_mode & 07777, 01777u);
  EXPECT_EQ(t.st_uid, 7u);
  EXPECT_EQ(t.st_mtim.tv_sec, 1600000000);
  EXPECT_EQ(t.st_mtim.tv_nsec, 500000000);
  struct stat l = Lstat("usr/lib/link");
  EXPECT_TRUE(S_ISLNK(l.st_mode));
  EXPECT_EQ(l.st_uid, 33u);  // lchown: the link itself
  EXPECT_EQ(l.st_gid, 44u);
  EXPECT_EQ(l.st_mtim.tv_sec, 1500000000);
  EXPECT_EQ(l.st_mtim.tv_nsec, 250000000);
}

// A layer kept as tree + tar-split, as root: whiteouts, opaque directories, devices, owners,
// setuid and unreadable files regenerate byte for byte, and a lost whiteout is found.
TEST_F(ApplyLayerPrivilegedTest, TarSplitRegeneratesWhiteoutsDevicesAndOwners) {
  RawTar tar;
  RawHeader h;
  h.name = "etc/.wh.passwd";  // a whiteout of a lower layer's file
  h.uid = 12;
  tar.Dir("etc/").Add(h).Dir("var/").File("var/.wh..wh..opq", "").File("var/new", "n");
  h = RawHeader{};
  h.name = "dev/null";
  h.typeflag = '3';
  h.devmajor = 1;
  h.devminor = 3;
  h.mode = 0666;
  tar.Add(h);
  h = RawHeader{};
  h.name = "run/fifo";
  h.typeflag = '6';
  h.mode = 0620;
  tar.Add(h);
  h = RawHeader{};
  h.name = "usr/bin/su";
  h.mode = 04755;
  h.uid = 1000;
  h.gid = 1000;
  tar.Pax({{"mtime", "1700000000.123456789"}, {"SCHILY.xattr.trusted.app", "t"}})
      .Add(h, std::string(70000, 's'));
  tar.File("etc/shadow", "root:*:1::::::\n", 0000);
  std::string layer = tar.Finish();

  TarSplitRecorder rec(root_fd_.get(), sys_, {});
  StringReader r(layer);
  ApplyOptions o;
  o.recorder = &rec;
  Result<ApplyResult> applied = ApplyLayer(r, root_fd_.get(), o, sys_);
  ASSERT_TRUE(applied) << applied.error().message;
  ASSERT_FALSE(rec.fell_back()) << rec.fallback_reason();

  auto regen = NewTarSplitReader(std::make_unique<StringReader>(rec.metadata()),
                                 root_fd_.get(), sys_);
  ASSERT_TRUE(regen) << regen.error().message;
  auto bytes = ReadAll(**regen, 1 << 24);
  ASSERT_TRUE(bytes) << bytes.error().message;
  EXPECT_TRUE(*bytes == layer);
  StringReader meta(rec.metadata());
  Status ok = VerifyTarSplitTree(meta, root_fd_.get(), sys_);
  EXPECT_TRUE(ok) << ok.error().message;

  ASSERT_EQ(::unlink(In("etc/passwd").c_str()), 0);  // the whiteout device, as if never written
  StringReader meta2(rec.metadata());
  Status lost = VerifyTarSplitTree(meta2, root_fd_.get(), sys_);
  ASSERT_FALSE(lost);
  EXPECT_EQ(lost.error().code, Code::kDataLoss);
}

TEST_F(ApplyLayerPrivilegedTest, XattrsAppliedExceptOverlayOnesAndRefusedOnes) {
  std::string cap(
      "\x01\x00\x00\x02\x00\x20\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00", 20);
  RawTar tar;
  tar.Pax({{"SCHILY.xattr.security.capability", cap}, {"SCHILY.xattr.trusted.app", "t"}})
      .File("bin/ping", "ping", 0755);
  tar.Pax({{"SCHILY.xattr.trusted.overlay.opaque", "y"},
           {"SCHILY.xattr.trusted.overlay.redirect", "/etc"},
           {"SCHILY.xattr.user.ok", "1"}})
      .Dir("d/");
  tar.Pax({{"SCHILY.xattr.user.refused", "1"}})  // user.* is not allowed on symlinks: EPERM
      .Symlink("l", "bin/ping");
  Result<ApplyResult> r = Apply(tar.Finish());
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(Xattr("bin/ping", "security.capability"), cap);
  EXPECT_EQ(Xattr("bin/ping", "trusted.app"), "t");
  EXPECT_EQ(Xattr("d", "trusted.overlay.opaque"), "<none>");
  EXPECT_EQ(Xattr("d", "trusted.overlay.redirect"), "<none>");
  EXPECT_EQ(Xattr("d", "user.ok"), "1");
  EXPECT_EQ(Xattr("l", "user.refused"), "<none>");
}

TEST_F(ApplyLayerPrivilegedTest, BadInputFailsClearlyAndTouchesNothingOutside) {
  RawTar tar;
  tar.File("a", std::string(200000, 'a')).File("b", "b");
  std::string plain = tar.Finish();
  StringWriter gz, zst;
  auto gw = NewGzipWriter(gz);
  auto zw = NewZstdWriter(zst);
  ASSERT_TRUE(gw && (*gw)->Write(plain) && (*gw)->Close());
  ASSERT_TRUE(zw && (*zw)->Write(plain) && (*zw)->Close());
  struct Case {
    std::string input;
    Code code;
    std::string message;
  };
  std::string corrupt = gz.str();
  for (size_t i = 20; i < 60; ++i) corrupt[i] = '\xff';
  for (const Case& c : {
           Case{gz.str().substr(0, gz.str().size() / 3), Code::kDataLoss,
                "unexpected end of gzip stream"},
           Case{zst.str().substr(0, zst.str().size() - 1), Code::kDataLoss,
                "unexpected end of zstd stream"},
           Case{corrupt, Code::kDataLoss, "gzip: "},
           Case{"", Code::kInvalidArgument, "apply layer"},
           Case{std::string(5000, 'j'), Code::kInvalidArgument, "not a tar archive"},
           Case{plain.substr(0, 100000), Code::kDataLoss, "apply layer"},
       }) {
    Result<ApplyResult> r = Apply(c.input);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, c.code) << r.error().message;
    EXPECT_NE(r.error().message.find(c.message), std::string::npos) << r.error().message;
    EXPECT_EQ(r.error().message.find("apply layer"), 0u) << r.error().message;
  }
}

TEST_F(ApplyLayerPrivilegedTest, OverlayDiffRoundTripsThroughWriteTree) {
  // An overlay upper dir as a container leaves it: whiteout device and opaque directory.
  ASSERT_TRUE(MakeDirs(In("etc")));
  ASSERT_TRUE(MakeDirs(In("var/lib")));
  ASSERT_EQ(::mknod(In("etc/passwd").c_str(), S_IFCHR | 0, makedev(0, 0)), 0);
  ASSERT_EQ(::setxattr(In("var/lib").c_str(), "trusted.overlay.opaque", "y", 1, 0), 0);
  ASSERT_TRUE(WriteFileAtomic(In("var/lib/new"), "n"));
  StringWriter out;
  WriteTreeOptions o;
  o.convert_whiteouts = true;
  ASSERT_TRUE(WriteTree(root_fd_.get(), out, o));
  StringReader src(out.str());
  auto reader = TarReader::Open(src);
  ASSERT_TRUE(reader);
  std::vector<std::string> names;
  while (true) {
    auto e = (*reader)->Next();
    ASSERT_TRUE(e);
    if (!*e) break;
    names.push_back((*e)->path);
    EXPECT_TRUE((*e)->xattrs.empty()) << (*e)->path;  // trusted.overlay.* never archived
  }
  EXPECT_EQ(names, (std::vector<std::string>{"etc/", "etc/.wh.passwd", "var/", "var/lib/",
                                             "var/lib/.wh..wh..opq", "var/lib/new"}));
  // Applying the diff in overlay mode recreates the same upper dir.
  std::string copy = tmp_.path() + "/root/copy";
  ASSERT_TRUE(MakeDirs(copy));
  UniqueFd copy_fd(::open(copy.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  StringReader again(out.str());
  ASSERT_TRUE(ApplyLayer(again, copy_fd.get(), ApplyOptions{}, sys_));
  EXPECT_TRUE(S_ISCHR(Lstat("copy/etc/passwd").st_mode));
  EXPECT_EQ(Xattr("copy/var/lib", "trusted.overlay.opaque"), "y");
  EXPECT_EQ(Read("copy/var/lib/new"), "n");
}

}  // namespace
}  // namespace berth::archive
