// Internal to runtime/: the two CgroupManager implementations behind CgroupManager::Detect, with
// their timing knobs exposed so tests can make a stuck freeze fail fast.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>

#include "base/result.h"
#include "runtime/cgroup.h"

namespace berth::runtime::internal {

struct CgroupOptions {
  // How long Freeze waits for the freezer to report frozen (a task in an uninterruptible sleep
  // can hold it in FREEZING); on timeout the cgroup is thawed again.
  std::chrono::milliseconds freeze_timeout{5000};
  // How long Destroy retries an rmdir that fails with EBUSY although no process is listed.
  std::chrono::milliseconds busy_timeout{1000};
};

// The v1 controllers Berth creates a cgroup in, when mounted.
inline constexpr const char* kV1Controllers[] = {"cpu",     "cpuacct", "cpuset", "memory",
                                                 "devices", "freezer", "blkio",  "pids"};

// v1 hierarchies under `root`: controller -> directory (root/<name>, or a co-mounted
// root/cpu,cpuacct), symlinks resolved. FailedPrecondition if none is found.
Result<std::map<std::string, std::string>> FindV1Hierarchies(const std::string& root);

// `hierarchies`: controller -> hierarchy root directory, as FindV1Hierarchies returns.
std::unique_ptr<CgroupManager> NewCgroupV1Manager(std::map<std::string, std::string> hierarchies,
                                                  CgroupOptions options = {});
// `root`: the cgroup2 mount (or a delegated subtree of it).
std::unique_ptr<CgroupManager> NewCgroupV2Manager(std::string root, CgroupOptions options = {});

}  // namespace berth::runtime::internal
