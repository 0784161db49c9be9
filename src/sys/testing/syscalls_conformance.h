// A value-parameterized conformance suite for sys::Syscalls (STYLE.md §6). Each
// implementation instantiates it with a factory:
//
//   INSTANTIATE_TEST_SUITE_P(Linux, SyscallsConformanceTest,
//                            ::testing::Values(SyscallsFactory{"Linux", [] { ... }}),
//                            SyscallsFactoryName);
//
// The tests need a real file system (a temp dir under /tmp) and no privileges.
#pragma once

#include <functional>
#include <memory>
#include <ostream>
#include <string>

#include <gtest/gtest.h>

#include "base/unique_fd.h"
#include "sys/syscalls.h"

namespace berth::sys::testing {

struct SyscallsFactory {
  std::string name;
  std::function<std::shared_ptr<Syscalls>()> make;
};

inline void PrintTo(const SyscallsFactory& f, std::ostream* os) { *os << f.name; }

inline std::string SyscallsFactoryName(const ::testing::TestParamInfo<SyscallsFactory>& info) {
  return info.param.name;
}

class SyscallsConformanceTest : public ::testing::TestWithParam<SyscallsFactory> {
 protected:
  void SetUp() override;
  void TearDown() override;

  std::string dir_;
  UniqueFd dirfd_;
  std::shared_ptr<Syscalls> sys_;
};

}  // namespace berth::sys::testing
