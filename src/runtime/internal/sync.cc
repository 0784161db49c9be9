#include "runtime/internal/sync.h"

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

namespace berth::runtime::internal {

std::string_view StepName(Step step) {
  switch (step) {
    case Step::kNone:
      return "init";
    case Step::kDumpable:
      return "prctl PR_SET_DUMPABLE";
    case Step::kWait:
      return "wait for parent";
    case Step::kSetns:
      return "setns";
    case Step::kFork:
      return "fork into the pid namespace";
    case Step::kStdio:
      return "stdio";
    case Step::kRootfs:
      return "rootfs";
    case Step::kFinishRootfs:
      return "rootfs (masked and read-only paths)";
    case Step::kHostname:
      return "hostname";
    case Step::kSysctl:
      return "sysctl";
    case Step::kOomScoreAdj:
      return "oom_score_adj";
    case Step::kPty:
      return "pty";
    case Step::kRlimits:
      return "rlimits";
    case Step::kCloseFds:
      return "close fds";
    case Step::kCapabilities:
      return "capabilities";
    case Step::kUser:
      return "user";
    case Step::kNoNewPrivileges:
      return "no_new_privs";
    case Step::kSeccomp:
      return "seccomp";
    case Step::kCwd:
      return "cwd";
    case Step::kExec:
      return "exec";
    case Step::kCgroup:
      return "join cgroup";
  }
  return "unknown step";
}

int SendMsg(int sock, const Msg& msg, int fd) {
  struct iovec iov {};
  iov.iov_base = const_cast<Msg*>(&msg);  // sendmsg only reads
  iov.iov_len = sizeof(msg);
  struct msghdr hdr {};
  hdr.msg_iov = &iov;
  hdr.msg_iovlen = 1;
  alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  if (fd >= 0) {
    hdr.msg_control = control;
    hdr.msg_controllen = sizeof(control);
    struct cmsghdr* c = CMSG_FIRSTHDR(&hdr);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(c), &fd, sizeof(int));
  }
  while (true) {
    ssize_t n = ::sendmsg(sock, &hdr, MSG_NOSIGNAL);
    if (n == static_cast<ssize_t>(sizeof(msg))) return 0;
    if (n >= 0) return EPROTO;
    if (errno != EINTR) return errno;
  }
}

int RecvMsg(int sock, Msg* msg, int* fd) {
  struct iovec iov {};
  iov.iov_base = msg;
  iov.iov_len = sizeof(*msg);
  struct msghdr hdr {};
  hdr.msg_iov = &iov;
  hdr.msg_iovlen = 1;
  alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  hdr.msg_control = control;
  hdr.msg_controllen = sizeof(control);
  while (true) {
    ssize_t n = ::recvmsg(sock, &hdr, MSG_CMSG_CLOEXEC);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno == ECONNRESET ? ECONNRESET : errno;
    if (n == 0) return ECONNRESET;
    if (n != static_cast<ssize_t>(sizeof(*msg))) return EPROTO;
    break;
  }
  for (struct cmsghdr* c = CMSG_FIRSTHDR(&hdr); c != nullptr; c = CMSG_NXTHDR(&hdr, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
      int got = -1;
      std::memcpy(&got, CMSG_DATA(c), sizeof(int));
      if (fd != nullptr) {
        *fd = got;
      } else {
        ::close(got);
      }
    }
  }
  msg->detail[sizeof(msg->detail) - 1] = '\0';
  return 0;
}

void SendErrno(int sock, Step step, int err, const char* detail) {
  Msg msg;
  msg.kind = MsgKind::kError;
  msg.step = step;
  msg.err = err;
  std::snprintf(msg.detail, sizeof(msg.detail), "%s: %s", detail, std::strerror(err));
  (void)SendMsg(sock, msg);
}

void SendError(int sock, Step step, const Error& error) {
  Msg msg;
  msg.kind = MsgKind::kError;
  msg.step = step;
  msg.err = error.sys_errno != 0 ? error.sys_errno : EINVAL;
  size_t n = std::min(error.message.size(), sizeof(msg.detail) - 1);
  std::memcpy(msg.detail, error.message.data(), n);
  (void)SendMsg(sock, msg);
}

Error ErrorFromMsg(const Msg& msg) {
  std::string message(StepName(msg.step));
  if (msg.detail[0] != '\0') {
    message += ": ";
    message += msg.detail;
  }
  return Error{CodeFromErrno(msg.err), std::move(message), msg.err};
}

}  // namespace berth::runtime::internal
