// Unpacking layers into snapshots, and undoing what a failed operation created.
#include <fcntl.h>

#include <algorithm>
#include <chrono>
#include <optional>

#include <spdlog/spdlog.h>

#include "archive/apply.h"
#include "archive/tar_split.h"
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
// Enough to tell gzip and zstd from a plain tar.
constexpr size_t kPeekBytes = 16;

// Gives back the first bytes of `src`, read ahead to tell its compression, then the rest.
class PeekReader final : public Reader {
 public:
  explicit PeekReader(Reader& src) : src_(src) {}
  Result<std::string_view> Peek(size_t n) {
    char buf[64];
    while (head_.size() < n) {
      BERTH_ASSIGN_OR_RETURN(size_t got, src_.Read(buf, std::min(sizeof buf, n - head_.size())));
      if (got == 0) break;
      head_.append(buf, got);
    }
    return std::string_view(head_);
  }
  Result<size_t> Read(char* buf, size_t size) override {
    if (pos_ < head_.size()) {
      size_t n = std::min(size, head_.size() - pos_);
      std::copy_n(head_.data() + pos_, n, buf);
      pos_ += n;
      return n;
    }
    return src_.Read(buf, size);
  }

 private:
  Reader& src_;
  std::string head_;
  size_t pos_ = 0;
};

// Hashes what is written to it; stores nothing.
class DigestingWriter final : public Writer {
 public:
  Status Write(std::string_view data) override {
    digester_.Update(data.data(), data.size());
    return Ok();
  }
  oci::Digest Finish() { return digester_.Finish(); }

 private:
  oci::Digester digester_;
};

// A reader that keeps a directory fd open for as long as the stream reading under it.
class FdOwningReader final : public Reader {
 public:
  FdOwningReader(UniqueFd fd, std::unique_ptr<Reader> inner)
      : fd_(std::move(fd)), inner_(std::move(inner)) {}
  Result<size_t> Read(char* buf, size_t size) override { return inner_->Read(buf, size); }

 private:
  UniqueFd fd_;
  std::unique_ptr<Reader> inner_;
};

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

Result<LayerInfo> ImageStore::Impl::UnpackLayer(Reader& input, const oci::Digest& parent_chain,
                                                bool store_blob, Undo& undo) {
  // An uncompressed layer whose blob is to be stored is kept once: its tree plus a tar-split
  // metadata blob (archive/tar_split.h). A compressed one is stored as given (its bytes cannot
  // be regenerated from the tree), as is a layer the recorder cannot segment.
  PeekReader blob(input);
  bool tar_split = false;
  if (store_blob) {
    BERTH_ASSIGN_OR_RETURN(std::string_view head, blob.Peek(kPeekBytes));
    tar_split = archive::DetectCompression(head) == archive::Compression::kNone;
  }

  std::string key = std::string(kUnpackPrefix) + RandomHex(12);
  std::string parent = parent_chain.valid() ? parent_chain.ToString() : "";
  BERTH_RETURN_IF_ERROR(snapshots.Prepare(key, parent));
  undo.snapshots.push_back(key);

  BERTH_ASSIGN_OR_RETURN(std::string upper, snapshots.UpperPath(key));
  BERTH_ASSIGN_OR_RETURN(UniqueFd root, OpenFile(upper, O_PATH | O_DIRECTORY));

  std::unique_ptr<content::IngestWriter> ingest;
  // The tee runs on a thread of its own while this one unpacks: for a stored blob it writes
  // and hashes the ingest (a second full write of the layer; its sha256 the only hash of the
  // raw bytes, tee_digests); for a tar-split layer it only hashes.
  DigestingWriter hash;
  std::optional<WriteBehindWriter> tee;
  std::optional<WriteBehindWriter> fallback_tee;
  std::optional<archive::TarSplitRecorder> recorder;
  if (tar_split) {
    tee.emplace(hash, kTeeBuffers, kTeeBufferSize);
    archive::TarSplitRecorder::Options ro;
    ro.open_fallback = [&]() -> Result<Writer*> {
      BERTH_ASSIGN_OR_RETURN(ingest, content.Writer(key, std::nullopt, -1));
      fallback_tee.emplace(*ingest, kTeeBuffers, kTeeBufferSize);
      return &*fallback_tee;
    };
    ro.read_any = options.chown;  // root (CAP_CHOWN, and so CAP_DAC_OVERRIDE) or not
    recorder.emplace(root.get(), sys, std::move(ro));
  } else if (store_blob) {
    BERTH_ASSIGN_OR_RETURN(ingest, content.Writer(key, std::nullopt, -1));
    tee.emplace(*ingest, kTeeBuffers, kTeeBufferSize);
  }
  archive::ApplyOptions opts;
  opts.chown = options.chown;
  opts.tee = tee ? &*tee : nullptr;
  opts.tee_digests = tee.has_value();
  opts.recorder = recorder ? &*recorder : nullptr;
  // A stored blob's layer reaches the disk (one syncfs) before the snapshot is committed and
  // any row names it: the write-fsync-then-record rule (ARCHITECTURE.md). A tar-split layer is
  // recorded unsynced and synced in the background; a power loss before that is caught at the
  // next start by verifying it (durability.cc).
  opts.sync = !tar_split;
  auto t0 = std::chrono::steady_clock::now();
  auto ms = [&t0] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                 t0)
        .count();
  };
  Result<archive::ApplyResult> applied = archive::ApplyLayer(blob, root.get(), opts, sys);
  Status teed = applied && tee ? tee->Close() : Ok();
  if (teed && applied && fallback_tee) teed = fallback_tee->Close();
  tee.reset();  // joins the writer threads before the ingest is used here
  fallback_tee.reset();
  if (applied && !teed) applied = std::move(teed).error().WithContext("store layer blob");
  if (!applied) {
    if (ingest) (void)ingest->Abort();
    return std::move(applied).error();
  }

  LayerInfo layer;
  if (tar_split) {
    applied->digest = hash.Finish();
    applied->diff_id = applied->digest;
  } else if (ingest) {
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

  if (recorder && !recorder->fell_back()) {
    // The metadata is a function of the stream alone, so it fits any tree unpacked from this
    // diff: also an existing snapshot of this chain, if this copy is dropped below.
    Result<oci::Digest> meta = PutBlob(recorder->metadata(), undo);
    if (!meta) return std::move(meta).error().WithContext("store tar-split metadata");
    layer.tar_split = *meta;
    layer.durable = false;
  } else if (recorder) {
    spdlog::info("layer {}: stored as a whole blob: {}", layer.diff_id.ToString(),
                 recorder->fallback_reason());
    BERTH_ASSIGN_OR_RETURN(UniqueFd dir, OpenFile(upper, O_RDONLY | O_DIRECTORY));
    BERTH_RETURN_IF_ERROR(sys.Syncfs(dir.get()));  // ApplyLayer did not: the plan was tar-split
  }

  if (ingest) {
    // For a fallen-back tar-split layer this also checks the regenerated start of the stream:
    // the ingest's digest must be the one hashed from the input.
    bool existed = content.Info(layer.blob).ok();
    BERTH_RETURN_IF_ERROR(ingest->Commit(layer.blob, static_cast<int64_t>(applied->size)));
    if (!existed) undo.blobs.push_back(layer.blob);
  }

  int64_t stored_ms = ms();
  BERTH_ASSIGN_OR_RETURN(bool exists, snapshots.HasCommitted(layer.chain_id.ToString()));
  if (!exists) {
    Status st = snapshots.Commit(layer.chain_id.ToString(), key);
    if (st) {
      undo.snapshots.back() = layer.chain_id.ToString();
      spdlog::debug("layer {}: unpacked and stored in {} ms, snapshot committed at {} ms",
                    layer.diff_id.ToString(), stored_ms, ms());
      return layer;
    }
    if (st.error().code != Code::kAlreadyExists) return std::move(st).error();
  }
  // The layer was there already: drop the copy just unpacked (the existing tree's durability
  // is its own row's).
  BERTH_RETURN_IF_ERROR(snapshots.Remove(key));
  undo.snapshots.pop_back();
  layer.durable = true;
  return layer;
}

