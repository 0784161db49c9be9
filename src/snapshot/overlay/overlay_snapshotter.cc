#include "snapshot/overlay/overlay_snapshotter.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>
#include <utility>

#include "base/cleanup.h"
#include "base/file.h"
#include "base/strings.h"
#include "spdlog/spdlog.h"
#include "sql/database.h"

namespace berth::snapshot {
namespace {

constexpr std::string_view kSchema = R"sql(
CREATE TABLE IF NOT EXISTS snapshot_snapshots (
  id         INTEGER PRIMARY KEY AUTOINCREMENT,
  key        TEXT NOT NULL UNIQUE,          -- the key, or the name once committed
  kind       INTEGER NOT NULL,              -- 0 active, 1 view, 2 committed
  parent_id  INTEGER REFERENCES snapshot_snapshots(id),
  created_at INTEGER NOT NULL,              -- unix nanos
  size       INTEGER NOT NULL DEFAULT 0,    -- Usage, recorded at commit
  inodes     INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS snapshot_snapshots_by_parent ON snapshot_snapshots(parent_id);
CREATE TABLE IF NOT EXISTS snapshot_labels (
  id    INTEGER NOT NULL REFERENCES snapshot_snapshots(id) ON DELETE CASCADE,
  key   TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (id, key)
);
)sql";

int64_t ToNanos(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}
std::chrono::system_clock::time_point FromNanos(int64_t n) {
  return std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(std::chrono::nanoseconds(n)));
}

Error NoSnapshot(const std::string& key) {
  return MakeError(Code::kNotFound, "snapshot \"" + key + "\" not found");
}

// Bytes allocated and distinct inodes under `dir`, not following symlinks or crossing into
// other file systems' hard links twice.
Result<Usage> Measure(const std::string& dir) {
  Usage u;
  std::set<std::pair<dev_t, ino_t>> seen;
  auto count = [&](const std::string& path) -> Status {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) return ErrnoError("lstat " + path);
    if (seen.insert({st.st_dev, st.st_ino}).second) {
      u.size += static_cast<int64_t>(st.st_blocks) * 512;
      ++u.inodes;
    }
    return Ok();
  };
  BERTH_RETURN_IF_ERROR(count(dir));
  std::error_code ec;
  std::filesystem::recursive_directory_iterator it(dir, ec), end;
  for (; !ec && it != end; it.increment(ec)) BERTH_RETURN_IF_ERROR(count(it->path().string()));
  if (ec) return ErrnoError("measure " + dir, ec.value());
  return u;
}

}  // namespace

struct OverlaySnapshotter::Row {
  int64_t id = 0;
  std::string key;
  Kind kind = Kind::kActive;
  int64_t parent_id = 0;  // 0: none
  std::string parent_key;
  int64_t created_at = 0;
  int64_t size = 0;
  int64_t inodes = 0;
};

Result<std::unique_ptr<OverlaySnapshotter>> OverlaySnapshotter::Open(const std::string& root,
                                                                     sql::Database& db,
                                                                     OverlayOptions options) {
  std::unique_ptr<OverlaySnapshotter> s(new OverlaySnapshotter(root, db, std::move(options)));
  BERTH_RETURN_IF_ERROR(MakeDirs(s->SnapshotsDir(), 0711));
  BERTH_RETURN_IF_ERROR(db.Exec(kSchema));
  auto st = s->Recover();
  if (!st) return std::move(st).error().WithContext("recover snapshots in " + root);
  return s;
}

// Directories without a row are creations that never committed or removals that did not finish
// (see the header); they are deleted. A row whose directory is missing is only reported: its
// snapshot may be a parent, and deleting rows under live children would hide the damage.
Status OverlaySnapshotter::Recover() {
  std::set<std::string> ids;
  {
    auto lock = db_.Lock();
    BERTH_ASSIGN_OR_RETURN(auto sel, db_.Prepare("SELECT id, key FROM snapshot_snapshots"));
    while (true) {
      BERTH_ASSIGN_OR_RETURN(bool row, sel.Step());
      if (!row) break;
      const std::string id = std::to_string(sel.ColumnInt(0));
      if (!PathExists(SnapshotDir(sel.ColumnInt(0)))) {
        spdlog::error("snapshot \"{}\": directory {} is missing", sel.ColumnText(1),
                      SnapshotDir(sel.ColumnInt(0)));
      }
      ids.insert(id);
    }
  }
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(SnapshotsDir(), ec)) {
    const std::string name = entry.path().filename().string();
    const bool numeric = !name.empty() && name.find_first_not_of("0123456789") == std::string::npos;
    if (name.starts_with("new-") || name.starts_with("rm-") || (numeric && !ids.count(name))) {
      spdlog::info("snapshots: removing leftover {}", entry.path().string());
      BERTH_RETURN_IF_ERROR(RemoveAll(entry.path().string()));
    }
  }
  if (ec) return ErrnoError("list " + SnapshotsDir(), ec.value());
  return Ok();
}

