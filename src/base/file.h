// File helpers for durable writes: write to a temp name, fsync, rename, fsync the directory
// (ARCHITECTURE.md, "Every write that matters"). Paths here are trusted (the daemon's own
// state root); paths from images or requests go through archive/ and RESOLVE_IN_ROOT.
#pragma once

#include <string>
#include <string_view>

#include "base/result.h"
#include "base/unique_fd.h"

namespace berth {

Result<std::string> ReadFile(const std::string& path);
// Atomically replaces `path` with `data` (temp file in the same directory, fsync, rename,
// fsync of the directory). Either the old or the new content survives a crash.
Status WriteFileAtomic(const std::string& path, std::string_view data, int mode = 0644);
// The same without the fsyncs: a reader never sees half a file and a crash of the process
// leaves the old or the new one, but a power loss may leave either, or none for a new file.
// For files that are written again (bundle files) or whose loss is handled (exit.json).
Status ReplaceFile(const std::string& path, std::string_view data, int mode = 0644);
Status FsyncDir(const std::string& dir);
// mkdir -p with `mode` for the directories it creates.
Status MakeDirs(const std::string& path, int mode = 0755);
// rm -rf that does not follow symlinks and stays on the path's own file system tree.
Status RemoveAll(const std::string& path);
Result<UniqueFd> OpenFile(const std::string& path, int flags, int mode = 0644);
bool PathExists(const std::string& path);
// Writes all of `data` to fd, retrying on EINTR and short writes.
Status WriteAll(int fd, std::string_view data);

}  // namespace berth
