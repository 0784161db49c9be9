#include "runtime/internal/sysctl.h"

#include <fcntl.h>
#include <sched.h>

#include <string_view>

#include "sys/syscalls.h"

namespace berth::runtime::internal {
namespace {

constexpr std::string_view kIpcSysctls[] = {
    "kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem",
    "kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced",
};

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

}  // namespace

Result<std::vector<FileWrite>> PlanSysctls(const std::map<std::string, std::string>& sysctl,
                                           int clone_flags) {
  std::vector<FileWrite> out;
  for (const auto& [key, value] : sysctl) {
    std::string dotted = key;
    for (char& c : dotted) c = c == '/' ? '.' : c;
    bool ok = false;
    for (std::string_view ipc : kIpcSysctls) ok = ok || dotted == ipc;
    if (StartsWith(dotted, "fs.mqueue.")) ok = true;
    if (ok && (clone_flags & CLONE_NEWIPC) == 0) {
      return MakeError(Code::kInvalidArgument, "sysctl \"" + key + "\" needs a new ipc namespace");
    }
    if (StartsWith(dotted, "net.")) {
      if ((clone_flags & CLONE_NEWNET) == 0) {
        return MakeError(Code::kInvalidArgument,
                         "sysctl \"" + key + "\" needs a new network namespace");
      }
      ok = true;
    }
    if (dotted == "kernel.domainname") {
      if ((clone_flags & CLONE_NEWUTS) == 0) {
        return MakeError(Code::kInvalidArgument,
                         "sysctl \"" + key + "\" needs a new uts namespace");
      }
      ok = true;
    }
    if (!ok) {
      return MakeError(Code::kInvalidArgument,
                       "sysctl \"" + key + "\" is not in a separate kernel namespace");
    }
    std::string path = "/proc/sys";
    size_t pos = 0;
    while (pos <= dotted.size()) {
      size_t end = dotted.find('.', pos);
      if (end == std::string::npos) end = dotted.size();
      std::string part = dotted.substr(pos, end - pos);
      if (part.empty()) {
        return MakeError(Code::kInvalidArgument, "sysctl \"" + key + "\": invalid name");
      }
      path += "/" + part;
      pos = end + 1;
    }
    out.push_back(FileWrite{std::move(path), value});
  }
  return out;
}

Status WriteFiles(const std::vector<FileWrite>& writes, sys::Syscalls& sys) {
  for (const FileWrite& w : writes) {
    Result<UniqueFd> fd =
        sys.Openat2(AT_FDCWD, w.path, sys::OpenHow{O_WRONLY, 0, sys::kResolveNoMagiclinks});
    if (!fd) return fd.error();
    Status st = sys.Pwrite(fd->get(), w.value, 0);
    if (!st) return std::move(st).error().WithContext(w.path);
  }
  return Ok();
}

}  // namespace berth::runtime::internal