Result<OverlaySnapshotter::Row> OverlaySnapshotter::GetRow(const std::string& key) {
  auto lock = db_.Lock();
  BERTH_ASSIGN_OR_RETURN(
      auto sel,
      db_.Prepare("SELECT s.id, s.key, s.kind, s.parent_id, p.key, s.created_at, s.size, s.inodes "
                  "FROM snapshot_snapshots s LEFT JOIN snapshot_snapshots p ON p.id = s.parent_id "
                  "WHERE s.key = ?"));
  sel.Bind(1, key);
  BERTH_ASSIGN_OR_RETURN(bool found, sel.Step());
  if (!found) return NoSnapshot(key);
  Row r;
  r.id = sel.ColumnInt(0);
  r.key = sel.ColumnText(1);
  r.kind = static_cast<Kind>(sel.ColumnInt(2));
  r.parent_id = sel.ColumnIsNull(3) ? 0 : sel.ColumnInt(3);
  r.parent_key = sel.ColumnText(4);
  r.created_at = sel.ColumnInt(5);
  r.size = sel.ColumnInt(6);
  r.inodes = sel.ColumnInt(7);
  return r;
}

Status OverlaySnapshotter::CheckFree(const std::string& key) {
  auto row = GetRow(key);
  if (row) return MakeError(Code::kAlreadyExists, "snapshot \"" + key + "\" already exists");
  if (row.error().code == Code::kNotFound) return Ok();
  return std::move(row).error();
}

Result<std::vector<int64_t>> OverlaySnapshotter::Chain(int64_t id) {
  auto lock = db_.Lock();
  BERTH_ASSIGN_OR_RETURN(
      auto sel, db_.Prepare("WITH RECURSIVE chain(id, parent_id, depth) AS ("
                            "  SELECT id, parent_id, 0 FROM snapshot_snapshots WHERE id = ?"
                            "  UNION ALL"
                            "  SELECT s.id, s.parent_id, c.depth + 1 FROM snapshot_snapshots s"
                            "  JOIN chain c ON s.id = c.parent_id"
                            ") SELECT id FROM chain ORDER BY depth"));
  sel.Bind(1, id);
  std::vector<int64_t> out;
  while (true) {
    BERTH_ASSIGN_OR_RETURN(bool row, sel.Step());
    if (!row) return out;
    out.push_back(sel.ColumnInt(0));
  }
}

Result<std::vector<MountSpec>> OverlaySnapshotter::MountsFor(const Row& row) {
  if (row.kind == Kind::kCommitted) {
    return MakeError(Code::kFailedPrecondition,
                     "snapshot \"" + row.key + "\" is committed and has no mounts");
  }
  std::vector<int64_t> parents;
  if (row.parent_id != 0) {
    BERTH_ASSIGN_OR_RETURN(parents, Chain(row.parent_id));
  }
  const std::string rw = row.kind == Kind::kView ? "ro" : "rw";
  if (parents.empty()) {
    // overlay needs a lower layer; an empty tree is its own directory, bound.
    return std::vector<MountSpec>{{"bind", FsPath(row.id), "", {"rbind", rw}}};
  }
  if (row.kind == Kind::kView && parents.size() == 1) {
    return std::vector<MountSpec>{{"bind", FsPath(parents[0]), "", {"rbind", "ro"}}};
  }
  if (parents.size() > kMaxLowerLayers) {
    return MakeError(Code::kResourceExhausted, "snapshot \"" + row.key + "\" has " +
                                                   std::to_string(parents.size()) +
                                                   " parent layers; overlayfs stacks at most " +
                                                   std::to_string(kMaxLowerLayers));
  }
  MountSpec spec{"overlay", "overlay", "", {}};
  if (row.kind == Kind::kActive) {
    spec.options.push_back("workdir=" + WorkPath(row.id));
    spec.options.push_back("upperdir=" + FsPath(row.id));
  }
  std::vector<std::string> lowers;
  lowers.reserve(parents.size());
  for (int64_t id : parents) lowers.push_back(FsPath(id));
  spec.options.push_back("lowerdir=" + Join(lowers, ":"));
  if (!OptionsFitInPage(spec, options_.page_size)) {
    BERTH_ASSIGN_OR_RETURN(CompactMount compact, CompactLowerdirs(spec));
    if (!OptionsFitInPage(compact.spec, options_.page_size)) {
      return MakeError(Code::kResourceExhausted,
                       "snapshot \"" + row.key + "\": mount options for " +
                           std::to_string(parents.size()) + " layers exceed the " +
                           std::to_string(options_.page_size) + "-byte page even when compacted");
    }
  }
  return std::vector<MountSpec>{std::move(spec)};
}

