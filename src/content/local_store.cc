#include "content/local_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <map>
#include <set>

#include "base/file.h"
#include "base/strings.h"
#include "content/internal/ingest_meta.h"
#include "spdlog/spdlog.h"
#include "sql/database.h"

namespace berth::content {
namespace {

constexpr std::string_view kSchema = R"sql(
CREATE TABLE IF NOT EXISTS content_blobs (
  digest     TEXT PRIMARY KEY,
  size       INTEGER NOT NULL,
  created_at INTEGER NOT NULL,  -- unix nanos of the first commit
  touched_at INTEGER NOT NULL   -- unix nanos of the latest commit of these bytes (GC grace)
);
CREATE TABLE IF NOT EXISTS content_labels (
  digest TEXT NOT NULL REFERENCES content_blobs(digest) ON DELETE CASCADE,
  key    TEXT NOT NULL,
  value  TEXT NOT NULL,
  PRIMARY KEY (digest, key)
);
-- No foreign key to content_blobs: a lease may hold a digest before its blob is committed,
-- and references outlive a blob that is lost and downloaded again.
CREATE TABLE IF NOT EXISTS content_refs (
  digest TEXT NOT NULL,
  owner  TEXT NOT NULL,
  PRIMARY KEY (digest, owner)
);
CREATE INDEX IF NOT EXISTS content_refs_by_owner ON content_refs(owner);
)sql";

// A SAVEPOINT nests inside a caller's sql::Transaction (BEGIN does not) and starts a
// transaction of its own otherwise. Holds the database lock for its whole life.
class Savepoint {
 public:
  static Result<Savepoint> Begin(sql::Database& db) {
    auto lock = db.Lock();
    BERTH_RETURN_IF_ERROR(db.Exec("SAVEPOINT content_store"));
    return Savepoint(db, std::move(lock));
  }
  Savepoint(Savepoint&& o) noexcept
      : db_(o.db_), lock_(std::move(o.lock_)), done_(std::exchange(o.done_, true)) {}
  Savepoint& operator=(Savepoint&&) = delete;
  ~Savepoint() {
    if (!done_) (void)db_->Exec("ROLLBACK TO content_store; RELEASE content_store");
  }
  Status Release() {
    BERTH_RETURN_IF_ERROR(db_->Exec("RELEASE content_store"));
    done_ = true;
    return Ok();
  }

 private:
  Savepoint(sql::Database& db, std::unique_lock<std::recursive_mutex> lock)
      : db_(&db), lock_(std::move(lock)) {}
  sql::Database* db_;
  std::unique_lock<std::recursive_mutex> lock_;
  bool done_ = false;
};

Error NotCommitted(const oci::Digest& d) {
  return MakeError(Code::kNotFound, "content " + d.ToString() + " not found");
}

Result<std::map<std::string, Labels>> LoadLabels(sql::Database& db, const std::string* digest) {
  std::map<std::string, Labels> out;
  BERTH_ASSIGN_OR_RETURN(
      auto st, db.Prepare(digest ? "SELECT digest, key, value FROM content_labels WHERE digest = ?"
                                 : "SELECT digest, key, value FROM content_labels"));
  if (digest) st.Bind(1, *digest);
  while (true) {
    BERTH_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) return out;
    out[st.ColumnText(0)][st.ColumnText(1)] = st.ColumnText(2);
  }
}

}  // namespace

Result<std::unique_ptr<LocalStore>> LocalStore::Open(const std::string& root, sql::Database& db,
                                                     LocalStoreOptions options) {
  std::unique_ptr<LocalStore> store(new LocalStore(root, db, std::move(options)));
  const internal::Layout& l = store->layout_;
  for (auto a : {oci::Algorithm::kSha256, oci::Algorithm::kSha512}) {
    BERTH_RETURN_IF_ERROR(MakeDirs(l.BlobDir(a), 0755));
  }
  BERTH_RETURN_IF_ERROR(MakeDirs(l.IngestRoot(), 0755));
  BERTH_RETURN_IF_ERROR(db.Exec(kSchema));
  auto st = store->Recover();
  if (!st) return std::move(st).error().WithContext("recover content store " + root);
  return store;
}

