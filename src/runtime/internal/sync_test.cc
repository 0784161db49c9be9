#include "runtime/internal/sync.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <gtest/gtest.h>

namespace berth::runtime::internal {
namespace {

struct Pair {
  UniqueFd a;
  UniqueFd b;
};

Pair SocketPair() {
  int sv[2];
  EXPECT_EQ(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
  return Pair{UniqueFd(sv[0]), UniqueFd(sv[1])};
}

TEST(SyncTest, ErrorMessagesKeepStepErrnoAndDetail) {
  Pair p = SocketPair();
  SendError(p.a.get(), Step::kRootfs,
            ErrnoError("mount /proc: mount proc on /proc/self/fd/7", EPERM));
  Msg msg;
  ASSERT_EQ(RecvMsg(p.b.get(), &msg), 0);
  EXPECT_EQ(msg.kind, MsgKind::kError);
  Error e = ErrorFromMsg(msg);
  EXPECT_EQ(e.code, Code::kPermissionDenied);
  EXPECT_EQ(e.sys_errno, EPERM);
  EXPECT_EQ(e.message,
            "rootfs: mount /proc: mount proc on /proc/self/fd/7: Operation not permitted");

  errno = 0;
  SendErrno(p.a.get(), Step::kPty, ENOTTY, "ioctl TIOCSCTTY");
  ASSERT_EQ(RecvMsg(p.b.get(), &msg), 0);
  e = ErrorFromMsg(msg);
  EXPECT_EQ(e.sys_errno, ENOTTY);
  EXPECT_EQ(e.message, std::string("pty: ioctl TIOCSCTTY: ") + std::strerror(ENOTTY));
}

TEST(SyncTest, LongDetailsAreTruncatedNotOverrun) {
  Pair p = SocketPair();
  SendError(p.a.get(), Step::kExec, ErrnoError(std::string(4000, 'x'), EACCES));
  Msg msg;
  ASSERT_EQ(RecvMsg(p.b.get(), &msg), 0);
  EXPECT_EQ(std::strlen(msg.detail), sizeof(msg.detail) - 1);
}

TEST(SyncTest, PassesAnFdAndReportsEof) {
  Pair p = SocketPair();
  int pipe_fds[2];
  ASSERT_EQ(::pipe2(pipe_fds, O_CLOEXEC), 0);
  UniqueFd r(pipe_fds[0]);
  UniqueFd w(pipe_fds[1]);
  Msg out;
  out.kind = MsgKind::kPtyMaster;
  ASSERT_EQ(SendMsg(p.a.get(), out, w.get()), 0);
  w.Reset();
  Msg in;
  int fd = -1;
  ASSERT_EQ(RecvMsg(p.b.get(), &in, &fd), 0);
  EXPECT_EQ(in.kind, MsgKind::kPtyMaster);
  ASSERT_GE(fd, 0);
  UniqueFd got(fd);
  EXPECT_EQ(::fcntl(got.get(), F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
  ASSERT_EQ(::write(got.get(), "k", 1), 1);
  char c = 0;
  ASSERT_EQ(::read(r.get(), &c, 1), 1);
  EXPECT_EQ(c, 'k');

  p.a.Reset();
  EXPECT_EQ(RecvMsg(p.b.get(), &in), ECONNRESET);
}

}  // namespace
}  // namespace berth::runtime::internal
