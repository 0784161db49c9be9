// ImageStore: the engine's images. A name (tag) points at an image; an image is a config blob
// (its digest is the image ID), a manifest and layers; each layer is a content blob and an
// unpacked overlay snapshot named by its chain ID, shared by every image that has it.
//
//   tags ──▶ image (config digest) ──▶ manifest blob ──▶ config blob + layer blobs   (content/)
//                                  └─▶ chain IDs ──▶ committed snapshots             (snapshot/)
//
// Metadata lives in the shared meta.db (tables image_*), updated in one transaction per
// operation together with the content references ("image:<id>") that keep blobs alive. Work that
// can fail half-way (unpacking, ingest) happens before that transaction and is undone on error:
// a failed import or load leaves no blob, snapshot or row behind.
//
// Thread-safety: all methods may be called concurrently. Metadata changes are serialised;
// layer unpacking runs outside the lock.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/io.h"
#include "base/result.h"
#include "oci/descriptor.h"
#include "oci/digest.h"
#include "oci/image_config.h"
#include "oci/platform.h"
#include "oci/reference.h"

namespace berth::content {
class Store;
}  // namespace berth::content
namespace berth::snapshot {
class Snapshotter;
}  // namespace berth::snapshot
namespace berth::sql {
class Database;
}  // namespace berth::sql
namespace berth::sys {
class Syscalls;
}  // namespace berth::sys

namespace berth::image {

// Tells whether containers use an image (rmi refuses without force, prune -a skips it).
// Provided by the engine's container store.
class UsageChecker {
 public:
  virtual ~UsageChecker() = default;
  // Short IDs of the containers created from `image_id`; empty if none.
  virtual std::vector<std::string> ContainersUsing(const oci::Digest& image_id) = 0;
};

struct LayerInfo {
  oci::Digest chain_id;
  oci::Digest diff_id;
  int64_t diff_size = 0;   // bytes of the uncompressed tar
  oci::Digest blob;        // the content blob (compressed or not)
  std::string media_type;  // of the blob
  int64_t blob_size = 0;
  // The layer's tar-split metadata blob, when the layer is kept once (its tree plus this;
  // archive/tar_split.h): the uncompressed blob (digest = diff_id) is then not stored but
  // regenerated from the tree. Empty for a layer kept as a full blob.
  oci::Digest tar_split;
  // False while the tree is not synced to disk yet (a background syncfs follows the import).
  bool durable = true;
};

struct Image {
  oci::Digest id;  // digest of the config blob
  oci::Digest manifest;
  std::string manifest_media_type;
  oci::ImageConfig config;
  std::string config_bytes;
  std::vector<LayerInfo> layers;             // base first
  std::vector<oci::Reference> tags;          // sorted
  std::vector<oci::Reference> repo_digests;  // "name@sha256:..."
  int64_t created_unix = 0;                  // from config.created; 0 if absent
  int64_t size = 0;                          // sum of the layers' diff sizes
  int64_t last_tag_time_ns = 0;              // 0 if never tagged
};

struct ImportOptions {
  std::optional<oci::Reference> tag;  // name to give the image
  std::vector<std::string> changes;   // Dockerfile instructions (CMD, ENV, ...)
  std::string message;                // history comment
  std::string source = "-";           // "Imported from <source>" when no message
  std::optional<oci::Platform> platform;
};

// docker commit: a container's diff on top of its image.
struct CommitOptions {
  oci::Digest image_id;               // the image the container was created from
  std::string container_id;           // Docker's "container" field
  std::string container_config_json;  // the container's Config (a JSON object)
  std::vector<std::string> changes;   // Dockerfile instructions applied to that Config
  std::string created_by;             // history: the container's command, as Docker writes it
  std::string comment;
  std::string author;
  std::optional<oci::Reference> tag;
};

struct ListFilters {
  bool all = false;                     // -a (no intermediate images exist yet)
  std::optional<bool> dangling;         // dangling=true|false
  std::vector<std::string> labels;      // "key" or "key=value"
  std::vector<std::string> references;  // glob patterns on the familiar name
  std::optional<std::string> before;    // image name or ID
  std::optional<std::string> since;
};

struct DeleteItem {
  std::string untagged;  // familiar reference, or empty
  std::string deleted;   // "sha256:...", or empty
};

struct HistoryItem {
  std::string id;  // image ID for the top entry, "<missing>" otherwise
  int64_t created = 0;
  std::string created_by;
  std::vector<std::string> tags;
  int64_t size = 0;
  std::string comment;
};

struct PruneReport {
  std::vector<DeleteItem> deleted;
  int64_t space_reclaimed = 0;
};

// Called with human-readable progress of a long operation ("Loaded image: busybox:latest").
using ProgressFn = std::function<void(const std::string&)>;

// An image as a registry serves it (pull): the manifest, kept byte for byte (its digest is the
// repo digest), the config, and the layer blobs the manifest names.
struct ManifestImage {
  std::string manifest_bytes;
  std::string config_bytes;
  std::vector<oci::Descriptor> layers;  // the manifest's layers, base first
  std::vector<oci::Reference> names;    // tags and name@digest references to point at it
};

// AddImage's view of the layer blobs: they arrive while it unpacks (a pull downloads them
// concurrently). Called in layer order, from AddImage's thread.
class LayerSource {
 public:
  virtual ~LayerSource() = default;
  // The blob of layer `index` as the manifest names it; blocks until it has arrived.
  virtual Result<std::unique_ptr<Reader>> Open(size_t index) = 0;
  // Layer `index` is unpacked (or was present already).
  virtual void Unpacked(size_t index) = 0;
};

struct StoreOptions {
  std::string tmp_dir;  // scratch space on the data root's file system (load spooling)
  bool chown = true;    // keep owners from layers (needs CAP_CHOWN)
  // This boot's ID (/proc/sys/kernel/random/boot_id when empty). A layer recorded unsynced
  // under another boot ID is verified at Init (a power loss may have lost part of its tree).
  std::string boot_id;
};

class ImageStore {
 public:
  ImageStore(sql::Database& db, content::Store& content, snapshot::Snapshotter& snapshots,
             sys::Syscalls& sys, StoreOptions options);
  ~ImageStore();
  ImageStore(const ImageStore&) = delete;
  ImageStore& operator=(const ImageStore&) = delete;

