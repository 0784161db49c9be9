// File operations relative to a directory fd (openat(2) and friends), for the filesystem blob
// store. Every `rel` is built by the store from validated names (digest hex, upload ids, its
// own fixed directory names), never from raw input, so no path leaves the store's root. The
// last component is never followed if it is a symlink. Private to storage/. Stateless.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "base/unique_fd.h"
#include "oci/digest.h"

namespace berth::storage::internal {

// openat(dir, rel, flags | O_CLOEXEC | O_NOFOLLOW, mode). ENOENT maps to NotFound.
Result<UniqueFd> OpenAt(int dir, const std::string& rel, int flags, int mode = 0644);
// mkdirat(dir, rel, mode): true if it made the directory, false if a directory was there.
Result<bool> MakeDirAt(int dir, const std::string& rel, int mode = 0755);
// Opens the directory `rel` and fsyncs it, making the entries renamed into it durable.
Status FsyncDirAt(int dir, const std::string& rel);
// The names in directory `rel`, without "." and "..", sorted.
Result<std::vector<std::string>> ListDirAt(int dir, const std::string& rel);
// Removes `rel`: a file, or a directory and everything under it (symlinks are removed, not
// followed). NotFound if it is absent.
Status RemoveAt(int dir, const std::string& rel);
// renameat2(RENAME_NOREPLACE): true if moved, false if `to` existed (nothing was moved).
Result<bool> RenameNoReplaceAt(int dir, const std::string& from, const std::string& to);

// pwrite(2) of all of `data` at `offset`, retrying on EINTR and short writes.
Status PwriteAll(int fd, std::string_view data, int64_t offset);
// Feeds bytes [0, size) of `fd` to `digester` (pread(2), 1 MiB at a time). DataLoss if the
// file is shorter than `size`.
Status HashPrefix(int fd, int64_t size, oci::Digester& digester);

}  // namespace berth::storage::internal