int64_t LocalStore::NowNanos() const { return internal::ToNanos(options_.clock()); }

// Recovery after a crash. The write order is: ingest data fsynced -> renamed into blobs/ ->
// directory fsynced -> row inserted; deletion is row deleted -> file unlinked. So:
//  - A dot-named entry under ingest/ is a removal in progress or a temp file: removed.
//  - An ingest directory without its "ref" file never finished being created: removed.
//  - A badly named file under blobs/<alg>/ is nobody's blob: removed.
//  - A blob file without a row was verified before its rename (only verified data is ever
//    renamed into blobs/), so the crash hit between rename and insert, or a delete between
//    row and unlink. We adopt it (touched_at = now, so the GC grace period applies before an
//    unreferenced one goes): re-downloading a verified layer would be the costlier mistake,
//    and GC removes it anyway if nothing claims it.
//  - A row without a file means the data is gone (deleted behind our back, or a rolled-back
//    caller transaction re-inserted it): the row is dropped so Info never promises a blob
//    Open cannot deliver. References are kept; they protect the digest once it is re-pulled.
Status LocalStore::Recover() {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(layout_.IngestRoot(), ec)) {
    const std::string name = entry.path().filename().string();
    const std::string dir = entry.path().string();
    if (name[0] == '.') {
      BERTH_RETURN_IF_ERROR(RemoveAll(dir));
      continue;
    }
    for (const auto& f : std::filesystem::directory_iterator(dir, ec)) {
      if (f.path().filename().string()[0] == '.')
        BERTH_RETURN_IF_ERROR(RemoveAll(f.path().string()));
    }
    if (!PathExists(dir + "/ref")) {
      // Only if no live writer (another LocalStore on this root) is setting it up.
      auto fd = internal::OpenAndLockData(dir, name, /*create=*/true);
      if (fd) BERTH_RETURN_IF_ERROR(internal::RemoveIngestDir(layout_.IngestRoot(), dir));
    }
  }
  if (ec) return ErrnoError("list " + layout_.IngestRoot(), ec.value());

  std::map<std::string, int64_t> files;  // digest -> size
  for (auto a : {oci::Algorithm::kSha256, oci::Algorithm::kSha512}) {
    const std::string dir = layout_.BlobDir(a);
    for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
      const std::string name = entry.path().filename().string();
      const std::string path = entry.path().string();
      auto digest = oci::Digest::Parse(std::string(oci::AlgorithmName(a)) + ":" + name);
      struct stat st {};
      if (!digest || ::lstat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
        spdlog::warn("content store: removing stray {}", path);
        BERTH_RETURN_IF_ERROR(RemoveAll(path));
        continue;
      }
      files[digest->ToString()] = st.st_size;
    }
    if (ec) return ErrnoError("list " + dir, ec.value());
  }

  BERTH_ASSIGN_OR_RETURN(Savepoint sp, Savepoint::Begin(db_));
  std::set<std::string> rows;
  {
    BERTH_ASSIGN_OR_RETURN(auto sel, db_.Prepare("SELECT digest FROM content_blobs"));
    while (true) {
      BERTH_ASSIGN_OR_RETURN(bool row, sel.Step());
      if (!row) break;
      rows.insert(sel.ColumnText(0));
    }
  }
  const int64_t now = NowNanos();
  for (const auto& [digest, size] : files) {
    if (rows.count(digest)) continue;
    spdlog::warn("content store: adopting blob {} that has no metadata row", digest);
    BERTH_ASSIGN_OR_RETURN(auto ins, db_.Prepare("INSERT INTO content_blobs (digest, size, "
                                                 "created_at, touched_at) VALUES (?, ?, ?, ?)"));
    BERTH_RETURN_IF_ERROR(ins.Bind(1, digest).Bind(2, size).Bind(3, now).Bind(4, now).Run());
  }
  for (const auto& digest : rows) {
    if (files.count(digest)) continue;
    spdlog::warn("content store: dropping row of blob {} whose file is missing", digest);
    BERTH_ASSIGN_OR_RETURN(auto del, db_.Prepare("DELETE FROM content_blobs WHERE digest = ?"));
    BERTH_RETURN_IF_ERROR(del.Bind(1, digest).Run());
  }
  return sp.Release();
}

