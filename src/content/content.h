// Content store: blobs addressed by digest (layers, manifests, configs), after containerd's
// core/content. Data enters only through an ingest (Ingester), which verifies size and digest
// before the blob becomes visible; committed blobs are immutable.
//
// Roles, composed into Store:
//   Provider        read committed blobs (Info, Open, Path)
//   Ingester        start or resume a write, keyed by a caller-chosen "ref"
//   IngestManager   list and abort partial ingests
//   Manager         list, walk, label and delete committed blobs
//   ReferenceCounter  owners ("image:sha256:..", "lease:pull-1") that keep a digest alive
//   Collector       remove unreferenced blobs and stale ingests
//
// Terms: a digest is "algorithm:hex"; a ref names one ingest (resuming with the same ref
// continues where the last writer stopped); an owner is any string naming a holder.
// Thread-safety: every Store implementation is safe for concurrent use; an IngestWriter is
// used by one thread at a time.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/io.h"
#include "base/result.h"
#include "base/unique_fd.h"
#include "oci/digest.h"

namespace berth::content {

using Clock = std::function<std::chrono::system_clock::time_point()>;
using Labels = std::map<std::string, std::string>;

struct Info {
  oci::Digest digest;
  int64_t size = 0;
  std::chrono::system_clock::time_point created_at;
  Labels labels;
};

// A committed blob opened for reading. Owns its fd; fd() and path() are exposed so callers can
// hand the blob to sendfile(2), copy_file_range(2) or a bind mount without copying it.
class BlobReader final : public Reader {
 public:
  BlobReader(UniqueFd fd, std::string path, int64_t size)
      : fd_(std::move(fd)), path_(std::move(path)), size_(size) {}
  // Sequential reads from offset 0 (pread-based; the fd's own offset is left alone).
  Result<size_t> Read(char* buf, size_t size) override;
  // Positional read; returns 0 at or past the end.
  Result<size_t> ReadAt(char* buf, size_t size, int64_t offset) const;
  int fd() const { return fd_.get(); }
  const std::string& path() const { return path_; }
  int64_t size() const { return size_; }

 private:
  UniqueFd fd_;
  std::string path_;
  int64_t size_;
  int64_t pos_ = 0;
};

class Provider {
 public:
  virtual ~Provider() = default;
  // NotFound unless the blob is committed.
  virtual Result<content::Info> Info(const oci::Digest& digest) = 0;
  virtual Result<std::unique_ptr<BlobReader>> Open(const oci::Digest& digest) = 0;
  // A path that open(2) accepts for as long as the blob is not deleted.
  virtual Result<std::string> Path(const oci::Digest& digest) = 0;
};

// One ingest in progress. Destroying it without Commit or Abort keeps the partial data, so a
// later Writer() with the same ref resumes at Offset().
class IngestWriter : public Writer {
 public:
  // Appends. Fails with DataLoss past the expected size given to Ingester::Writer.
  Status Write(std::string_view data) override = 0;
  virtual int64_t Offset() const = 0;
  // Digest of the bytes written so far, in the algorithm of the expected digest (sha256 if none).
  virtual oci::Digest Digest() const = 0;
  // Verifies size (-1: use the one given to Writer(), if any) and digest (nullopt: the one given
  // to Writer(), if any) and then makes the blob visible atomically. On mismatch returns
  // DataLoss ("unexpected commit size ..." / "digest mismatch: expected .. got ..") and discards
  // the ingest. If the digest is already committed the data is discarded and Commit succeeds.
  // The writer is closed afterwards, whatever the outcome.
  virtual Result<oci::Digest> Commit(const std::optional<oci::Digest>& expected,
                                     int64_t expected_size = -1) = 0;
  // Discards the partial data and closes the writer.
  virtual Status Abort() = 0;
};

class Ingester {
 public:
  virtual ~Ingester() = default;
  // Starts, or resumes, the ingest named `ref`. Unavailable ("ref locked") while another writer
  // for `ref` is alive. If the recorded expectation of a partial ingest differs from this one,
  // the partial data is dropped and the ingest starts again at 0.
  virtual Result<std::unique_ptr<IngestWriter>> Writer(const std::string& ref,
                                                       std::optional<oci::Digest> expected,
                                                       int64_t expected_size /* -1 unknown */) = 0;
};

struct IngestStatus {
  std::string ref;
  int64_t offset = 0;
  int64_t expected_size = -1;
  std::optional<oci::Digest> expected;
  std::chrono::system_clock::time_point started_at;
  std::chrono::system_clock::time_point updated_at;
};

class IngestManager {
 public:
  virtual ~IngestManager() = default;
  virtual Result<std::vector<IngestStatus>> ListIngests() = 0;
  // Removes a partial ingest. Unavailable if a live writer holds it; NotFound if none.
  virtual Status Abort(const std::string& ref) = 0;
};

class Manager {
 public:
  virtual ~Manager() = default;
  virtual Result<std::vector<content::Info>> List() = 0;
  // Calls fn for each committed blob (a snapshot of the list); stops at fn's first error.
  virtual Status Walk(const std::function<Status(const content::Info&)>& fn) = 0;
  // Replaces the labels of a committed blob.
  virtual Status SetLabels(const oci::Digest& digest, const Labels& labels) = 0;
  // FailedPrecondition (naming an owner) while referenced; NotFound if not committed.
  virtual Status Delete(const oci::Digest& digest) = 0;
};

// References are kept by digest, whether or not the blob is committed yet, so a lease can
// protect a download before it lands. LocalStore runs each call as one SQL statement on the
// shared sql::Database: called inside the caller's sql::Transaction, it joins it.
class ReferenceCounter {
 public:
  virtual ~ReferenceCounter() = default;
  virtual Status AddReference(const oci::Digest& digest, const std::string& owner) = 0;
  // NotFound if `owner` did not reference `digest`.
  virtual Status RemoveReference(const oci::Digest& digest, const std::string& owner) = 0;
  // Drops every reference held by `owner`; returns how many there were.
  virtual Result<int64_t> RemoveOwner(const std::string& owner) = 0;
  virtual Result<std::vector<std::string>> Owners(const oci::Digest& digest) = 0;
  // Every distinct owner whose name starts with `prefix`, sorted (e.g. the leases a crashed
  // operation left: "lease:load-").
  virtual Result<std::vector<std::string>> OwnersWithPrefix(const std::string& prefix) = 0;
};

struct GcStats {
  int64_t blobs_removed = 0;
  int64_t bytes_removed = 0;
  int64_t ingests_removed = 0;
};

class Collector {
 public:
  virtual ~Collector() = default;
  // Removes every unreferenced blob committed (or re-committed) more than `grace` ago and every
  // partial ingest with no live writer untouched for longer than the store's ingest expiry.
  // Not to be called inside a caller's sql::Transaction (file removal cannot roll back).
  virtual Result<GcStats> GarbageCollect(std::chrono::seconds grace) = 0;
};

class Store : public Provider,
              public Ingester,
              public IngestManager,
              public Manager,
              public ReferenceCounter,
              public Collector {};

// Writes a small blob (manifest, config) in one go under a fresh random ref.
Result<oci::Digest> WriteBlob(Store& store, std::string_view bytes,
                              std::optional<oci::Digest> expected);
// Reads a whole committed blob; ResourceExhausted past `limit` bytes.
Result<std::string> ReadBlob(Provider& provider, const oci::Digest& digest, size_t limit);

}  // namespace berth::content
