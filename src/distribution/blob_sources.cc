#include "distribution/blob_sources.h"

#include "base/strings.h"
#include "sql/database.h"

namespace berth::distribution {

Result<std::unique_ptr<BlobSources>> BlobSources::Open(sql::Database& db) {
  BERTH_RETURN_IF_ERROR(
      db.Exec("CREATE TABLE IF NOT EXISTS blob_sources("
              " registry TEXT NOT NULL, repository TEXT NOT NULL, digest TEXT NOT NULL,"
              " seen INTEGER NOT NULL,"
              " PRIMARY KEY(digest, registry, repository)) WITHOUT ROWID;"
              "CREATE TABLE IF NOT EXISTS pushed_layers("
              " uncompressed TEXT PRIMARY KEY, digest TEXT NOT NULL, size INTEGER NOT NULL,"
              " media_type TEXT NOT NULL) WITHOUT ROWID"));
  return std::unique_ptr<BlobSources>(new BlobSources(db));
}

Status BlobSources::Remember(std::string_view registry, std::string_view repository,
                             const oci::Digest& digest) {
  auto lock = db_.Lock();
  BERTH_ASSIGN_OR_RETURN(auto st, db_.Prepare("INSERT INTO blob_sources(registry, repository, digest, seen) "
                                              "VALUES(?, ?, ?, ?) ON CONFLICT(digest, registry, repository) "
                                              "DO UPDATE SET seen = excluded.seen"));
  st.Bind(1, registry).Bind(2, repository).Bind(3, digest.ToString()).Bind(4, NowUnixNanos());
  return st.Run();
}

Result<std::vector<std::string>> BlobSources::Repositories(std::string_view registry,
                                                           const oci::Digest& digest, int limit) {
  auto lock = db_.Lock();
  BERTH_ASSIGN_OR_RETURN(auto st, db_.Prepare("SELECT repository FROM blob_sources WHERE digest = ? "
                                              "AND registry = ? ORDER BY seen DESC, repository LIMIT ?"));
  st.Bind(1, digest.ToString()).Bind(2, registry).Bind(3, int64_t{limit});
  std::vector<std::string> out;
  for (;;) {
    BERTH_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    out.push_back(st.ColumnText(0));
  }
  return out;
}

Status BlobSources::Forget(std::string_view registry, std::string_view repository,
                           const oci::Digest& digest) {
  auto lock = db_.Lock();
  BERTH_ASSIGN_OR_RETURN(auto st, db_.Prepare("DELETE FROM blob_sources WHERE digest = ? AND "
                                              "registry = ? AND repository = ?"));
  st.Bind(1, digest.ToString()).Bind(2, registry).Bind(3, repository);
  return st.Run();
}

Status BlobSources::RememberCompressed(const oci::Digest& uncompressed,
                                       const CompressedLayer& compressed) {
  auto lock = db_.Lock();
  BERTH_ASSIGN_OR_RETURN(auto st, db_.Prepare("INSERT OR REPLACE INTO pushed_layers(uncompressed, "
                                              "digest, size, media_type) VALUES(?, ?, ?, ?)"));
  st.Bind(1, uncompressed.ToString())
      .Bind(2, compressed.digest.ToString())
      .Bind(3, compressed.size)
      .Bind(4, compressed.media_type);
  return st.Run();
}

Result<std::optional<BlobSources::CompressedLayer>> BlobSources::Compressed(
    const oci::Digest& uncompressed) {
  auto lock = db_.Lock();
  BERTH_ASSIGN_OR_RETURN(auto st, db_.Prepare("SELECT digest, size, media_type FROM pushed_layers "
                                              "WHERE uncompressed = ?"));
  st.Bind(1, uncompressed.ToString());
  BERTH_ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row) return std::optional<CompressedLayer>();
  auto digest = oci::Digest::Parse(st.ColumnText(0));
  if (!digest) return std::optional<CompressedLayer>();  // a damaged hint is no hint
  return std::optional<CompressedLayer>(CompressedLayer{*digest, st.ColumnInt(1), st.ColumnText(2)});
}

}  // namespace berth::distribution