Status LocalStore::Publish(const std::string& ingest_dir, const oci::Digest& digest, int64_t size) {
  const std::string key = digest.ToString();
  const std::string target = layout_.BlobPath(digest);
  auto lock = db_.Lock();  // serialises with Delete and GC of the same digest
  const int64_t now = NowNanos();
  BERTH_ASSIGN_OR_RETURN(auto touch,
                         db_.Prepare("UPDATE content_blobs SET touched_at = ? WHERE digest = ?"));
  BERTH_RETURN_IF_ERROR(touch.Bind(1, now).Bind(2, key).Run());
  if (db_.Changes() == 0) {
    const std::string data = ingest_dir + "/data";
    if (::chmod(data.c_str(), 0444) != 0) return ErrnoError("chmod " + data);
    if (::rename(data.c_str(), target.c_str()) != 0) {
      return ErrnoError("rename " + data + " to " + target);
    }
    BERTH_RETURN_IF_ERROR(FsyncDir(layout_.BlobDir(digest.algorithm())));
    BERTH_ASSIGN_OR_RETURN(auto ins, db_.Prepare("INSERT INTO content_blobs (digest, size, "
                                                 "created_at, touched_at) VALUES (?, ?, ?, ?)"));
    BERTH_RETURN_IF_ERROR(ins.Bind(1, key).Bind(2, size).Bind(3, now).Bind(4, now).Run());
  }
  // Already committed: these bytes are identical by digest, so they are simply dropped.
  Status st = internal::RemoveIngestDir(layout_.IngestRoot(), ingest_dir);
  if (!st) spdlog::warn("commit {}: cleaning ingest: {}", key, st.error().message);
  return Ok();
}

Result<content::Info> LocalStore::Info(const oci::Digest& digest) {
  auto lock = db_.Lock();
  const std::string key = digest.ToString();
  BERTH_ASSIGN_OR_RETURN(
      auto sel, db_.Prepare("SELECT size, created_at FROM content_blobs WHERE digest = ?"));
  sel.Bind(1, key);
  BERTH_ASSIGN_OR_RETURN(bool row, sel.Step());
  if (!row) return NotCommitted(digest);
  content::Info info{digest, sel.ColumnInt(0), internal::FromNanos(sel.ColumnInt(1)), {}};
  BERTH_ASSIGN_OR_RETURN(auto labels, LoadLabels(db_, &key));
  info.labels = std::move(labels[key]);
  return info;
}

Result<std::unique_ptr<BlobReader>> LocalStore::Open(const oci::Digest& digest) {
  BERTH_ASSIGN_OR_RETURN(content::Info info, Info(digest));
  const std::string path = layout_.BlobPath(digest);
  auto fd = OpenFile(path, O_RDONLY);
  if (!fd) return std::move(fd).error().WithContext("open " + digest.ToString());
  return std::make_unique<BlobReader>(std::move(*fd), path, info.size);
}

Result<std::string> LocalStore::Path(const oci::Digest& digest) {
  BERTH_RETURN_IF_ERROR(Info(digest));
  return layout_.BlobPath(digest);
}

Result<std::vector<content::Info>> LocalStore::List() {
  auto lock = db_.Lock();
  BERTH_ASSIGN_OR_RETURN(auto labels, LoadLabels(db_, nullptr));
  BERTH_ASSIGN_OR_RETURN(
      auto sel, db_.Prepare("SELECT digest, size, created_at FROM content_blobs ORDER BY digest"));
  std::vector<content::Info> out;
  while (true) {
    BERTH_ASSIGN_OR_RETURN(bool row, sel.Step());
    if (!row) return out;
    const std::string key = sel.ColumnText(0);
    auto digest = oci::Digest::Parse(key);
    if (!digest) return std::move(digest).error().WithContext("content_blobs row");
    out.push_back(
        {*digest, sel.ColumnInt(1), internal::FromNanos(sel.ColumnInt(2)), std::move(labels[key])});
  }
}

