#include "registry/registry.h"

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <optional>
#include <shared_mutex>
#include <unordered_map>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "auth/htpasswd.h"
#include "base/strings.h"
#include "meta/registry_meta.h"
#include "oci/digest.h"
#include "registry/errors.h"
#include "registry/internal/asio.h"
#include "registry/manifest_info.h"
#include "registry/metrics.h"
#include "registry/v2_path.h"
#include "sql/database.h"
#include "storage/blob_store.h"

namespace berth::registry {

namespace net = boost::asio;
using nlohmann::ordered_json;

namespace {

constexpr size_t kBodyChunk = 256 << 10;
constexpr uint64_t kSpaceCheckBytes = 4 << 20;
constexpr size_t kMaxCacheEntries = 16384;
constexpr std::string_view kOciIndexType = "application/vnd.oci.image.index.v1+json";

ApiError Err(int status, ErrorCode code, std::string message, std::string detail = "") {
  return ApiError{status, code, std::move(message), std::move(detail)};
}

ApiError Internal(const Error& e) {
  spdlog::error("registry: {}", e.message);
  return Err(500, ErrorCode::kUnsupported, "internal error");
}

std::string DigestDetail(const oci::Digest& d) {
  ordered_json j;
  j["digest"] = d.ToString();
  return j.dump();
}

std::string NameDetail(const std::string& name) {
  ordered_json j;
  j["name"] = name;
  return j.dump();
}

std::string NameRefDetail(const std::string& name, const std::string& ref) {
  ordered_json j;
  j["name"] = name;
  j["reference"] = ref;
  return j.dump();
}

std::string ReferenceDetail(const std::string& ref) {
  ordered_json j;
  j["reference"] = ref;
  return j.dump();
}

std::string NewUploadId() {
  std::string h = RandomHex(16);
  return fmt::format("{}-{}-{}-{}-{}", h.substr(0, 8), h.substr(8, 4), h.substr(12, 4),
                     h.substr(16, 4), h.substr(20));
}

// A non-negative decimal of at most 18 digits (so it fits int64_t); nullopt otherwise.
std::optional<int64_t> ParseDecimal(std::string_view s) {
  if (s.empty() || s.size() > 18) return std::nullopt;
  int64_t out = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    out = out * 10 + (c - '0');
  }
  return out;
}

// "a-b" (the spec's Content-Range for chunks). Also accepts "bytes a-b/total" and
// "bytes=a-b" as some clients send.
std::optional<std::pair<int64_t, int64_t>> ParseContentRange(std::string_view v) {
  if (v.starts_with("bytes=")) v.remove_prefix(6);
  if (v.starts_with("bytes ")) v.remove_prefix(6);
  if (size_t slash = v.find('/'); slash != std::string_view::npos) v = v.substr(0, slash);
  size_t dash = v.find('-');
  if (dash == std::string_view::npos || dash == 0 || dash + 1 >= v.size()) return std::nullopt;
  auto a = ParseDecimal(v.substr(0, dash));
  auto b = ParseDecimal(v.substr(dash + 1));
  if (!a || !b || *b < *a) return std::nullopt;
  return std::make_pair(*a, *b);
}

// A single "bytes=a-b", "bytes=a-" or "bytes=-n" range of a blob of `size` bytes. nullopt
// when absent or not of that form (served whole, as RFC 9110 allows); {-1,-1} when it is
// not satisfiable.
std::optional<std::pair<int64_t, int64_t>> ParseRange(std::string_view v, int64_t size) {
  if (!v.starts_with("bytes=")) return std::nullopt;
  v.remove_prefix(6);
  if (v.find(',') != std::string_view::npos) return std::nullopt;
  size_t dash = v.find('-');
  if (dash == std::string_view::npos) return std::nullopt;
  std::string_view first = v.substr(0, dash), last = v.substr(dash + 1);
  if (first.empty()) {
    auto n = ParseDecimal(last);
    if (!n) return std::nullopt;
    if (*n == 0 || size == 0) return std::make_pair(int64_t{-1}, int64_t{-1});
    return std::make_pair(std::max<int64_t>(0, size - *n), size - 1);
  }
  auto a = ParseDecimal(first);
  if (!a) return std::nullopt;
  int64_t b = size - 1;
  if (!last.empty()) {
    auto parsed = ParseDecimal(last);
    if (!parsed || *parsed < *a) return std::nullopt;
    b = std::min(*parsed, size - 1);
  }
  if (*a >= size) return std::make_pair(int64_t{-1}, int64_t{-1});
  return std::make_pair(*a, b);
}

}  // namespace

struct Registry::Impl {
  sql::Database& db;
  storage::BlobStore& blobs;
  meta::RegistryMeta& meta;
  RegistryOptions options;
  net::thread_pool pool;