Result<std::unique_ptr<Reader>> ImageStore::Impl::OpenLayerBlob(const LayerInfo& layer) {
  if (content.Info(layer.blob).ok()) {
    BERTH_ASSIGN_OR_RETURN(auto r, content.Open(layer.blob));
    return std::unique_ptr<Reader>(std::move(r));
  }
  if (!layer.tar_split.valid() || layer.blob != layer.diff_id) {
    return MakeError(Code::kNotFound, "layer blob " + layer.blob.ToString() + " is not stored");
  }
  BERTH_ASSIGN_OR_RETURN(auto meta, content.Open(layer.tar_split));
  BERTH_ASSIGN_OR_RETURN(std::string tree, snapshots.LayerPath(layer.chain_id.ToString()));
  BERTH_ASSIGN_OR_RETURN(UniqueFd root, OpenFile(tree, O_PATH | O_DIRECTORY));
  BERTH_ASSIGN_OR_RETURN(std::unique_ptr<Reader> stream,
                         archive::NewTarSplitReader(std::move(meta), root.get(), sys));
  auto owning = std::make_unique<FdOwningReader>(std::move(root), std::move(stream));
  return archive::NewVerifyingReader(std::move(owning), layer.diff_id, layer.diff_size);
}

Status ImageStore::Impl::VerifyLayer(const LayerInfo& layer) {
  auto fail = [&](Error e) {
    return std::move(e).WithContext("layer " + layer.chain_id.ToString());
  };
  Result<std::unique_ptr<content::BlobReader>> meta = content.Open(layer.tar_split);
  if (!meta) return fail(Error{Code::kDataLoss, meta.error().message, 0});
  BERTH_ASSIGN_OR_RETURN(std::string tree, snapshots.LayerPath(layer.chain_id.ToString()));
  Result<UniqueFd> root = OpenFile(tree, O_PATH | O_DIRECTORY);
  if (!root) return fail(Error{Code::kDataLoss, root.error().message, root.error().sys_errno});
  Status st = archive::VerifyTarSplitTree(**meta, root->get(), sys);
  if (!st) return fail(std::move(st).error());
  Result<std::unique_ptr<Reader>> stream = OpenLayerBlob(layer);
  if (!stream) return fail(std::move(stream).error());
  std::vector<char> buf(1 << 20);
  while (true) {
    Result<size_t> n = (*stream)->Read(buf.data(), buf.size());
    if (!n) return fail(std::move(n).error());
    if (*n == 0) return Ok();
  }
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
