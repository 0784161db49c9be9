// LocalStore's ingest side: the writer, resume, listing and aborting partial ingests.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <vector>

#include "base/file.h"
#include "content/internal/hasher.h"
#include "content/internal/ingest_meta.h"
#include "content/local_store.h"
#include "spdlog/spdlog.h"

namespace berth::content {

using internal::Expectation;

constexpr int64_t kWritebackChunk = 8 << 20;

class LocalIngestWriter final : public IngestWriter {
 public:
  LocalIngestWriter(LocalStore& store, std::string ref, std::string dir, UniqueFd fd,
                    Expectation expected, internal::Hasher hasher, int64_t offset)
      : store_(store),
        ref_(std::move(ref)),
        dir_(std::move(dir)),
        fd_(std::move(fd)),
        expected_(std::move(expected)),
        hasher_(std::move(hasher)),
        offset_(offset) {}

  ~LocalIngestWriter() override {
    if (!fd_.valid()) return;
    // Keep the partial data for a resume; record when it was last touched for GC expiry.
    Status st = WriteFileAtomic(dir_ + "/updated", std::to_string(store_.NowNanos()));
    if (!st) spdlog::warn("ingest {}: {}", ref_, st.error().message);
  }

  Status Write(std::string_view data) override {
    if (!fd_.valid()) return Closed();
    const auto n = static_cast<int64_t>(data.size());
    if (expected_.size >= 0 && offset_ + n > expected_.size) {
      return MakeError(Code::kDataLoss, "ingest \"" + ref_ + "\": write past the expected size " +
                                            std::to_string(expected_.size));
    }
    std::string_view rest = data;
    int64_t at = offset_;
    while (!rest.empty()) {
      ssize_t w = ::pwrite(fd_.get(), rest.data(), rest.size(), at);
      if (w < 0) {
        if (errno == EINTR) continue;
        return ErrnoError("write ingest \"" + ref_ + "\"");
      }
      rest.remove_prefix(static_cast<size_t>(w));
      at += w;
    }
    hasher_.Update(data);
    offset_ += n;
    // Start writing back what has come so far, so that Commit's fsync finds little left: a
    // layer blob can be a GiB, and an fsync of all of it at the end is seconds of waiting.
    // Only a hint: a write error shows at the fsync, which decides.
    if (offset_ - writeback_from_ >= kWritebackChunk) {
      (void)::sync_file_range(fd_.get(), writeback_from_, offset_ - writeback_from_,
                              SYNC_FILE_RANGE_WRITE);
      writeback_from_ = offset_;
    }
    return Ok();
  }

  int64_t Offset() const override { return offset_; }
  oci::Digest Digest() const override { return hasher_.Peek(); }

  Result<oci::Digest> Commit(const std::optional<oci::Digest>& expected,
                             int64_t expected_size) override {
    if (!fd_.valid()) return Closed();
    const std::optional<oci::Digest> want = expected ? expected : expected_.digest;
    const int64_t want_size = expected_size >= 0 ? expected_size : expected_.size;
    if (want_size >= 0 && offset_ != want_size) {
      Discard();
      return MakeError(Code::kDataLoss, "ingest \"" + ref_ + "\": unexpected commit size " +
                                            std::to_string(offset_) + ", expected " +
                                            std::to_string(want_size));
    }
    oci::Digest got = hasher_.Peek();
    if (want && want->algorithm() != got.algorithm()) {
      auto rehashed = Rehash(want->algorithm());
      if (!rehashed) {
        Discard();
        return std::move(rehashed).error();
      }
      got = *rehashed;
    }
    if (want && *want != got) {
      Discard();
      return MakeError(Code::kDataLoss, "ingest \"" + ref_ + "\": digest mismatch: expected " +
                                            want->ToString() + " got " + got.ToString());
    }
    if (::fsync(fd_.get()) != 0) {
      Error e = ErrnoError("fsync ingest \"" + ref_ + "\"");
      fd_.Reset();  // keep the data: the failure may be transient, a resume can retry
      return e;
    }
    Status st = store_.Publish(dir_, got, offset_);
    fd_.Reset();  // the flock goes with it, after the directory is gone
    if (!st) return std::move(st).error().WithContext("commit " + got.ToString());
    return got;
  }

  Status Abort() override {
    if (!fd_.valid()) return Closed();
    Status st = internal::RemoveIngestDir(store_.layout_.IngestRoot(), dir_);
    fd_.Reset();
    return st;
  }

 private:
  Error Closed() const {
    return MakeError(Code::kFailedPrecondition, "ingest \"" + ref_ + "\": writer is closed");
  }

  void Discard() {
    Status st = internal::RemoveIngestDir(store_.layout_.IngestRoot(), dir_);
    if (!st) spdlog::warn("discard ingest {}: {}", ref_, st.error().message);
    fd_.Reset();
  }

  Result<oci::Digest> Rehash(oci::Algorithm algorithm) {
    internal::Hasher h(algorithm);
    std::vector<char> buf(1 << 20);
    int64_t at = 0;
    while (at < offset_) {
      ssize_t n = ::pread(fd_.get(), buf.data(), buf.size(), at);
      if (n < 0) {
        if (errno == EINTR) continue;
        return ErrnoError("read ingest \"" + ref_ + "\"");
      }
      if (n == 0) break;
      h.Update(std::string_view(buf.data(), static_cast<size_t>(n)));
      at += n;
    }
    return h.Peek();
  }

