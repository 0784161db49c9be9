// ImageStore: metadata (tables image_*), name resolution, list, tag, remove, history, prune.
//
// Tables (meta.db):
//   image_images        id (config digest) -> manifest, created, size, last tag time
//   image_layers        chain_id -> diff_id, parent chain, diff size, tar-split metadata blob
//                       ('' when the layer's blob is stored whole), unsynced_boot (the boot ID
//                       under which its tree was written and not yet synced; '' once durable)
//   image_image_layers  (image_id, position) -> chain_id, blob digest/media type/size
//                       (one chain can come as different blobs: gzip in one image, zstd in another)
//   image_tags          "docker.io/library/busybox:latest" -> image_id
//   image_repo_digests  "docker.io/library/busybox@sha256:.." -> image_id
// A layer row exists only while its committed snapshot (named by the chain ID) exists.
#include "image/image_store.h"

#include <fnmatch.h>

#include <algorithm>
#include <map>
#include <set>

#include <spdlog/spdlog.h>

#include "base/strings.h"
#include "image/internal/impl.h"
#include "oci/chain_id.h"

namespace berth::image {
namespace {

constexpr std::string_view kSchema = R"sql(
CREATE TABLE IF NOT EXISTS image_images (
  id TEXT PRIMARY KEY,
  manifest TEXT NOT NULL,
  manifest_media_type TEXT NOT NULL,
  created_unix INTEGER NOT NULL,
  size INTEGER NOT NULL,
  last_tag_ns INTEGER NOT NULL DEFAULT 0,
  added_ns INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS image_layers (
  chain_id TEXT PRIMARY KEY,
  diff_id TEXT NOT NULL,
  parent TEXT NOT NULL,
  diff_size INTEGER NOT NULL,
  tar_split TEXT NOT NULL DEFAULT '',
  unsynced_boot TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS image_image_layers (
  image_id TEXT NOT NULL REFERENCES image_images(id) ON DELETE CASCADE,
  position INTEGER NOT NULL,
  chain_id TEXT NOT NULL REFERENCES image_layers(chain_id),
  blob TEXT NOT NULL,
  media_type TEXT NOT NULL,
  blob_size INTEGER NOT NULL,
  PRIMARY KEY (image_id, position)
);
CREATE INDEX IF NOT EXISTS image_image_layers_chain ON image_image_layers(chain_id);
CREATE TABLE IF NOT EXISTS image_tags (
  name TEXT PRIMARY KEY,
  image_id TEXT NOT NULL REFERENCES image_images(id) ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS image_tags_image ON image_tags(image_id);
CREATE TABLE IF NOT EXISTS image_repo_digests (
  name TEXT PRIMARY KEY,
  image_id TEXT NOT NULL REFERENCES image_images(id) ON DELETE CASCADE
);
)sql";

Result<oci::Digest> ParseStoredDigest(const std::string& s) {
  Result<oci::Digest> d = oci::Digest::Parse(s);
  if (!d) return MakeError(Code::kDataLoss, "image store: corrupt digest in database: " + s);
  return d;
}

Error NoSuchImage(std::string_view name) {
  return MakeError(Code::kNotFound, "No such image: " + std::string(name));
}

Status ParseLayerState(const std::string& tar_split, const std::string& unsynced_boot,
                       LayerInfo& l) {
  if (!tar_split.empty()) {
    BERTH_ASSIGN_OR_RETURN(l.tar_split, ParseStoredDigest(tar_split));
  }
  l.durable = unsynced_boot.empty();
  return Ok();
}

bool IsHexPrefix(std::string_view s) { return !s.empty() && s.size() <= 64 && IsHexLower(s); }

}  // namespace

ImageStore::ImageStore(sql::Database& db, content::Store& content, snapshot::Snapshotter& snapshots,
                       sys::Syscalls& sys, StoreOptions options)
    : impl_(std::make_unique<Impl>(db, content, snapshots, sys, std::move(options))) {}

ImageStore::~ImageStore() = default;

void ImageStore::SyncLayers() { impl_->syncer->Flush(); }

void ImageStore::SetUsageChecker(UsageChecker* checker) { impl_->usage = checker; }

// Columns added to image_layers after its first release: added to older databases at open.
constexpr std::pair<std::string_view, std::string_view> kAddedLayerColumns[] = {
    {"tar_split", "ALTER TABLE image_layers ADD COLUMN tar_split TEXT NOT NULL DEFAULT ''"},
    {"unsynced_boot",
     "ALTER TABLE image_layers ADD COLUMN unsynced_boot TEXT NOT NULL DEFAULT ''"},
};

Status ImageStore::Init() {
  BERTH_RETURN_IF_ERROR(impl_->db.Exec(kSchema));
  {
    auto lock = impl_->db.Lock();
    std::set<std::string> columns;
    BERTH_ASSIGN_OR_RETURN(sql::Statement st,
                           impl_->db.Prepare("PRAGMA table_info(image_layers)"));
    while (true) {
      BERTH_ASSIGN_OR_RETURN(bool row, st.Step());
      if (!row) break;
      columns.insert(st.ColumnText(1));
    }
    for (const auto& [name, sql] : kAddedLayerColumns) {
      if (!columns.contains(std::string(name))) BERTH_RETURN_IF_ERROR(impl_->db.Exec(sql));
    }
  }
  // Partial ingests and leases of an interrupted import or load: never resumed, so dropped.
  // Their blobs, now unreferenced, go with the content store's next collection.
  BERTH_ASSIGN_OR_RETURN(std::vector<content::IngestStatus> ingests, impl_->content.ListIngests());
  for (const content::IngestStatus& in : ingests) {
    if (in.ref.rfind(kUnpackPrefix, 0) != 0 && in.ref.rfind(kLoadLeasePrefix, 0) != 0) continue;
    Status st = impl_->content.Abort(in.ref);
    if (!st) spdlog::warn("image store: abort ingest {}: {}", in.ref, st.error().message);
  }
  BERTH_ASSIGN_OR_RETURN(std::vector<std::string> leases,
                         impl_->content.OwnersWithPrefix(std::string(kLoadLeasePrefix)));
  for (const std::string& lease : leases) BERTH_RETURN_IF_ERROR(impl_->content.RemoveOwner(lease));
  // Undo what an interrupted operation left: half-unpacked layers, and committed layer
  // snapshots that no layer row records (a crash between unpack and the image transaction).
  std::set<std::string> known;
  {
    auto lock = impl_->db.Lock();
    BERTH_ASSIGN_OR_RETURN(sql::Statement st,
                           impl_->db.Prepare("SELECT chain_id FROM image_layers"));
    while (true) {
      BERTH_ASSIGN_OR_RETURN(bool row, st.Step());
      if (!row) break;
      known.insert(st.ColumnText(0));
    }
  }
  BERTH_ASSIGN_OR_RETURN(std::vector<snapshot::Info> infos, impl_->snapshots.List());
  // Children before parents: newest first, so a layer's children have gone before it.
  std::sort(infos.begin(), infos.end(),
            [](const snapshot::Info& a, const snapshot::Info& b) { return a.created > b.created; });
  for (const snapshot::Info& info : infos) {
    bool stale_unpack =
        info.kind == snapshot::Kind::kActive && info.name.rfind(kUnpackPrefix, 0) == 0;
    bool orphan_layer = info.kind == snapshot::Kind::kCommitted &&
                        info.name.rfind("sha256:", 0) == 0 && !known.count(info.name);
    if (!stale_unpack && !orphan_layer) continue;
    Status st = impl_->snapshots.Remove(info.name);
    if (st) {
      spdlog::info("image store: removed leftover snapshot {}", info.name);
    } else if (st.error().code != Code::kFailedPrecondition) {
      spdlog::warn("image store: remove leftover snapshot {}: {}", info.name, st.error().message);
    }
  }
  return impl_->RecoverUnsyncedLayers();
}

Result<std::optional<LayerInfo>> ImageStore::Impl::FindLayer(const oci::Digest& chain_id) {
  auto lock = db.Lock();
  BERTH_ASSIGN_OR_RETURN(sql::Statement st,
                         db.Prepare("SELECT l.diff_id, l.diff_size, il.blob, il.media_type, "
                                    "il.blob_size, l.tar_split, l.unsynced_boot "
                                    "FROM image_layers l JOIN image_image_layers il "
                                    "ON il.chain_id = l.chain_id WHERE l.chain_id = ? LIMIT 1"));
  st.Bind(1, chain_id.ToString());
  BERTH_ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row) return std::optional<LayerInfo>();
  LayerInfo l;
  l.chain_id = chain_id;
  BERTH_ASSIGN_OR_RETURN(l.diff_id, ParseStoredDigest(st.ColumnText(0)));
  l.diff_size = st.ColumnInt(1);
  BERTH_ASSIGN_OR_RETURN(l.blob, ParseStoredDigest(st.ColumnText(2)));
  l.media_type = st.ColumnText(3);
  l.blob_size = st.ColumnInt(4);
  BERTH_RETURN_IF_ERROR(ParseLayerState(st.ColumnText(5), st.ColumnText(6), l));
  return std::optional<LayerInfo>(std::move(l));
}

Result<Image> ImageStore::Impl::LoadImage(const oci::Digest& id) {
  Image image;
  image.id = id;
  {
    auto lock = db.Lock();
    BERTH_ASSIGN_OR_RETURN(sql::Statement st,
                           db.Prepare("SELECT manifest, manifest_media_type, created_unix, size, "
                                      "last_tag_ns FROM image_images WHERE id = ?"));
    st.Bind(1, id.ToString());
    BERTH_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) return NoSuchImage(id.ToString());
    BERTH_ASSIGN_OR_RETURN(image.manifest, ParseStoredDigest(st.ColumnText(0)));
    image.manifest_media_type = st.ColumnText(1);
    image.created_unix = st.ColumnInt(2);
    image.size = st.ColumnInt(3);
    image.last_tag_time_ns = st.ColumnInt(4);

    BERTH_ASSIGN_OR_RETURN(
        sql::Statement ls,
        db.Prepare(
            "SELECT l.chain_id, l.diff_id, l.diff_size, il.blob, il.media_type, il.blob_size, "
            "l.tar_split, l.unsynced_boot FROM image_image_layers il JOIN image_layers l ON l.chain_id = il.chain_id "
            "WHERE il.image_id = ? ORDER BY il.position"));
    ls.Bind(1, id.ToString());
    while (true) {
      BERTH_ASSIGN_OR_RETURN(bool more, ls.Step());
      if (!more) break;
      LayerInfo l;
      BERTH_ASSIGN_OR_RETURN(l.chain_id, ParseStoredDigest(ls.ColumnText(0)));
      BERTH_ASSIGN_OR_RETURN(l.diff_id, ParseStoredDigest(ls.ColumnText(1)));
      l.diff_size = ls.ColumnInt(2);
      BERTH_ASSIGN_OR_RETURN(l.blob, ParseStoredDigest(ls.ColumnText(3)));
      l.media_type = ls.ColumnText(4);
      l.blob_size = ls.ColumnInt(5);
      BERTH_RETURN_IF_ERROR(ParseLayerState(ls.ColumnText(6), ls.ColumnText(7), l));
      image.layers.push_back(std::move(l));
    }
    for (const char* table : {"image_tags", "image_repo_digests"}) {
      BERTH_ASSIGN_OR_RETURN(sql::Statement ts,
                             db.Prepare(std::string("SELECT name FROM ") + table +
                                        " WHERE image_id = ? ORDER BY name"));
      ts.Bind(1, id.ToString());
      while (true) {
        BERTH_ASSIGN_OR_RETURN(bool more, ts.Step());
        if (!more) break;
        Result<oci::Reference> ref = oci::ParseNamed(ts.ColumnText(0));
        if (!ref) continue;  // unparseable names are skipped, not fatal
        (std::string_view(table) == "image_tags" ? image.tags : image.repo_digests)
            .push_back(std::move(*ref));
      }
    }
  }
  BERTH_ASSIGN_OR_RETURN(image.config_bytes, content::ReadBlob(content, id, 16 << 20));
  BERTH_ASSIGN_OR_RETURN(image.config, oci::ParseImageConfig(image.config_bytes));
  return image;
}

Result<std::vector<oci::Digest>> ImageStore::Impl::AllImageIds() {
  auto lock = db.Lock();
  BERTH_ASSIGN_OR_RETURN(sql::Statement st, db.Prepare("SELECT id FROM image_images"));
  std::vector<oci::Digest> ids;
  while (true) {
    BERTH_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    BERTH_ASSIGN_OR_RETURN(oci::Digest d, ParseStoredDigest(st.ColumnText(0)));
    ids.push_back(std::move(d));
  }
  return ids;
}

Status ImageStore::Impl::PutTag(const oci::Reference& ref, const oci::Digest& id) {
  bool is_digest = ref.has_digest();
  BERTH_ASSIGN_OR_RETURN(sql::Statement st,
                         db.Prepare(std::string("INSERT OR REPLACE INTO ") +
                                    (is_digest ? "image_repo_digests" : "image_tags") +
                                    " (name, image_id) VALUES (?, ?)"));
  st.Bind(1, ref.String()).Bind(2, id.ToString());
  BERTH_RETURN_IF_ERROR(st.Run());
  if (!is_digest) {
    BERTH_ASSIGN_OR_RETURN(sql::Statement up,
                           db.Prepare("UPDATE image_images SET last_tag_ns = ? WHERE id = ?"));
    up.Bind(1, NowUnixNanos()).Bind(2, id.ToString());
    BERTH_RETURN_IF_ERROR(up.Run());
  }
  return Ok();
}

Status ImageStore::Impl::CommitImage(const Image& image, const std::vector<oci::Reference>& tags) {
  BERTH_ASSIGN_OR_RETURN(sql::Transaction tx, sql::Transaction::Begin(db));
  std::vector<oci::Digest> unsynced;  // layers this image brings unsynced: synced behind
  oci::Digest parent;
  for (const LayerInfo& l : image.layers) {
    BERTH_ASSIGN_OR_RETURN(
        sql::Statement st,
        db.Prepare("INSERT OR IGNORE INTO image_layers (chain_id, diff_id, parent, diff_size, "
                   "tar_split, unsynced_boot) VALUES (?, ?, ?, ?, ?, ?)"));
    st.Bind(1, l.chain_id.ToString())
        .Bind(2, l.diff_id.ToString())
        .Bind(3, parent.ToString())
        .Bind(4, l.diff_size)
        .Bind(5, l.tar_split.valid() ? l.tar_split.ToString() : "")
        .Bind(6, l.durable ? "" : options.boot_id);
    BERTH_RETURN_IF_ERROR(st.Run());
    if (db.Changes() > 0) {
      if (!l.durable) unsynced.push_back(l.chain_id);
    } else if (l.tar_split.valid()) {
      // A layer first stored whole (e.g. from a gzip blob) and now also imported plain: this
      // image's blob is the regenerated one.
      BERTH_ASSIGN_OR_RETURN(sql::Statement up,
                             db.Prepare("UPDATE image_layers SET tar_split = ? "
                                        "WHERE chain_id = ? AND tar_split = ''"));
      up.Bind(1, l.tar_split.ToString()).Bind(2, l.chain_id.ToString());
      BERTH_RETURN_IF_ERROR(up.Run());
    }
    parent = l.chain_id;
  }
  BERTH_ASSIGN_OR_RETURN(
      sql::Statement ins,
      db.Prepare("INSERT OR IGNORE INTO image_images (id, manifest, manifest_media_type, "
                 "created_unix, size, added_ns) VALUES (?, ?, ?, ?, ?, ?)"));
  ins.Bind(1, image.id.ToString())
      .Bind(2, image.manifest.ToString())
      .Bind(3, image.manifest_media_type)
      .Bind(4, image.created_unix)
      .Bind(5, image.size)
      .Bind(6, NowUnixNanos());
  BERTH_RETURN_IF_ERROR(ins.Run());
  if (db.Changes() > 0) {
    for (size_t i = 0; i < image.layers.size(); ++i) {
      BERTH_ASSIGN_OR_RETURN(
          sql::Statement st,
          db.Prepare("INSERT INTO image_image_layers (image_id, position, chain_id, blob, "
                     "media_type, blob_size) VALUES (?, ?, ?, ?, ?, ?)"));
      const LayerInfo& l = image.layers[i];
      st.Bind(1, image.id.ToString())
          .Bind(2, static_cast<int64_t>(i))
          .Bind(3, l.chain_id.ToString())
          .Bind(4, l.blob.ToString())
          .Bind(5, l.media_type)
          .Bind(6, l.blob_size);
      BERTH_RETURN_IF_ERROR(st.Run());
    }
    std::string owner = ImageOwner(image.id);
    BERTH_RETURN_IF_ERROR(content.AddReference(image.manifest, owner));
    BERTH_RETURN_IF_ERROR(content.AddReference(image.id, owner));
    for (const LayerInfo& l : image.layers) {
      // A layer kept as tree + tar-split needs its metadata, not a stored blob (a reference
      // on the absent blob would pin a copy that a later load brings in).
      bool regenerated = l.tar_split.valid() && l.blob == l.diff_id;
      if (!regenerated) BERTH_RETURN_IF_ERROR(content.AddReference(l.blob, owner));
      if (l.tar_split.valid()) BERTH_RETURN_IF_ERROR(content.AddReference(l.tar_split, owner));
    }
  }
  for (const oci::Reference& t : tags) BERTH_RETURN_IF_ERROR(PutTag(t, image.id));
  BERTH_RETURN_IF_ERROR(tx.Commit());
  syncer->Add(unsynced);
  return Ok();
}

Result<int64_t> ImageStore::Impl::DeleteImage(const oci::Digest& id) {
  BERTH_ASSIGN_OR_RETURN(Image image, LoadImage(id));
  {
    BERTH_ASSIGN_OR_RETURN(sql::Transaction tx, sql::Transaction::Begin(db));
    for (const char* sql : {"DELETE FROM image_tags WHERE image_id = ?",
                            "DELETE FROM image_repo_digests WHERE image_id = ?",
                            "DELETE FROM image_image_layers WHERE image_id = ?",
                            "DELETE FROM image_images WHERE id = ?"}) {
      BERTH_ASSIGN_OR_RETURN(sql::Statement st, db.Prepare(sql));
      st.Bind(1, id.ToString());
      BERTH_RETURN_IF_ERROR(st.Run());
    }
    BERTH_RETURN_IF_ERROR(content.RemoveOwner(ImageOwner(id)));
    BERTH_RETURN_IF_ERROR(tx.Commit());
  }
  // Layers no other image uses, top first. A layer row goes before its snapshot, so a crash in
  // between leaves an orphan snapshot that Init removes, never a row without a snapshot.
  int64_t reclaimed = 0;
  for (auto it = image.layers.rbegin(); it != image.layers.rend(); ++it) {
    {
      BERTH_ASSIGN_OR_RETURN(sql::Transaction tx, sql::Transaction::Begin(db));
      BERTH_ASSIGN_OR_RETURN(
          sql::Statement used,
          db.Prepare("SELECT 1 FROM image_image_layers WHERE chain_id = ? LIMIT 1"));
      used.Bind(1, it->chain_id.ToString());
      BERTH_ASSIGN_OR_RETURN(bool in_use, used.Step());
      if (in_use) break;  // lower layers are then in use too
      BERTH_ASSIGN_OR_RETURN(sql::Statement del,
                             db.Prepare("DELETE FROM image_layers WHERE chain_id = ?"));
      del.Bind(1, it->chain_id.ToString());
      BERTH_RETURN_IF_ERROR(del.Run());
      BERTH_RETURN_IF_ERROR(tx.Commit());
    }
    Status st = snapshots.Remove(it->chain_id.ToString());
    if (!st) {
      // A container's layer still sits on it; it goes when that container does.
      spdlog::info("image store: keeping snapshot {}: {}", it->chain_id.ToString(),
                   st.error().message);
      break;
    }
    reclaimed += it->diff_size;
  }
  std::vector<oci::Digest> blobs = {image.manifest, image.id};
  for (const LayerInfo& l : image.layers) {
    blobs.push_back(l.blob);
    if (l.tar_split.valid()) blobs.push_back(l.tar_split);
  }
  for (const oci::Digest& d : blobs) {
    Status st = content.Delete(d);
    if (st) continue;
    if (st.error().code != Code::kFailedPrecondition && st.error().code != Code::kNotFound) {
      spdlog::warn("image store: delete blob {}: {}", d.ToString(), st.error().message);
    }
  }
  return reclaimed;
}

Result<oci::Digest> ImageStore::Resolve(std::string_view name_or_id) {
  std::string_view s = name_or_id;
  if (s.empty()) return NoSuchImage(s);
  auto exists = [&](const oci::Digest& d) -> Result<bool> {
    auto lock = impl_->db.Lock();
    BERTH_ASSIGN_OR_RETURN(sql::Statement st,
                           impl_->db.Prepare("SELECT 1 FROM image_images WHERE id = ?"));
    st.Bind(1, d.ToString());
    return st.Step();
  };
  // A full ID, with or without "sha256:".
  if (s.rfind("sha256:", 0) == 0 || (s.size() == 64 && IsHexLower(s))) {
    std::string full = s.rfind("sha256:", 0) == 0 ? std::string(s) : "sha256:" + std::string(s);
    if (Result<oci::Digest> d = oci::Digest::Parse(full)) {
      BERTH_ASSIGN_OR_RETURN(bool found, exists(*d));
      if (found) return *d;
      return NoSuchImage(s);
    }
  }
  // A name: tag or digest reference.
  if (Result<oci::Reference> ref = oci::ParseNormalizedNamed(s)) {
    oci::Reference r = ref->has_digest() ? *ref : ref->TagNameOnly();
    auto lock = impl_->db.Lock();
    BERTH_ASSIGN_OR_RETURN(
        sql::Statement st,
        impl_->db.Prepare(std::string("SELECT image_id FROM ") +
                          (r.has_digest() ? "image_repo_digests" : "image_tags") +
                          " WHERE name = ?"));
    st.Bind(1, r.has_digest() ? r.TrimNamed().WithDigest(*r.digest()).String() : r.String());
    BERTH_ASSIGN_OR_RETURN(bool row, st.Step());
    if (row) return ParseStoredDigest(st.ColumnText(0));
  }
  // A short ID prefix, unique among images.
  std::string_view prefix = s.rfind("sha256:", 0) == 0 ? s.substr(7) : s;
  if (IsHexPrefix(prefix)) {
    auto lock = impl_->db.Lock();
    BERTH_ASSIGN_OR_RETURN(
        sql::Statement st,
        impl_->db.Prepare("SELECT id FROM image_images WHERE id >= ? AND id < ? LIMIT 2"));
    std::string lo = "sha256:" + std::string(prefix);
    st.Bind(1, lo).Bind(2, lo + "g");
    std::vector<std::string> hits;
    while (true) {
      BERTH_ASSIGN_OR_RETURN(bool row, st.Step());
      if (!row) break;
      hits.push_back(st.ColumnText(0));
    }
    if (hits.size() == 1) return ParseStoredDigest(hits[0]);
    if (hits.size() > 1) {
      return MakeError(Code::kInvalidArgument, "ambiguous image reference " + std::string(s) +
                                                   ": matches more than one image");
    }
  }
  return NoSuchImage(s);
}

Result<Image> ImageStore::Get(std::string_view name_or_id) {
  BERTH_ASSIGN_OR_RETURN(oci::Digest id, Resolve(name_or_id));
  return impl_->LoadImage(id);
}

int64_t ImageStore::Count() {
  auto lock = impl_->db.Lock();
  Result<sql::Statement> st = impl_->db.Prepare("SELECT COUNT(*) FROM image_images");
  if (!st) return 0;
  Result<bool> row = st->Step();
  return row && *row ? st->ColumnInt(0) : 0;
}

Result<std::vector<Image>> ImageStore::List(const ListFilters& filters) {
  BERTH_ASSIGN_OR_RETURN(std::vector<oci::Digest> ids, impl_->AllImageIds());
  std::optional<int64_t> before, since;
  if (filters.before) {
    BERTH_ASSIGN_OR_RETURN(Image b, Get(*filters.before));
    before = b.created_unix;
  }
  if (filters.since) {
    BERTH_ASSIGN_OR_RETURN(Image sn, Get(*filters.since));
    since = sn.created_unix;
  }
  std::vector<Image> out;
  for (const oci::Digest& id : ids) {
    Result<Image> img = impl_->LoadImage(id);
    if (!img) {
      if (img.error().code == Code::kNotFound) continue;  // removed meanwhile
      return std::move(img).error();
    }
    bool dangling = img->tags.empty() && img->repo_digests.empty();
    if (filters.dangling && *filters.dangling != dangling) continue;
    if (before && img->created_unix >= *before) continue;
    if (since && img->created_unix <= *since) continue;
    bool labels_ok = true;
    for (const std::string& l : filters.labels) {
      size_t eq = l.find('=');
      std::string key = l.substr(0, eq);
      auto it = img->config.config.labels.find(key);
      if (it == img->config.config.labels.end() ||
          (eq != std::string::npos && it->second != l.substr(eq + 1))) {
        labels_ok = false;
        break;
      }
    }
    if (!labels_ok) continue;
    if (!filters.references.empty()) {
      // Docker matches the pattern against the familiar name with and without the tag.
      std::vector<oci::Reference> kept;
      for (const oci::Reference& t : img->tags) {
        for (const std::string& pattern : filters.references) {
          std::string name = t.FamiliarName();
          std::string full = t.FamiliarString();
          if (fnmatch(pattern.c_str(), name.c_str(), 0) == 0 ||
              fnmatch(pattern.c_str(), full.c_str(), 0) == 0) {
            kept.push_back(t);
            break;
          }
        }
      }
      if (kept.empty()) continue;
      img->tags = std::move(kept);
    }
    out.push_back(std::move(*img));
  }
  std::sort(out.begin(), out.end(), [](const Image& a, const Image& b) {
    if (a.created_unix != b.created_unix) return a.created_unix > b.created_unix;
    return a.id < b.id;
  });
  return out;
}

Status ImageStore::Tag(std::string_view source, const oci::Reference& target) {
  if (!target.has_name() || target.has_digest()) {
    return MakeError(Code::kInvalidArgument, "refusing to create a tag with a digest reference");
  }
  std::lock_guard op(impl_->op_mu);
  BERTH_ASSIGN_OR_RETURN(oci::Digest id, Resolve(source));
  BERTH_ASSIGN_OR_RETURN(sql::Transaction tx, sql::Transaction::Begin(impl_->db));
  BERTH_RETURN_IF_ERROR(impl_->PutTag(target.TagNameOnly(), id));
  return tx.Commit();
}

Result<std::vector<DeleteItem>> ImageStore::Remove(std::string_view name_or_id, bool force,
                                                   bool prune) {
  (void)prune;  // Berth images have no parent images to prune (no builds yet).
  std::lock_guard op(impl_->op_mu);
  BERTH_ASSIGN_OR_RETURN(oci::Digest id, Resolve(name_or_id));
  BERTH_ASSIGN_OR_RETURN(Image image, impl_->LoadImage(id));
  std::vector<DeleteItem> out;

  std::vector<std::string> users =
      impl_->usage ? impl_->usage->ContainersUsing(id) : std::vector<std::string>{};
  std::string short_id = id.Short();

  // Named by a reference (not by ID): untag it.
  std::optional<oci::Reference> named;
  std::string_view s = name_or_id;
  bool by_id = s.rfind("sha256:", 0) == 0 ||
               (IsHexPrefix(s) && s.size() >= 1 && id.hex().rfind(std::string(s), 0) == 0);
  if (!by_id) {
    if (Result<oci::Reference> ref = oci::ParseNormalizedNamed(s)) {
      named = ref->has_digest() ? ref->TrimNamed().WithDigest(*ref->digest()) : ref->TagNameOnly();
    }
  }
  size_t names = image.tags.size() + image.repo_digests.size();
  // Untagging the last tag of a repository takes that repository's digest references with it
  // (moby's ImageDelete): `rmi reg/app:1` after a pull of reg/app:1 deletes the image, though
  // the pull also named it reg/app@sha256:...
  std::vector<oci::Reference> with_tag;
  if (named && !named->has_digest()) {
    bool other_tag = false;
    for (const oci::Reference& t : image.tags) {
      if (t != *named && t.Name() == named->Name()) other_tag = true;
    }
    if (!other_tag) {
      for (const oci::Reference& d : image.repo_digests) {
        if (d.Name() == named->Name()) with_tag.push_back(d);
      }
    }
  }
  if (named) names -= with_tag.size();
  if (named) {
    if (names <= 1 && !users.empty() && !force) {
      return MakeError(Code::kConflict, "conflict: unable to remove repository reference \"" +
                                            std::string(s) + "\" (must force) - container " +
                                            users[0] + " is using its referenced image " +
                                            short_id);
    }
    out.push_back({named->FamiliarString(), ""});
    for (const oci::Reference& d : with_tag) out.push_back({d.FamiliarString(), ""});
    if (names > 1) {
      // Other names remain: untag only.
      BERTH_ASSIGN_OR_RETURN(sql::Transaction tx, sql::Transaction::Begin(impl_->db));
      BERTH_ASSIGN_OR_RETURN(
          sql::Statement st,
          impl_->db.Prepare(std::string("DELETE FROM ") +
                            (named->has_digest() ? "image_repo_digests" : "image_tags") +
                            " WHERE name = ?"));
      st.Bind(1, named->String());
      BERTH_RETURN_IF_ERROR(st.Run());
      for (const oci::Reference& d : with_tag) {
        BERTH_ASSIGN_OR_RETURN(sql::Statement dst,
                               impl_->db.Prepare("DELETE FROM image_repo_digests WHERE name = ?"));
        dst.Bind(1, d.String());
        BERTH_RETURN_IF_ERROR(dst.Run());
      }
      BERTH_RETURN_IF_ERROR(tx.Commit());
      return out;
    }
    // The last name goes in the same transaction that deletes the image (DeleteImage), so a
    // failed delete leaves the name in place.
  } else {
    if (names > 1 && !force) {
      return MakeError(Code::kConflict, "conflict: unable to delete " + short_id +
                                            " (must be forced) - image is referenced in multiple "
                                            "repositories");
    }
    for (const oci::Reference& r : image.tags) out.push_back({r.FamiliarString(), ""});
    for (const oci::Reference& r : image.repo_digests) out.push_back({r.FamiliarString(), ""});
  }
  if (!users.empty() && !force) {
    return MakeError(Code::kConflict, "conflict: unable to delete " + short_id +
                                          " (must be forced) - image is being used by stopped "
                                          "container " +
                                          users[0]);
  }
  std::vector<oci::Digest> before_layers;
  for (const LayerInfo& l : image.layers) before_layers.push_back(l.chain_id);
  BERTH_ASSIGN_OR_RETURN(int64_t reclaimed, impl_->DeleteImage(id));
  (void)reclaimed;
  out.push_back({"", id.ToString()});
  for (auto it = before_layers.rbegin(); it != before_layers.rend(); ++it) {
    Result<std::optional<LayerInfo>> still = impl_->FindLayer(*it);
    if (still && !still->has_value()) out.push_back({"", it->ToString()});
  }
  return out;
}

Result<std::vector<HistoryItem>> ImageStore::History(std::string_view name_or_id) {
  BERTH_ASSIGN_OR_RETURN(Image image, Get(name_or_id));
  std::vector<HistoryItem> items;
  size_t layer = 0;
  for (const oci::History& h : image.config.history) {
    HistoryItem item;
    item.id = "<missing>";
    int64_t ns = 0;
    if (ParseRfc3339(h.created, &ns)) item.created = ns / 1000000000;
    item.created_by = h.created_by;
    item.comment = h.comment;
    if (!h.empty_layer && layer < image.layers.size()) {
      item.size = image.layers[layer++].diff_size;
    }
    items.push_back(std::move(item));
  }
  if (image.config.history.empty()) {
    for (const LayerInfo& l : image.layers) {
      HistoryItem item;
      item.id = "<missing>";
      item.created = image.created_unix;
      item.size = l.diff_size;
      items.push_back(std::move(item));
    }
  }
  std::reverse(items.begin(), items.end());
  if (!items.empty()) {
    items.front().id = image.id.ToString();
    for (const oci::Reference& t : image.tags) items.front().tags.push_back(t.FamiliarString());
  }
  return items;
}

Result<PruneReport> ImageStore::Prune(bool all) {
  PruneReport report;
  BERTH_ASSIGN_OR_RETURN(std::vector<Image> images, List(ListFilters{}));
  for (const Image& img : images) {
    bool dangling = img.tags.empty() && img.repo_digests.empty();
    if (!all && !dangling) continue;
    if (impl_->usage && !impl_->usage->ContainersUsing(img.id).empty()) continue;
    std::lock_guard op(impl_->op_mu);
    // Look again under the lock: it may have been tagged or removed since the list.
    Result<Image> now = impl_->LoadImage(img.id);
    if (!now) {
      if (now.error().code == Code::kNotFound) continue;
      return std::move(now).error();
    }
    if (!all && !(now->tags.empty() && now->repo_digests.empty())) continue;
    BERTH_ASSIGN_OR_RETURN(int64_t reclaimed, impl_->DeleteImage(img.id));
    for (const oci::Reference& r : now->tags) report.deleted.push_back({r.FamiliarString(), ""});
    for (const oci::Reference& r : now->repo_digests) {
      report.deleted.push_back({r.FamiliarString(), ""});
    }
    report.deleted.push_back({"", img.id.ToString()});
    report.space_reclaimed += reclaimed;
  }
  return report;
}

}  // namespace berth::image
