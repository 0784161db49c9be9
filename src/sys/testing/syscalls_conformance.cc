// Conformance suite for sys::Syscalls implementations (STYLE.md §6): every implementation and
// fake that forwards to the kernel runs these against a temp dir.
#include "sys/testing/syscalls_conformance.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <string>

#include "base/file.h"

namespace berth::sys::testing {

void SyscallsConformanceTest::SetUp() {
  sys_ = GetParam().make();
  char tmpl[] = "/tmp/berth-sys-test.XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  dir_ = tmpl;
  dirfd_.Reset(::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  ASSERT_TRUE(dirfd_.valid());
}

void SyscallsConformanceTest::TearDown() { ASSERT_TRUE(RemoveAll(dir_)); }

namespace {

TEST_P(SyscallsConformanceTest, ErrorNamesCallAndArgumentAndKeepsErrno) {
  ASSERT_TRUE(sys_->Mkdirat(dirfd_.get(), "d", 0755));
  Status st = sys_->Mkdirat(dirfd_.get(), "d", 0755);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().sys_errno, EEXIST);
  EXPECT_EQ(st.error().code, Code::kAlreadyExists);
  EXPECT_EQ(st.error().message, "mkdirat d: File exists");
}

TEST_P(SyscallsConformanceTest, Openat2InRootConfinesDotDotAndAbsoluteSymlinks) {
  ASSERT_TRUE(sys_->Mkdirat(dirfd_.get(), "root", 0755));
  ASSERT_TRUE(sys_->Mkdirat(dirfd_.get(), "root/etc", 0755));
  ASSERT_TRUE(sys_->Symlinkat("/", dirfd_.get(), "root/up"));
  Result<UniqueFd> root = sys_->Openat2(dirfd_.get(), "root", {O_PATH | O_DIRECTORY, 0, 0});
  ASSERT_TRUE(root);
  // "../../etc" and "up/etc" both resolve to root/etc, never the host's /etc.
  for (const char* path : {"../../etc", "up/etc", "/etc"}) {
    Result<UniqueFd> fd =
        sys_->Openat2(root->get(), path, {O_PATH | O_DIRECTORY, 0, kResolveInRoot});
    ASSERT_TRUE(fd) << path << ": " << fd.error().message;
    struct stat want {
    }, got{};
    ASSERT_EQ(::fstatat(dirfd_.get(), "root/etc", &want, 0), 0);
    ASSERT_EQ(::fstat(fd->get(), &got), 0);
    EXPECT_EQ(want.st_ino, got.st_ino) << path;
  }
  EXPECT_TRUE(fcntl(root->get(), F_GETFD) & FD_CLOEXEC);
}

TEST_P(SyscallsConformanceTest, FileRoundTripThroughFdCalls) {
  Result<UniqueFd> fd =
      sys_->Openat2(dirfd_.get(), "f", {O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0600, 0});
  ASSERT_TRUE(fd);
  ASSERT_TRUE(sys_->Pwrite(fd->get(), "hello", 0));
  ASSERT_TRUE(sys_->Pwrite(fd->get(), "world", 10));
  ASSERT_TRUE(sys_->Ftruncate(fd->get(), 20));
  ASSERT_TRUE(sys_->Fchmod(fd->get(), 0640));
  struct timespec times[2] = {{1, 5}, {1700000000, 123456789}};
  ASSERT_TRUE(sys_->Futimens(fd->get(), times));
  Result<struct stat> st = sys_->Fstatat(dirfd_.get(), "f", AT_SYMLINK_NOFOLLOW);
  ASSERT_TRUE(st);
  EXPECT_EQ(st->st_size, 20);
  EXPECT_EQ(st->st_mode & 07777, 0640u);
  EXPECT_EQ(st->st_mtim.tv_sec, 1700000000);
  EXPECT_EQ(st->st_mtim.tv_nsec, 123456789);
  Result<std::string> content = ReadFile(dir_ + "/f");
  ASSERT_TRUE(content);
  EXPECT_EQ(*content, std::string("hello\0\0\0\0\0world\0\0\0\0\0", 20));
}

TEST_P(SyscallsConformanceTest, LinksRenamesAndDirectoryListing) {
  ASSERT_TRUE(sys_->Symlinkat(std::string(300, 'x'), dirfd_.get(), "long"));
  Result<std::string> target = sys_->Readlinkat(dirfd_.get(), "long");
  ASSERT_TRUE(target);
  EXPECT_EQ(*target, std::string(300, 'x'));
  ASSERT_TRUE(sys_->Mknodat(dirfd_.get(), "fifo", S_IFIFO | 0644, 0));
  ASSERT_TRUE(sys_->Linkat(dirfd_.get(), "fifo", dirfd_.get(), "fifo2", 0));
  ASSERT_TRUE(sys_->Renameat2(dirfd_.get(), "fifo2", dirfd_.get(), "fifo3", kRenameNoReplace));
  Status st = sys_->Renameat2(dirfd_.get(), "fifo3", dirfd_.get(), "fifo", kRenameNoReplace);
  EXPECT_EQ(st.error().sys_errno, EEXIST);
  ASSERT_TRUE(sys_->Unlinkat(dirfd_.get(), "fifo3", 0));
  Result<std::vector<std::string>> names = sys_->ReadDirNames(dirfd_.get());
  ASSERT_TRUE(names);
  std::sort(names->begin(), names->end());
  EXPECT_EQ(*names, (std::vector<std::string>{"fifo", "long"}));
  // Listing twice works: the listing does not consume dirfd's offset.
  names = sys_->ReadDirNames(dirfd_.get());
  ASSERT_TRUE(names);
  EXPECT_EQ(names->size(), 2u);
}

TEST_P(SyscallsConformanceTest, UserXattrsThroughFdAndPathFd) {
  Result<UniqueFd> fd = sys_->Openat2(dirfd_.get(), "f", {O_RDWR | O_CREAT, 0644, 0});
  ASSERT_TRUE(fd);
  Status st = sys_->Fsetxattr(fd->get(), "user.a", "1", 0);
  if (!st && st.error().sys_errno == EOPNOTSUPP) GTEST_SKIP() << "no user xattrs here";
  ASSERT_TRUE(st) << st.error().message;
  Result<UniqueFd> path_fd = sys_->Openat2(dirfd_.get(), "f", {O_PATH | O_NOFOLLOW, 0, 0});
  ASSERT_TRUE(path_fd);
  ASSERT_TRUE(sys_->SetxattrPathFd(path_fd->get(), "user.b", std::string("\0x", 2), 0));
  Result<std::vector<std::string>> names = sys_->Flistxattr(fd->get());
  ASSERT_TRUE(names);
  std::sort(names->begin(), names->end());
  EXPECT_EQ(*names, (std::vector<std::string>{"user.a", "user.b"}));
  Result<std::string> value = sys_->Fgetxattr(fd->get(), "user.b");
  ASSERT_TRUE(value);
  EXPECT_EQ(*value, std::string("\0x", 2));
  Result<std::string> missing = sys_->Fgetxattr(fd->get(), "user.none");
  EXPECT_FALSE(missing);
}

}  // namespace
}  // namespace berth::sys::testing

