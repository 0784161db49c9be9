// MountSpec: one mount as data (STYLE.md §5: plans, not syscalls). Snapshotters return lists of
// these; the runtime's mount executor applies them with `target` filled in. This module mounts
// nothing itself.
//
// The option page limit: mount(2) copies its data argument (the comma-joined options) into one
// page, so the joined options plus the NUL must fit in sysconf(_SC_PAGESIZE) bytes (4096 on
// x86-64 and arm64). Overlay lowerdir chains are the only options that get that long. As in
// containerd (core/mount/mount_linux.go), an executor that finds !OptionsFitInPage(spec) calls
// CompactLowerdirs(spec) and performs the mount with its working directory set to the returned
// `chdir` (in a forked helper, never in the threaded daemon), so each lowerdir is a short path
// relative to the layers' common parent. OverlaySnapshotter refuses (ResourceExhausted) to
// hand out a spec whose compacted form still does not fit. In numbers, under the default
// /var/lib/berth/snapshots/<id>/fs: about 34 bytes per absolute lowerdir, so compaction starts
// past roughly 115 layers; compacted ("<id>/fs:") about 9 bytes, so some 450 layers with
// five-digit ids, close to overlayfs' own cap of 500 lowers. Thread-safety: plain data.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "base/result.h"

namespace berth::snapshot {

struct MountSpec {
  std::string type;                  // "bind" or "overlay"
  std::string source;                // the directory for "bind"; "overlay" for overlay
  std::string target;                // filled in by whoever mounts it
  std::vector<std::string> options;  // "rbind", "ro", "rw", "lowerdir=..", ...

  friend bool operator==(const MountSpec&, const MountSpec&) = default;
};

// The options joined by ',' (the form mount(2)'s data argument takes).
std::string JoinOptions(const std::vector<std::string>& options);
size_t PageSize();
// True if JoinOptions(spec.options) plus its NUL fits in `page_size` bytes.
bool OptionsFitInPage(const MountSpec& spec, size_t page_size = PageSize());

struct CompactMount {
  std::string chdir;  // the directory to mount from; lowerdirs are relative to it
  MountSpec spec;
};
// Rewrites an overlay spec's lowerdir= paths relative to their longest common parent
// directory. InvalidArgument if the spec has no lowerdir= or the lowerdirs are not absolute.
Result<CompactMount> CompactLowerdirs(const MountSpec& spec);

}  // namespace berth::snapshot