Status LocalStore::Walk(const std::function<Status(const content::Info&)>& fn) {
  BERTH_ASSIGN_OR_RETURN(auto all, List());
  for (const auto& info : all) BERTH_RETURN_IF_ERROR(fn(info));
  return Ok();
}

Status LocalStore::SetLabels(const oci::Digest& digest, const Labels& labels) {
  const std::string key = digest.ToString();
  BERTH_ASSIGN_OR_RETURN(Savepoint sp, Savepoint::Begin(db_));
  BERTH_ASSIGN_OR_RETURN(auto sel, db_.Prepare("SELECT 1 FROM content_blobs WHERE digest = ?"));
  sel.Bind(1, key);
  BERTH_ASSIGN_OR_RETURN(bool row, sel.Step());
  if (!row) return NotCommitted(digest);
  BERTH_ASSIGN_OR_RETURN(auto del, db_.Prepare("DELETE FROM content_labels WHERE digest = ?"));
  BERTH_RETURN_IF_ERROR(del.Bind(1, key).Run());
  BERTH_ASSIGN_OR_RETURN(
      auto ins, db_.Prepare("INSERT INTO content_labels (digest, key, value) VALUES (?, ?, ?)"));
  for (const auto& [k, v] : labels) {
    ins.Reset();
    BERTH_RETURN_IF_ERROR(ins.Bind(1, key).Bind(2, k).Bind(3, v).Run());
  }
  return sp.Release();
}

Status LocalStore::Delete(const oci::Digest& digest) {
  const std::string key = digest.ToString();
  auto lock = db_.Lock();
  BERTH_ASSIGN_OR_RETURN(auto owner,
                         db_.Prepare("SELECT owner FROM content_refs WHERE digest = ? LIMIT 1"));
  owner.Bind(1, key);
  BERTH_ASSIGN_OR_RETURN(bool referenced, owner.Step());
  if (referenced) {
    return MakeError(Code::kFailedPrecondition,
                     "content " + key + " is referenced by " + owner.ColumnText(0));
  }
  BERTH_ASSIGN_OR_RETURN(auto del, db_.Prepare("DELETE FROM content_blobs WHERE digest = ?"));
  BERTH_RETURN_IF_ERROR(del.Bind(1, key).Run());
  if (db_.Changes() == 0) return NotCommitted(digest);
  const std::string path = layout_.BlobPath(digest);
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) return ErrnoError("unlink " + path);
  return Ok();
}

Status LocalStore::AddReference(const oci::Digest& digest, const std::string& owner) {
  if (owner.empty()) return MakeError(Code::kInvalidArgument, "reference owner must not be empty");
  auto lock = db_.Lock();
  BERTH_ASSIGN_OR_RETURN(
      auto ins, db_.Prepare("INSERT OR IGNORE INTO content_refs (digest, owner) VALUES (?, ?)"));
  return ins.Bind(1, digest.ToString()).Bind(2, owner).Run();
}

Status LocalStore::RemoveReference(const oci::Digest& digest, const std::string& owner) {
  auto lock = db_.Lock();
  BERTH_ASSIGN_OR_RETURN(auto del,
                         db_.Prepare("DELETE FROM content_refs WHERE digest = ? AND owner = ?"));
  BERTH_RETURN_IF_ERROR(del.Bind(1, digest.ToString()).Bind(2, owner).Run());
  if (db_.Changes() == 0) {
    return MakeError(Code::kNotFound, owner + " holds no reference to " + digest.ToString());
  }
  return Ok();
}