  // Read caches for the hot paths (manifest GET/HEAD, blob GET/HEAD). Every write that
  // could change an answer bumps `generation` and clears them; a reader only inserts what
  // it looked up under the generation it started with, so a stale answer never lands.
  struct CachedManifest {
    meta::ManifestRecord record;
    std::string bytes;
  };
  std::shared_mutex cache_mu;
  uint64_t generation = 0;
  std::unordered_map<std::string, std::shared_ptr<const CachedManifest>> manifest_cache;
  std::unordered_map<std::string, int64_t> link_cache;

  Impl(sql::Database& d, storage::BlobStore& b, meta::RegistryMeta& m, RegistryOptions o)
      : db(d), blobs(b), meta(m), options(std::move(o)),
        pool(static_cast<size_t>(std::max(1, options.blocking_threads))) {}

  ~Impl() { pool.join(); }

  // Runs f() on the blocking pool; the coroutine resumes on its own executor.
  template <typename F>
  Awaitable<std::invoke_result_t<F&>> Blocking(F f) {
    using R = std::invoke_result_t<F&>;
    std::optional<R> out;
    co_await net::co_spawn(
        pool.get_executor(),
        [&]() -> Awaitable<void> {
          out.emplace(f());
          co_return;
        },
        net::use_awaitable);
    co_return std::move(*out);
  }

  uint64_t Generation() {
    std::shared_lock lock(cache_mu);
    return generation;
  }
  void Invalidate() {
    std::unique_lock lock(cache_mu);
    ++generation;
    manifest_cache.clear();
    link_cache.clear();
  }

  Awaitable<void> Fail(HttpExchange& ex, const ApiError& e) {
    (void)co_await ex.Respond(e.status, "application/json", ErrorBody(e));
  }

  // --- blobs

  Result<int64_t> LinkedSize(const std::string& name, const oci::Digest& d) {
    std::string key = name + '\n' + d.ToString();
    uint64_t gen;
    {
      std::shared_lock lock(cache_mu);
      if (auto it = link_cache.find(key); it != link_cache.end()) return it->second;
      gen = generation;
    }
    auto size = meta.LinkedBlobSize(name, d);
    if (size.ok()) {
      std::unique_lock lock(cache_mu);
      if (gen == generation) {
        if (link_cache.size() >= kMaxCacheEntries) link_cache.clear();
        link_cache.emplace(std::move(key), *size);
      }
    }
    return size;
  }

  Awaitable<void> GetBlob(HttpExchange& ex, const std::string& name, const std::string& ref) {
    auto digest = oci::Digest::Parse(ref);
    if (!digest) co_return co_await Fail(ex, Err(400, ErrorCode::kDigestInvalid, digest.error().message));
    auto size = LinkedSize(name, *digest);
    if (!size) {
      if (size.error().code == Code::kNotFound) {
        co_return co_await Fail(ex, Err(404, ErrorCode::kBlobUnknown, "blob unknown to registry",
                                        DigestDetail(*digest)));
      }
      co_return co_await Fail(ex, Internal(size.error()));
    }
    ex.SetHeader("Docker-Content-Digest", digest->ToString());
    ex.SetHeader("ETag", "\"" + digest->ToString() + "\"");
    ex.SetHeader("Accept-Ranges", "bytes");
    ex.SetHeader("Cache-Control", "max-age=31536000");
    int64_t offset = 0, length = *size;
    int status = 200;
    if (auto range = ParseRange(ex.Header("Range"), *size)) {
      if (range->first < 0) {
        ex.SetHeader("Content-Range", fmt::format("bytes */{}", *size));
        co_return co_await Fail(ex, Err(416, ErrorCode::kBlobUnknown, "range not satisfiable"));
      }
      status = 206;
      offset = range->first;
      length = range->second - range->first + 1;
      ex.SetHeader("Content-Range", fmt::format("bytes {}-{}/{}", range->first, range->second, *size));
    }
    if (ex.method() == "HEAD") {
      (void)co_await ex.RespondFile(status, "application/octet-stream", -1, offset, length);
      co_return;
    }
    auto opened = blobs.OpenBlob(*digest);
    if (!opened) {
      if (opened.error().code == Code::kNotFound) {
        spdlog::error("registry: blob {} is linked to {} but its file is missing", ref, name);
        co_return co_await Fail(ex, Err(404, ErrorCode::kBlobUnknown, "blob unknown to registry",
                                        DigestDetail(*digest)));
      }
      co_return co_await Fail(ex, Internal(opened.error()));
    }
    (void)co_await ex.RespondFile(status, "application/octet-stream", opened->first.get(), offset,
                                  length);
  }

  Awaitable<void> DeleteBlob(HttpExchange& ex, const std::string& name, const std::string& ref) {
    auto digest = oci::Digest::Parse(ref);
    if (!digest) co_return co_await Fail(ex, Err(400, ErrorCode::kDigestInvalid, digest.error().message));
    Status st = co_await Blocking([&] { return meta.UnlinkBlob(name, *digest); });
    Invalidate();
    if (!st) {
      if (st.error().code == Code::kNotFound) {
        co_return co_await Fail(ex, Err(404, ErrorCode::kBlobUnknown, "blob unknown to registry",
                                        DigestDetail(*digest)));
      }
      co_return co_await Fail(ex, Internal(st.error()));
    }
    (void)co_await ex.Respond(202, "", "");
  }

