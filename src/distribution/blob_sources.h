// BlobSources: which repositories of a registry are known to hold a blob, because this daemon
// pulled it from there or pushed it there (Docker's "v2 metadata", containerd's
// distribution.source labels). A push to another repository of the same registry then asks
// the registry to mount the blob (POST ?mount=&from=) instead of uploading it again.
//
// A table in the engine's meta.db: blob_sources(registry, repository, digest, seen). Entries
// are hints: a registry that no longer has the blob answers the mount with an upload session,
// and the push uploads.
// Thread-safety: safe for concurrent use (the Database serialises).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "oci/digest.h"

namespace berth::sql {
class Database;
}  // namespace berth::sql

namespace berth::distribution {

class BlobSources {
 public:
  // Borrows `db`; creates the table if missing.
  static Result<std::unique_ptr<BlobSources>> Open(sql::Database& db);

  // `registry` is the reference's domain ("127.0.0.1:5000"), `repository` its path.
  Status Remember(std::string_view registry, std::string_view repository,
                  const oci::Digest& digest);
  // Repositories of `registry` known to hold `digest`, most recently seen first, at most
  // `limit`.
  Result<std::vector<std::string>> Repositories(std::string_view registry,
                                                const oci::Digest& digest, int limit = 3);
  Status Forget(std::string_view registry, std::string_view repository, const oci::Digest& digest);

  // The gzip blob a push made of an uncompressed layer (table pushed_layers), so the next push
  // of that layer, to any registry, finds it by a HEAD instead of compressing it again.
  struct CompressedLayer {
    oci::Digest digest;
    int64_t size = 0;
    std::string media_type;
  };
  Status RememberCompressed(const oci::Digest& uncompressed, const CompressedLayer& compressed);
  Result<std::optional<CompressedLayer>> Compressed(const oci::Digest& uncompressed);

 private:
  explicit BlobSources(sql::Database& db) : db_(db) {}
  sql::Database& db_;
};

}  // namespace berth::distribution
