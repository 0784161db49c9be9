#include "engine/internal/pull_sink.h"

#include "oci/manifest.h"
#include "oci/media_types.h"

namespace berth::engine::internal {
namespace {

image::ManifestImage ToManifestImage(const distribution::PulledImage& p) {
  return image::ManifestImage{p.manifest_bytes, p.config_bytes, p.layers, p.names};
}

class Source final : public image::LayerSource {
 public:
  explicit Source(distribution::ImageSink::Layers& layers) : layers_(layers) {}
  Result<std::unique_ptr<Reader>> Open(size_t index) override { return layers_.Open(index); }
  void Unpacked(size_t index) override { layers_.Unpacked(index); }

 private:
  distribution::ImageSink::Layers& layers_;
};

}  // namespace

Result<std::vector<bool>> StorePullSink::PresentLayers(const distribution::PulledImage& image) {
  return images_.PresentLayers(ToManifestImage(image));
}

Result<oci::Digest> StorePullSink::Add(const distribution::PulledImage& image, Layers& layers) {
  Source source(layers);
  BERTH_ASSIGN_OR_RETURN(image::Image added, images_.AddImage(ToManifestImage(image), source));
  return added.id;
}

std::optional<oci::Digest> StorePullSink::Resolve(const oci::Reference& name) {
  Result<oci::Digest> id = images_.Resolve(name.String());
  if (!id) return std::nullopt;
  return *id;
}

Result<distribution::PushableImage> StorePushSource::Get(const oci::Reference& name) {
  Result<image::Image> img = images_.Get(name.String());
  if (!img) {
    if (img.error().code != Code::kNotFound) return std::move(img).error();
    return MakeError(Code::kNotFound,
                     "An image does not exist locally with the tag: " + name.FamiliarName());
  }
  distribution::PushableImage p;
  p.id = img->id;
  BERTH_ASSIGN_OR_RETURN(p.manifest_bytes, images_.ReadManifest(*img));
  p.manifest_media_type = img->manifest_media_type;
  if (p.manifest_media_type.empty()) p.manifest_media_type = oci::kMediaTypeOciManifest;
  BERTH_ASSIGN_OR_RETURN(oci::Manifest m, oci::ParseManifest(p.manifest_bytes));
  p.config = m.config;
  p.config_bytes = img->config_bytes;
  p.layers = m.layers;
  return p;
}

Result<std::unique_ptr<Reader>> StorePushSource::OpenLayer(const oci::Digest& id, size_t index) {
  BERTH_ASSIGN_OR_RETURN(image::Image img, images_.Get(id.ToString()));
  return images_.OpenLayer(img, index);
}

Result<std::vector<oci::Reference>> StorePushSource::Tags(const oci::Reference& repository) {
  BERTH_ASSIGN_OR_RETURN(std::vector<image::Image> all, images_.List({}));
  std::vector<oci::Reference> out;
  for (const image::Image& img : all) {
    for (const oci::Reference& t : img.tags) {
      if (t.Name() == repository.Name()) out.push_back(t);
    }
  }
  return out;
}

}  // namespace berth::engine::internal
