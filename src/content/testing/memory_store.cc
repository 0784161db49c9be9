#include "content/testing/memory_store.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <set>

#include "base/file.h"
#include "content/internal/hasher.h"

namespace berth::content::testing {

struct MemoryStore::Blob {
  content::Info info;
  UniqueFd memfd;
  std::chrono::system_clock::time_point touched_at;
};

struct MemoryStore::Ingest {
  std::string data;
  std::optional<oci::Digest> expected;
  int64_t expected_size = -1;
  std::chrono::system_clock::time_point started_at;
  std::chrono::system_clock::time_point updated_at;
  bool locked = false;
};

namespace {

Error NotCommitted(const oci::Digest& d) {
  return MakeError(Code::kNotFound, "content " + d.ToString() + " not found");
}

std::string FdPath(int fd) { return "/proc/self/fd/" + std::to_string(fd); }

Result<UniqueFd> SealedMemfd(const std::string& name, std::string_view data) {
  int raw = ::memfd_create(name.c_str(), MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (raw < 0) return ErrnoError("memfd_create");
  UniqueFd fd(raw);
  BERTH_RETURN_IF_ERROR(WriteAll(fd.get(), data));
  if (::fcntl(fd.get(), F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL) !=
      0) {
    return ErrnoError("seal memfd");
  }
  return fd;
}

}  // namespace

class MemoryIngestWriter final : public IngestWriter {
 public:
  MemoryIngestWriter(MemoryStore& store, std::string ref, MemoryStore::Ingest& ingest,
                     internal::Hasher hasher)
      : store_(store), ref_(std::move(ref)), ingest_(&ingest), hasher_(std::move(hasher)) {}

  ~MemoryIngestWriter() override {
    if (!ingest_) return;
    std::lock_guard lock(store_.mu_);
    ingest_->locked = false;
    ingest_->updated_at = store_.clock_();
  }

  Status Write(std::string_view data) override {
    if (!ingest_) return Closed();
    std::lock_guard lock(store_.mu_);
    if (ingest_->expected_size >= 0 &&
        static_cast<int64_t>(ingest_->data.size() + data.size()) > ingest_->expected_size) {
      return MakeError(Code::kDataLoss, "ingest \"" + ref_ + "\": write past the expected size " +
                                            std::to_string(ingest_->expected_size));
    }
    ingest_->data.append(data);
    hasher_.Update(data);
    return Ok();
  }

  int64_t Offset() const override {
    if (!ingest_) return 0;
    std::lock_guard lock(store_.mu_);
    return static_cast<int64_t>(ingest_->data.size());
  }

  oci::Digest Digest() const override { return hasher_.Peek(); }

  Result<oci::Digest> Commit(const std::optional<oci::Digest>& expected,
                             int64_t expected_size) override {
    if (!ingest_) return Closed();
    std::lock_guard lock(store_.mu_);
    const std::optional<oci::Digest> want = expected ? expected : ingest_->expected;
    const int64_t want_size = expected_size >= 0 ? expected_size : ingest_->expected_size;
    const auto size = static_cast<int64_t>(ingest_->data.size());
    if (want_size >= 0 && size != want_size) {
      DiscardLocked();
      return MakeError(Code::kDataLoss, "ingest \"" + ref_ + "\": unexpected commit size " +
                                            std::to_string(size) + ", expected " +
                                            std::to_string(want_size));
    }
    oci::Digest got = hasher_.Peek();
    if (want && want->algorithm() != got.algorithm())
      got = oci::Digest::Of(ingest_->data, want->algorithm());
    if (want && *want != got) {
      DiscardLocked();
      return MakeError(Code::kDataLoss, "ingest \"" + ref_ + "\": digest mismatch: expected " +
                                            want->ToString() + " got " + got.ToString());
    }
    const std::string key = got.ToString();
    const auto now = store_.clock_();
    auto it = store_.blobs_.find(key);
    if (it != store_.blobs_.end()) {
      it->second->touched_at = now;
    } else {
      auto fd = SealedMemfd(key, ingest_->data);
      if (!fd) return std::move(fd).error().WithContext("commit " + key);
      auto blob = std::make_unique<MemoryStore::Blob>();
      blob->info = {got, size, now, {}};
      blob->memfd = std::move(*fd);
      blob->touched_at = now;
      store_.blobs_.emplace(key, std::move(blob));
    }
    DiscardLocked();
    return got;
  }

