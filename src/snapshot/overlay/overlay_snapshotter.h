// OverlaySnapshotter: snapshots as directories stacked by overlayfs, metadata in the shared
// sql::Database (tables snapshot_snapshots, snapshot_labels). After containerd's
// plugins/snapshots/overlay.
//
//   <root>/
//   └── snapshots/
//       ├── <id>/          one snapshot; id = snapshot_snapshots.id (AUTOINCREMENT: never reused)
//       │   ├── fs/        its own tree: the upperdir while active, a lowerdir once committed
//       │   └── work/      overlay workdir (active snapshots only)
//       ├── new-XXXXXX/    being created: renamed to <id> inside the creating transaction
//       └── rm-<id>/       being removed: renamed after its row is deleted, then deleted
//
// Crash-safety: a snapshot is visible only through its row. Creation writes the directory
// first and the row last (same transaction as the rename), removal deletes the row first and
// the directory after, so a crash leaves at worst a directory without a row, which Open()
// deletes. Mounts: no parent -> bind of fs; view of one parent -> read-only bind of the
// parent's fs; otherwise overlay with lowerdir= (newest first), plus upperdir/workdir when
// active. At most kMaxLowerLayers lowers (the kernel's OVL_MAX_STACK), and the compacted
// option string must fit in a page (mount_spec.h).
//
// Ownership: borrows the Database, which must outlive the snapshotter. Thread-safety: safe for
// concurrent use (metadata changes run in sql::Transactions); must not be called inside a
// caller's sql::Transaction, since directory changes cannot roll back with it.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "snapshot/snapshotter.h"

namespace berth::sql {
class Database;
}  // namespace berth::sql

namespace berth::snapshot {

struct OverlayOptions {
  std::function<std::chrono::system_clock::time_point()> clock = [] {
    return std::chrono::system_clock::now();
  };
  size_t page_size = PageSize();  // the mount option limit (mount_spec.h); tests shrink it
};

class OverlaySnapshotter final : public Snapshotter {
 public:
  static constexpr size_t kMaxLowerLayers = 500;

  // Creates <root>/snapshots and the tables if missing, then removes leftover directories.
  static Result<std::unique_ptr<OverlaySnapshotter>> Open(const std::string& root,
                                                          sql::Database& db,
                                                          OverlayOptions options = {});

  Result<Info> Stat(const std::string& key) override;
  Result<bool> HasCommitted(const std::string& name) override;
  Status SetLabels(const std::string& key, const Labels& labels) override;
  Result<std::vector<MountSpec>> Prepare(const std::string& key,
                                         const std::string& parent) override;
  Result<std::vector<MountSpec>> View(const std::string& key, const std::string& parent) override;
  Result<std::vector<MountSpec>> Mounts(const std::string& key) override;
  Result<std::string> UpperPath(const std::string& key) override;
  Result<std::string> LayerPath(const std::string& name) override;
  Status Commit(const std::string& name, const std::string& key) override;
  Status Remove(const std::string& key) override;
  Result<std::vector<Info>> List() override;
  Status Walk(const std::function<Status(const Info&)>& fn) override;
  Result<snapshot::Usage> Usage(const std::string& key) override;

 private:
  struct Row;
  OverlaySnapshotter(std::string root, sql::Database& db, OverlayOptions options)
      : root_(std::move(root)), db_(db), options_(std::move(options)) {}

  std::string SnapshotsDir() const { return root_ + "/snapshots"; }
  std::string SnapshotDir(int64_t id) const { return SnapshotsDir() + "/" + std::to_string(id); }
  std::string FsPath(int64_t id) const { return SnapshotDir(id) + "/fs"; }
  std::string WorkPath(int64_t id) const { return SnapshotDir(id) + "/work"; }

  Status Recover();
  Result<Row> GetRow(const std::string& key);
  Status CheckFree(const std::string& key);        // AlreadyExists if a snapshot is named `key`
  Result<std::vector<int64_t>> Chain(int64_t id);  // id and its ancestors, newest first
  Result<std::vector<MountSpec>> MountsFor(const Row& row);
  Result<std::vector<MountSpec>> Create(Kind kind, const std::string& key,
                                        const std::string& parent);

  std::string root_;
  sql::Database& db_;
  OverlayOptions options_;
};

}  // namespace berth::snapshot