  // --- uploads

  std::string UploadLocation(const std::string& name, const std::string& id) {
    return fmt::format("/v2/{}/blobs/uploads/{}", name, id);
  }

  void SetUploadHeaders(HttpExchange& ex, const std::string& name, const std::string& id,
                        int64_t offset) {
    ex.SetHeader("Location", UploadLocation(name, id));
    ex.SetHeader("Range", fmt::format("0-{}", offset > 0 ? offset - 1 : 0));
    ex.SetHeader("Docker-Upload-UUID", id);
  }

  // Appends the request body to `upload`. On error the response has been sent.
  Awaitable<bool> ReceiveBody(HttpExchange& ex, storage::Upload& upload) {
    if (auto length = ex.content_length(); length && *length > 0) {
      // Refuse what cannot fit before taking any of it (a Content-Length of a terabyte).
      auto available = blobs.AvailableBytes();
      if (available.ok() && *length > *available) {
        co_await Fail(ex, Err(413, ErrorCode::kSizeInvalid,
                              fmt::format("a body of {} bytes does not fit: {} bytes are free", *length,
                                          *available)));
        co_return false;
      }
    }
    std::vector<char> buf(kBodyChunk);
    // A body of unknown length (chunked), or several at once, can still fill the disk: the
    // free space is looked at again every kSpaceCheckBytes, and the upload stops while some
    // is left, as it does on ENOSPC.
    uint64_t since_check = 0;
    auto disk_full = [&]() -> Awaitable<bool> {
      co_await Fail(ex, Err(413, ErrorCode::kSizeInvalid, "the registry's storage is full"));
      co_return false;
    };
    for (;;) {
      auto n = co_await ex.ReadBody(buf.data(), buf.size());
      if (!n) {
        co_await Fail(ex, Err(400, ErrorCode::kBlobUploadInvalid, n.error().message));
        co_return false;
      }
      if (*n == 0) co_return true;
      since_check += *n;
      if (since_check >= kSpaceCheckBytes) {
        since_check = 0;
        auto available = blobs.AvailableBytes();
        if (available.ok() && *available < kSpaceCheckBytes) co_return co_await disk_full();
      }
      if (Status st = upload.Append(std::string_view(buf.data(), *n)); !st) {
        if (st.error().sys_errno == ENOSPC || st.error().sys_errno == EDQUOT) {
          co_return co_await disk_full();
        }
        co_await Fail(ex, Internal(st.error()));
        co_return false;
      }
    }
  }

  // Checks a chunk's Content-Range against the upload's offset. On error the response has
  // been sent.
  Awaitable<bool> CheckChunkRange(HttpExchange& ex, const std::string& name, storage::Upload& upload) {
    if (!ex.HasHeader("Content-Range")) co_return true;
    auto range = ParseContentRange(ex.Header("Content-Range"));
    int64_t offset = upload.Offset();
    auto length = ex.content_length();
    if (!range || range->first != offset ||
        (length && static_cast<int64_t>(*length) != range->second - range->first + 1)) {
      SetUploadHeaders(ex, name, upload.id(), offset);
      co_await Fail(ex, Err(416, ErrorCode::kBlobUploadInvalid,
                            fmt::format("chunk range {} does not continue the upload at offset {}",
                                        ex.Header("Content-Range"), offset)));
      co_return false;
    }
    co_return true;
  }

  // The upload `id` of repository `name`, held exclusively. On error the response has been
  // sent and nullptr returned.
  Awaitable<std::unique_ptr<storage::Upload>> AcquireUpload(HttpExchange& ex, const std::string& name,
                                                            const std::string& id) {
    auto rec = meta.GetUpload(id);
    if (!rec || rec->repository != name) {
      if (rec || rec.error().code == Code::kNotFound) {
        co_await Fail(ex, Err(404, ErrorCode::kBlobUploadUnknown, "blob upload unknown to registry"));
      } else {
        co_await Fail(ex, Internal(rec.error()));
      }
      co_return nullptr;
    }
    auto upload = blobs.Acquire(id);
    if (!upload) {
      if (upload.error().code == Code::kNotFound || upload.error().code == Code::kInvalidArgument) {
        co_await Fail(ex, Err(404, ErrorCode::kBlobUploadUnknown, "blob upload unknown to registry"));
      } else if (upload.error().code == Code::kUnavailable) {
        co_await Fail(ex, Err(416, ErrorCode::kBlobUploadInvalid,
                              "another request is writing to this upload"));
      } else {
        co_await Fail(ex, Internal(upload.error()));
      }
      co_return nullptr;
    }
    co_return std::move(*upload);
  }

