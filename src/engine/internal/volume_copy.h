// Private to engine/: fills a new volume with what the image has at its mount path (Docker's
// copyExistingContents), so `-v /var/lib/app` or an image VOLUME starts with the image's files.
#pragma once

#include <string>

#include "base/result.h"

namespace berth::sys {
class Syscalls;
}

namespace berth::engine::internal {

// Copies the tree at `path` inside the container's root `root_fd` (resolved with
// RESOLVE_IN_ROOT, so symlinks in the image stay inside it) into the directory `dest_dir`:
// a tar of it (archive::WriteTree: owners, modes, xattrs, symlinks, hard links) spooled to an
// unnamed file in `tmp_dir`, applied onto `dest_dir` (archive::ApplyLayer, entries confined to
// it), then the owner and mode of `path` itself given to `dest_dir`. A missing path or one that
// is not a directory copies nothing.
Status CopyImagePath(int root_fd, const std::string& path, const std::string& dest_dir,
                     const std::string& tmp_dir, sys::Syscalls& sys);

}  // namespace berth::engine::internal
