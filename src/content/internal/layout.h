// On-disk layout of LocalStore. Private to content/.
//
//   <root>/
//   ├── blobs/
//   │   ├── sha256/<64 hex>        immutable, verified blobs (mode 0444)
//   │   └── sha512/<128 hex>
//   └── ingest/
//       ├── <sha256 hex of ref>/   one partial ingest, resumable
//       │   ├── data               bytes received so far (flock(2)ed by its live writer)
//       │   ├── ref                the ref, verbatim (detects hash collisions, lists ingests)
//       │   ├── started            unix nanos when the ingest began
//       │   ├── updated            unix nanos when its last writer closed (GC expiry)
//       │   └── expected           "<digest or -> <size or -1>", the writer's expectation
//       └── .trash-<random>/       an ingest being removed; anything dot-named is swept at open
//
// Metadata (sizes, times, labels, references) lives in the shared sql::Database, tables
// content_blobs, content_labels, content_refs. A blob is visible once its row exists; the file
// is renamed into blobs/ (and the directory fsynced) before the row is written.
#pragma once

#include <string>

#include "oci/digest.h"

namespace berth::content::internal {

class Layout {
 public:
  explicit Layout(std::string root) : root_(std::move(root)) {}

  const std::string& root() const { return root_; }
  std::string BlobsDir() const { return root_ + "/blobs"; }
  std::string BlobDir(oci::Algorithm a) const {
    return BlobsDir() + "/" + std::string(oci::AlgorithmName(a));
  }
  std::string BlobPath(const oci::Digest& d) const {
    return BlobDir(d.algorithm()) + "/" + d.hex();
  }
  std::string IngestRoot() const { return root_ + "/ingest"; }
  // Hashing the ref keeps the directory name a fixed, safe length whatever the ref holds.
  std::string IngestDir(const std::string& ref) const {
    return IngestRoot() + "/" + oci::Digest::Of(ref).hex();
  }

 private:
  std::string root_;
};

}  // namespace berth::content::internal