  // Verifies and publishes the upload as `digest` in `name`, then answers 201.
  Awaitable<void> FinishUpload(HttpExchange& ex, const std::string& name,
                               std::unique_ptr<storage::Upload> upload, const oci::Digest& digest) {
    std::string id = upload->id();
    auto committed = co_await Blocking([&]() -> Result<int64_t> {
      // The data goes to disk before the transaction, so the metadata lock is held for the
      // rename and the rows only, not for the fsync of a large blob. (A mismatching digest is
      // found by Commit below; syncing it first costs nothing but time.)
      if (Status st = upload->Sync(); !st) return st.error();
      auto txn = sql::Transaction::Begin(db);
      if (!txn) return txn.error();
      auto size = blobs.Commit(std::move(upload), digest);
      if (!size) {
        (void)meta.DeleteUpload(id);
        (void)txn->Commit();
        return size.error();
      }
      if (Status st = meta.AddBlob(name, digest, *size, options.clock()); !st) return st.error();
      if (Status st = meta.DeleteUpload(id); !st && st.error().code != Code::kNotFound) return st.error();
      if (Status st = txn->Commit(); !st) return st.error();
      return *size;
    });
    Invalidate();
    if (!committed) {
      const Error& e = committed.error();
      if (e.code == Code::kDataLoss) {
        co_return co_await Fail(ex, Err(400, ErrorCode::kDigestInvalid, e.message, DigestDetail(digest)));
      }
      if (e.code == Code::kInvalidArgument) {
        co_return co_await Fail(ex, Err(400, ErrorCode::kSizeInvalid, e.message));
      }
      co_return co_await Fail(ex, Internal(e));
    }
    ex.SetHeader("Location", fmt::format("/v2/{}/blobs/{}", name, digest.ToString()));
    ex.SetHeader("Docker-Content-Digest", digest.ToString());
    (void)co_await ex.Respond(201, "", "");
  }

  Awaitable<void> StartUpload(HttpExchange& ex, const std::string& name) {
    if (ex.HasQuery("mount")) {
      auto digest = oci::Digest::Parse(ex.Query("mount"));
      if (!digest) co_return co_await Fail(ex, Err(400, ErrorCode::kDigestInvalid, digest.error().message));
      std::string from(ex.Query("from"));
      bool mountable = false;
      if (!from.empty()) {
        mountable = IsValidRepositoryName(from) && meta.LinkedBlobSize(from, *digest).ok();
      } else {
        mountable = meta.BlobSize(*digest).ok();
      }
      if (mountable) {
        Status st = co_await Blocking([&] { return meta.LinkBlob(name, *digest, options.clock()); });
        Invalidate();
        if (st) {
          ex.SetHeader("Location", fmt::format("/v2/{}/blobs/{}", name, digest->ToString()));
          ex.SetHeader("Docker-Content-Digest", digest->ToString());
          co_return (void)co_await ex.Respond(201, "", "");
        }
        if (st.error().code != Code::kNotFound) co_return co_await Fail(ex, Internal(st.error()));
      }
      // Not mountable: an ordinary upload session instead (202), as the spec says.
    }
    if (ex.HasQuery("digest-algorithm")) {
      std::string_view a = ex.Query("digest-algorithm");
      if (a != "sha256" && a != "sha512") {
        co_return co_await Fail(ex, Err(400, ErrorCode::kUnsupported,
                                        fmt::format("digest algorithm {} is not supported", a)));
      }
    }
    std::optional<oci::Digest> monolithic;
    if (ex.HasQuery("digest")) {
      auto digest = oci::Digest::Parse(ex.Query("digest"));
      if (!digest) co_return co_await Fail(ex, Err(400, ErrorCode::kDigestInvalid, digest.error().message));
      monolithic = *digest;
    }
    std::string id = NewUploadId();
    Status created = co_await Blocking([&]() -> Status {
      if (Status st = blobs.CreateUpload(id); !st) return st;
      return meta.CreateUpload(meta::UploadRecord{id, name, options.clock()});
    });
    if (!created) co_return co_await Fail(ex, Internal(created.error()));
    if (!monolithic) {
      SetUploadHeaders(ex, name, id, 0);
      co_return (void)co_await ex.Respond(202, "", "");
    }
    auto upload = blobs.Acquire(id);
    if (!upload) co_return co_await Fail(ex, Internal(upload.error()));
    if (!co_await ReceiveBody(ex, **upload)) {
      // A single-request push that failed leaves nothing behind (no session to resume).
      upload->reset();
      (void)co_await Blocking([&]() -> Status {
        (void)blobs.DeleteUpload(id);
        return meta.DeleteUpload(id);
      });
      co_return;
    }
    co_await FinishUpload(ex, name, std::move(*upload), *monolithic);
  }

  Awaitable<void> PatchUpload(HttpExchange& ex, const std::string& name, const std::string& id) {
    auto upload = co_await AcquireUpload(ex, name, id);
    if (!upload) co_return;
    if (!co_await CheckChunkRange(ex, name, *upload)) co_return;
    if (!co_await ReceiveBody(ex, *upload)) co_return;
    int64_t offset = upload->Offset();
    // Released before the answer: a client may send its next request for this upload (on
    // another connection) as soon as it reads the 202.
    upload.reset();
    SetUploadHeaders(ex, name, id, offset);
    (void)co_await ex.Respond(202, "", "");
  }