namespace berth::sys::testing {
namespace {

TEST_P(SyscallsConformanceTest, ProcessCallsReportTheCallAndKeepErrno) {
  // prlimit: read, lower the soft limit, restore.
  Result<Rlimit> old = sys_->Prlimit(0, RLIMIT_NOFILE, nullptr);
  ASSERT_TRUE(old) << old.error().message;
  Rlimit lower{old->soft - 1, old->hard};
  ASSERT_TRUE(sys_->Prlimit(0, RLIMIT_NOFILE, &lower));
  Result<Rlimit> now = sys_->Prlimit(0, RLIMIT_NOFILE, &*old);
  ASSERT_TRUE(now);
  EXPECT_EQ(now->soft, old->soft - 1);
  Rlimit above{old->hard + 1, old->hard + 1};
  Result<Rlimit> raised = sys_->Prlimit(0, RLIMIT_NOFILE, &above);
  if (!raised) {
    EXPECT_EQ(raised.error().sys_errno, EPERM);
  }

  Result<int> dumpable = sys_->Prctl(PR_GET_DUMPABLE, 0, 0, 0, 0);
  ASSERT_TRUE(dumpable) << dumpable.error().message;
  EXPECT_EQ(*dumpable, 1);
  Result<int> bad = sys_->Prctl(-1, 0, 0, 0, 0);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().sys_errno, EINVAL);

  Result<CapSets> caps = sys_->Capget();
  ASSERT_TRUE(caps) << caps.error().message;
  EXPECT_EQ(caps->effective & ~caps->permitted, 0u);

  Status chdir = sys_->Chdir(dir_ + "/missing");
  ASSERT_FALSE(chdir);
  EXPECT_EQ(chdir.error().sys_errno, ENOENT);
  EXPECT_NE(chdir.error().message.find("chdir " + dir_ + "/missing"), std::string::npos);
  Status fchdir = sys_->Fchdir(-1);
  ASSERT_FALSE(fchdir);
  EXPECT_EQ(fchdir.error().sys_errno, EBADF);

  // pivot_root onto a put_old that does not exist: ENOENT (or EPERM unprivileged); never a
  // call that could succeed in the test process.
  Status pivot = sys_->PivotRoot(dir_, dir_ + "/missing");
  ASSERT_FALSE(pivot);
  EXPECT_TRUE(pivot.error().sys_errno == ENOENT || pivot.error().sys_errno == EPERM)
      << pivot.error().message;
  EXPECT_EQ(pivot.error().message.rfind("pivot_root " + dir_, 0), 0u) << pivot.error().message;

