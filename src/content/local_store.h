// LocalStore: the content Store on a local file system, metadata in the shared sql::Database.
// Layout and its crash-safety argument: content/internal/layout.h.
//
// Ownership: the store borrows the Database, which must outlive it (and every IngestWriter).
// Thread-safety: safe for concurrent use. Publishing, deleting and collecting blobs happen under
// the Database's (recursive) lock, so they serialise with each other and with any caller's
// sql::Transaction; the ingest ref locks are flock(2)s on the ingest's data file, so a ref is
// exclusive across LocalStore instances and processes too.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "content/content.h"
#include "content/internal/layout.h"

namespace berth::sql {
class Database;
}  // namespace berth::sql

namespace berth::content {

struct LocalStoreOptions {
  Clock clock = [] { return std::chrono::system_clock::now(); };
  // Partial ingests with no live writer and no writer activity for this long are collected.
  std::chrono::seconds ingest_expiry = std::chrono::hours(24);
};

class LocalStore final : public Store {
 public:
  // Creates the directories and tables if missing, then recovers from a crash: removes temp
  // and half-created ingest entries and reconciles blob files with rows (see Recover()).
  static Result<std::unique_ptr<LocalStore>> Open(const std::string& root, sql::Database& db,
                                                  LocalStoreOptions options = {});

  Result<content::Info> Info(const oci::Digest& digest) override;
  Result<std::unique_ptr<BlobReader>> Open(const oci::Digest& digest) override;
  Result<std::string> Path(const oci::Digest& digest) override;

  Result<std::unique_ptr<IngestWriter>> Writer(const std::string& ref,
                                               std::optional<oci::Digest> expected,
                                               int64_t expected_size) override;
  Result<std::vector<IngestStatus>> ListIngests() override;
  Status Abort(const std::string& ref) override;

  Result<std::vector<content::Info>> List() override;
  Status Walk(const std::function<Status(const content::Info&)>& fn) override;
  Status SetLabels(const oci::Digest& digest, const Labels& labels) override;
  Status Delete(const oci::Digest& digest) override;

  Status AddReference(const oci::Digest& digest, const std::string& owner) override;
  Status RemoveReference(const oci::Digest& digest, const std::string& owner) override;
  Result<int64_t> RemoveOwner(const std::string& owner) override;
  Result<std::vector<std::string>> Owners(const oci::Digest& digest) override;
  Result<std::vector<std::string>> OwnersWithPrefix(const std::string& prefix) override;

  Result<GcStats> GarbageCollect(std::chrono::seconds grace) override;

 private:
  friend class LocalIngestWriter;
  LocalStore(std::string root, sql::Database& db, LocalStoreOptions options)
      : layout_(std::move(root)), db_(db), options_(std::move(options)) {}

  Status Recover();
  // Makes the verified, fsynced data file of an ingest visible as `digest` (or notes that it
  // already was), then removes the ingest directory.
  Status Publish(const std::string& ingest_dir, const oci::Digest& digest, int64_t size);
  int64_t NowNanos() const;

  internal::Layout layout_;
  sql::Database& db_;
  LocalStoreOptions options_;
};

}  // namespace berth::content
