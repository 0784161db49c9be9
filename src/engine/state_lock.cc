#include "engine/state_lock.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <filesystem>

#include "base/file.h"
#include "base/strings.h"

namespace berth::engine {
namespace {

// The pid written in a lock or pid file, or 0 if none can be read.
pid_t ReadPid(const std::string& path) {
  Result<std::string> text = ReadFile(path);
  if (!text) return 0;
  std::string_view s = TrimSpace(*text);
  pid_t pid = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), pid);
  if (ec != std::errc() || ptr != s.data() + s.size() || pid <= 0) return 0;
  return pid;
}

bool ProcessAlive(pid_t pid) { return ::kill(pid, 0) == 0 || errno == EPERM; }

}  // namespace

Result<StateLock> StateLock::Acquire(const std::string& path) {
  BERTH_ASSIGN_OR_RETURN(UniqueFd fd, OpenFile(path, O_RDWR | O_CREAT, 0600));
  while (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
    if (errno == EINTR) continue;
    if (errno == EWOULDBLOCK) {
      pid_t holder = ReadPid(path);
      std::string who =
          holder > 0 ? "another berthd (pid " + std::to_string(holder) + ")" : "another berthd";
      std::string root = std::filesystem::path(path).parent_path().string();
      return MakeError(Code::kFailedPrecondition,
                       "data root " + root + " is in use by " + who + ": lock " + path +
                           " is held; stop that daemon or choose another --data-root");
    }
    return ErrnoError("flock " + path);
  }
  std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd.get(), 0) != 0) return ErrnoError("truncate " + path);
  if (::pwrite(fd.get(), pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size())) {
    return ErrnoError("write " + path);
  }
  return StateLock(path, std::move(fd));
}

Result<PidFile> PidFile::Create(const std::string& path) {
  pid_t existing = ReadPid(path);
  if (existing > 0 && existing != ::getpid() && ProcessAlive(existing)) {
    return MakeError(Code::kAlreadyExists,
                     "pid file found, ensure berthd is not running or delete " + path +
                         " (it names running process " + std::to_string(existing) + ")");
  }
  std::string dir = std::filesystem::path(path).parent_path().string();
  if (!dir.empty()) BERTH_RETURN_IF_ERROR(MakeDirs(dir));
  // A plain write: the file only matters while we run, so it needs no fsync at start-up.
  BERTH_ASSIGN_OR_RETURN(UniqueFd fd, OpenFile(path, O_WRONLY | O_CREAT | O_TRUNC, 0644));
  BERTH_RETURN_IF_ERROR(WriteAll(fd.get(), std::to_string(::getpid()) + "\n"));
  return PidFile(path);
}

PidFile::~PidFile() {
  if (!path_.empty()) ::unlink(path_.c_str());
}

}  // namespace berth::engine