  Result<unsigned long> flags = sys_->FstatfsFlags(dirfd_.get());  // NOLINT(runtime/int)
  ASSERT_TRUE(flags) << flags.error().message;
  Result<unsigned long> bad_fd = sys_->FstatfsFlags(-1);  // NOLINT(runtime/int)
  ASSERT_FALSE(bad_fd);
  EXPECT_EQ(bad_fd.error().sys_errno, EBADF);

  // dup3 without O_CLOEXEC, then close_range marks it CLOEXEC.
  constexpr int kHigh = 900;
  ASSERT_TRUE(sys_->Dup3(dirfd_.get(), kHigh, 0));
  UniqueFd high(kHigh);
  EXPECT_EQ(::fcntl(kHigh, F_GETFD) & FD_CLOEXEC, 0);
  ASSERT_TRUE(sys_->CloseRange(kHigh, kHigh, kCloseRangeCloexec));
  EXPECT_EQ(::fcntl(kHigh, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
  Status bad_dup = sys_->Dup3(-1, kHigh, 0);
  ASSERT_FALSE(bad_dup);
  EXPECT_EQ(bad_dup.error().sys_errno, EBADF);

  // A pty from the host's devpts: unlock, the peer, its window size.
  Result<UniqueFd> master = sys_->Openat2(AT_FDCWD, "/dev/ptmx", OpenHow{O_RDWR | O_NOCTTY, 0, 0});
  if (master) {
    ASSERT_TRUE(sys_->UnlockPty(master->get()));
    Result<UniqueFd> peer = sys_->OpenPtyPeer(master->get(), O_RDWR | O_NOCTTY);
    ASSERT_TRUE(peer) << peer.error().message;
    EXPECT_EQ(::fcntl(peer->get(), F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
    ASSERT_TRUE(sys_->SetWindowSize(master->get(), 33, 111));
    struct winsize ws {};
    ASSERT_EQ(::ioctl(peer->get(), TIOCGWINSZ, &ws), 0);
    EXPECT_EQ(ws.ws_row, 33);
    EXPECT_EQ(ws.ws_col, 111);
  }
  Status not_tty = sys_->SetWindowSize(dirfd_.get(), 1, 1);
  ASSERT_FALSE(not_tty);
  EXPECT_EQ(not_tty.error().sys_errno, ENOTTY);

  // A filter whose length is no multiple of 8 is refused before the kernel sees it.
  const uint8_t junk[3] = {};
  Status seccomp = sys_->SeccompSetModeFilter(0, junk, sizeof(junk));
  ASSERT_FALSE(seccomp);
  EXPECT_EQ(seccomp.error().sys_errno, EINVAL);
}

// Calls that change the process run in a forked child; it exits with the number of the first
// check that failed (0: all passed).
TEST_P(SyscallsConformanceTest, IdentityNamespaceAndCapabilityCallsInAChild) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root";
  UniqueFd own_uts(::open("/proc/self/ns/uts", O_RDONLY | O_CLOEXEC));
  ASSERT_TRUE(own_uts.valid());
  struct utsname before {};
  ASSERT_EQ(::uname(&before), 0);
  Syscalls& sys = *sys_;
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    if (!sys.Unshare(CLONE_NEWUTS)) ::_exit(1);
    if (!sys.Sethostname("berth-conformance")) ::_exit(2);
    struct utsname u {};
    if (::uname(&u) != 0 || std::string(u.nodename) != "berth-conformance") ::_exit(3);
    if (!sys.Setns(own_uts.get(), CLONE_NEWUTS)) ::_exit(4);
    if (::uname(&u) != 0 || std::string(u.nodename) != before.nodename) ::_exit(5);
    Result<CapSets> caps = sys.Capget();
    if (!caps) ::_exit(6);
    CapSets less = *caps;
    less.effective &= ~(uint64_t{1} << 0);  // CAP_CHOWN
    if (!sys.Capset(less)) ::_exit(7);
    Result<CapSets> now = sys.Capget();
    if (!now || (now->effective & 1) != 0 || now->permitted != caps->permitted) ::_exit(8);
    if (!sys.Setgroups({65534})) ::_exit(9);
    if (!sys.Setresgid(65534, 65534, 65534)) ::_exit(10);
    if (!sys.Setresuid(65534, 65534, 65534)) ::_exit(11);
    uid_t r = 0, e = 0, saved = 0;
    if (::getresuid(&r, &e, &saved) != 0 || r != 65534 || e != 65534 || saved != 65534) {
      ::_exit(12);
    }
    Status back = sys.Setresuid(0, 0, 0);  // no way back without CAP_SETUID
    if (back || back.error().sys_errno != EPERM) ::_exit(13);
    ::_exit(0);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

}  // namespace
}  // namespace berth::sys::testing
