// FilesystemBlobStore: BlobStore on a local directory (blob_store.h).
//
// On disk, under the root given to OpenFilesystemBlobStore:
//
//   <root>/
//   ├── blobs/
//   │   ├── sha256/
//   │   │   └── <first two hex>/
//   │   │       └── <64 hex>          committed blob, immutable, 0644
//   │   └── sha512/
//   │       └── <first two hex>/
//   │           └── <128 hex>         committed blob (an upload committed with a sha512 digest)
//   ├── uploads/
//   │   └── <id>/                     one upload session; id is [A-Za-z0-9_-]{1,128}
//   │       └── data                  the bytes received so far
//   └── tmp/
//       └── put-<random hex>          PutBlob's file before its rename; removed at open
//
// Every operation is an *at() call relative to the root's fd, with paths made only by the
// functions below from a validated digest or upload id. The sha256 state of each upload that
// is not held lives in memory (StoreState::hash_states), tagged with the offset it covers, so
// N chunked PATCHes hash each byte once; after a restart the first Acquire rehashes the data.
// Nothing is written to uploads/<id>/hashstate (the header allows it; a restart rereads).
// One process per root: Acquire's exclusivity and the hash states are in this process only.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <spdlog/spdlog.h>

#include "base/cleanup.h"
#include "base/file.h"
#include "base/io.h"
#include "base/strings.h"
#include "storage/blob_store.h"
#include "storage/internal/fs.h"

namespace berth::storage {
namespace {

using internal::OpenAt;

constexpr char kBlobsDir[] = "blobs";
constexpr char kUploadsDir[] = "uploads";
constexpr char kTmpDir[] = "tmp";
constexpr size_t kMaxUploadIdLength = 128;
constexpr size_t kAppendFromBuffer = 256 << 10;
constexpr int kBlobMode = 0644;

// ---- Layout: the only places paths are made ----

bool IsUploadIdChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-';
}

bool ValidUploadId(std::string_view id) {
  return !id.empty() && id.size() <= kMaxUploadIdLength &&
         std::all_of(id.begin(), id.end(), IsUploadIdChar);
}

// Upload ids come from URLs: only [A-Za-z0-9_-], so never "..", "/" or a NUL.
Status CheckUploadId(const std::string& id) {
  if (ValidUploadId(id)) return Ok();
  return MakeError(Code::kInvalidArgument, "invalid upload id " +
                                               GoQuote(id.substr(0, kMaxUploadIdLength + 1)) +
                                               ": want 1 to 128 of [A-Za-z0-9_-]");
}

// Digest::FromHex trusts its input, so a Digest is checked again before it becomes a path.
Status CheckDigest(const oci::Digest& d) {
  if (d.valid() && d.hex().size() == oci::AlgorithmHexLength(d.algorithm()) &&
      IsHexLower(d.hex())) {
    return Ok();
  }
  return MakeError(Code::kInvalidArgument, "invalid digest " + GoQuote(d.ToString()));
}

std::string AlgorithmDir(oci::Algorithm a) {
  return std::string(kBlobsDir) + "/" + std::string(oci::AlgorithmName(a));
}
std::string BlobDir(const oci::Digest& d) {
  return AlgorithmDir(d.algorithm()) + "/" + d.hex().substr(0, 2);
}
std::string BlobPath(const oci::Digest& d) { return BlobDir(d) + "/" + d.hex(); }
std::string UploadDir(const std::string& id) { return std::string(kUploadsDir) + "/" + id; }
std::string UploadDataPath(const std::string& id) { return UploadDir(id) + "/data"; }

std::chrono::system_clock::time_point ModTime(const struct stat& st) {
  auto since_epoch =
      std::chrono::seconds(st.st_mtim.tv_sec) + std::chrono::nanoseconds(st.st_mtim.tv_nsec);
  return std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(since_epoch));
}

