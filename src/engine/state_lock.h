// StateLock and PidFile: what keeps two daemons off one state root.
//
// StateLock holds flock(LOCK_EX|LOCK_NB) on <data-root>/berth.lock for the daemon's life and
// writes the holder's pid into it, so a second daemon can say who has the root. The kernel
// drops the lock when the process dies, so a crash leaves no stale lock (unlike a pidfile).
// PidFile is the conventional /run/berth/berthd.pid, refused if it names a live process.
// Both release in their destructors. Not thread-safe; owned by the Daemon.
#pragma once

#include <string>

#include "base/result.h"
#include "base/unique_fd.h"

namespace berth::engine {

class StateLock {
 public:
  // Fails with FailedPrecondition, naming the holder's pid when known, if another open file
  // description (another daemon, or another StateLock in this process) holds the lock.
  static Result<StateLock> Acquire(const std::string& path);

  StateLock(StateLock&&) noexcept = default;
  StateLock& operator=(StateLock&&) noexcept = default;
  ~StateLock() = default;  // closing the fd releases the lock

  const std::string& path() const { return path_; }

 private:
  StateLock(std::string path, UniqueFd fd) : path_(std::move(path)), fd_(std::move(fd)) {}
  std::string path_;
  UniqueFd fd_;
};

class PidFile {
 public:
  // Writes our pid to `path`. Fails with AlreadyExists if the file names a running process
  // (dockerd: "pid file found, ensure docker is not running or delete ..."); a file naming
  // a dead process is replaced.
  static Result<PidFile> Create(const std::string& path);

  PidFile(PidFile&& other) noexcept : path_(std::move(other.path_)) { other.path_.clear(); }
  PidFile& operator=(PidFile&&) = delete;
  PidFile(const PidFile&) = delete;
  ~PidFile();  // removes the file

  const std::string& path() const { return path_; }

 private:
  explicit PidFile(std::string path) : path_(std::move(path)) {}
  std::string path_;
};

}  // namespace berth::engine
