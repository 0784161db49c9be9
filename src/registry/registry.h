// Registry: the OCI distribution API (/v2/...) over a BlobStore and a RegistryMeta, as an
// HttpHandler, plus garbage collection. What each endpoint answers, and why, is in
// docs/design/registry.md; the spec is shared/specs/oci-distribution/spec.md.
//
// Ownership: borrows the stores and the database, which must outlive it.
// Thread-safety: Handle may run on many connections at once; CollectGarbage too.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "base/result.h"
#include "registry/http_server.h"

namespace berth::sql {
class Database;
}  // namespace berth::sql
namespace berth::storage {
class BlobStore;
}  // namespace berth::storage
namespace berth::meta {
class RegistryMeta;
}  // namespace berth::meta
namespace berth::auth {
class HtpasswdAuthenticator;
}  // namespace berth::auth

namespace berth::registry {

class Metrics;

struct RegistryOptions {
  // Served at /metrics when set (borrowed).
  const Metrics* metrics = nullptr;
  // When set (borrowed), every /v2/ request needs basic credentials: 401 UNAUTHORIZED
  // without valid ones, 403 DENIED for a read-only user's push or delete. Unset: anonymous.
  auth::HtpasswdAuthenticator* authenticator = nullptr;
  size_t max_manifest_bytes = 4 << 20;
  // Threads for work that blocks (fsync at upload commit, GC).
  int blocking_threads = 2;
  std::function<std::chrono::system_clock::time_point()> clock = [] {
    return std::chrono::system_clock::now();
  };
  // Blobs pushed more recently than this are kept by GC even if no manifest references them
  // yet; uploads untouched for longer than upload_expiry are removed.
  std::chrono::seconds gc_grace = std::chrono::hours(1);
  std::chrono::seconds upload_expiry = std::chrono::hours(24);
};

struct GcReport {
  int64_t blobs_removed = 0;
  int64_t bytes_removed = 0;
  int64_t uploads_removed = 0;
};

class Registry {
 public:
  Registry(sql::Database& db, storage::BlobStore& blobs, meta::RegistryMeta& meta,
           RegistryOptions options = {});
  ~Registry();
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // Serves /v2/..., /healthz and /metrics; anything else is 404.
  Awaitable<void> Handle(HttpExchange& exchange);

  // Removes unreferenced blobs older than the grace period and expired uploads. Safe while
  // serving (docs/design/registry.md, "Garbage collection").
  Result<GcReport> CollectGarbage();

  // Waits for the work handed to the blocking pool and stops the pool. Call after the
  // HttpServer serving this registry has stopped and before it is destroyed: a pool thread
  // finishing a job still touches that server's io_context (the executor it resumes on).
  void Shutdown();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace berth::registry
