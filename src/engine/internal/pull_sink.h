// The image store as the puller's ImageSink: distribution/ hands pulled images to image/
// through this, so neither module depends on the other. Private to engine/.
#pragma once

#include "distribution/puller.h"
#include "image/image_store.h"

namespace berth::engine::internal {

class StorePullSink final : public distribution::ImageSink {
 public:
  explicit StorePullSink(image::ImageStore& images) : images_(images) {}
  Result<std::vector<bool>> PresentLayers(const distribution::PulledImage& image) override;
  Result<oci::Digest> Add(const distribution::PulledImage& image, Layers& layers) override;
  std::optional<oci::Digest> Resolve(const oci::Reference& name) override;

 private:
  image::ImageStore& images_;
};

}  // namespace berth::engine::internal