  // Creates tables; cleans what an interrupted operation left (snapshots being unpacked);
  // syncs layers a previous run left unsynced, and verifies those a power loss may have hit
  // (an image with a layer that fails is removed, and reported as lost in the log).
  Status Init();
  // Waits until every layer written so far is synced and recorded durable (the background
  // sync after import, load and commit does it anyway; tests and shutdown call this).
  void SyncLayers();
  void SetUsageChecker(UsageChecker* checker);

  // Resolves a name, full or short ID, or name@digest to an image ID, as Docker does.
  // NotFound: "No such image: <name>".
  Result<oci::Digest> Resolve(std::string_view name_or_id);
  Result<Image> Get(std::string_view name_or_id);
  Result<std::vector<Image>> List(const ListFilters& filters);
  int64_t Count();

  // A rootfs tar (plain, gzip or zstd) becomes a one-layer image.
  Result<Image> Import(Reader& tar, const ImportOptions& options);
  // A new image: the layers of options.image_id plus `layer` (a tar diff with OCI whiteouts),
  // with the container's config. Nothing is left behind on failure.
  Result<Image> Commit(Reader& layer, const CommitOptions& options);
  // Gives `target` (a tagged reference) to the image `source` names; moves it if taken.
  Status Tag(std::string_view source, const oci::Reference& target);
  // rmi: untags a name, deletes an image whose last name goes (or named by ID).
  Result<std::vector<DeleteItem>> Remove(std::string_view name_or_id, bool force, bool prune);
  Result<std::vector<HistoryItem>> History(std::string_view name_or_id);
  Result<PruneReport> Prune(bool all);

  // docker save: a docker-archive (manifest.json) that is also an OCI layout (index.json).
  Status Save(const std::vector<std::string>& names, Writer& out);
  // docker load: either format above (also Docker's legacy <id>/layer.tar layout).
  // Returns the lines Docker prints ("Loaded image: x:y" / "Loaded image ID: sha256:..").
  Result<std::vector<std::string>> Load(Reader& tar, const ProgressFn& progress);

  // Pull's two steps. PresentLayers: for each layer of `image`, true when nothing needs to be
  // downloaded for it: its chain is unpacked and its blob is stored (or regenerable from the
  // tree). InvalidArgument when the config does not parse or its diff_ids do not match the
  // manifest's layers.
  Result<std::vector<bool>> PresentLayers(const ManifestImage& image);
  // Unpacks, in order, each layer not present from `layers` (its diff_id must be the config's:
  // DataLoss otherwise), stores config and manifest and points `image.names` at the image, in
  // one transaction. Nothing is left behind on failure. Holds the store's operation lock for
  // the whole call, downloads included (as Load does while it spools).
  Result<Image> AddImage(const ManifestImage& image, LayerSource& layers);
  // Push's reads. The manifest as stored (its digest is image.manifest); the blob of layer
  // `index` as the manifest names it: the stored blob, or for a layer kept as tree + tar-split
  // the stream regenerated from them, verified as it streams (DataLoss, never wrong bytes).
  Result<std::string> ReadManifest(const Image& image);
  Result<std::unique_ptr<Reader>> OpenLayer(const Image& image, size_t index);

  struct Impl;  // internal/impl.h; public only so the store's own .cc files can name it

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace berth::image
