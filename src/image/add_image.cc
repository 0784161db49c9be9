// The registry's side of the image store. Pull: which layers of a registry's image are here
// already, and recording the image once its missing layers have arrived and are unpacked.
// Push: the stored manifest and the layer blobs as it names them.
#include <spdlog/spdlog.h>

#include "base/cleanup.h"
#include "image/internal/impl.h"
#include "oci/chain_id.h"
#include "oci/media_types.h"

namespace berth::image {
namespace {

struct Plan {
  std::vector<oci::Digest> diff_ids;
  std::vector<oci::Digest> chains;
  std::vector<std::optional<LayerInfo>> present;  // per layer: the unpacked chain, if usable
};

Result<Plan> MakePlan(ImageStore::Impl& impl, const ManifestImage& image) {
  Result<oci::ImageConfig> config = oci::ParseImageConfig(image.config_bytes);
  if (!config) return std::move(config).error().WithContext("image config");
  Plan plan;
  plan.diff_ids = config->rootfs.diff_ids;
  if (plan.diff_ids.size() != image.layers.size()) {
    return MakeError(Code::kInvalidArgument,
                     fmt::format("the image config lists {} layers, the manifest {}",
                                 plan.diff_ids.size(), image.layers.size()));
  }
  plan.chains = oci::ChainIds(plan.diff_ids);
  for (size_t i = 0; i < image.layers.size(); ++i) {
    const oci::Descriptor& d = image.layers[i];
    BERTH_ASSIGN_OR_RETURN(std::optional<LayerInfo> have, impl.FindLayer(plan.chains[i]));
    // The tree alone is not enough: the image keeps the blob its manifest names (save, push):
    // stored, or regenerable from the tree and a tar-split metadata blob that is still there
    // (the layer row keeps naming it after the last image that referenced it is gone, when
    // another image shares the chain under a compressed blob).
    bool blob_here = have && (impl.content.Info(d.digest).ok() ||
                              (have->tar_split.valid() && d.digest == have->diff_id &&
                               impl.content.Info(have->tar_split).ok()));
    if (!blob_here) have.reset();
    plan.present.push_back(std::move(have));
  }
  return plan;
}

}  // namespace

Result<std::vector<bool>> ImageStore::PresentLayers(const ManifestImage& image) {
  BERTH_ASSIGN_OR_RETURN(Plan plan, MakePlan(*impl_, image));
  std::vector<bool> out;
  for (const auto& p : plan.present) out.push_back(p.has_value());
  return out;
}

Result<Image> ImageStore::AddImage(const ManifestImage& image, LayerSource& source) {
  std::lock_guard op(impl_->op_mu);
  Undo undo;
  Cleanup rollback([&] { impl_->Rollback(undo); });
  BERTH_ASSIGN_OR_RETURN(Plan plan, MakePlan(*impl_, image));

  std::vector<LayerInfo> layers;
  for (size_t i = 0; i < image.layers.size(); ++i) {
    const oci::Descriptor& d = image.layers[i];
    std::string what = "layer " + d.digest.ToString();
    LayerInfo layer;
    if (plan.present[i]) {
      layer = *plan.present[i];
    } else {
      Result<std::unique_ptr<Reader>> blob = source.Open(i);
      if (!blob) return std::move(blob).error();  // the download names the layer
      Result<LayerInfo> unpacked = impl_->UnpackLayer(
          **blob, i ? plan.chains[i - 1] : oci::Digest(), /*store_blob=*/false, undo);
      if (!unpacked) return std::move(unpacked).error().WithContext("unpack " + what);
      layer = std::move(*unpacked);
      if (layer.blob != d.digest) {
        return MakeError(Code::kDataLoss,
                         what + ": the stored blob has digest " + layer.blob.ToString());
      }
      if (layer.diff_id != plan.diff_ids[i]) {
        return MakeError(Code::kDataLoss, what + ": its content has diff_id " +
                                              layer.diff_id.ToString() + ", the config says " +
                                              plan.diff_ids[i].ToString());
      }
    }
    // The image names the blob its manifest names, whichever blob brought the tree.
    layer.blob = d.digest;
    layer.media_type = d.media_type;
    layer.blob_size = d.size;
    layers.push_back(std::move(layer));
    source.Unpacked(i);
  }

  BERTH_ASSIGN_OR_RETURN(Image assembled, impl_->AssembleImage(image.config_bytes, layers, undo,
                                                               &image.manifest_bytes));
  if (assembled.manifest != oci::Digest::Of(image.manifest_bytes, assembled.manifest.algorithm())) {
    return MakeError(Code::kInvalidArgument,
                     "the manifest does not name exactly the config and layers it was pulled with");
  }
  BERTH_RETURN_IF_ERROR(impl_->CommitImage(assembled, image.names));
  rollback.Cancel();
  return impl_->LoadImage(assembled.id);
}

Result<std::string> ImageStore::ReadManifest(const Image& image) {
  return content::ReadBlob(impl_->content, image.manifest, 4 << 20);
}

Result<std::unique_ptr<Reader>> ImageStore::OpenLayer(const Image& image, size_t index) {
  if (index >= image.layers.size()) {
    return MakeError(Code::kInvalidArgument, fmt::format("the image has no layer {}", index));
  }
  return impl_->OpenLayerBlob(image.layers[index]);
}

}  // namespace berth::image
