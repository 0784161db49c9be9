#include "engine/internal/pull_sink.h"

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

}  // namespace berth::engine::internal
