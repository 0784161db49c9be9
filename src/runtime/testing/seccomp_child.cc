#include "runtime/testing/seccomp_child.h"

#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

namespace berth::runtime::testing {

int RunUnderSeccomp(const SeccompProgram& program, const std::function<int()>& check) {
  const pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    sock_fprog prog{};
    prog.len = static_cast<unsigned short>(program.bpf.size() / sizeof(sock_filter));
    // sock_fprog takes a non-const pointer; the kernel only reads the program.
    prog.filter = reinterpret_cast<sock_filter*>(const_cast<uint8_t*>(program.bpf.data()));
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) _exit(90);
    if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, program.flags, &prog) != 0) _exit(91);
    _exit(check());
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 100 + WTERMSIG(status);
  return -1;
}

}  // namespace berth::runtime::testing