  Awaitable<void> PutUpload(HttpExchange& ex, const std::string& name, const std::string& id) {
    auto digest = oci::Digest::Parse(ex.Query("digest"));
    if (!digest) {
      co_return co_await Fail(ex, Err(400, ErrorCode::kDigestInvalid,
                                      ex.HasQuery("digest") ? digest.error().message
                                                            : "the digest query parameter is required"));
    }
    auto upload = co_await AcquireUpload(ex, name, id);
    if (!upload) co_return;
    if (!co_await CheckChunkRange(ex, name, *upload)) co_return;
    if (!co_await ReceiveBody(ex, *upload)) co_return;
    co_await FinishUpload(ex, name, std::move(upload), *digest);
  }

  Awaitable<void> UploadStatus(HttpExchange& ex, const std::string& name, const std::string& id) {
    auto upload = co_await AcquireUpload(ex, name, id);
    if (!upload) co_return;
    int64_t offset = upload->Offset();
    upload.reset();  // released before the answer, as in PatchUpload
    SetUploadHeaders(ex, name, id, offset);
    (void)co_await ex.Respond(204, "", "");
  }

  Awaitable<void> CancelUpload(HttpExchange& ex, const std::string& name, const std::string& id) {
    auto upload = co_await AcquireUpload(ex, name, id);
    if (!upload) co_return;
    upload.reset();
    Status st = co_await Blocking([&]() -> Status {
      if (Status s = blobs.DeleteUpload(id); !s && s.error().code != Code::kNotFound) return s;
      return meta.DeleteUpload(id);
    });
    if (!st) co_return co_await Fail(ex, Internal(st.error()));
    (void)co_await ex.Respond(204, "", "");
  }

  // --- manifests

  Result<std::shared_ptr<const CachedManifest>> LoadManifest(const std::string& name,
                                                            const std::string& ref,
                                                            const std::optional<oci::Digest>& digest) {
    std::string key = name + '\n' + ref;
    uint64_t gen;
    {
      std::shared_lock lock(cache_mu);
      if (auto it = manifest_cache.find(key); it != manifest_cache.end()) return it->second;
      gen = generation;
    }
    auto record = digest ? meta.GetManifest(name, *digest) : meta.GetManifest(name, ref);
    if (!record) return record.error();
    auto bytes = blobs.ReadBlob(record->digest, options.max_manifest_bytes);
    if (!bytes) return bytes.error().WithContext("manifest " + record->digest.ToString());
    auto entry = std::make_shared<const CachedManifest>(CachedManifest{std::move(*record), std::move(*bytes)});
    std::unique_lock lock(cache_mu);
    if (gen == generation) {
      if (manifest_cache.size() >= kMaxCacheEntries) manifest_cache.clear();
      manifest_cache.emplace(std::move(key), entry);
    }
    return entry;
  }

  // Parses a manifest reference: a digest (contains ':') or a tag. On error the response
  // has been sent.
  Awaitable<bool> ParseReference(HttpExchange& ex, const std::string& ref,
                                 std::optional<oci::Digest>& digest) {
    if (ref.find(':') != std::string::npos) {
      auto d = oci::Digest::Parse(ref);
      if (!d) {
        co_await Fail(ex, Err(400, ErrorCode::kDigestInvalid, d.error().message));
        co_return false;
      }
      digest = *d;
      co_return true;
    }
    if (!IsValidTagName(ref)) {
      // No manifest can have such a tag: reading it is "unknown" (as the conformance suite
      // expects), pushing it is invalid.
      if (ex.method() == "PUT") {
        co_await Fail(ex, Err(400, ErrorCode::kManifestInvalid, fmt::format("invalid tag \"{}\"", ref)));
      } else {
        co_await Fail(ex, Err(404, ErrorCode::kManifestUnknown, "manifest unknown to registry",
                              ReferenceDetail(ref)));
      }
      co_return false;
    }
    co_return true;
  }

  Awaitable<void> GetManifest(HttpExchange& ex, const std::string& name, const std::string& ref) {
    std::optional<oci::Digest> digest;
    if (!co_await ParseReference(ex, ref, digest)) co_return;
    auto m = LoadManifest(name, ref, digest);
    if (!m) {
      if (m.error().code == Code::kNotFound) {
        co_return co_await Fail(ex, Err(404, ErrorCode::kManifestUnknown, "manifest unknown to registry",
                                        NameRefDetail(name, ref)));
      }
      co_return co_await Fail(ex, Internal(m.error()));
    }
    ex.SetHeader("Docker-Content-Digest", (*m)->record.digest.ToString());
    ex.SetHeader("ETag", "\"" + (*m)->record.digest.ToString() + "\"");
    (void)co_await ex.Respond(200, (*m)->record.media_type, (*m)->bytes);
  }