  Status Abort() override {
    if (!ingest_) return Closed();
    std::lock_guard lock(store_.mu_);
    DiscardLocked();
    return Ok();
  }

 private:
  Error Closed() const {
    return MakeError(Code::kFailedPrecondition, "ingest \"" + ref_ + "\": writer is closed");
  }
  void DiscardLocked() {
    store_.ingests_.erase(ref_);
    ingest_ = nullptr;
  }

  MemoryStore& store_;
  std::string ref_;
  MemoryStore::Ingest* ingest_;  // owned by store_.ingests_; null once closed
  internal::Hasher hasher_;
};

MemoryStore::MemoryStore(Clock clock, std::chrono::seconds ingest_expiry)
    : clock_(std::move(clock)), ingest_expiry_(ingest_expiry) {}
MemoryStore::~MemoryStore() = default;

Result<content::Info> MemoryStore::Info(const oci::Digest& digest) {
  std::lock_guard lock(mu_);
  auto it = blobs_.find(digest.ToString());
  if (it == blobs_.end()) return NotCommitted(digest);
  return it->second->info;
}

Result<std::unique_ptr<BlobReader>> MemoryStore::Open(const oci::Digest& digest) {
  std::lock_guard lock(mu_);
  auto it = blobs_.find(digest.ToString());
  if (it == blobs_.end()) return NotCommitted(digest);
  // A fresh open file description, as opening LocalStore's file gives.
  const std::string path = FdPath(it->second->memfd.get());
  BERTH_ASSIGN_OR_RETURN(UniqueFd fd, OpenFile(path, O_RDONLY));
  return std::make_unique<BlobReader>(std::move(fd), path, it->second->info.size);
}

Result<std::string> MemoryStore::Path(const oci::Digest& digest) {
  std::lock_guard lock(mu_);
  auto it = blobs_.find(digest.ToString());
  if (it == blobs_.end()) return NotCommitted(digest);
  return FdPath(it->second->memfd.get());
}

Result<std::unique_ptr<IngestWriter>> MemoryStore::Writer(const std::string& ref,
                                                          std::optional<oci::Digest> expected,
                                                          int64_t expected_size) {
  if (ref.empty()) return MakeError(Code::kInvalidArgument, "ingest ref must not be empty");
  if (expected_size < -1) return MakeError(Code::kInvalidArgument, "negative expected size");
  std::lock_guard lock(mu_);
  auto& slot = ingests_[ref];
  const auto now = clock_();
  bool resume = false;
  if (slot) {
    if (slot->locked) return MakeError(Code::kUnavailable, "ingest \"" + ref + "\": ref locked");
    bool digest_ok = !expected || !slot->expected || *expected == *slot->expected;
    bool size_ok =
        expected_size < 0 || slot->expected_size < 0 || expected_size == slot->expected_size;
    resume = digest_ok && size_ok;
    if (resume) {
      if (!expected) expected = slot->expected;
      if (expected_size < 0) expected_size = slot->expected_size;
      if (expected_size >= 0 && static_cast<int64_t>(slot->data.size()) > expected_size)
        resume = false;
    }
  }
  if (!resume) {
    slot = std::make_unique<Ingest>();
    slot->started_at = now;
    slot->updated_at = now;
  }
  slot->expected = expected;
  slot->expected_size = expected_size;
  slot->locked = true;
  internal::Hasher hasher(expected ? expected->algorithm() : oci::Algorithm::kSha256);
  hasher.Update(slot->data);
  return std::unique_ptr<IngestWriter>(
      std::make_unique<MemoryIngestWriter>(*this, ref, *slot, std::move(hasher)));
}

Result<std::vector<IngestStatus>> MemoryStore::ListIngests() {
  std::lock_guard lock(mu_);
  std::vector<IngestStatus> out;
  for (const auto& [ref, in] : ingests_) {
    out.push_back({ref, static_cast<int64_t>(in->data.size()), in->expected_size, in->expected,
                   in->started_at, in->updated_at});
  }
  return out;
}

Status MemoryStore::Abort(const std::string& ref) {
  std::lock_guard lock(mu_);
  auto it = ingests_.find(ref);
  if (it == ingests_.end()) return MakeError(Code::kNotFound, "ingest \"" + ref + "\" not found");
  if (it->second->locked)
    return MakeError(Code::kUnavailable, "ingest \"" + ref + "\": ref locked");
  ingests_.erase(it);
  return Ok();
}

Result<std::vector<content::Info>> MemoryStore::List() {
  std::lock_guard lock(mu_);
  std::vector<content::Info> out;
  for (const auto& [key, blob] : blobs_) out.push_back(blob->info);
  return out;
}

Status MemoryStore::Walk(const std::function<Status(const content::Info&)>& fn) {
  BERTH_ASSIGN_OR_RETURN(auto all, List());
  for (const auto& info : all) BERTH_RETURN_IF_ERROR(fn(info));
  return Ok();
}

Status MemoryStore::SetLabels(const oci::Digest& digest, const Labels& labels) {
  std::lock_guard lock(mu_);
  auto it = blobs_.find(digest.ToString());
  if (it == blobs_.end()) return NotCommitted(digest);
  it->second->info.labels = labels;
  return Ok();
}

Status MemoryStore::Delete(const oci::Digest& digest) {
  std::lock_guard lock(mu_);
  const std::string key = digest.ToString();
  auto ref = refs_.lower_bound({key, ""});
  if (ref != refs_.end() && ref->first == key) {
    return MakeError(Code::kFailedPrecondition,
                     "content " + key + " is referenced by " + ref->second);
  }
  if (blobs_.erase(key) == 0) return NotCommitted(digest);
  return Ok();
}

Status MemoryStore::AddReference(const oci::Digest& digest, const std::string& owner) {
  if (owner.empty()) return MakeError(Code::kInvalidArgument, "reference owner must not be empty");
  std::lock_guard lock(mu_);
  refs_.insert({digest.ToString(), owner});
  return Ok();
}

Status MemoryStore::RemoveReference(const oci::Digest& digest, const std::string& owner) {
  std::lock_guard lock(mu_);
  if (refs_.erase({digest.ToString(), owner}) == 0) {
    return MakeError(Code::kNotFound, owner + " holds no reference to " + digest.ToString());
  }
  return Ok();
}

Result<int64_t> MemoryStore::RemoveOwner(const std::string& owner) {
  std::lock_guard lock(mu_);
  int64_t n = 0;
  for (auto it = refs_.begin(); it != refs_.end();) {
    if (it->second == owner) {
      it = refs_.erase(it);
      ++n;
    } else {
      ++it;
    }
  }
  return n;
}

Result<std::vector<std::string>> MemoryStore::Owners(const oci::Digest& digest) {
  std::lock_guard lock(mu_);
  const std::string key = digest.ToString();
  std::vector<std::string> out;
  for (auto it = refs_.lower_bound({key, ""}); it != refs_.end() && it->first == key; ++it) {
    out.push_back(it->second);
  }
  return out;
}

Result<std::vector<std::string>> MemoryStore::OwnersWithPrefix(const std::string& prefix) {
  std::lock_guard lock(mu_);
  std::set<std::string> owners;
  for (const auto& [digest, owner] : refs_) {
    if (owner.rfind(prefix, 0) == 0) owners.insert(owner);
  }
  return std::vector<std::string>(owners.begin(), owners.end());
}

Result<GcStats> MemoryStore::GarbageCollect(std::chrono::seconds grace) {
  std::lock_guard lock(mu_);
  GcStats stats;
  const auto now = clock_();
  for (auto it = blobs_.begin(); it != blobs_.end();) {
    auto ref = refs_.lower_bound({it->first, ""});
    bool referenced = ref != refs_.end() && ref->first == it->first;
    if (!referenced && it->second->touched_at < now - grace) {
      ++stats.blobs_removed;
      stats.bytes_removed += it->second->info.size;
      it = blobs_.erase(it);
    } else {
      ++it;
    }
  }
  for (auto it = ingests_.begin(); it != ingests_.end();) {
    if (!it->second->locked && it->second->updated_at < now - ingest_expiry_) {
      ++stats.ingests_removed;
      it = ingests_.erase(it);
    } else {
      ++it;
    }
  }
  return stats;
}

}  // namespace berth::content::testing
