#include "sys/linux_syscalls.h"

#include <gtest/gtest.h>

#include "sys/testing/syscalls_conformance.h"

namespace berth::sys::testing {
namespace {

INSTANTIATE_TEST_SUITE_P(Linux, SyscallsConformanceTest,
                         ::testing::Values(SyscallsFactory{
                             "Linux", [] { return std::make_shared<LinuxSyscalls>(); }}),
                         SyscallsFactoryName);

}  // namespace
}  // namespace berth::sys::testing
