// RegistryMeta: what berth-registry knows about its content besides the bytes: repositories,
// the blobs that exist and which repository each is linked to, manifests and what they
// reference, tags, referrers (manifests with a `subject`), and upload sessions. SQLite (WAL)
// through the shared sql::Database; PostgreSQL can implement the same interface later.
//
// Tables (created when opened, if missing): repositories, blobs, blob_links, manifests,
// manifest_refs, tags, uploads. A manifest's bytes are a blob in storage/, like any other.
//
// Atomicity: each mutating call is one transaction. Callers that must keep a file operation
// and a row change together (publishing or deleting a blob file) run them inside a
// sql::Transaction on the same Database (calls made inside it join it; see sql/database.h).
//
// Names are repository names already validated by the caller; digests are oci::Digest. Lists
// are sorted in byte order ("lexical" in the distribution spec).
//
// Thread-safety: safe for concurrent use (serialised on the Database lock).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "oci/digest.h"

namespace berth::sql {
class Database;
}  // namespace berth::sql

namespace berth::meta {

using TimePoint = std::chrono::system_clock::time_point;

struct ManifestRecord {
  oci::Digest digest;
  std::string media_type;
  int64_t size = 0;
  // From the manifest, for the referrers API: the `subject` it refers to, its artifactType
  // (or config.mediaType when artifactType is absent, as the spec says) and annotations as a
  // JSON object text ("" if none).
  std::optional<oci::Digest> subject;
  std::string artifact_type;
  std::string annotations_json;
};

// What a manifest points at: its config and layers (blobs) or, for an index, its child
// manifests. Each must exist in the repository when the manifest is put.
struct ManifestRefs {
  std::vector<oci::Digest> blobs;
  std::vector<oci::Digest> manifests;
};

struct UploadRecord {
  std::string id;
  std::string repository;
  TimePoint started;
};

struct Page {
  int64_t n = -1;    // at most n entries; -1: all
  std::string last;  // entries strictly after this one; "": from the start
};

struct GcCandidate {
  oci::Digest digest;
  int64_t size = 0;
};

class RegistryMeta {
 public:
  virtual ~RegistryMeta() = default;

  // --- blobs
  // Records that blob `digest` of `size` bytes exists (idempotent) and links it to
  // `repository` (creating the repository). `now` is when, for GC's grace period.
  virtual Status AddBlob(const std::string& repository, const oci::Digest& digest, int64_t size,
                         TimePoint now) = 0;
  // Links an existing blob to `repository` (cross-repository mount). NotFound if the blob
  // does not exist.
  virtual Status LinkBlob(const std::string& repository, const oci::Digest& digest,
                          TimePoint now) = 0;
  // The size of `digest` if it exists and is linked to `repository`; NotFound otherwise.
  virtual Result<int64_t> LinkedBlobSize(const std::string& repository,
                                         const oci::Digest& digest) = 0;
  // The size of `digest` if it exists at all (in any repository); NotFound otherwise.
  virtual Result<int64_t> BlobSize(const oci::Digest& digest) = 0;
  // Removes the link (the blob itself is left to GC). NotFound if it was not linked.
  virtual Status UnlinkBlob(const std::string& repository, const oci::Digest& digest) = 0;

  // --- manifests and tags
  // Stores a manifest in `repository` with what it references, and points `tag` at it when
  // given (moving the tag if it pointed elsewhere). FailedPrecondition naming the first
  // missing digest if a referenced blob is not linked to the repository or a referenced
  // manifest is not in it. The manifest's own bytes must already be a blob (AddBlob first,
  // in the same transaction).
  virtual Status PutManifest(const std::string& repository, const ManifestRecord& manifest,
                             const ManifestRefs& refs, const std::optional<std::string>& tag,
                             TimePoint now) = 0;
  // By tag or by digest. NotFound if the repository has no such tag or manifest.
  virtual Result<ManifestRecord> GetManifest(const std::string& repository,
                                             const std::string& tag) = 0;
  virtual Result<ManifestRecord> GetManifest(const std::string& repository,
                                             const oci::Digest& digest) = 0;
  // Removes the manifest from the repository with every tag pointing at it. NotFound if it
  // is not there.
  virtual Status DeleteManifest(const std::string& repository, const oci::Digest& digest) = 0;
  // NotFound if there is no such tag.
  virtual Status DeleteTag(const std::string& repository, const std::string& tag) = 0;
  // NotFound if the repository does not exist (has never had a blob or manifest).
  virtual Result<std::vector<std::string>> Tags(const std::string& repository,
                                                const Page& page) = 0;
  virtual Result<std::vector<std::string>> Repositories(const Page& page) = 0;
  // Manifests in `repository` whose subject is `subject`, optionally only those of
  // `artifact_type`, ordered by digest. Empty (not NotFound) for an unknown repository.
  virtual Result<std::vector<ManifestRecord>> Referrers(
      const std::string& repository, const oci::Digest& subject,
      const std::optional<std::string>& artifact_type) = 0;
  // Repositories (sorted) that `digest` is linked to; for a mount without `from`.
  virtual Result<std::vector<std::string>> RepositoriesWithBlob(const oci::Digest& digest) = 0;

  // --- uploads
  virtual Status CreateUpload(const UploadRecord& upload) = 0;
  // NotFound if unknown.
  virtual Result<UploadRecord> GetUpload(const std::string& id) = 0;
  // NotFound if unknown (already deleted: the caller may ignore it).
  virtual Status DeleteUpload(const std::string& id) = 0;
  virtual Result<std::vector<UploadRecord>> UploadsStartedBefore(TimePoint t) = 0;

  // --- garbage collection
  // Blobs that no manifest in any repository references, that are not manifests themselves
  // still stored in some repository, and that were added or linked before `before` (blobs
  // pushed recently may be waiting for their manifest). Mark phase of GC.
  virtual Result<std::vector<GcCandidate>> UnreferencedBlobs(TimePoint before) = 0;
  // Forgets a blob and all its links, if it is still unreferenced and was not added or linked
  // at or after `before` (re-checked, so a manifest put since the mark phase wins). Returns
  // whether it was forgotten; the caller then deletes the file in the same transaction.
  virtual Result<bool> ForgetBlobIfUnreferenced(const oci::Digest& digest, TimePoint before) = 0;
};

// The SQLite implementation (meta/sqlite_registry_meta.cc). Borrows `db`, which must outlive
// the returned object; creates the tables if missing.
Result<std::unique_ptr<RegistryMeta>> OpenSqliteRegistryMeta(sql::Database& db);

}  // namespace berth::meta