// fstatat without following a final symlink; NotFound if absent.
Result<struct stat> StatAt(int dir, const std::string& rel) {
  struct stat st {};
  if (::fstatat(dir, rel.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    return ErrnoError("stat " + rel);
  }
  return st;
}

// ---- State shared by the store and its uploads (uploads may outlive the store object) ----

// The sha256 state of an upload that nobody holds, covering its first `offset` bytes.
struct HashState {
  oci::Digester sha256;
  int64_t offset = 0;
};

struct StoreState {
  UniqueFd root_fd;  // every access is relative to it

  std::mutex mu;
  std::set<std::string> held;                    // guarded by mu: ids given out by Acquire
  std::map<std::string, HashState> hash_states;  // guarded by mu: of uploads not held

  // Marks `id` held and takes its saved hash state, if any. Unavailable if held already.
  Result<std::optional<HashState>> Hold(const std::string& id) {
    std::lock_guard lock(mu);
    if (!held.insert(id).second) {
      return MakeError(Code::kUnavailable, "upload " + id + " is in use by another request");
    }
    auto it = hash_states.find(id);
    if (it == hash_states.end()) return std::optional<HashState>();
    std::optional<HashState> state(std::move(it->second));
    hash_states.erase(it);
    return state;
  }

  // Releases `id`, keeping `state` for its next Acquire (none once the upload is gone).
  void Release(const std::string& id, std::optional<HashState> state) {
    std::lock_guard lock(mu);
    held.erase(id);
    if (state) {
      hash_states.insert_or_assign(id, std::move(*state));
    } else {
      hash_states.erase(id);
    }
  }

  // Drops a saved hash state left by an upload removed behind the store's back.
  void Forget(const std::string& id) {
    std::lock_guard lock(mu);
    hash_states.erase(id);
  }

  // Moves the complete, fsynced file `from` (under uploads/ or tmp/) to the blob path of
  // `digest` and makes that durable. False if the blob existed: `from` is left for the caller.
  Result<bool> Publish(const std::string& from, const oci::Digest& digest) {
    const int root_dir = root_fd.get();
    const std::string dir = BlobDir(digest);
    BERTH_ASSIGN_OR_RETURN(bool created, internal::MakeDirAt(root_dir, dir));
    if (created) {  // the new directory's entry must be durable too
      BERTH_RETURN_IF_ERROR(internal::FsyncDirAt(root_dir, AlgorithmDir(digest.algorithm())));
    }
    BERTH_ASSIGN_OR_RETURN(bool moved,
                           internal::RenameNoReplaceAt(root_dir, from, BlobPath(digest)));
    if (moved) BERTH_RETURN_IF_ERROR(internal::FsyncDirAt(root_dir, dir));
    return moved;
  }

  // Removes uploads/<id> and everything in it.
  Status RemoveUpload(const std::string& id) {
    Status st = internal::RemoveAt(root_fd.get(), UploadDir(id));
    if (!st) return std::move(st).error().WithContext("remove upload " + id);
    return Ok();
  }
};

// ---- Upload ----

class FilesystemUpload final : public Upload {
 public:
  FilesystemUpload(std::shared_ptr<StoreState> state, std::string id, UniqueFd fd, int64_t offset,
                   std::optional<oci::Digester> sha256)
      : state_(std::move(state)),
        id_(std::move(id)),
        fd_(std::move(fd)),
        offset_(offset),
        sha256_(std::move(sha256)) {}

  ~FilesystemUpload() override {
    std::optional<HashState> keep;
    if (!gone_ && sha256_) keep = HashState{std::move(*sha256_), offset_};
    state_->Release(id_, std::move(keep));
  }

  const std::string& id() const override { return id_; }
  int64_t Offset() const override { return offset_; }
  const StoreState* store() const { return state_.get(); }

  Status Append(std::string_view data) override {
    BERTH_RETURN_IF_ERROR(EnsureHash());
    BERTH_RETURN_IF_ERROR(WriteAt(data));
    return Ok();
  }

  Result<size_t> AppendFrom(int fd, size_t max) override {
    if (max == 0) {
      return MakeError(Code::kInvalidArgument, "append to upload " + id_ + ": max is 0");
    }
    BERTH_RETURN_IF_ERROR(EnsureHash());
    if (!buffer_) buffer_ = std::make_unique<char[]>(kAppendFromBuffer);
    size_t total = 0;
    while (total < max) {
      ssize_t n = ::read(fd, buffer_.get(), std::min(max - total, kAppendFromBuffer));
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
          if (total > 0) break;
          return MakeError(Code::kUnavailable, "append to upload " + id_ + ": would block");
        }
        return ErrnoError("append to upload " + id_ + ": read");
      }
      if (n == 0) break;  // EOF
      BERTH_RETURN_IF_ERROR(WriteAt(std::string_view(buffer_.get(), static_cast<size_t>(n))));
      total += static_cast<size_t>(n);
    }
    return total;
  }

  Status Truncate(int64_t offset) override {
    if (offset < 0 || offset > offset_) {
      return MakeError(Code::kInvalidArgument, "truncate upload " + id_ + " to " +
                                                   std::to_string(offset) + ": offset is " +
                                                   std::to_string(offset_));
    }
    if (offset == offset_) return Ok();
    if (::ftruncate(fd_.get(), static_cast<off_t>(offset)) != 0) {
      return ErrnoError("truncate upload " + id_ + " to " + std::to_string(offset));
    }
    // A hash can not be rewound: start again from the bytes that are left.
    offset_ = offset;
    sha256_.reset();
    return EnsureHash();
  }

  Status Sync() override {
    if (::fsync(fd_.get()) != 0) return ErrnoError("fsync upload " + id_);
    return Ok();
  }

  oci::Digest CurrentDigest(oci::Algorithm algorithm) override {
    Result<oci::Digest> d = Digest(algorithm);
    if (!d) {
      spdlog::warn("digest of upload {}: {}", id_, d.error().message);
      return oci::Digest();
    }
    return *d;
  }

  // BlobStore::Commit for this upload (the store has checked `expected` is well-formed).
  Result<int64_t> Commit(const oci::Digest& expected, std::optional<int64_t> expected_size) {
    const std::string what = "commit upload " + id_ + " as " + expected.ToString();
    if (expected_size && *expected_size != offset_) {
      return Discard(MakeError(Code::kInvalidArgument, what + ": size is " +
                                                           std::to_string(offset_) + ", expected " +
                                                           std::to_string(*expected_size)));
    }
    Result<oci::Digest> got = Digest(expected.algorithm());
    if (!got) return std::move(got).error().WithContext(what);
    if (*got != expected) {
      return Discard(
          MakeError(Code::kDataLoss, what + ": digest mismatch: data is " + got->ToString()));
    }
    // A failed append may have left bytes past offset_ that its ftruncate could not cut.
    struct stat st {};
    if (::fstat(fd_.get(), &st) != 0) return ErrnoError(what + ": stat data");
    if (st.st_size != offset_ && ::ftruncate(fd_.get(), static_cast<off_t>(offset_)) != 0) {
      return ErrnoError(what + ": truncate data to " + std::to_string(offset_));
    }
    if (::fchmod(fd_.get(), kBlobMode) != 0) return ErrnoError(what + ": chmod data");
    if (::fsync(fd_.get()) != 0) return ErrnoError(what + ": fsync data");
    Result<bool> moved = state_->Publish(UploadDataPath(id_), expected);
    if (!moved) return std::move(moved).error().WithContext(what);
    gone_ = true;
    // The blob is published, so this is a success whatever happens to the upload's remains;
    // a leftover directory is still listed by WalkUploads and expires like an abandoned one.
    Status removed = state_->RemoveUpload(id_);
    if (!removed) spdlog::warn("{}: {}", what, removed.error().message);
    return offset_;
  }

  // Ensures the in-memory sha256 covers [0, offset_), rehashing the data if it does not (first
  // Acquire after a restart, or after Truncate).
  Status EnsureHash() {
    if (sha256_) return Ok();
    oci::Digester d;
    Status st = internal::HashPrefix(fd_.get(), offset_, d);
    if (!st) return std::move(st).error().WithContext("rehash upload " + id_);
    sha256_ = std::move(d);
    return Ok();
  }

 private:
  Result<oci::Digest> Digest(oci::Algorithm algorithm) {
    if (algorithm == oci::Algorithm::kSha256) {
      BERTH_RETURN_IF_ERROR(EnsureHash());
      return sha256_->Clone().Finish();
    }
    oci::Digester d(algorithm);
    Status st = internal::HashPrefix(fd_.get(), offset_, d);
    if (!st) return std::move(st).error().WithContext("hash upload " + id_);
    return d.Finish();
  }

  // Writes `data` at offset_ and hashes it; on failure cuts the file back to offset_ so the
  // upload is as before the call.
  Status WriteAt(std::string_view data) {
    Status st = internal::PwriteAll(fd_.get(), data, offset_);
    if (!st) {
      (void)::ftruncate(fd_.get(), static_cast<off_t>(offset_));  // Commit checks again
      return std::move(st).error().WithContext("append to upload " + id_);
    }
    sha256_->Update(data);
    offset_ += static_cast<int64_t>(data.size());
    return Ok();
  }

  // Removes the upload after a failed verification and returns `e`.
  Error Discard(Error e) {
    gone_ = true;
    Status st = state_->RemoveUpload(id_);
    if (!st) spdlog::warn("{} (and {})", e.message, st.error().message);
    return e;
  }

  std::shared_ptr<StoreState> state_;
  std::string id_;
  UniqueFd fd_;  // uploads/<id>/data, O_RDWR
  int64_t offset_;
  std::optional<oci::Digester> sha256_;  // of [0, offset_); empty until EnsureHash
  bool gone_ = false;                    // committed or discarded: nothing to keep
  std::unique_ptr<char[]> buffer_;       // AppendFrom's, allocated on first use
};

