// save: one tar that is both a docker-archive (manifest.json, what `docker load` reads) and an
// OCI image layout (oci-layout, index.json, blobs/), as Docker 25+ writes it:
//
//   blobs/sha256/<hex>   every layer blob, config and manifest, once
//   index.json           one manifest descriptor per name (annotated) or per untagged image
//   manifest.json        [{"Config": "blobs/sha256/<cfg>", "RepoTags": [...], "Layers": [...]}]
//   oci-layout           {"imageLayoutVersion": "1.0.0"}
//
// Every name is resolved before the first byte is written, so a bad name is an error reply,
// not a truncated tar.
#include <set>

#include "archive/tar_writer.h"
#include "image/internal/impl.h"
#include "oci/image_layout.h"
#include "oci/index.h"
#include "oci/media_types.h"

namespace berth::image {
namespace {

struct SaveItem {
  Image image;
  std::vector<oci::Reference> tags;
};

}  // namespace

Status ImageStore::Save(const std::vector<std::string>& names, Writer& out) {
  if (names.empty()) return MakeError(Code::kInvalidArgument, "no images to save");
  std::vector<SaveItem> items;
  for (const std::string& name : names) {
    BERTH_ASSIGN_OR_RETURN(Image image, Get(name));
    std::vector<oci::Reference> tags;
    bool by_id = name.rfind("sha256:", 0) == 0 || image.id.hex().rfind(name, 0) == 0;
    if (!by_id) {
      Result<oci::Reference> ref = oci::ParseNormalizedNamed(name);
      if (ref && ref->IsNameOnly()) {
        // A repository without a tag: every tag of it this image has, as docker save does.
        for (const oci::Reference& t : image.tags) {
          if (t.Name() == ref->Name()) tags.push_back(t);
        }
      } else if (ref && ref->has_tag()) {
        tags.push_back(*ref);
      }
    }
    auto same = std::find_if(items.begin(), items.end(),
                             [&](const SaveItem& i) { return i.image.id == image.id; });
    if (same == items.end()) {
      items.push_back({std::move(image), std::move(tags)});
    } else {
      for (oci::Reference& t : tags) {
        if (std::find(same->tags.begin(), same->tags.end(), t) == same->tags.end()) {
          same->tags.push_back(std::move(t));
        }
      }
    }
  }

  BERTH_ASSIGN_OR_RETURN(auto tar, archive::TarWriter::Open(out));
  std::set<oci::Digest> written;
  BERTH_RETURN_IF_ERROR(tar->AddDirectory("blobs", 0755));
  BERTH_RETURN_IF_ERROR(tar->AddDirectory("blobs/sha256", 0755));
  auto add_blob = [&](const oci::Digest& d) -> Status {
    if (!written.insert(d).second) return Ok();
    BERTH_ASSIGN_OR_RETURN(auto blob, impl_->content.Open(d));
    uint64_t size = static_cast<uint64_t>(blob->size());
    return tar->AddFile(oci::BlobPath(d), *blob, size, 0444);
  };
  // A layer kept as tree + tar-split is regenerated, verified against its diff_id as it streams.
  auto add_layer = [&](const LayerInfo& l) -> Status {
    if (!written.insert(l.blob).second) return Ok();
    BERTH_ASSIGN_OR_RETURN(std::unique_ptr<Reader> blob, impl_->OpenLayerBlob(l));
    Status st = tar->AddFile(oci::BlobPath(l.blob), *blob, static_cast<uint64_t>(l.blob_size), 0444);
    if (!st) return std::move(st).error().WithContext("save layer " + l.blob.ToString());
    return Ok();
  };

  oci::Index index;
  index.schema_version = 2;
  index.media_type = std::string(oci::kMediaTypeOciIndex);
  std::vector<oci::DockerArchiveEntry> entries;
  for (const SaveItem& item : items) {
    const Image& img = item.image;
    for (const LayerInfo& l : img.layers) BERTH_RETURN_IF_ERROR(add_layer(l));
    BERTH_RETURN_IF_ERROR(add_blob(img.id));
    BERTH_RETURN_IF_ERROR(add_blob(img.manifest));
    BERTH_ASSIGN_OR_RETURN(auto manifest_info, impl_->content.Info(img.manifest));

    oci::Descriptor md;
    md.media_type = img.manifest_media_type;
    md.digest = img.manifest;
    md.size = manifest_info.size;
    if (item.tags.empty()) {
      index.manifests.push_back(md);
    }
    for (const oci::Reference& t : item.tags) {
      oci::Descriptor d = md;
      d.annotations[std::string(oci::kAnnotationContainerdImageName)] = t.String();
      d.annotations[std::string(oci::kAnnotationRefName)] = t.tag();
      index.manifests.push_back(std::move(d));
    }

    oci::DockerArchiveEntry e;
    e.config = oci::BlobPath(img.id);
    for (const oci::Reference& t : item.tags) e.repo_tags.push_back(t.FamiliarString());
    for (const LayerInfo& l : img.layers) e.layers.push_back(oci::BlobPath(l.blob));
    entries.push_back(std::move(e));
  }
  BERTH_RETURN_IF_ERROR(tar->AddFile(std::string(oci::kOciIndexFile), oci::SerializeIndex(index)));
  BERTH_RETURN_IF_ERROR(tar->AddFile(std::string(oci::kDockerArchiveManifestFile),
                                     oci::SerializeDockerArchiveManifest(entries)));
  BERTH_RETURN_IF_ERROR(tar->AddFile(std::string(oci::kOciLayoutFile), oci::SerializeOciLayout()));
  return tar->Close();
}

}  // namespace berth::image
