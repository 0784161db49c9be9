// Snapshotter: copy-on-write filesystem trees for image layers and container root filesystems,
// in containerd's vocabulary (core/snapshots/snapshotter.go):
//
//   key     names an active or view snapshot: a tree being written (Prepare) or read (View)
//   name    names a committed snapshot: immutable, usable as a parent. Berth uses layer chain
//           IDs ("sha256:...") as names, so the image store finds a layer by Stat(chain_id).
//   parent  the committed snapshot a new one starts from ("" for an empty tree)
//
// Lifecycle: Prepare(key, parent) -> write into UpperPath(key) (layer unpack) or mount
// Mounts(key) (container) -> Commit(name, key) turns the active snapshot into a committed one
// named `name` (the key is gone) -> Remove(name) once nothing builds on it. View(key, parent)
// gives a read-only tree of parent that can never be committed. Keys and names share one
// namespace. Nothing here mounts: methods return MountSpecs (snapshot/mount_spec.h).
//
// Thread-safety: implementations are safe for concurrent use. Callers must unmount a snapshot
// before Commit or Remove.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "snapshot/mount_spec.h"

namespace berth::snapshot {

enum class Kind { kActive, kView, kCommitted };
std::string_view KindName(Kind kind);  // "active", "view", "committed"

using Labels = std::map<std::string, std::string>;

struct Info {
  Kind kind = Kind::kActive;
  std::string name;    // the key, or for a committed snapshot its name
  std::string parent;  // "" if none
  std::chrono::system_clock::time_point created;
  Labels labels;
};

struct Usage {
  int64_t size = 0;    // bytes allocated by this snapshot's own tree (not its parents)
  int64_t inodes = 0;  // distinct inodes in it, the root included
};

class Snapshotter {
 public:
  virtual ~Snapshotter() = default;

  // Info of any snapshot by key or name; NotFound if none. An indexed lookup, cheap enough to
  // ask "is chain ID X unpacked?" for every layer of a pull.
  virtual Result<Info> Stat(const std::string& key) = 0;
  // True if a committed snapshot named `name` exists.
  virtual Result<bool> HasCommitted(const std::string& name) = 0;
  // Replaces a snapshot's labels.
  virtual Status SetLabels(const std::string& key, const Labels& labels) = 0;

  // A new active snapshot on `parent` (committed, or "" for none). AlreadyExists if `key` is
  // taken; NotFound / FailedPrecondition if the parent is missing / not committed.
  virtual Result<std::vector<MountSpec>> Prepare(const std::string& key,
                                                 const std::string& parent) = 0;
  // A new read-only view of `parent`.
  virtual Result<std::vector<MountSpec>> View(const std::string& key,
                                              const std::string& parent) = 0;
  // The mounts of an active or view snapshot (FailedPrecondition for a committed one).
  virtual Result<std::vector<MountSpec>> Mounts(const std::string& key) = 0;
  // The writable directory of an active snapshot, for applying a layer diff straight into it
  // (whiteouts in overlay form: 0/0 char devices, trusted.overlay.opaque=y).
  virtual Result<std::string> UpperPath(const std::string& key) = 0;
  // The directory holding committed snapshot `name`'s own tree (what its layer added), for
  // reading it back, never for writing (a layer kept as tree + tar-split metadata is
  // regenerated from it). FailedPrecondition unless committed.
  virtual Result<std::string> LayerPath(const std::string& name) = 0;

  // Turns active `key` into committed `name`. FailedPrecondition unless `key` is active;
  // AlreadyExists if `name` is taken.
  virtual Status Commit(const std::string& name, const std::string& key) = 0;
  // Removes a snapshot of any kind. FailedPrecondition if it has children.
  virtual Status Remove(const std::string& key) = 0;

  virtual Result<std::vector<Info>> List() = 0;
  // Calls fn for each snapshot (a snapshot of the list); stops at fn's first error.
  virtual Status Walk(const std::function<Status(const Info&)>& fn) = 0;
  // Disk usage of the snapshot's own tree: measured now for active and view snapshots,
  // recorded at Commit for committed ones.
  virtual Result<snapshot::Usage> Usage(const std::string& key) = 0;
};

}  // namespace berth::snapshot