// ---- Store ----

class FilesystemBlobStore final : public BlobStore {
 public:
  explicit FilesystemBlobStore(std::shared_ptr<StoreState> state) : state_(std::move(state)) {}

  Result<BlobInfo> Stat(const oci::Digest& digest) override {
    BERTH_RETURN_IF_ERROR(CheckDigest(digest));
    Result<struct stat> st = StatAt(root(), BlobPath(digest));
    if (!st) return BlobError(digest, std::move(st).error());
    if (!S_ISREG(st->st_mode)) return NotRegular(digest);
    return BlobInfo{digest, st->st_size, ModTime(*st)};
  }

  Result<std::pair<UniqueFd, int64_t>> OpenBlob(const oci::Digest& digest) override {
    BERTH_RETURN_IF_ERROR(CheckDigest(digest));
    Result<UniqueFd> fd = OpenAt(root(), BlobPath(digest), O_RDONLY);
    if (!fd) return BlobError(digest, std::move(fd).error());
    struct stat st {};
    if (::fstat(fd->get(), &st) != 0) return ErrnoError("stat blob " + digest.ToString());
    if (!S_ISREG(st.st_mode)) return NotRegular(digest);
    return std::pair<UniqueFd, int64_t>(std::move(*fd), st.st_size);
  }

