// Test helper: runs a check in a forked child after installing a compiled seccomp program the
// way the container init does (PR_SET_NO_NEW_PRIVS, then seccomp(SECCOMP_SET_MODE_FILTER)).
// For runtime's unit tests only.
#pragma once

#include <functional>

#include "runtime/seccomp.h"

namespace berth::runtime::testing {

// Forks; the child installs `program` then exits with check()'s value (0: success). Returns the
// child's exit code, or 100 + signal if it was killed, or -1 if fork failed. Codes 90-99 are
// reserved for install failures (90: prctl, 91: seccomp).
int RunUnderSeccomp(const SeccompProgram& program, const std::function<int()>& check);

}  // namespace berth::runtime::testing