Result<int64_t> LocalStore::RemoveOwner(const std::string& owner) {
  auto lock = db_.Lock();
  BERTH_ASSIGN_OR_RETURN(auto del, db_.Prepare("DELETE FROM content_refs WHERE owner = ?"));
  BERTH_RETURN_IF_ERROR(del.Bind(1, owner).Run());
  return int64_t{db_.Changes()};
}

Result<std::vector<std::string>> LocalStore::Owners(const oci::Digest& digest) {
  auto lock = db_.Lock();
  BERTH_ASSIGN_OR_RETURN(
      auto sel, db_.Prepare("SELECT owner FROM content_refs WHERE digest = ? ORDER BY owner"));
  sel.Bind(1, digest.ToString());
  std::vector<std::string> out;
  while (true) {
    BERTH_ASSIGN_OR_RETURN(bool row, sel.Step());
    if (!row) return out;
    out.push_back(sel.ColumnText(0));
  }
}

Result<std::vector<std::string>> LocalStore::OwnersWithPrefix(const std::string& prefix) {
  auto lock = db_.Lock();
  // A range instead of LIKE, so '%' and '_' in the prefix mean themselves.
  BERTH_ASSIGN_OR_RETURN(auto sel, db_.Prepare("SELECT DISTINCT owner FROM content_refs "
                                               "WHERE owner >= ? AND substr(owner, 1, ?) = ? "
                                               "ORDER BY owner"));
  sel.Bind(1, prefix).Bind(2, static_cast<int64_t>(prefix.size())).Bind(3, prefix);
  std::vector<std::string> out;
  while (true) {
    BERTH_ASSIGN_OR_RETURN(bool row, sel.Step());
    if (!row) return out;
    out.push_back(sel.ColumnText(0));
  }
}

Result<GcStats> LocalStore::GarbageCollect(std::chrono::seconds grace) {
  GcStats stats;
  const auto now = options_.clock();
  {
    // Under the database lock throughout, so no commit or reference of a candidate interleaves.
    auto lock = db_.Lock();
    BERTH_ASSIGN_OR_RETURN(
        auto sel,
        db_.Prepare("SELECT digest, size FROM content_blobs b WHERE touched_at < ? AND NOT EXISTS "
                    "(SELECT 1 FROM content_refs r WHERE r.digest = b.digest)"));
    sel.Bind(1, internal::ToNanos(now - grace));
    std::vector<std::pair<std::string, int64_t>> victims;
    while (true) {
      BERTH_ASSIGN_OR_RETURN(bool row, sel.Step());
      if (!row) break;
      victims.emplace_back(sel.ColumnText(0), sel.ColumnInt(1));
    }
    BERTH_ASSIGN_OR_RETURN(auto del, db_.Prepare("DELETE FROM content_blobs WHERE digest = ?"));
    for (const auto& [key, size] : victims) {
      del.Reset();
      BERTH_RETURN_IF_ERROR(del.Bind(1, key).Run());
      BERTH_ASSIGN_OR_RETURN(oci::Digest d, oci::Digest::Parse(key));
      const std::string path = layout_.BlobPath(d);
      if (::unlink(path.c_str()) != 0 && errno != ENOENT) return ErrnoError("unlink " + path);
      ++stats.blobs_removed;
      stats.bytes_removed += size;
    }
  }

  const int64_t cutoff = internal::ToNanos(now - options_.ingest_expiry);
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(layout_.IngestRoot(), ec)) {
    const std::string name = entry.path().filename().string();
    if (name[0] == '.') continue;
    const std::string dir = entry.path().string();
    auto fd = internal::OpenAndLockData(dir, name, /*create=*/false);
    if (!fd) continue;  // a live writer holds it, or it is being removed
    auto updated = internal::ReadNanosFile(dir + "/updated");
    if (updated && *updated >= cutoff) continue;
    BERTH_RETURN_IF_ERROR(internal::RemoveIngestDir(layout_.IngestRoot(), dir));
    ++stats.ingests_removed;
  }
  if (ec) return ErrnoError("list " + layout_.IngestRoot(), ec.value());
  return stats;
}

}  // namespace berth::content