  Result<std::string> ReadBlob(const oci::Digest& digest, size_t limit) override {
    BERTH_ASSIGN_OR_RETURN(auto opened, OpenBlob(digest));
    if (static_cast<uint64_t>(opened.second) > limit) {
      return MakeError(Code::kResourceExhausted,
                       "blob " + digest.ToString() + " has " + std::to_string(opened.second) +
                           " bytes, over the limit of " + std::to_string(limit));
    }
    FdReader reader(opened.first.get());
    Result<std::string> data = ReadAll(reader, limit);
    if (!data) return std::move(data).error().WithContext("read blob " + digest.ToString());
    return data;
  }

  Result<oci::Digest> PutBlob(std::string_view bytes) override {
    const oci::Digest digest = oci::Digest::Of(bytes);
    const std::string what = "put blob " + digest.ToString();
    if (StatAt(root(), BlobPath(digest))) return digest;
    const std::string tmp = std::string(kTmpDir) + "/put-" + RandomHex(16);
    Result<UniqueFd> fd = OpenAt(root(), tmp, O_WRONLY | O_CREAT | O_EXCL, kBlobMode);
    if (!fd) return std::move(fd).error().WithContext(what);
    Cleanup remove_tmp([&] { (void)::unlinkat(root(), tmp.c_str(), 0); });
    Status st = WriteAll(fd->get(), bytes);
    if (!st) return std::move(st).error().WithContext(what + ": write " + tmp);
    if (::fchmod(fd->get(), kBlobMode) != 0) return ErrnoError(what + ": chmod " + tmp);
    if (::fsync(fd->get()) != 0) return ErrnoError(what + ": fsync " + tmp);
    Result<bool> moved = state_->Publish(tmp, digest);
    if (!moved) return std::move(moved).error().WithContext(what);
    if (*moved) remove_tmp.Cancel();  // else another writer was first: drop ours
    return digest;
  }

