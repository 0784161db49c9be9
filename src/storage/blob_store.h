// BlobStore: the registry's blobs (layers, configs, manifests) on a local file system,
// content-addressed, and the data of upload sessions in progress. The filesystem driver of
// ARCHITECTURE.md's storage/ (an S3 driver can implement the same interface later).
//
// Layout under root:
//   blobs/sha256/<first two hex>/<hex>   committed blobs, immutable, mode 0644
//   blobs/sha512/<first two hex>/<hex>   the same for blobs committed with a sha512 digest
//   uploads/<id>/data                     bytes received so far for upload <id>
//   uploads/<id>/hashstate                (optional) whatever lets a resumed upload skip rehashing
//   tmp/                                  files being published (removed at Open)
//
// Crash safety: a blob becomes visible only by rename(2) of a complete, verified and fsynced
// file (the directory is fsynced too), so a crash at any point leaves either no blob or the
// whole blob. An upload's data survives a crash up to the last Append that returned; Offset()
// after reopening says how much (a torn tail past the last acknowledged byte is truncated by
// the caller through Truncate()).
//
// The store knows nothing of repositories, links or metadata: meta/ does. Publishing and
// deleting are done by the registry under its metadata transaction, so "the row exists" and
// "the file exists" never disagree for long (see docs/design/registry.md).
//
// Thread-safety: BlobStore is safe for concurrent use. An Upload is used by one request at a
// time: Acquire() gives it exclusively and answers Unavailable while another holds it.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"
#include "base/unique_fd.h"
#include "oci/digest.h"

namespace berth::storage {

struct BlobInfo {
  oci::Digest digest;
  int64_t size = 0;
  std::chrono::system_clock::time_point modified;
};

// One upload's data. Obtained from BlobStore::Acquire; releasing the unique_ptr releases it
// (the hash state is kept in memory by the store, so the next Acquire resumes without
// rereading the data).
class Upload {
 public:
  virtual ~Upload() = default;
  virtual const std::string& id() const = 0;
  // Bytes stored so far.
  virtual int64_t Offset() const = 0;
  // Appends at Offset(); the bytes are written (not fsynced) when it returns.
  virtual Status Append(std::string_view data) = 0;
  // Appends up to `max` (> 0) bytes read from `fd` (a socket, blocking or not; a pipe or file
  // works too) and returns how many. It reads until it has `max` bytes, the peer has closed,
  // or a non-blocking `fd` has nothing more to give (EAGAIN), so:
  //   n > 0         n bytes were appended (fewer than `max` at EOF or on EAGAIN);
  //   0             EOF only: the peer closed and nothing was read;
  //   Unavailable   "would block": a non-blocking `fd` had no data; wait for readability.
  // On any other error the bytes appended before it stay (Offset() counts them).
  virtual Result<size_t> AppendFrom(int fd, size_t max) = 0;
  // Cuts the data back to `offset` (<= Offset()), e.g. after a request body that ended early.
  virtual Status Truncate(int64_t offset) = 0;
  // sha256 (or the algorithm given) of the bytes so far, without ending the upload. sha256 is
  // kept as the bytes arrive; another algorithm rereads the data. An empty Digest (valid()
  // false) if the data could not be read (logged).
  virtual oci::Digest CurrentDigest(oci::Algorithm algorithm = oci::Algorithm::kSha256) = 0;
  // fsync(2)s the data so far. Commit syncs anyway; calling this first moves the slow part
  // out of whatever lock the caller holds around Commit (the registry's metadata transaction).
  virtual Status Sync() = 0;
};

class BlobStore {
 public:
  virtual ~BlobStore() = default;

  // NotFound if no such blob.
  virtual Result<BlobInfo> Stat(const oci::Digest& digest) = 0;
  // An fd open for reading (O_RDONLY|O_CLOEXEC) and the size, for sendfile(2) or pread.
  virtual Result<std::pair<UniqueFd, int64_t>> OpenBlob(const oci::Digest& digest) = 0;
  // The whole blob; ResourceExhausted if larger than `limit`.
  virtual Result<std::string> ReadBlob(const oci::Digest& digest, size_t limit) = 0;
  // Writes a small blob (a manifest) in one go: temp file, fsync, rename. Returns its digest
  // (sha256). If the blob exists already nothing is written.
  virtual Result<oci::Digest> PutBlob(std::string_view bytes) = 0;
  // NotFound if absent.
  virtual Status DeleteBlob(const oci::Digest& digest) = 0;
  // Every committed blob; stops at fn's first error.
  virtual Status WalkBlobs(const std::function<Status(const BlobInfo&)>& fn) = 0;

  // Uploads. Ids are chosen by the caller (the registry uses random UUIDs).
  // AlreadyExists if `id` exists.
  virtual Status CreateUpload(const std::string& id) = 0;
  // NotFound if no such upload; Unavailable if another caller holds it.
  virtual Result<std::unique_ptr<Upload>> Acquire(const std::string& id) = 0;
  // Verifies that the data of `upload` has `expected` digest (any supported algorithm) and,
  // if given, `expected_size`; then fsyncs it and publishes it as a blob (rename; if the blob
  // already exists the data is dropped) and removes the upload. DataLoss on a digest
  // mismatch, InvalidArgument on a size mismatch; the upload is removed in those cases too
  // (as distribution does: the client starts again). Returns the blob's size.
  virtual Result<int64_t> Commit(std::unique_ptr<Upload> upload, const oci::Digest& expected,
                                 std::optional<int64_t> expected_size = std::nullopt) = 0;
  // Removes an upload and its data. NotFound if absent; Unavailable if held.
  virtual Status DeleteUpload(const std::string& id) = 0;
  // Bytes that uploads can still take (on the file system: what statvfs says an unprivileged
  // writer may use), so that a body announced larger is refused before it is read.
  virtual Result<uint64_t> AvailableBytes() = 0;
  // Every upload id with the time of its last Append (for expiring abandoned uploads).
  virtual Status WalkUploads(
      const std::function<Status(const std::string& id,
                                 std::chrono::system_clock::time_point updated)>& fn) = 0;
};

// The filesystem driver (storage/filesystem_blob_store.cc): creates the directories under
// `root` if missing and removes leftovers in tmp/.
Result<std::unique_ptr<BlobStore>> OpenFilesystemBlobStore(const std::string& root);

}  // namespace berth::storage
