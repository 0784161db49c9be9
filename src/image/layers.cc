// Unpacking layers into snapshots, and undoing what a failed operation created.
#include <fcntl.h>

#include <optional>

#include <spdlog/spdlog.h>

#include "archive/apply.h"
#include "base/file.h"
#include "base/strings.h"
#include "base/write_behind.h"
#include "image/internal/impl.h"
#include "oci/chain_id.h"
#include "oci/manifest.h"
#include "oci/media_types.h"

namespace berth::image {
namespace {

// The blob tee's queue: enough to ride out a slow write without holding the unpacking back.
constexpr size_t kTeeBuffers = 4;
constexpr size_t kTeeBufferSize = 1 << 20;

std::string_view LayerMediaTypeFor(archive::Compression c) {
  switch (c) {
    case archive::Compression::kGzip:
      return oci::kMediaTypeOciLayerGzip;
    case archive::Compression::kZstd:
      return oci::kMediaTypeOciLayerZstd;
    case archive::Compression::kNone:
      break;
  }
  return oci::kMediaTypeOciLayer;
}

}  // namespace

std::string ImageOwner(const oci::Digest& id) { return "image:" + id.ToString(); }

Result<LayerInfo> ImageStore::Impl::UnpackLayer(Reader& blob, const oci::Digest& parent_chain,
                                                bool store_blob, Undo& undo) {
  std::string key = std::string(kUnpackPrefix) + RandomHex(12);
  std::string parent = parent_chain.valid() ? parent_chain.ToString() : "";
  BERTH_RETURN_IF_ERROR(snapshots.Prepare(key, parent));
  undo.snapshots.push_back(key);

  BERTH_ASSIGN_OR_RETURN(std::string upper, snapshots.UpperPath(key));
  BERTH_ASSIGN_OR_RETURN(UniqueFd root, OpenFile(upper, O_PATH | O_DIRECTORY));

  std::unique_ptr<content::IngestWriter> ingest;
  // The blob is written and hashed by a thread of its own while this one unpacks: the ingest
  // is a second full write of the layer, and its sha256 the only hash of the raw bytes
  // (tee_digests), so neither waits on the other.
  std::optional<WriteBehindWriter> tee;
  if (store_blob) {
    BERTH_ASSIGN_OR_RETURN(ingest, content.Writer(key, std::nullopt, -1));
    tee.emplace(*ingest, kTeeBuffers, kTeeBufferSize);
  }
  archive::ApplyOptions opts;
  opts.chown = options.chown;
  opts.tee = tee ? &*tee : nullptr;
  opts.tee_digests = tee.has_value();
  // The layer's files reach the disk (one syncfs) before the snapshot is committed and any row
  // names it: the write-fsync-then-record rule (ARCHITECTURE.md).
  opts.sync = true;
  Result<archive::ApplyResult> applied = archive::ApplyLayer(blob, root.get(), opts, sys);
  Status teed = applied && tee ? tee->Close() : Ok();
  tee.reset();  // joins the writer thread before the ingest is used here
  if (applied && !teed) applied = std::move(teed).error().WithContext("store layer blob");
  if (!applied) {
    if (ingest) (void)ingest->Abort();
    return std::move(applied).error();
  }

  LayerInfo layer;
  if (ingest) {
    applied->digest = ingest->Digest();
    if (applied->compression == archive::Compression::kNone) applied->diff_id = applied->digest;
  }
  layer.diff_id = applied->diff_id;
  layer.diff_size = static_cast<int64_t>(applied->diff_size);
  layer.blob = applied->digest;
  layer.blob_size = static_cast<int64_t>(applied->size);
  layer.media_type = std::string(LayerMediaTypeFor(applied->compression));
  layer.chain_id =
      parent_chain.valid() ? oci::ChainId({parent_chain, layer.diff_id}) : layer.diff_id;
  // ChainId({parent_chain, diff}) is sha256(parent_chain + " " + diff): the chain rule.

  if (ingest) {
    bool existed = content.Info(layer.blob).ok();
    BERTH_RETURN_IF_ERROR(ingest->Commit(layer.blob, static_cast<int64_t>(applied->size)));
    if (!existed) undo.blobs.push_back(layer.blob);
  }

  BERTH_ASSIGN_OR_RETURN(bool exists, snapshots.HasCommitted(layer.chain_id.ToString()));
  if (!exists) {
    Status st = snapshots.Commit(layer.chain_id.ToString(), key);
    if (st) {
      undo.snapshots.back() = layer.chain_id.ToString();
      return layer;
    }
    if (st.error().code != Code::kAlreadyExists) return std::move(st).error();
  }
  // The layer was there already: drop the copy just unpacked.
  BERTH_RETURN_IF_ERROR(snapshots.Remove(key));
  undo.snapshots.pop_back();
  return layer;
}

void ImageStore::Impl::Rollback(Undo& undo) {
  for (auto it = undo.snapshots.rbegin(); it != undo.snapshots.rend(); ++it) {
    Status st = snapshots.Remove(*it);
    if (!st) spdlog::warn("undo: remove snapshot {}: {}", *it, st.error().message);
  }
  undo.snapshots.clear();
  for (const oci::Digest& d : undo.blobs) {
    Status st = content.Delete(d);
    if (!st && st.error().code != Code::kNotFound && st.error().code != Code::kFailedPrecondition) {
      spdlog::warn("undo: delete blob {}: {}", d.ToString(), st.error().message);
    }
  }
  undo.blobs.clear();
}

Result<oci::Digest> ImageStore::Impl::PutBlob(std::string_view bytes, Undo& undo) {
  oci::Digest d = oci::Digest::Of(bytes);
  if (content.Info(d).ok()) return d;
  BERTH_ASSIGN_OR_RETURN(oci::Digest written, content::WriteBlob(content, bytes, d));
  undo.blobs.push_back(written);
  return written;
}

namespace {

// True if `m` is a manifest of exactly this config and these layer blobs.
bool ManifestMatches(const oci::Manifest& m, const oci::Digest& config,
                     const std::vector<LayerInfo>& layers) {
  if (m.config.digest != config || m.layers.size() != layers.size()) return false;
  for (size_t i = 0; i < layers.size(); ++i) {
    if (m.layers[i].digest != layers[i].blob || m.layers[i].media_type != layers[i].media_type) {
      return false;
    }
  }
  return true;
}

}  // namespace

Result<Image> ImageStore::Impl::AssembleImage(std::string config_bytes,
                                              std::vector<LayerInfo> layers, Undo& undo,
                                              const std::string* manifest_bytes) {
  BERTH_ASSIGN_OR_RETURN(oci::ImageConfig config, oci::ParseImageConfig(config_bytes));
  BERTH_ASSIGN_OR_RETURN(oci::Digest config_digest, PutBlob(config_bytes, undo));

  oci::Manifest m;
  m.schema_version = 2;
  m.media_type = std::string(oci::kMediaTypeOciManifest);
  m.config.media_type = std::string(oci::kMediaTypeOciConfig);
  m.config.digest = config_digest;
  m.config.size = static_cast<int64_t>(config_bytes.size());
  for (const LayerInfo& l : layers) {
    oci::Descriptor d;
    d.media_type = l.media_type;
    d.digest = l.blob;
    d.size = l.blob_size;
    m.layers.push_back(std::move(d));
  }
  std::string bytes = oci::SerializeManifest(m);
  if (manifest_bytes) {
    Result<oci::Manifest> given = oci::ParseManifest(*manifest_bytes);
    if (given && ManifestMatches(*given, config_digest, layers)) {
      bytes = *manifest_bytes;
      m.media_type =
          given->media_type.empty() ? std::string(oci::kMediaTypeOciManifest) : given->media_type;
    }
  }
  BERTH_ASSIGN_OR_RETURN(oci::Digest manifest_digest, PutBlob(bytes, undo));

  Image image;
  image.id = config_digest;
  image.manifest = manifest_digest;
  image.manifest_media_type = m.media_type;
  image.config = std::move(config);
  image.config_bytes = std::move(config_bytes);
  image.layers = std::move(layers);
  int64_t ns = 0;
  if (ParseRfc3339(image.config.created, &ns)) image.created_unix = ns / 1000000000;
  for (const LayerInfo& l : image.layers) image.size += l.diff_size;
  return image;
}

}  // namespace berth::image