  Status DeleteBlob(const oci::Digest& digest) override {
    BERTH_RETURN_IF_ERROR(CheckDigest(digest));
    const std::string path = BlobPath(digest);
    if (::unlinkat(root(), path.c_str(), 0) != 0) {
      return BlobError(digest, ErrnoError("remove " + path));
    }
    return Ok();
  }

  Status WalkBlobs(const std::function<Status(const BlobInfo&)>& fn) override {
    for (oci::Algorithm algorithm : {oci::Algorithm::kSha256, oci::Algorithm::kSha512}) {
      const std::string alg_dir = AlgorithmDir(algorithm);
      BERTH_ASSIGN_OR_RETURN(std::vector<std::string> prefixes,
                             internal::ListDirAt(root(), alg_dir));
      for (const std::string& prefix : prefixes) {
        if (prefix.size() != 2 || !IsHexLower(prefix)) continue;
        const std::string dir = alg_dir + "/" + prefix;
        BERTH_ASSIGN_OR_RETURN(std::vector<std::string> names, internal::ListDirAt(root(), dir));
        for (const std::string& name : names) {
          // Anything that is not a blob's name (a stray file) is not a blob.
          if (name.size() != oci::AlgorithmHexLength(algorithm) || !IsHexLower(name) ||
              name.compare(0, 2, prefix) != 0) {
            continue;
          }
          Result<struct stat> st = StatAt(root(), dir + "/" + name);
          if (!st) {
            if (st.error().code == Code::kNotFound) continue;  // deleted meanwhile
            return std::move(st).error().WithContext("walk blobs");
          }
          if (!S_ISREG(st->st_mode)) continue;
          BERTH_RETURN_IF_ERROR(
              fn(BlobInfo{oci::Digest::FromHex(algorithm, name), st->st_size, ModTime(*st)}));
        }
      }
    }
    return Ok();
  }

  Status CreateUpload(const std::string& id) override {
    BERTH_RETURN_IF_ERROR(CheckUploadId(id));
    const std::string dir = UploadDir(id);
    if (::mkdirat(root(), dir.c_str(), 0755) != 0) {
      if (errno == EEXIST) return MakeError(Code::kAlreadyExists, "upload " + id + " exists");
      return ErrnoError("create upload " + id + ": mkdir " + dir);
    }
    Result<UniqueFd> fd =
        OpenAt(root(), UploadDataPath(id), O_WRONLY | O_CREAT | O_EXCL, kBlobMode);
    if (!fd) {
      (void)::unlinkat(root(), dir.c_str(), AT_REMOVEDIR);
      return std::move(fd).error().WithContext("create upload " + id);
    }
    state_->Forget(id);
    return Ok();
  }

  Result<std::unique_ptr<Upload>> Acquire(const std::string& id) override {
    BERTH_RETURN_IF_ERROR(CheckUploadId(id));
    BERTH_ASSIGN_OR_RETURN(std::optional<HashState> saved, state_->Hold(id));
    Cleanup release([&] { state_->Release(id, std::nullopt); });
    Result<UniqueFd> fd = OpenAt(root(), UploadDataPath(id), O_RDWR);
    if (!fd) {
      if (fd.error().code == Code::kNotFound) {
        return MakeError(Code::kNotFound, "upload " + id + " not found");
      }
      return std::move(fd).error().WithContext("acquire upload " + id);
    }
    struct stat st {};
    if (::fstat(fd->get(), &st) != 0) return ErrnoError("acquire upload " + id + ": stat data");
    // The saved state is good if it covers exactly the bytes on disk (within this process we
    // are the only writer); else, e.g. after a restart, the upload rehashes what is there.
    std::optional<oci::Digester> sha256;
    if (saved && saved->offset == st.st_size) sha256 = std::move(saved->sha256);
    auto upload = std::make_unique<FilesystemUpload>(state_, id, std::move(*fd), st.st_size,
                                                     std::move(sha256));
    release.Cancel();  // the upload releases the id from here on
    BERTH_RETURN_IF_ERROR(upload->EnsureHash());
    return std::unique_ptr<Upload>(std::move(upload));
  }

