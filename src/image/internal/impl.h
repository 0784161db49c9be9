// ImageStore's private state and the helpers shared by its .cc files (store, import/load, save).
#pragma once

#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "base/io.h"
#include "base/result.h"
#include "content/content.h"
#include "image/image_store.h"
#include "image/internal/layer_syncer.h"
#include "oci/digest.h"
#include "snapshot/snapshotter.h"
#include "sql/database.h"
#include "sys/syscalls.h"

namespace berth::image {

// What one mutating operation created, so that a failure can undo exactly that.
struct Undo {
  std::vector<std::string> snapshots;  // committed names or active keys, newest last
  std::vector<oci::Digest> blobs;      // blobs this operation committed (did not exist before)
};

struct ImageStore::Impl {
  sql::Database& db;
  content::Store& content;
  snapshot::Snapshotter& snapshots;
  sys::Syscalls& sys;
  StoreOptions options;
  UsageChecker* usage = nullptr;
  // Serialises operations that create or remove layers and images, so that a layer one
  // operation is creating is never removed by another's rollback. Reads do not take it.
  std::mutex op_mu;

  // Last member: destroyed (its pending syncs finished, its thread joined) before the rest.
  std::unique_ptr<LayerSyncer> syncer;

  Impl(sql::Database& d, content::Store& c, snapshot::Snapshotter& s, sys::Syscalls& y,
       StoreOptions o)
      : db(d), content(c), snapshots(s), sys(y), options(std::move(o)) {
    syncer = std::make_unique<LayerSyncer>(
        [this](const std::vector<oci::Digest>& chains) { SyncLayersNow(chains); });
  }

  // --- metadata (image_store.cc) ---
  Result<std::optional<LayerInfo>> FindLayer(const oci::Digest& chain_id);
  Result<Image> LoadImage(const oci::Digest& id);
  Result<std::vector<oci::Digest>> AllImageIds();
  // Records a complete image (its blobs and snapshots must exist) and points `tags` at it,
  // in one transaction with the content references that keep its blobs.
  Status CommitImage(const Image& image, const std::vector<oci::Reference>& tags);
  // Deletes an image's rows and references, then the layers and blobs nothing else uses.
  Result<int64_t> DeleteImage(const oci::Digest& id);
  Status PutTag(const oci::Reference& ref, const oci::Digest& id);

  // --- layers (layers.cc) ---
  // Unpacks `blob` onto the snapshot `parent` (empty for a base layer); the result is the
  // committed snapshot named by the chain ID. When `store_blob` the raw bytes are stored as a
  // content blob in the same pass. A layer whose chain already exists is read (to verify its
  // digest) but not kept twice.
  Result<LayerInfo> UnpackLayer(Reader& blob, const oci::Digest& parent_chain, bool store_blob,
                                Undo& undo);
  void Rollback(Undo& undo);
  // The uncompressed or compressed blob of `layer` as its images name it: the stored blob, or
  // for a layer kept as tree + tar-split the stream regenerated from them, verified against
  // the diff_id while it streams (DataLoss, never wrong bytes). Size: layer.blob_size.
  Result<std::unique_ptr<Reader>> OpenLayerBlob(const LayerInfo& layer);
  // Checks a layer kept as tree + tar-split: its tree against the entries, then the
  // regenerated stream against the diff_id. DataLoss on any difference.
  Status VerifyLayer(const LayerInfo& layer);

  // --- durability (durability.cc) ---
  // syncfs of the layers' file system, then their rows are marked durable. Errors are logged
  // (the layers stay unsynced: the next start syncs or verifies them).
  void SyncLayersNow(const std::vector<oci::Digest>& chains);
  // At start: layers left unsynced. From this boot: synced now. From another boot: verified;
  // images with a layer that fails are deleted and reported lost.
  Status RecoverUnsyncedLayers();

  // Writes a small blob (config, manifest), remembering it in `undo` if it is new.
  Result<oci::Digest> PutBlob(std::string_view bytes, Undo& undo);

  // Stores the config and a manifest for `config_bytes` + `layers`; fills the image fields.
  // `manifest_bytes`, when given and naming exactly that config and those layer blobs, is kept
  // as the manifest (so a loaded image keeps the digest it was saved with).
  Result<Image> AssembleImage(std::string config_bytes, std::vector<LayerInfo> layers, Undo& undo,
                              const std::string* manifest_bytes = nullptr);
};

// Names of what an operation in flight holds: active snapshots and ingests being unpacked
// ("unpack-..."), the content lease of a load ("lease:load-..."). Init drops leftovers.
inline constexpr std::string_view kUnpackPrefix = "unpack-";
inline constexpr std::string_view kLoadLeasePrefix = "lease:load-";

// "image:sha256:..." — the owner of an image's content references.
std::string ImageOwner(const oci::Digest& id);

}  // namespace berth::image
