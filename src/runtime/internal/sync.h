// Private to runtime/: the parent <-> child protocol over the CLOEXEC sync socketpair
// (SOCK_SEQPACKET). Fixed-size messages, so the child sends them without allocating; a failed
// step comes back typed ({step, errno, detail}) and the parent turns it into an Error.
// After a successful execve the child's end closes (CLOEXEC) and the parent reads EOF.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string_view>

#include "base/result.h"
#include "base/unique_fd.h"

namespace berth::runtime::internal {

enum class Step : int32_t {
  kNone = 0,
  kDumpable,
  kWait,
  kSetns,
  kFork,
  kStdio,
  kRootfs,
  kFinishRootfs,
  kHostname,
  kSysctl,
  kOomScoreAdj,
  kPty,
  kRlimits,
  kCloseFds,
  kCapabilities,
  kUser,
  kNoNewPrivileges,
  kSeccomp,
  kCwd,
  kExec,
  kCgroup,
};
std::string_view StepName(Step step);

enum class MsgKind : int32_t {
  kGo = 1,    // parent -> child: continue (cgroup joined / barrier released)
  kReady,     // child -> parent: built, waiting at the barrier
  kError,     // child -> parent: a step failed
  kPid,       // exec's first child -> parent: the pid of the process in the pid namespace
  kPtyMaster  // child -> parent: the pty master comes with it (SCM_RIGHTS)
};

struct Msg {
  MsgKind kind = MsgKind::kGo;
  Step step = Step::kNone;
  int32_t err = 0;
  int32_t pid = 0;
  char detail[512] = {};
};

// Both: 0 on success, else errno. Send retries EINTR; `fd` >= 0 is passed with SCM_RIGHTS.
int SendMsg(int sock, const Msg& msg, int fd = -1);
// Receives one message; 0, or ECONNRESET for EOF (the peer closed), else errno. An fd that came
// with it goes to *fd (CLOEXEC) when fd is non-null.
int RecvMsg(int sock, Msg* msg, int* fd = nullptr);

// Child side: reports `step` failing with `error` (its message copied, truncated), or with a raw
// errno and a fixed detail.
void SendError(int sock, Step step, const Error& error);
void SendErrno(int sock, Step step, int err, const char* detail);

// Parent side: the Error for a child's kError message.
Error ErrorFromMsg(const Msg& msg);

}  // namespace berth::runtime::internal