Result<std::vector<MountSpec>> OverlaySnapshotter::Create(Kind kind, const std::string& key,
                                                          const std::string& parent) {
  if (key.empty()) return MakeError(Code::kInvalidArgument, "snapshot key must not be empty");
  std::string tmpl = SnapshotsDir() + "/new-XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) return ErrnoError("mkdtemp " + tmpl);
  std::string dir = tmpl;
  Cleanup remove_dir([&dir] { (void)RemoveAll(dir); });
  if (::chmod(dir.c_str(), 0700) != 0) return ErrnoError("chmod " + dir);
  BERTH_RETURN_IF_ERROR(MakeDirs(dir + "/fs", 0755));
  if (kind == Kind::kActive) BERTH_RETURN_IF_ERROR(MakeDirs(dir + "/work", 0711));

  BERTH_ASSIGN_OR_RETURN(sql::Transaction tx, sql::Transaction::Begin(db_));
  BERTH_RETURN_IF_ERROR(CheckFree(key));
  Row row;
  row.key = key;
  row.kind = kind;
  row.created_at = ToNanos(options_.clock());
  if (!parent.empty()) {
    auto p = GetRow(parent);
    if (!p) return std::move(p).error().WithContext("parent of \"" + key + "\"");
    if (p->kind != Kind::kCommitted) {
      return MakeError(Code::kFailedPrecondition,
                       "parent \"" + parent + "\" of \"" + key + "\" is not committed");
    }
    row.parent_id = p->id;
    row.parent_key = parent;
    // The new tree's root starts owned like its parent's (matters for user-namespaced images).
    struct stat st {};
    if (::stat(FsPath(p->id).c_str(), &st) != 0) return ErrnoError("stat " + FsPath(p->id));
    if (::lchown((dir + "/fs").c_str(), st.st_uid, st.st_gid) != 0) {
      return ErrnoError("chown " + dir + "/fs");
    }
  }
  BERTH_ASSIGN_OR_RETURN(
      auto ins,
      db_.Prepare(
          "INSERT INTO snapshot_snapshots (key, kind, parent_id, created_at) VALUES (?, ?, ?, ?)"));
  ins.Bind(1, key).Bind(2, static_cast<int64_t>(kind)).Bind(4, row.created_at);
  if (row.parent_id != 0) {
    ins.Bind(3, row.parent_id);
  } else {
    ins.BindNull(3);
  }
  BERTH_RETURN_IF_ERROR(ins.Run());
  row.id = db_.LastInsertRowId();
  BERTH_ASSIGN_OR_RETURN(auto mounts, MountsFor(row));  // refuse what could never be mounted
  const std::string final_dir = SnapshotDir(row.id);
  if (::rename(dir.c_str(), final_dir.c_str()) != 0) {
    return ErrnoError("rename " + dir + " to " + final_dir);
  }
  dir = final_dir;  // from here the cleanup removes the renamed directory
  // No fsync of snapshots/ here: meta.db commits with synchronous=NORMAL, so after a power
  // loss the row may be gone (Open() then deletes the directory), and a row whose directory
  // was lost is a snapshot that cannot mount, which Remove() still removes. What must survive
  // a power loss (a committed layer) is synced by whoever writes it, after Commit.
  // (This fsync was the largest cost of `berth create` under load: up to ~190 ms.)
  BERTH_RETURN_IF_ERROR(tx.Commit());
  remove_dir.Cancel();
  return mounts;
}

Result<std::vector<MountSpec>> OverlaySnapshotter::Prepare(const std::string& key,
                                                           const std::string& parent) {
  return Create(Kind::kActive, key, parent);
}