  Awaitable<void> PutManifest(HttpExchange& ex, const std::string& name, const std::string& ref) {
    std::optional<oci::Digest> ref_digest;
    if (!co_await ParseReference(ex, ref, ref_digest)) co_return;
    std::vector<std::string> tags;
    if (!ref_digest) tags.push_back(ref);
    for (const auto& [k, v] : ex.query()) {
      if (k != "tag") continue;
      if (!IsValidTagName(v)) {
        co_return co_await Fail(ex, Err(400, ErrorCode::kManifestInvalid, fmt::format("invalid tag \"{}\"", v)));
      }
      if (std::find(tags.begin(), tags.end(), v) == tags.end()) tags.push_back(v);
    }
    size_t limit = options.max_manifest_bytes;
    if (auto len = ex.content_length(); len && *len > limit) {
      co_return co_await Fail(ex, Err(413, ErrorCode::kSizeInvalid,
                                      fmt::format("manifest of {} bytes exceeds the limit of {}", *len, limit)));
    }
    std::string bytes;
    {
      std::vector<char> buf(64 << 10);
      for (;;) {
        auto n = co_await ex.ReadBody(buf.data(), buf.size());
        if (!n) co_return co_await Fail(ex, Err(400, ErrorCode::kManifestInvalid, n.error().message));
        if (*n == 0) break;
        if (bytes.size() + *n > limit) {
          co_return co_await Fail(ex, Err(413, ErrorCode::kSizeInvalid,
                                          fmt::format("manifest exceeds the limit of {} bytes", limit)));
        }
        bytes.append(buf.data(), *n);
      }
    }
    auto info = AnalyzeManifest(bytes, ex.Header("Content-Type"));
    if (!info) co_return co_await Fail(ex, Err(400, ErrorCode::kManifestInvalid, info.error().message));
    oci::Digest digest = oci::Digest::Of(bytes, ref_digest ? ref_digest->algorithm() : oci::Algorithm::kSha256);
    if (ref_digest && digest != *ref_digest) {
      co_return co_await Fail(ex, Err(400, ErrorCode::kDigestInvalid,
                                      fmt::format("manifest digest {} does not match {}", digest.ToString(),
                                                  ref_digest->ToString()),
                                      DigestDetail(*ref_digest)));
    }
    meta::ManifestRecord record;
    record.digest = digest;
    record.media_type = info->media_type;
    record.size = static_cast<int64_t>(bytes.size());
    record.subject = info->subject;
    record.artifact_type = info->artifact_type;
    record.annotations_json = info->annotations_json;
    meta::ManifestRefs refs{info->blobs, info->manifests};

    Status stored = co_await Blocking([&]() -> Status {
      // The bytes first (fsynced), then the rows; a crash in between leaves an unreferenced
      // file that GC removes.
      if (digest.algorithm() == oci::Algorithm::kSha256) {
        auto put = blobs.PutBlob(bytes);
        if (!put) return put.error();
      } else {
        std::string id = NewUploadId();
        if (Status st = blobs.CreateUpload(id); !st) return st;
        auto upload = blobs.Acquire(id);
        if (!upload) return upload.error();
        if (Status st = (*upload)->Append(bytes); !st) return st;
        if (auto c = blobs.Commit(std::move(*upload), digest); !c) return c.error();
      }
      auto txn = sql::Transaction::Begin(db);
      if (!txn) return txn.error();
      auto now = options.clock();
      if (Status st = meta.AddBlob(name, digest, record.size, now); !st) return st;
      if (tags.empty()) {
        if (Status st = meta.PutManifest(name, record, refs, std::nullopt, now); !st) return st;
      }
      for (const std::string& tag : tags) {
        if (Status st = meta.PutManifest(name, record, refs, tag, now); !st) return st;
      }
      return txn->Commit();
    });
    Invalidate();
    if (!stored) {
      const Error& e = stored.error();
      if (e.code == Code::kFailedPrecondition) {
        co_return co_await Fail(ex, Err(400, ErrorCode::kManifestBlobUnknown, e.message));
      }
      co_return co_await Fail(ex, Internal(e));
    }
    ex.SetHeader("Location", fmt::format("/v2/{}/manifests/{}", name, digest.ToString()));
    ex.SetHeader("Docker-Content-Digest", digest.ToString());
    if (info->subject) ex.SetHeader("OCI-Subject", info->subject->ToString());
    if (ex.HasQuery("tag")) {
      for (const std::string& tag : tags) ex.SetHeader("OCI-Tag", tag);
    }
    (void)co_await ex.Respond(201, "", "");
  }

