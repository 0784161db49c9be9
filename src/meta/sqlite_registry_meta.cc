// RegistryMeta in SQLite. Each mutating call runs in a Scope: its own BEGIN IMMEDIATE, or a
// SAVEPOINT inside a caller's sql::Transaction, so a failed call leaves nothing behind either
// way while the caller's transaction stays usable.
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "meta/registry_meta.h"
#include "sql/database.h"

namespace berth::meta {
namespace {

// Times are integer nanoseconds since the Unix epoch (good until 2262).
constexpr std::string_view kSchema = R"sql(
CREATE TABLE IF NOT EXISTS repositories (
  id      INTEGER PRIMARY KEY,
  name    TEXT NOT NULL UNIQUE,
  created INTEGER NOT NULL
);
-- A blob exists (its file is in storage/) from AddBlob until GC forgets it.
CREATE TABLE IF NOT EXISTS blobs (
  digest      TEXT PRIMARY KEY,
  size        INTEGER NOT NULL,
  created     INTEGER NOT NULL,
  last_linked INTEGER NOT NULL  -- latest AddBlob/LinkBlob/PutManifest link: GC grace
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS blob_links (
  repo_id   INTEGER NOT NULL REFERENCES repositories(id),
  digest    TEXT NOT NULL REFERENCES blobs(digest),
  linked_at INTEGER NOT NULL,
  PRIMARY KEY (repo_id, digest)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS blob_links_by_digest ON blob_links(digest);
CREATE TABLE IF NOT EXISTS manifests (
  repo_id       INTEGER NOT NULL REFERENCES repositories(id),
  digest        TEXT NOT NULL REFERENCES blobs(digest),
  media_type    TEXT NOT NULL,
  size          INTEGER NOT NULL,
  subject       TEXT,           -- NULL: no subject
  artifact_type TEXT NOT NULL,
  annotations   TEXT NOT NULL,  -- JSON object text, "" if none
  created       INTEGER NOT NULL,
  PRIMARY KEY (repo_id, digest)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS manifests_by_digest ON manifests(digest);
CREATE INDEX IF NOT EXISTS manifests_by_subject ON manifests(repo_id, subject, digest)
  WHERE subject IS NOT NULL;
CREATE TABLE IF NOT EXISTS manifest_refs (
  repo_id         INTEGER NOT NULL,
  manifest_digest TEXT NOT NULL,
  kind            TEXT NOT NULL CHECK (kind IN ('blob', 'manifest')),
  ref_digest      TEXT NOT NULL,
  PRIMARY KEY (repo_id, manifest_digest, kind, ref_digest),
  FOREIGN KEY (repo_id, manifest_digest) REFERENCES manifests(repo_id, digest)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS manifest_refs_by_ref ON manifest_refs(ref_digest);
CREATE TABLE IF NOT EXISTS tags (
  repo_id INTEGER NOT NULL,
  name    TEXT NOT NULL,
  digest  TEXT NOT NULL,
  updated INTEGER NOT NULL,
  PRIMARY KEY (repo_id, name),
  FOREIGN KEY (repo_id, digest) REFERENCES manifests(repo_id, digest)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS tags_by_digest ON tags(repo_id, digest);
-- Not tied to repositories: an upload alone does not make a repository exist.
CREATE TABLE IF NOT EXISTS uploads (
  id         TEXT PRIMARY KEY,
  repository TEXT NOT NULL,
  started    INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS uploads_by_started ON uploads(started);
)sql";

// The columns ReadManifests expects, in order, from `manifests m`.
constexpr std::string_view kManifestColumns =
    "SELECT m.digest, m.media_type, m.size, m.subject, m.artifact_type, m.annotations ";

// The GC condition on blob row `b`, shared by the mark and the sweep's re-check; ?1 is
// `before`. last_linked is at least created, so it alone is the grace check.
constexpr std::string_view kUnreferenced =
    " b.last_linked < ?1"
    " AND NOT EXISTS (SELECT 1 FROM manifest_refs r WHERE r.ref_digest = b.digest)"
    " AND NOT EXISTS (SELECT 1 FROM manifests m WHERE m.digest = b.digest) ";

int64_t ToNanos(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

TimePoint FromNanos(int64_t n) {
  return TimePoint(std::chrono::duration_cast<TimePoint::duration>(std::chrono::nanoseconds(n)));
}

Error RepositoryNotFound(const std::string& repository) {
  return MakeError(Code::kNotFound, "repository " + repository + " not found");
}

// A transaction that joins the caller's: BEGIN IMMEDIATE when none is open on the
// connection, else a SAVEPOINT in it (BEGIN does not nest). Either way, destroying it
// uncommitted undoes exactly this call's changes. Holds the database lock for its life.
class Scope {
 public:
  static Result<Scope> Begin(sql::Database& db) {
    auto lock = db.Lock();
    const bool nested = db.InTransaction();
    BERTH_RETURN_IF_ERROR(db.Exec(nested ? "SAVEPOINT registry_meta" : "BEGIN IMMEDIATE"));
    return Scope(db, std::move(lock), nested);
  }
  Scope(Scope&& o) noexcept
      : db_(o.db_),
        lock_(std::move(o.lock_)),
        nested_(o.nested_),
        done_(std::exchange(o.done_, true)) {}
  Scope& operator=(Scope&&) = delete;
  ~Scope() {
    if (!done_) {
      (void)db_->Exec(nested_ ? "ROLLBACK TO registry_meta; RELEASE registry_meta" : "ROLLBACK");
    }
  }
  Status Commit() {
    BERTH_RETURN_IF_ERROR(db_->Exec(nested_ ? "RELEASE registry_meta" : "COMMIT"));
    done_ = true;
    return Ok();
  }

 private:
  Scope(sql::Database& db, std::unique_lock<std::recursive_mutex> lock, bool nested)
      : db_(&db), lock_(std::move(lock)), nested_(nested) {}
  sql::Database* db_;
  std::unique_lock<std::recursive_mutex> lock_;
  bool nested_;
  bool done_ = false;
};

// A statement prepared on first use and then kept, for the reads every pull makes (preparing
// them costs 3-6 times as much as running them). Used only under the database lock; Use()
// hands it out bound to a guard that resets it, so it never holds a read snapshot (and WAL
// checkpoints) between calls.
class CachedStatement {
 public:
  class InUse {
   public:
    explicit InUse(sql::Statement& st) : st_(&st) {}
    InUse(InUse&& o) noexcept : st_(std::exchange(o.st_, nullptr)) {}
    InUse& operator=(InUse&&) = delete;
    ~InUse() {
      if (st_) st_->Reset();
    }
    sql::Statement* operator->() const { return st_; }
    sql::Statement& operator*() const { return *st_; }

   private:
    sql::Statement* st_;
  };

  explicit CachedStatement(std::string sql) : sql_(std::move(sql)) {}
  Result<InUse> Use(sql::Database& db) {
    if (!st_) {
      BERTH_ASSIGN_OR_RETURN(st_, db.Prepare(sql_));
    }
    return InUse(*st_);
  }

 private:
  std::string sql_;
  std::optional<sql::Statement> st_;
};

class SqliteRegistryMeta final : public RegistryMeta {
 public:
  explicit SqliteRegistryMeta(sql::Database& db) : db_(db) {}

  Status AddBlob(const std::string& repository, const oci::Digest& digest, int64_t size,
                 TimePoint now) override;
  Status LinkBlob(const std::string& repository, const oci::Digest& digest, TimePoint now) override;
  Result<int64_t> LinkedBlobSize(const std::string& repository, const oci::Digest& digest) override;
  Result<int64_t> BlobSize(const oci::Digest& digest) override;
  Status UnlinkBlob(const std::string& repository, const oci::Digest& digest) override;

  Status PutManifest(const std::string& repository, const ManifestRecord& manifest,
                     const ManifestRefs& refs, const std::optional<std::string>& tag,
                     TimePoint now) override;
  Result<ManifestRecord> GetManifest(const std::string& repository,
                                     const std::string& tag) override;
  Result<ManifestRecord> GetManifest(const std::string& repository,
                                     const oci::Digest& digest) override;
  Status DeleteManifest(const std::string& repository, const oci::Digest& digest) override;
  Status DeleteTag(const std::string& repository, const std::string& tag) override;
  Result<std::vector<std::string>> Tags(const std::string& repository, const Page& page) override;
  Result<std::vector<std::string>> Repositories(const Page& page) override;
  Result<std::vector<ManifestRecord>> Referrers(
      const std::string& repository, const oci::Digest& subject,
      const std::optional<std::string>& artifact_type) override;
  Result<std::vector<std::string>> RepositoriesWithBlob(const oci::Digest& digest) override;

  Status CreateUpload(const UploadRecord& upload) override;
  Result<UploadRecord> GetUpload(const std::string& id) override;
  Status DeleteUpload(const std::string& id) override;
  Result<std::vector<UploadRecord>> UploadsStartedBefore(TimePoint t) override;

  Result<std::vector<GcCandidate>> UnreferencedBlobs(TimePoint before) override;
  Result<bool> ForgetBlobIfUnreferenced(const oci::Digest& digest, TimePoint before) override;

 private:
  // The repository's id, or nullopt if it does not exist.
  Result<std::optional<int64_t>> FindRepository(const std::string& repository);
  Result<int64_t> RepositoryId(const std::string& repository);  // NotFound if missing
  Result<int64_t> EnsureRepository(const std::string& repository, TimePoint now);
  // Links an existing blob (the caller checked) and refreshes its GC grace.
  Status Link(int64_t repo_id, const std::string& digest, TimePoint now);
  Result<bool> Exists(std::string_view sql, int64_t repo_id, const std::string& digest);
  // Rows of `st` as ManifestRecords; columns as in kManifestColumns.
  static Result<std::vector<ManifestRecord>> ReadManifests(sql::Statement& st);
  static Result<std::vector<std::string>> ReadNames(sql::Statement& st);

  sql::Database& db_;
  // The hot reads (guarded by the database lock).
  CachedStatement linked_blob_size_{R"sql(
    SELECT b.size FROM repositories r
      JOIN blob_links l ON l.repo_id = r.id
      JOIN blobs b ON b.digest = l.digest
    WHERE r.name = ? AND l.digest = ?
  )sql"};
  CachedStatement blob_size_{"SELECT size FROM blobs WHERE digest = ?"};
  CachedStatement manifest_by_tag_{std::string(kManifestColumns) + R"sql(
    FROM repositories r
      JOIN tags t ON t.repo_id = r.id
      JOIN manifests m ON m.repo_id = t.repo_id AND m.digest = t.digest
    WHERE r.name = ? AND t.name = ?
  )sql"};
  CachedStatement manifest_by_digest_{std::string(kManifestColumns) + R"sql(
    FROM repositories r JOIN manifests m ON m.repo_id = r.id
    WHERE r.name = ? AND m.digest = ?
  )sql"};
};

Result<std::optional<int64_t>> SqliteRegistryMeta::FindRepository(const std::string& repository) {
  auto lock = db_.Lock();
  BERTH_ASSIGN_OR_RETURN(auto st, db_.Prepare("SELECT id FROM repositories WHERE name = ?"));
  st.Bind(1, repository);
  BERTH_ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row) return std::optional<int64_t>();
  return std::optional<int64_t>(st.ColumnInt(0));
}

Result<int64_t> SqliteRegistryMeta::RepositoryId(const std::string& repository) {
  BERTH_ASSIGN_OR_RETURN(std::optional<int64_t> id, FindRepository(repository));
  if (!id) return RepositoryNotFound(repository);
  return *id;
}

Result<int64_t> SqliteRegistryMeta::EnsureRepository(const std::string& repository, TimePoint now) {
  BERTH_ASSIGN_OR_RETURN(std::optional<int64_t> id, FindRepository(repository));
  if (id) return *id;
  BERTH_ASSIGN_OR_RETURN(auto st,
                         db_.Prepare("INSERT INTO repositories (name, created) VALUES (?, ?)"));
  BERTH_RETURN_IF_ERROR(st.Bind(1, repository).Bind(2, ToNanos(now)).Run());
  return db_.LastInsertRowId();
}

Status SqliteRegistryMeta::Link(int64_t repo_id, const std::string& digest, TimePoint now) {
  BERTH_ASSIGN_OR_RETURN(auto link, db_.Prepare(R"sql(
    INSERT INTO blob_links (repo_id, digest, linked_at) VALUES (?1, ?2, ?3)
    ON CONFLICT (repo_id, digest) DO UPDATE SET linked_at = max(linked_at, excluded.linked_at)
  )sql"));
  BERTH_RETURN_IF_ERROR(link.Bind(1, repo_id).Bind(2, digest).Bind(3, ToNanos(now)).Run());
  BERTH_ASSIGN_OR_RETURN(
      auto touch,
      db_.Prepare("UPDATE blobs SET last_linked = max(last_linked, ?) WHERE digest = ?"));
  return touch.Bind(1, ToNanos(now)).Bind(2, digest).Run();
}

Result<bool> SqliteRegistryMeta::Exists(std::string_view sql, int64_t repo_id,
                                        const std::string& digest) {
  BERTH_ASSIGN_OR_RETURN(auto st, db_.Prepare(sql));
  st.Bind(1, repo_id).Bind(2, digest);
  return st.Step();
}

Result<std::vector<ManifestRecord>> SqliteRegistryMeta::ReadManifests(sql::Statement& st) {
  std::vector<ManifestRecord> out;
  while (true) {
    BERTH_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) return out;
    ManifestRecord m;
    BERTH_ASSIGN_OR_RETURN(m.digest, oci::Digest::Parse(st.ColumnText(0)));
    m.media_type = st.ColumnText(1);
    m.size = st.ColumnInt(2);
    if (!st.ColumnIsNull(3)) {
      BERTH_ASSIGN_OR_RETURN(m.subject, oci::Digest::Parse(st.ColumnText(3)));
    }
    m.artifact_type = st.ColumnText(4);
    m.annotations_json = st.ColumnText(5);
    out.push_back(std::move(m));
  }
}

Result<std::vector<std::string>> SqliteRegistryMeta::ReadNames(sql::Statement& st) {
  std::vector<std::string> out;
  while (true) {
    BERTH_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) return out;
    out.push_back(st.ColumnText(0));
  }
}

// --- blobs

Status SqliteRegistryMeta::AddBlob(const std::string& repository, const oci::Digest& digest,
                                   int64_t size, TimePoint now) {
  if (size < 0) return MakeError(Code::kInvalidArgument, "blob size must not be negative");
  const std::string d = digest.ToString();
  BERTH_ASSIGN_OR_RETURN(Scope tx, Scope::Begin(db_));
  {
    BERTH_ASSIGN_OR_RETURN(auto st, db_.Prepare("SELECT size FROM blobs WHERE digest = ?"));
    st.Bind(1, d);
    BERTH_ASSIGN_OR_RETURN(bool row, st.Step());
    if (row && st.ColumnInt(0) != size) {
      // Same digest, different length: one of the two callers verified nothing.
      return MakeError(Code::kDataLoss, "blob " + d + " is recorded with size " +
                                            std::to_string(st.ColumnInt(0)) + ", added with " +
                                            std::to_string(size));
    }
  }
  BERTH_ASSIGN_OR_RETURN(auto ins, db_.Prepare(R"sql(
    INSERT INTO blobs (digest, size, created, last_linked) VALUES (?1, ?2, ?3, ?3)
    ON CONFLICT (digest) DO NOTHING
  )sql"));
  BERTH_RETURN_IF_ERROR(ins.Bind(1, d).Bind(2, size).Bind(3, ToNanos(now)).Run());
  BERTH_ASSIGN_OR_RETURN(int64_t repo_id, EnsureRepository(repository, now));
  BERTH_RETURN_IF_ERROR(Link(repo_id, d, now));
  return tx.Commit();
}

Status SqliteRegistryMeta::LinkBlob(const std::string& repository, const oci::Digest& digest,
                                    TimePoint now) {
  const std::string d = digest.ToString();
  BERTH_ASSIGN_OR_RETURN(Scope tx, Scope::Begin(db_));
  BERTH_ASSIGN_OR_RETURN(auto st, db_.Prepare("SELECT 1 FROM blobs WHERE digest = ?"));
  st.Bind(1, d);
  BERTH_ASSIGN_OR_RETURN(bool exists, st.Step());
  if (!exists) return MakeError(Code::kNotFound, "blob " + d + " not found");
  BERTH_ASSIGN_OR_RETURN(int64_t repo_id, EnsureRepository(repository, now));
  BERTH_RETURN_IF_ERROR(Link(repo_id, d, now));
  return tx.Commit();
}

Result<int64_t> SqliteRegistryMeta::LinkedBlobSize(const std::string& repository,
                                                   const oci::Digest& digest) {
  auto lock = db_.Lock();
  BERTH_ASSIGN_OR_RETURN(auto st, linked_blob_size_.Use(db_));
  st->Bind(1, repository).Bind(2, digest.ToString());
  BERTH_ASSIGN_OR_RETURN(bool row, st->Step());
  if (!row) {
    return MakeError(Code::kNotFound,
                     "blob " + digest.ToString() + " not found in repository " + repository);
  }
  return st->ColumnInt(0);
}

Result<int64_t> SqliteRegistryMeta::BlobSize(const oci::Digest& digest) {
  auto lock = db_.Lock();
  BERTH_ASSIGN_OR_RETURN(auto st, blob_size_.Use(db_));
  st->Bind(1, digest.ToString());
  BERTH_ASSIGN_OR_RETURN(bool row, st->Step());
  if (!row) return MakeError(Code::kNotFound, "blob " + digest.ToString() + " not found");
  return st->ColumnInt(0);
}

Status SqliteRegistryMeta::UnlinkBlob(const std::string& repository, const oci::Digest& digest) {
  BERTH_ASSIGN_OR_RETURN(Scope tx, Scope::Begin(db_));
  BERTH_ASSIGN_OR_RETURN(auto st, db_.Prepare(R"sql(
    DELETE FROM blob_links
    WHERE repo_id = (SELECT id FROM repositories WHERE name = ?) AND digest = ?
  )sql"));
  BERTH_RETURN_IF_ERROR(st.Bind(1, repository).Bind(2, digest.ToString()).Run());
  if (db_.Changes() == 0) {
    return MakeError(Code::kNotFound,
                     "blob " + digest.ToString() + " not linked to repository " + repository);
  }
  return tx.Commit();
}

// --- manifests and tags

Status SqliteRegistryMeta::PutManifest(const std::string& repository,
                                       const ManifestRecord& manifest, const ManifestRefs& refs,
                                       const std::optional<std::string>& tag, TimePoint now) {
  const std::string d = manifest.digest.ToString();
  if (manifest.size < 0) {
    return MakeError(Code::kInvalidArgument, "manifest size must not be negative");
  }
  BERTH_ASSIGN_OR_RETURN(Scope tx, Scope::Begin(db_));
  {
    BERTH_ASSIGN_OR_RETURN(auto st, db_.Prepare("SELECT 1 FROM blobs WHERE digest = ?"));
    st.Bind(1, d);
    BERTH_ASSIGN_OR_RETURN(bool exists, st.Step());
    if (!exists) {
      return MakeError(Code::kFailedPrecondition, "manifest " + d + " is not a stored blob");
    }
  }
  BERTH_ASSIGN_OR_RETURN(int64_t repo_id, EnsureRepository(repository, now));
  BERTH_RETURN_IF_ERROR(Link(repo_id, d, now));
  for (const oci::Digest& b : refs.blobs) {
    BERTH_ASSIGN_OR_RETURN(
        bool linked,
        Exists("SELECT 1 FROM blob_links WHERE repo_id = ? AND digest = ?", repo_id, b.ToString()));
    if (!linked) {
      return MakeError(Code::kFailedPrecondition, "manifest " + d + " references blob " +
                                                      b.ToString() + ", unknown in repository " +
                                                      repository);
    }
  }
  for (const oci::Digest& m : refs.manifests) {
    BERTH_ASSIGN_OR_RETURN(
        bool stored,
        Exists("SELECT 1 FROM manifests WHERE repo_id = ? AND digest = ?", repo_id, m.ToString()));
    if (!stored) {
      return MakeError(Code::kFailedPrecondition, "manifest " + d + " references manifest " +
                                                      m.ToString() + ", unknown in repository " +
                                                      repository);
    }
  }
  {
    // A re-put replaces what the manifest references (same digest, so the same bytes; this
    // only matters if a caller's parse changed) and keeps its original creation time.
    BERTH_ASSIGN_OR_RETURN(
        auto del,
        db_.Prepare("DELETE FROM manifest_refs WHERE repo_id = ? AND manifest_digest = ?"));
    BERTH_RETURN_IF_ERROR(del.Bind(1, repo_id).Bind(2, d).Run());
    BERTH_ASSIGN_OR_RETURN(auto put, db_.Prepare(R"sql(
      INSERT INTO manifests
        (repo_id, digest, media_type, size, subject, artifact_type, annotations, created)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (repo_id, digest) DO UPDATE SET
        media_type = excluded.media_type, size = excluded.size, subject = excluded.subject,
        artifact_type = excluded.artifact_type, annotations = excluded.annotations
    )sql"));
    put.Bind(1, repo_id).Bind(2, d).Bind(3, manifest.media_type).Bind(4, manifest.size);
    if (manifest.subject) {
      put.Bind(5, manifest.subject->ToString());
    } else {
      put.BindNull(5);
    }
    put.Bind(6, manifest.artifact_type).Bind(7, manifest.annotations_json).Bind(8, ToNanos(now));
    BERTH_RETURN_IF_ERROR(put.Run());
  }
  {
    BERTH_ASSIGN_OR_RETURN(auto ref, db_.Prepare(R"sql(
      INSERT INTO manifest_refs (repo_id, manifest_digest, kind, ref_digest) VALUES (?, ?, ?, ?)
      ON CONFLICT DO NOTHING
    )sql"));
    auto add = [&](const char* kind, const oci::Digest& r) -> Status {
      ref.Reset();
      return ref.Bind(1, repo_id).Bind(2, d).Bind(3, kind).Bind(4, r.ToString()).Run();
    };
    for (const oci::Digest& b : refs.blobs) BERTH_RETURN_IF_ERROR(add("blob", b));
    for (const oci::Digest& m : refs.manifests) BERTH_RETURN_IF_ERROR(add("manifest", m));
  }
  if (tag) {
    BERTH_ASSIGN_OR_RETURN(auto st, db_.Prepare(R"sql(
      INSERT INTO tags (repo_id, name, digest, updated) VALUES (?, ?, ?, ?)
      ON CONFLICT (repo_id, name) DO UPDATE SET digest = excluded.digest, updated = excluded.updated
    )sql"));
    BERTH_RETURN_IF_ERROR(st.Bind(1, repo_id).Bind(2, *tag).Bind(3, d).Bind(4, ToNanos(now)).Run());
  }
  return tx.Commit();
}

Result<ManifestRecord> SqliteRegistryMeta::GetManifest(const std::string& repository,
                                                       const std::string& tag) {
  auto lock = db_.Lock();
  BERTH_ASSIGN_OR_RETURN(auto st, manifest_by_tag_.Use(db_));
  st->Bind(1, repository).Bind(2, tag);
  BERTH_ASSIGN_OR_RETURN(std::vector<ManifestRecord> found, ReadManifests(*st));
  if (found.empty()) {
    return MakeError(Code::kNotFound, "tag " + tag + " not found in repository " + repository);
  }
  return std::move(found.front());
}

Result<ManifestRecord> SqliteRegistryMeta::GetManifest(const std::string& repository,
                                                       const oci::Digest& digest) {
  auto lock = db_.Lock();
  BERTH_ASSIGN_OR_RETURN(auto st, manifest_by_digest_.Use(db_));
  st->Bind(1, repository).Bind(2, digest.ToString());
  BERTH_ASSIGN_OR_RETURN(std::vector<ManifestRecord> found, ReadManifests(*st));
  if (found.empty()) {
    return MakeError(Code::kNotFound,
                     "manifest " + digest.ToString() + " not found in repository " + repository);
  }
  return std::move(found.front());
}

Status SqliteRegistryMeta::DeleteManifest(const std::string& repository,
                                          const oci::Digest& digest) {
  const std::string d = digest.ToString();
  BERTH_ASSIGN_OR_RETURN(Scope tx, Scope::Begin(db_));
  BERTH_ASSIGN_OR_RETURN(std::optional<int64_t> repo_id, FindRepository(repository));
  bool stored = false;
  if (repo_id) {
    BERTH_ASSIGN_OR_RETURN(
        stored, Exists("SELECT 1 FROM manifests WHERE repo_id = ? AND digest = ?", *repo_id, d));
  }
  if (!stored) {
    return MakeError(Code::kNotFound, "manifest " + d + " not found in repository " + repository);
  }
  // Children before the row they point at (foreign keys).
  for (const char* sql : {"DELETE FROM tags WHERE repo_id = ? AND digest = ?",
                          "DELETE FROM manifest_refs WHERE repo_id = ? AND manifest_digest = ?",
                          "DELETE FROM manifests WHERE repo_id = ? AND digest = ?"}) {
    BERTH_ASSIGN_OR_RETURN(auto st, db_.Prepare(sql));
    BERTH_RETURN_IF_ERROR(st.Bind(1, *repo_id).Bind(2, d).Run());
  }
  return tx.Commit();
}

Status SqliteRegistryMeta::DeleteTag(const std::string& repository, const std::string& tag) {
  BERTH_ASSIGN_OR_RETURN(Scope tx, Scope::Begin(db_));
  BERTH_ASSIGN_OR_RETURN(auto st, db_.Prepare(R"sql(
    DELETE FROM tags WHERE repo_id = (SELECT id FROM repositories WHERE name = ?) AND name = ?
  )sql"));
  BERTH_RETURN_IF_ERROR(st.Bind(1, repository).Bind(2, tag).Run());
  if (db_.Changes() == 0) {
    return MakeError(Code::kNotFound, "tag " + tag + " not found in repository " + repository);
  }
  return tx.Commit();
}

Status CheckPage(const Page& page) {
  if (page.n < -1) {
    return MakeError(Code::kInvalidArgument,
                     "page size " + std::to_string(page.n) + " must be -1 or more");
  }
  return Ok();
}

Result<std::vector<std::string>> SqliteRegistryMeta::Tags(const std::string& repository,
                                                          const Page& page) {
  BERTH_RETURN_IF_ERROR(CheckPage(page));
  auto lock = db_.Lock();
  BERTH_ASSIGN_OR_RETURN(int64_t repo_id, RepositoryId(repository));
  // LIMIT -1 is no limit in SQLite.
  BERTH_ASSIGN_OR_RETURN(
      auto st, db_.Prepare("SELECT name FROM tags WHERE repo_id = ? AND name > ? ORDER BY name "
                           "LIMIT ?"));
  st.Bind(1, repo_id).Bind(2, page.last).Bind(3, page.n);
  return ReadNames(st);
}

Result<std::vector<std::string>> SqliteRegistryMeta::Repositories(const Page& page) {
  BERTH_RETURN_IF_ERROR(CheckPage(page));
  auto lock = db_.Lock();
  BERTH_ASSIGN_OR_RETURN(
      auto st, db_.Prepare("SELECT name FROM repositories WHERE name > ? ORDER BY name LIMIT ?"));
  st.Bind(1, page.last).Bind(2, page.n);
  return ReadNames(st);
}

Result<std::vector<ManifestRecord>> SqliteRegistryMeta::Referrers(
    const std::string& repository, const oci::Digest& subject,
    const std::optional<std::string>& artifact_type) {
  auto lock = db_.Lock();
  BERTH_ASSIGN_OR_RETURN(std::optional<int64_t> repo_id, FindRepository(repository));
  if (!repo_id) return std::vector<ManifestRecord>();
  BERTH_ASSIGN_OR_RETURN(auto st, db_.Prepare(std::string(kManifestColumns) + R"sql(
    FROM manifests m INDEXED BY manifests_by_subject  -- without ANALYZE data, SQLite
                                                      -- prefers scanning the whole repository
    WHERE m.repo_id = ?1 AND m.subject = ?2 AND (?3 IS NULL OR m.artifact_type = ?3)
    ORDER BY m.digest
  )sql"));
  st.Bind(1, *repo_id).Bind(2, subject.ToString());
  if (artifact_type) {
    st.Bind(3, *artifact_type);
  } else {
    st.BindNull(3);
  }
  return ReadManifests(st);
}

Result<std::vector<std::string>> SqliteRegistryMeta::RepositoriesWithBlob(
    const oci::Digest& digest) {
  auto lock = db_.Lock();
  BERTH_ASSIGN_OR_RETURN(auto st, db_.Prepare(R"sql(
    SELECT r.name FROM blob_links l JOIN repositories r ON r.id = l.repo_id
    WHERE l.digest = ? ORDER BY r.name
  )sql"));
  st.Bind(1, digest.ToString());
  return ReadNames(st);
}

// --- uploads

Status SqliteRegistryMeta::CreateUpload(const UploadRecord& upload) {
  auto lock = db_.Lock();
  BERTH_ASSIGN_OR_RETURN(
      auto st, db_.Prepare("INSERT INTO uploads (id, repository, started) VALUES (?, ?, ?)"));
  st.Bind(1, upload.id).Bind(2, upload.repository).Bind(3, ToNanos(upload.started));
  Status s = st.Run();
  if (!s) return std::move(s).error().WithContext("create upload " + upload.id);
  return Ok();
}

Result<UploadRecord> SqliteRegistryMeta::GetUpload(const std::string& id) {
  auto lock = db_.Lock();
  BERTH_ASSIGN_OR_RETURN(auto st,
                         db_.Prepare("SELECT repository, started FROM uploads WHERE id = ?"));
  st.Bind(1, id);
  BERTH_ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row) return MakeError(Code::kNotFound, "upload " + id + " not found");
  return UploadRecord{id, st.ColumnText(0), FromNanos(st.ColumnInt(1))};
}

Status SqliteRegistryMeta::DeleteUpload(const std::string& id) {
  auto lock = db_.Lock();
  BERTH_ASSIGN_OR_RETURN(auto st, db_.Prepare("DELETE FROM uploads WHERE id = ?"));
  BERTH_RETURN_IF_ERROR(st.Bind(1, id).Run());
  if (db_.Changes() == 0) return MakeError(Code::kNotFound, "upload " + id + " not found");
  return Ok();
}

Result<std::vector<UploadRecord>> SqliteRegistryMeta::UploadsStartedBefore(TimePoint t) {
  auto lock = db_.Lock();
  BERTH_ASSIGN_OR_RETURN(auto st, db_.Prepare(R"sql(
    SELECT id, repository, started FROM uploads WHERE started < ? ORDER BY started, id
  )sql"));
  st.Bind(1, ToNanos(t));
  std::vector<UploadRecord> out;
  while (true) {
    BERTH_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) return out;
    out.push_back(UploadRecord{st.ColumnText(0), st.ColumnText(1), FromNanos(st.ColumnInt(2))});
  }
}

// --- garbage collection

Result<std::vector<GcCandidate>> SqliteRegistryMeta::UnreferencedBlobs(TimePoint before) {
  auto lock = db_.Lock();
  BERTH_ASSIGN_OR_RETURN(auto st, db_.Prepare("SELECT b.digest, b.size FROM blobs b WHERE" +
                                              std::string(kUnreferenced) + "ORDER BY b.digest"));
  st.Bind(1, ToNanos(before));
  std::vector<GcCandidate> out;
  while (true) {
    BERTH_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) return out;
    GcCandidate c;
    BERTH_ASSIGN_OR_RETURN(c.digest, oci::Digest::Parse(st.ColumnText(0)));
    c.size = st.ColumnInt(1);
    out.push_back(std::move(c));
  }
}

Result<bool> SqliteRegistryMeta::ForgetBlobIfUnreferenced(const oci::Digest& digest,
                                                          TimePoint before) {
  const std::string d = digest.ToString();
  BERTH_ASSIGN_OR_RETURN(Scope tx, Scope::Begin(db_));
  {
    BERTH_ASSIGN_OR_RETURN(auto st, db_.Prepare("SELECT 1 FROM blobs b WHERE b.digest = ?2 AND" +
                                                std::string(kUnreferenced)));
    st.Bind(1, ToNanos(before)).Bind(2, d);
    BERTH_ASSIGN_OR_RETURN(bool unreferenced, st.Step());
    if (!unreferenced) return false;  // gone already, referenced, or linked again since
  }
  for (const char* sql :
       {"DELETE FROM blob_links WHERE digest = ?", "DELETE FROM blobs WHERE digest = ?"}) {
    BERTH_ASSIGN_OR_RETURN(auto st, db_.Prepare(sql));
    BERTH_RETURN_IF_ERROR(st.Bind(1, d).Run());
  }
  BERTH_RETURN_IF_ERROR(tx.Commit());
  return true;
}

}  // namespace

Result<std::unique_ptr<RegistryMeta>> OpenSqliteRegistryMeta(sql::Database& db) {
  Status s = db.Exec(kSchema);
  if (!s) return std::move(s).error().WithContext("create registry metadata tables");
  return std::unique_ptr<RegistryMeta>(new SqliteRegistryMeta(db));
}

}  // namespace berth::meta