  Result<int64_t> Commit(std::unique_ptr<Upload> upload, const oci::Digest& expected,
                         std::optional<int64_t> expected_size) override {
    auto* mine = dynamic_cast<FilesystemUpload*>(upload.get());
    if (mine == nullptr || mine->store() != state_.get()) {
      return MakeError(Code::kInvalidArgument, "commit: not an upload of this store");
    }
    Status valid = CheckDigest(expected);
    if (!valid) return std::move(valid).error().WithContext("commit upload " + mine->id());
    return mine->Commit(expected, expected_size);  // `upload` is released when this returns
  }

  Status DeleteUpload(const std::string& id) override {
    BERTH_RETURN_IF_ERROR(CheckUploadId(id));
    BERTH_RETURN_IF_ERROR(state_->Hold(id));  // so no Acquire sees it half removed
    Cleanup release([&] { state_->Release(id, std::nullopt); });
    Status st = state_->RemoveUpload(id);
    if (!st && st.error().code == Code::kNotFound) {
      return MakeError(Code::kNotFound, "upload " + id + " not found");
    }
    return st;
  }

  Status WalkUploads(
      const std::function<Status(const std::string& id,
                                 std::chrono::system_clock::time_point updated)>& fn) override {
    BERTH_ASSIGN_OR_RETURN(std::vector<std::string> ids, internal::ListDirAt(root(), kUploadsDir));
    for (const std::string& id : ids) {
      if (!ValidUploadId(id)) continue;  // not ours
      // The data's mtime is its last write. A directory without data (a commit interrupted
      // after the rename) is reported with its own, so it expires too.
      Result<struct stat> st = StatAt(root(), UploadDataPath(id));
      if (!st && st.error().code == Code::kNotFound) st = StatAt(root(), UploadDir(id));
      if (!st) {
        if (st.error().code == Code::kNotFound) continue;  // removed meanwhile
        return std::move(st).error().WithContext("walk uploads");
      }
      BERTH_RETURN_IF_ERROR(fn(id, ModTime(*st)));
    }
    return Ok();
  }

  Result<uint64_t> AvailableBytes() override {
    struct statvfs st {};
    if (::fstatvfs(root(), &st) != 0) return ErrnoError("statvfs of the blob store root");
    return static_cast<uint64_t>(st.f_bavail) * st.f_frsize;
  }

 private:
  int root() const { return state_->root_fd.get(); }

  static Error BlobError(const oci::Digest& digest, Error e) {
    if (e.code == Code::kNotFound) {
      return MakeError(Code::kNotFound, "blob " + digest.ToString() + " not found");
    }
    return std::move(e).WithContext("blob " + digest.ToString());
  }
  static Error NotRegular(const oci::Digest& digest) {
    return MakeError(Code::kInternal, "blob " + digest.ToString() + " is not a regular file");
  }

  std::shared_ptr<StoreState> state_;
};

}  // namespace

Result<std::unique_ptr<BlobStore>> OpenFilesystemBlobStore(const std::string& root) {
  const std::string what = "open blob store " + root;
  Status made = MakeDirs(root);
  if (!made) return std::move(made).error().WithContext(what);
  auto state = std::make_shared<StoreState>();
  Result<UniqueFd> fd = OpenFile(root, O_RDONLY | O_DIRECTORY);
  if (!fd) return std::move(fd).error().WithContext(what);
  state->root_fd = std::move(*fd);
  const int dir = state->root_fd.get();
  for (const std::string& sub :
       {std::string(kBlobsDir), AlgorithmDir(oci::Algorithm::kSha256),
        AlgorithmDir(oci::Algorithm::kSha512), std::string(kUploadsDir), std::string(kTmpDir)}) {
    Result<bool> created = internal::MakeDirAt(dir, sub);
    if (!created) return std::move(created).error().WithContext(what);
  }
  // Whatever is in tmp/ was being written when a previous process stopped.
  Result<std::vector<std::string>> leftovers = internal::ListDirAt(dir, kTmpDir);
  if (!leftovers) return std::move(leftovers).error().WithContext(what);
  for (const std::string& name : *leftovers) {
    Status st = internal::RemoveAt(dir, std::string(kTmpDir) + "/" + name);
    if (!st && st.error().code != Code::kNotFound) {
      return std::move(st).error().WithContext(what + ": clean tmp");
    }
  }
  return std::unique_ptr<BlobStore>(std::make_unique<FilesystemBlobStore>(std::move(state)));
}

}  // namespace berth::storage