Result<std::vector<MountSpec>> OverlaySnapshotter::View(const std::string& key,
                                                        const std::string& parent) {
  return Create(Kind::kView, key, parent);
}

Result<std::vector<MountSpec>> OverlaySnapshotter::Mounts(const std::string& key) {
  auto lock = db_.Lock();
  BERTH_ASSIGN_OR_RETURN(Row row, GetRow(key));
  return MountsFor(row);
}

Result<std::string> OverlaySnapshotter::UpperPath(const std::string& key) {
  BERTH_ASSIGN_OR_RETURN(Row row, GetRow(key));
  if (row.kind != Kind::kActive) {
    return MakeError(Code::kFailedPrecondition, "snapshot \"" + key + "\" is " +
                                                    std::string(KindName(row.kind)) +
                                                    ", not active: it has no writable upper");
  }
  return FsPath(row.id);
}

Result<std::string> OverlaySnapshotter::LayerPath(const std::string& name) {
  BERTH_ASSIGN_OR_RETURN(Row row, GetRow(name));
  if (row.kind != Kind::kCommitted) {
    return MakeError(Code::kFailedPrecondition, "snapshot \"" + name + "\" is " +
                                                    std::string(KindName(row.kind)) +
                                                    ", not committed: it has no layer");
  }
  return FsPath(row.id);
}

Status OverlaySnapshotter::Commit(const std::string& name, const std::string& key) {
  if (name.empty()) return MakeError(Code::kInvalidArgument, "snapshot name must not be empty");
  BERTH_ASSIGN_OR_RETURN(Row before, GetRow(key));
  if (before.kind != Kind::kActive) {
    return MakeError(Code::kFailedPrecondition, "snapshot \"" + key + "\" is " +
                                                    std::string(KindName(before.kind)) +
                                                    ", only an active snapshot can be committed");
  }
  // Measured outside the transaction (a layer can be large); the row is re-checked inside.
  BERTH_ASSIGN_OR_RETURN(snapshot::Usage usage, Measure(FsPath(before.id)));
  {
    BERTH_ASSIGN_OR_RETURN(sql::Transaction tx, sql::Transaction::Begin(db_));
    BERTH_ASSIGN_OR_RETURN(Row row, GetRow(key));
    if (row.id != before.id || row.kind != Kind::kActive) {
      return MakeError(Code::kConflict, "snapshot \"" + key + "\" changed during commit");
    }
    BERTH_RETURN_IF_ERROR(CheckFree(name));
    BERTH_ASSIGN_OR_RETURN(
        auto upd,
        db_.Prepare(
            "UPDATE snapshot_snapshots SET key = ?, kind = ?, size = ?, inodes = ? WHERE id = ?"));
    BERTH_RETURN_IF_ERROR(upd.Bind(1, name)
                              .Bind(2, static_cast<int64_t>(Kind::kCommitted))
                              .Bind(3, usage.size)
                              .Bind(4, usage.inodes)
                              .Bind(5, row.id)
                              .Run());
    BERTH_RETURN_IF_ERROR(tx.Commit());
  }
  // A committed snapshot is only ever a lowerdir; its workdir is dead weight.
  Status st = RemoveAll(WorkPath(before.id));
  if (!st) spdlog::warn("commit {}: {}", name, st.error().message);
  return Ok();
}

Status OverlaySnapshotter::Remove(const std::string& key) {
  int64_t id = 0;
  {
    BERTH_ASSIGN_OR_RETURN(sql::Transaction tx, sql::Transaction::Begin(db_));
    BERTH_ASSIGN_OR_RETURN(Row row, GetRow(key));
    BERTH_ASSIGN_OR_RETURN(
        auto child,
        db_.Prepare("SELECT key FROM snapshot_snapshots WHERE parent_id = ? ORDER BY key LIMIT 1"));
    child.Bind(1, row.id);
    BERTH_ASSIGN_OR_RETURN(bool has_child, child.Step());
    if (has_child) {
      return MakeError(Code::kFailedPrecondition,
                       "snapshot \"" + key + "\" has children (\"" + child.ColumnText(0) + "\")");
    }
    BERTH_ASSIGN_OR_RETURN(auto del, db_.Prepare("DELETE FROM snapshot_snapshots WHERE id = ?"));
    BERTH_RETURN_IF_ERROR(del.Bind(1, row.id).Run());
    BERTH_RETURN_IF_ERROR(tx.Commit());
    id = row.id;
  }
  // The row is gone, so the snapshot is gone; a crash from here leaves a directory that the
  // next Open() deletes.
  const std::string dir = SnapshotDir(id);
  const std::string doomed = SnapshotsDir() + "/rm-" + std::to_string(id);
  if (::rename(dir.c_str(), doomed.c_str()) != 0) {
    if (errno == ENOENT) return Ok();
    return ErrnoError("rename " + dir + " to " + doomed);
  }
  return RemoveAll(doomed);
}

