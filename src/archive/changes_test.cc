// OverlayChanges (docker diff) and the overlay -> OCI whiteout conversion of WriteTree (docker
// commit), on an upper dir built by hand. Whiteouts are 0/0 character devices: mknod needs
// CAP_MKNOD, so those tests skip unless root.
#include "archive/changes.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "archive/tar_reader.h"
#include "archive/testing/fs_snapshot.h"
#include "archive/write_tree.h"
#include "base/file.h"
#include "sys/linux_syscalls.h"

namespace berth::archive {
namespace {

class OverlayDiffTest : public ::testing::Test {
 protected:
  void SetUp() override {
    lower_ = tmp_.path() + "/lower";
    upper_ = tmp_.path() + "/upper";
    ASSERT_TRUE(MakeDirs(lower_ + "/etc"));
    ASSERT_TRUE(MakeDirs(lower_ + "/var/lib"));
    ASSERT_TRUE(MakeDirs(lower_ + "/tmp"));
    ASSERT_TRUE(WriteFileAtomic(lower_ + "/etc/passwd", "root\n"));
    ASSERT_TRUE(WriteFileAtomic(lower_ + "/etc/group", "root\n"));
    ASSERT_TRUE(WriteFileAtomic(lower_ + "/var/lib/db", "x"));
    // A symlink in the image pointing at the host's root: lookups must stay in the layer.
    ASSERT_EQ(::symlink("/", (lower_ + "/escape").c_str()), 0);
    ASSERT_TRUE(MakeDirs(upper_ + "/etc"));
    ASSERT_TRUE(MakeDirs(upper_ + "/new/sub"));
    ASSERT_TRUE(MakeDirs(upper_ + "/tmp"));
    ASSERT_TRUE(WriteFileAtomic(upper_ + "/etc/passwd", "root\nme\n"));  // modified
    ASSERT_TRUE(WriteFileAtomic(upper_ + "/etc/added", "a"));            // added
    ASSERT_TRUE(WriteFileAtomic(upper_ + "/new/sub/f", "f"));
    ASSERT_TRUE(MakeDirs(upper_ + "/escape-host"));
    // The host has /etc; the layer's /escape -> / must not make "/escape/etc" exist below.
    ASSERT_TRUE(MakeDirs(upper_ + "/proc"));  // excluded (init layer)
    // Same attributes as the lower /tmp: only a parent, not a change.
    struct stat st {};
    ASSERT_EQ(::stat((lower_ + "/tmp").c_str(), &st), 0);
    ASSERT_EQ(::chmod((upper_ + "/tmp").c_str(), st.st_mode & 07777), 0);
    struct timespec t[2] = {st.st_atim, st.st_mtim};
    ASSERT_EQ(::utimensat(AT_FDCWD, (upper_ + "/tmp").c_str(), t, 0), 0);
    lower_fd_.Reset(::open(lower_.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    upper_fd_.Reset(::open(upper_.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    ASSERT_TRUE(lower_fd_.valid() && upper_fd_.valid());
  }

  bool MakeWhiteout(const std::string& path) {
    return ::mknod(path.c_str(), S_IFCHR | 0, makedev(0, 0)) == 0;
  }

  static std::vector<std::string> TarPaths(const std::string& tar) {
    StringReader src(tar);
    auto reader = TarReader::Open(src);
    EXPECT_TRUE(reader);
    std::vector<std::string> out;
    while (reader) {
      auto e = (*reader)->Next();
      EXPECT_TRUE(e);
      if (!e || !*e) break;
      out.push_back((*e)->path);
    }
    return out;
  }

  testing::ScopedTempDir tmp_;
  std::string lower_, upper_;
  UniqueFd lower_fd_, upper_fd_;
  sys::LinuxSyscalls sys_;
};

TEST_F(OverlayDiffTest, ReportsAddedModifiedInDockersOrder) {
  auto changes = OverlayChanges(upper_fd_.get(), {lower_fd_.get()}, {"/proc"}, sys_);
  ASSERT_TRUE(changes) << changes.error().message;
  std::vector<Change> want = {
      {"/escape-host", ChangeKind::kAdd}, {"/etc", ChangeKind::kModify},
      {"/etc/added", ChangeKind::kAdd},   {"/etc/passwd", ChangeKind::kModify},
      {"/new", ChangeKind::kAdd},         {"/new/sub", ChangeKind::kAdd},
      {"/new/sub/f", ChangeKind::kAdd},
  };
  EXPECT_EQ(*changes, want);
}

TEST_F(OverlayDiffTest, LowerLookupsStayInsideTheLayer) {
  // /escape/etc in the upper dir: through the layer's "/escape -> /" it would be the host's
  // /etc. Resolved inside the layer it is the layer's /etc, which exists: modified, not added.
  ASSERT_TRUE(MakeDirs(upper_ + "/escape/etc"));
  ASSERT_TRUE(WriteFileAtomic(upper_ + "/escape/etc/os-release", "x"));
  auto changes = OverlayChanges(upper_fd_.get(), {lower_fd_.get()}, {"/proc"}, sys_);
  ASSERT_TRUE(changes) << changes.error().message;
  bool saw = false;
  for (const Change& c : *changes) {
    if (c.path == "/escape/etc/os-release") {
      saw = true;
      // The host has /etc/os-release; the layer does not.
      EXPECT_EQ(c.kind, ChangeKind::kAdd);
    }
  }
  EXPECT_TRUE(saw);
}

TEST_F(OverlayDiffTest, WhiteoutsAreDeletions) {
  if (::geteuid() != 0) GTEST_SKIP() << "mknod of a whiteout needs root";
  ASSERT_TRUE(MakeWhiteout(upper_ + "/etc/group"));
  ASSERT_TRUE(MakeDirs(upper_ + "/var"));
  ASSERT_TRUE(MakeWhiteout(upper_ + "/var/lib"));
  auto changes = OverlayChanges(upper_fd_.get(), {lower_fd_.get()}, {"/proc"}, sys_);
  ASSERT_TRUE(changes) << changes.error().message;
  std::vector<Change> want = {
      {"/escape-host", ChangeKind::kAdd},   {"/etc", ChangeKind::kModify},
      {"/etc/added", ChangeKind::kAdd},     {"/etc/group", ChangeKind::kDelete},
      {"/etc/passwd", ChangeKind::kModify}, {"/new", ChangeKind::kAdd},
      {"/new/sub", ChangeKind::kAdd},       {"/new/sub/f", ChangeKind::kAdd},
      {"/var", ChangeKind::kModify},        {"/var/lib", ChangeKind::kDelete},
  };
  EXPECT_EQ(*changes, want);
}

TEST_F(OverlayDiffTest, WriteTreeConvertsOverlayWhiteoutsToOciOnes) {
  if (::geteuid() != 0) GTEST_SKIP() << "mknod of a whiteout needs root";
  ASSERT_TRUE(MakeWhiteout(upper_ + "/etc/group"));
  ASSERT_TRUE(MakeDirs(upper_ + "/var/lib"));
  ASSERT_EQ(::setxattr((upper_ + "/var/lib").c_str(), "trusted.overlay.opaque", "y", 1, 0), 0);
  WriteTreeOptions o;
  o.convert_whiteouts = true;
  o.exclude = {"proc"};
  StringWriter out;
  ASSERT_TRUE(WriteTree(upper_fd_.get(), out, o));
  std::vector<std::string> paths = TarPaths(out.Take());
  // Entries keep the order of the names on disk: ".wh.group" where "group" sorts.
  EXPECT_EQ(paths, (std::vector<std::string>{"escape-host/", "etc/", "etc/added", "etc/.wh.group",
                                             "etc/passwd", "new/", "new/sub/", "new/sub/f", "tmp/",
                                             "var/", "var/lib/", "var/lib/.wh..wh..opq"}));
  // Without conversion the device stays a device and the opaque marker is not written.
  StringWriter raw;
  o.convert_whiteouts = false;
  ASSERT_TRUE(WriteTree(upper_fd_.get(), raw, o));
  std::vector<std::string> raw_paths = TarPaths(raw.Take());
  EXPECT_NE(std::find(raw_paths.begin(), raw_paths.end(), "etc/group"), raw_paths.end());
  EXPECT_EQ(std::find(raw_paths.begin(), raw_paths.end(), "var/lib/.wh..wh..opq"), raw_paths.end());
}

TEST_F(OverlayDiffTest, WriteTreeEntryRenamesTheTopEntry) {
  StringWriter out;
  ASSERT_TRUE(WriteTreeEntry(upper_fd_.get(), "new", "renamed", out, {}));
  EXPECT_EQ(TarPaths(out.Take()),
            (std::vector<std::string>{"renamed/", "renamed/sub/", "renamed/sub/f"}));
  StringWriter contents;
  UniqueFd new_fd(::open((upper_ + "/new").c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  ASSERT_TRUE(WriteTreeEntry(new_fd.get(), ".", ".", contents, {}));
  EXPECT_EQ(TarPaths(contents.Take()), (std::vector<std::string>{"./", "./sub/", "./sub/f"}));
  StringWriter file;
  ASSERT_TRUE(WriteTreeEntry(upper_fd_.get(), "etc", "etc", file, {}));
  EXPECT_EQ(TarPaths(file.Take()), (std::vector<std::string>{"etc/", "etc/added", "etc/passwd"}));
}

}  // namespace
}  // namespace berth::archive