  LocalStore& store_;
  std::string ref_;
  std::string dir_;
  UniqueFd fd_;  // holds the ref's flock while valid
  Expectation expected_;
  internal::Hasher hasher_;
  int64_t offset_;
  int64_t writeback_from_ = offset_;  // start of the bytes not yet handed to writeback
};

namespace {

// Hashes the first bytes of `fd` up to its end; returns how many there were.
Result<int64_t> HashExisting(int fd, internal::Hasher& hasher, const std::string& ref) {
  std::vector<char> buf(1 << 20);
  int64_t at = 0;
  while (true) {
    ssize_t n = ::pread(fd, buf.data(), buf.size(), at);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError("read partial ingest \"" + ref + "\"");
    }
    if (n == 0) return at;
    hasher.Update(std::string_view(buf.data(), static_cast<size_t>(n)));
    at += n;
  }
}

}  // namespace

Result<std::unique_ptr<IngestWriter>> LocalStore::Writer(const std::string& ref,
                                                         std::optional<oci::Digest> expected,
                                                         int64_t expected_size) {
  if (ref.empty()) return MakeError(Code::kInvalidArgument, "ingest ref must not be empty");
  if (expected_size < -1) return MakeError(Code::kInvalidArgument, "negative expected size");
  const std::string dir = layout_.IngestDir(ref);
  UniqueFd fd;
  // A concurrent Abort or GC can remove the directory between mkdir and flock; retry then.
  for (int attempt = 0;; ++attempt) {
    if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) return ErrnoError("mkdir " + dir);
    auto locked = internal::OpenAndLockData(dir, ref, /*create=*/true);
    if (locked) {
      fd = std::move(*locked);
      break;
    }
    if (locked.error().code != Code::kNotFound || attempt == 3) return std::move(locked).error();
  }

  Expectation want{expected, expected_size};
  bool resume = false;
  auto recorded_ref = ReadFile(dir + "/ref");
  if (recorded_ref) {
    if (*recorded_ref != ref) {
      return MakeError(Code::kInternal, "ingest dir " + dir + " holds ref \"" + *recorded_ref +
                                            "\", not \"" + ref + "\"");
    }
    auto recorded = ReadFile(dir + "/expected");
    auto parsed =
        recorded ? internal::ParseExpectation(*recorded) : Result<Expectation>(recorded.error());
    if (parsed) {
      // Resume when the new expectation agrees with (or only adds to) the recorded one.
      bool digest_ok = !want.digest || !parsed->digest || *want.digest == *parsed->digest;
      bool size_ok = want.size < 0 || parsed->size < 0 || want.size == parsed->size;
      if (digest_ok && size_ok) {
        resume = true;
        if (!want.digest) want.digest = parsed->digest;
        if (want.size < 0) want.size = parsed->size;
      } else {
        spdlog::info("ingest {}: expectation changed from {} to {}; starting again", ref,
                     internal::FormatExpectation(*parsed), internal::FormatExpectation(want));
      }
    }
  }

  internal::Hasher hasher(want.digest ? want.digest->algorithm() : oci::Algorithm::kSha256);
  int64_t offset = 0;
  if (resume) {
    BERTH_ASSIGN_OR_RETURN(offset, HashExisting(fd.get(), hasher, ref));
    if (want.size >= 0 && offset > want.size) {
      resume = false;
      hasher = internal::Hasher(hasher.algorithm());
      offset = 0;
    }
  }
  if (!resume) {
    if (::ftruncate(fd.get(), 0) != 0) return ErrnoError("truncate ingest \"" + ref + "\"");
    const std::string now = std::to_string(NowNanos());
    BERTH_RETURN_IF_ERROR(WriteFileAtomic(dir + "/started", now));
    BERTH_RETURN_IF_ERROR(WriteFileAtomic(dir + "/updated", now));
    BERTH_RETURN_IF_ERROR(WriteFileAtomic(dir + "/ref", ref));
  }
  BERTH_RETURN_IF_ERROR(WriteFileAtomic(dir + "/expected", internal::FormatExpectation(want)));
  return std::unique_ptr<IngestWriter>(std::make_unique<LocalIngestWriter>(
      *this, ref, dir, std::move(fd), std::move(want), std::move(hasher), offset));
}

Result<std::vector<IngestStatus>> LocalStore::ListIngests() {
  std::vector<IngestStatus> out;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(layout_.IngestRoot(), ec)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || name[0] == '.') continue;
    const std::string dir = entry.path().string();
    auto ref = ReadFile(dir + "/ref");
    if (!ref) continue;  // being created or removed right now
    IngestStatus s;
    s.ref = *ref;
    struct stat st {};
    if (::stat((dir + "/data").c_str(), &st) == 0) s.offset = st.st_size;
    if (auto e = ReadFile(dir + "/expected")) {
      if (auto parsed = internal::ParseExpectation(*e)) {
        s.expected = parsed->digest;
        s.expected_size = parsed->size;
      }
    }
    if (auto t = internal::ReadNanosFile(dir + "/started")) s.started_at = internal::FromNanos(*t);
    if (auto t = internal::ReadNanosFile(dir + "/updated")) s.updated_at = internal::FromNanos(*t);
    out.push_back(std::move(s));
  }
  if (ec) return ErrnoError("list " + layout_.IngestRoot(), ec.value());
  return out;
}

Status LocalStore::Abort(const std::string& ref) {
  const std::string dir = layout_.IngestDir(ref);
  if (!PathExists(dir)) return MakeError(Code::kNotFound, "ingest \"" + ref + "\" not found");
  auto fd = internal::OpenAndLockData(dir, ref, /*create=*/true);
  if (!fd && fd.error().code != Code::kNotFound) return std::move(fd).error();
  if (!fd) return MakeError(Code::kNotFound, "ingest \"" + ref + "\" not found");
  return internal::RemoveIngestDir(layout_.IngestRoot(), dir);
}

}  // namespace berth::content
