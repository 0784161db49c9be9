// MemoryStore: a content Store held in memory, for unit tests of the modules above content/
// (image store, distribution). Same contract as LocalStore, checked by the same conformance
// suite (store_conformance.h). Committed blobs live in sealed memfds, so Open() hands out real
// fds and Path() a real "/proc/self/fd/N" path, as LocalStore does. Nothing survives the object.
// Thread-safety: safe for concurrent use; writers must not outlive the store.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "content/content.h"

namespace berth::content::testing {

class MemoryStore final : public Store {
 public:
  explicit MemoryStore(
      Clock clock = [] { return std::chrono::system_clock::now(); },
      std::chrono::seconds ingest_expiry = std::chrono::hours(24));
  ~MemoryStore() override;

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
  friend class MemoryIngestWriter;
  struct Blob;
  struct Ingest;

  Clock clock_;
  std::chrono::seconds ingest_expiry_;
  std::mutex mu_;
  std::map<std::string, std::unique_ptr<Blob>> blobs_;      // by digest string
  std::map<std::string, std::unique_ptr<Ingest>> ingests_;  // by ref
  std::set<std::pair<std::string, std::string>> refs_;      // (digest, owner)
};

}  // namespace berth::content::testing
