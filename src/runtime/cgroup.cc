// CgroupManager::Detect: which cgroup layout the host has.
//
//   v2 (unified):  <root> is a cgroup2 mount, <root>/cgroup.controllers exists
//   v1 / hybrid:   <root> is a tmpfs of per-controller mounts, <root>/{cpu,memory,pids,...};
//                  co-mounted ones appear as <root>/cpu,cpuacct (with cpu and cpuacct links)
//                  A hybrid host's <root>/unified cgroup2 mount is not used.
#include "runtime/cgroup.h"

#include <dirent.h>
#include <linux/magic.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <cerrno>

#include <fmt/format.h>

#include "base/file.h"
#include "base/strings.h"
#include "runtime/internal/cgroup_backends.h"

namespace berth::runtime {
namespace internal {
namespace {

Result<std::string> RealDir(const std::string& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return MakeError(Code::kNotFound, path + " is not a directory");
  }
  char* real = realpath(path.c_str(), nullptr);
  if (real == nullptr) return ErrnoError("realpath " + path);
  std::string out(real);
  free(real);
  return out;
}

}  // namespace

Result<std::map<std::string, std::string>> FindV1Hierarchies(const std::string& root) {
  std::map<std::string, std::string> found;
  for (const char* controller : kV1Controllers) {
    if (Result<std::string> dir = RealDir(root + "/" + controller)) found[controller] = *dir;
  }
  // Co-mounted controllers without the per-name links ("cpu,cpuacct").
  if (DIR* d = opendir(root.c_str())) {
    while (dirent* e = readdir(d)) {
      const std::string name = e->d_name;
      if (name.find(',') == std::string::npos) continue;
      Result<std::string> dir = RealDir(root + "/" + name);
      if (!dir) continue;
      for (const std::string& controller : Split(name, ',')) {
        for (const char* known : kV1Controllers) {
          if (controller == known && found.count(controller) == 0) found[controller] = *dir;
        }
      }
    }
    closedir(d);
  }
  if (found.empty()) {
    return MakeError(Code::kFailedPrecondition,
                     fmt::format("no cgroup v1 controller is mounted under {}", root));
  }
  return found;
}

}  // namespace internal

int JoinSelf(const std::vector<int>& fds) {
  for (int fd : fds) {
    ssize_t n;
    do {
      n = ::write(fd, "0", 1);
    } while (n < 0 && errno == EINTR);
    if (n != 1) return n < 0 ? errno : EIO;
  }
  return 0;
}

Result<std::unique_ptr<CgroupManager>> CgroupManager::Detect(const std::string& root) {
  struct statfs fs {};
  if (statfs(root.c_str(), &fs) != 0) return ErrnoError("detect cgroups: statfs " + root);
  // The file test lets tests lay out a v2 tree in a temp dir.
  if (fs.f_type == CGROUP2_SUPER_MAGIC || PathExists(root + "/cgroup.controllers")) {
    return internal::NewCgroupV2Manager(root);
  }
  Result<std::map<std::string, std::string>> hierarchies = internal::FindV1Hierarchies(root);
  if (!hierarchies) return std::move(hierarchies).error().WithContext("detect cgroups");
  return internal::NewCgroupV1Manager(std::move(*hierarchies));
}

}  // namespace berth::runtime
