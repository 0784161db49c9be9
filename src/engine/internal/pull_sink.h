// The image store as the puller's ImageSink and the pusher's ImageSource: distribution/ and
// image/ meet here, so neither module depends on the other. Private to engine/.
#pragma once

#include "distribution/puller.h"
#include "distribution/pusher.h"
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

class StorePushSource final : public distribution::ImageSource {
 public:
  explicit StorePushSource(image::ImageStore& images) : images_(images) {}
  Result<distribution::PushableImage> Get(const oci::Reference& name) override;
  Result<std::unique_ptr<Reader>> OpenLayer(const oci::Digest& id, size_t index) override;
  Result<std::vector<oci::Reference>> Tags(const oci::Reference& repository) override;

 private:
  image::ImageStore& images_;
};

}  // namespace berth::engine::internal