  Awaitable<void> DeleteManifest(HttpExchange& ex, const std::string& name, const std::string& ref) {
    std::optional<oci::Digest> digest;
    if (!co_await ParseReference(ex, ref, digest)) co_return;
    Status st = co_await Blocking([&] {
      return digest ? meta.DeleteManifest(name, *digest) : meta.DeleteTag(name, ref);
    });
    Invalidate();
    if (!st) {
      if (st.error().code == Code::kNotFound) {
        co_return co_await Fail(ex, Err(404, ErrorCode::kManifestUnknown, "manifest unknown to registry",
                                        NameRefDetail(name, ref)));
      }
      co_return co_await Fail(ex, Internal(st.error()));
    }
    (void)co_await ex.Respond(202, "", "");
  }

  // --- discovery

  // n and last of a paginated list. On error the response has been sent.
  Awaitable<std::optional<meta::Page>> ParsePage(HttpExchange& ex) {
    meta::Page page;
    if (ex.HasQuery("n")) {
      std::string_view n = ex.Query("n");
      int64_t v = 0;
      bool ok = !n.empty() && n.size() <= 9;
      for (char c : n) ok = ok && c >= '0' && c <= '9';
      if (ok) v = std::stoll(std::string(n));
      if (!ok) {
        co_await Fail(ex, Err(400, ErrorCode::kUnsupported, fmt::format("invalid n \"{}\"", n)));
        co_return std::nullopt;
      }
      page.n = v;
    }
    page.last = std::string(ex.Query("last"));
    co_return page;
  }

  Awaitable<void> ListPage(HttpExchange& ex, const std::string& name, bool catalog) {
    auto page = co_await ParsePage(ex);
    if (!page) co_return;
    meta::Page ask = *page;
    if (ask.n >= 0) ask.n += 1;  // one more tells whether there is a next page
    auto list = catalog ? meta.Repositories(ask) : meta.Tags(name, ask);
    if (!list) {
      if (list.error().code == Code::kNotFound) {
        co_return co_await Fail(ex, Err(404, ErrorCode::kNameUnknown, "repository name not known to registry",
                                        NameDetail(name)));
      }
      co_return co_await Fail(ex, Internal(list.error()));
    }
    if (page->n >= 0 && static_cast<int64_t>(list->size()) > page->n) {
      list->resize(static_cast<size_t>(page->n));
      std::string base = catalog ? "/v2/_catalog" : fmt::format("/v2/{}/tags/list", name);
      if (!list->empty()) {
        ex.SetHeader("Link", fmt::format("<{}?n={}&last={}>; rel=\"next\"", base, page->n, list->back()));
      }
    }
    ordered_json body;
    if (catalog) {
      body["repositories"] = *list;
    } else {
      body["name"] = name;
      body["tags"] = *list;
    }
    (void)co_await ex.Respond(200, "application/json", body.dump());
  }

  Awaitable<void> Referrers(HttpExchange& ex, const std::string& name, const std::string& ref) {
    auto digest = oci::Digest::Parse(ref);
    if (!digest) co_return co_await Fail(ex, Err(400, ErrorCode::kDigestInvalid, digest.error().message));
    std::optional<std::string> filter;
    if (ex.HasQuery("artifactType")) filter = std::string(ex.Query("artifactType"));
    auto list = meta.Referrers(name, *digest, filter);
    if (!list) co_return co_await Fail(ex, Internal(list.error()));
    ordered_json manifests = ordered_json::array();
    for (const meta::ManifestRecord& r : *list) {
      ordered_json d;
      d["mediaType"] = r.media_type;
      d["digest"] = r.digest.ToString();
      d["size"] = r.size;
      if (!r.artifact_type.empty()) d["artifactType"] = r.artifact_type;
      if (!r.annotations_json.empty()) {
        d["annotations"] = ordered_json::parse(r.annotations_json, nullptr, false);
      }
      manifests.push_back(std::move(d));
    }
    ordered_json body;
    body["schemaVersion"] = 2;
    body["mediaType"] = kOciIndexType;
    body["manifests"] = std::move(manifests);
    if (filter) ex.SetHeader("OCI-Filters-Applied", "artifactType");
    (void)co_await ex.Respond(200, kOciIndexType, body.dump());
  }

  // --- dispatch