Result<Info> OverlaySnapshotter::Stat(const std::string& key) {
  auto lock = db_.Lock();
  BERTH_ASSIGN_OR_RETURN(Row row, GetRow(key));
  Info info{row.kind, row.key, row.parent_key, FromNanos(row.created_at), {}};
  BERTH_ASSIGN_OR_RETURN(auto sel,
                         db_.Prepare("SELECT key, value FROM snapshot_labels WHERE id = ?"));
  sel.Bind(1, row.id);
  while (true) {
    BERTH_ASSIGN_OR_RETURN(bool r, sel.Step());
    if (!r) return info;
    info.labels[sel.ColumnText(0)] = sel.ColumnText(1);
  }
}

Result<bool> OverlaySnapshotter::HasCommitted(const std::string& name) {
  auto row = GetRow(name);
  if (!row) {
    if (row.error().code == Code::kNotFound) return false;
    return std::move(row).error();
  }
  return row->kind == Kind::kCommitted;
}

Status OverlaySnapshotter::SetLabels(const std::string& key, const Labels& labels) {
  BERTH_ASSIGN_OR_RETURN(sql::Transaction tx, sql::Transaction::Begin(db_));
  BERTH_ASSIGN_OR_RETURN(Row row, GetRow(key));
  BERTH_ASSIGN_OR_RETURN(auto del, db_.Prepare("DELETE FROM snapshot_labels WHERE id = ?"));
  BERTH_RETURN_IF_ERROR(del.Bind(1, row.id).Run());
  BERTH_ASSIGN_OR_RETURN(
      auto ins, db_.Prepare("INSERT INTO snapshot_labels (id, key, value) VALUES (?, ?, ?)"));
  for (const auto& [k, v] : labels) {
    ins.Reset();
    BERTH_RETURN_IF_ERROR(ins.Bind(1, row.id).Bind(2, k).Bind(3, v).Run());
  }
  return tx.Commit();
}

Result<std::vector<Info>> OverlaySnapshotter::List() {
  auto lock = db_.Lock();
  std::map<int64_t, Labels> labels;
  {
    BERTH_ASSIGN_OR_RETURN(auto sel, db_.Prepare("SELECT id, key, value FROM snapshot_labels"));
    while (true) {
      BERTH_ASSIGN_OR_RETURN(bool r, sel.Step());
      if (!r) break;
      labels[sel.ColumnInt(0)][sel.ColumnText(1)] = sel.ColumnText(2);
    }
  }
  BERTH_ASSIGN_OR_RETURN(
      auto sel,
      db_.Prepare("SELECT s.id, s.key, s.kind, p.key, s.created_at FROM snapshot_snapshots s "
                  "LEFT JOIN snapshot_snapshots p ON p.id = s.parent_id ORDER BY s.id"));
  std::vector<Info> out;
  while (true) {
    BERTH_ASSIGN_OR_RETURN(bool r, sel.Step());
    if (!r) return out;
    out.push_back({static_cast<Kind>(sel.ColumnInt(2)), sel.ColumnText(1), sel.ColumnText(3),
                   FromNanos(sel.ColumnInt(4)), std::move(labels[sel.ColumnInt(0)])});
  }
}

Status OverlaySnapshotter::Walk(const std::function<Status(const Info&)>& fn) {
  BERTH_ASSIGN_OR_RETURN(auto all, List());
  for (const auto& info : all) BERTH_RETURN_IF_ERROR(fn(info));
  return Ok();
}

Result<snapshot::Usage> OverlaySnapshotter::Usage(const std::string& key) {
  BERTH_ASSIGN_OR_RETURN(Row row, GetRow(key));
  if (row.kind == Kind::kCommitted) return snapshot::Usage{row.size, row.inodes};
  return Measure(FsPath(row.id));
}

}  // namespace berth::snapshot