  Awaitable<void> Handle(HttpExchange& ex) {
    std::string_view method = ex.method();
    if (ex.path() == "/healthz") {
      co_return (void)co_await ex.Respond(200, "text/plain", "ok\n");
    }
    if (ex.path() == "/metrics" && options.metrics) {
      co_return (void)co_await ex.Respond(200, "text/plain; version=0.0.4", options.metrics->Render());
    }
    ex.SetHeader("Docker-Distribution-API-Version", "registry/2.0");
    if (options.authenticator) {
      std::string authorization(ex.Header("Authorization"));
      auto access = options.authenticator->Cached(authorization);
      if (!access) {
        access = co_await Blocking([&] { return options.authenticator->Verify(authorization); });
      }
      if (*access == auth::Access::kDenied) {
        ex.SetHeader("WWW-Authenticate", "Basic realm=\"berth-registry\"");
        co_return co_await Fail(ex, Err(401, ErrorCode::kUnauthorized, "authentication required"));
      }
      bool writes = method != "GET" && method != "HEAD";
      if (writes && *access != auth::Access::kReadWrite) {
        co_return co_await Fail(ex, Err(403, ErrorCode::kDenied, "requested access to the resource is denied"));
      }
    }
    auto route = ParseV2Path(ex.path());
    if (!route) {
      co_return co_await Fail(ex, Err(404, ErrorCode::kUnsupported, "no such endpoint"));
    }
    using Kind = V2Path::Kind;
    bool get = method == "GET" || method == "HEAD";
    if (route->kind == Kind::kBase) {
      if (!get) co_return co_await Fail(ex, Err(405, ErrorCode::kUnsupported, "method not allowed"));
      co_return (void)co_await ex.Respond(200, "application/json", "{}");
    }
    if (route->kind == Kind::kCatalog) {
      if (method != "GET") co_return co_await Fail(ex, Err(405, ErrorCode::kUnsupported, "method not allowed"));
      co_return co_await ListPage(ex, "", true);
    }
    const std::string& name = route->name;
    if (!IsValidRepositoryName(name)) {
      co_return co_await Fail(ex, Err(400, ErrorCode::kNameInvalid, "invalid repository name",
                                      NameDetail(name)));
    }
    const std::string& ref = route->reference;
    switch (route->kind) {
      case Kind::kManifest:
        if (get) co_return co_await GetManifest(ex, name, ref);
        if (method == "PUT") co_return co_await PutManifest(ex, name, ref);
        if (method == "DELETE") co_return co_await DeleteManifest(ex, name, ref);
        break;
      case Kind::kBlob:
        if (get) co_return co_await GetBlob(ex, name, ref);
        if (method == "DELETE") co_return co_await DeleteBlob(ex, name, ref);
        break;
      case Kind::kUploads:
        if (method == "POST") co_return co_await StartUpload(ex, name);
        break;
      case Kind::kUpload:
        if (method == "PATCH") co_return co_await PatchUpload(ex, name, ref);
        if (method == "PUT") co_return co_await PutUpload(ex, name, ref);
        if (method == "GET") co_return co_await UploadStatus(ex, name, ref);
        if (method == "DELETE") co_return co_await CancelUpload(ex, name, ref);
        break;
      case Kind::kTags:
        if (method == "GET") co_return co_await ListPage(ex, name, false);
        break;
      case Kind::kReferrers:
        if (method == "GET") co_return co_await Referrers(ex, name, ref);
        break;
      default:
        break;
    }
    co_await Fail(ex, Err(405, ErrorCode::kUnsupported, "method not allowed"));
  }

  Result<GcReport> CollectGarbage() {
    GcReport report;
    auto now = options.clock();
    auto before = now - options.gc_grace;
    auto candidates = meta.UnreferencedBlobs(before);
    if (!candidates) return candidates.error();
    for (const meta::GcCandidate& c : *candidates) {
      auto txn = sql::Transaction::Begin(db);
      if (!txn) return txn.error();
      auto forgot = meta.ForgetBlobIfUnreferenced(c.digest, before);
      if (!forgot) return forgot.error();
      if (!*forgot) continue;
      if (Status st = blobs.DeleteBlob(c.digest); !st && st.error().code != Code::kNotFound) {
        return st.error();
      }
      if (Status st = txn->Commit(); !st) return st.error();
      report.blobs_removed++;
      report.bytes_removed += c.size;
    }
    Invalidate();
    // Abandoned uploads: by the time of their last write.
    auto expired = now - options.upload_expiry;
    std::vector<std::string> stale;
    Status walked = blobs.WalkUploads([&](const std::string& id, std::chrono::system_clock::time_point t) {
      if (t < expired) stale.push_back(id);
      return Ok();
    });
    if (!walked) return walked.error();
    for (const std::string& id : stale) {
      Status st = blobs.DeleteUpload(id);
      if (!st && st.error().code == Code::kUnavailable) continue;  // someone is writing to it now
      (void)meta.DeleteUpload(id);
      report.uploads_removed++;
    }
    // Rows whose data is gone (a crash between creating the row and the directory).
    auto rows = meta.UploadsStartedBefore(expired);
    if (!rows) return rows.error();
    for (const meta::UploadRecord& r : *rows) {
      auto held = blobs.Acquire(r.id);
      if (!held && held.error().code == Code::kNotFound) {
        (void)meta.DeleteUpload(r.id);
        report.uploads_removed++;
      }
    }
    return report;
  }
};

Registry::Registry(sql::Database& db, storage::BlobStore& blobs, meta::RegistryMeta& meta,
                   RegistryOptions options)
    : impl_(std::make_unique<Impl>(db, blobs, meta, std::move(options))) {}

Registry::~Registry() = default;

Awaitable<void> Registry::Handle(HttpExchange& exchange) { return impl_->Handle(exchange); }

Result<GcReport> Registry::CollectGarbage() { return impl_->CollectGarbage(); }

void Registry::Shutdown() { impl_->pool.join(); }

}  // namespace berth::registry
