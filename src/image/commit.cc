// docker commit: the container's upper dir, as a tar with OCI whiteouts, becomes one more layer
// on its image's layers; the config is the container's Config with --change applied, a history
// entry and Docker's "container" / "container_config" fields.
#include <nlohmann/json.hpp>

#include "base/cleanup.h"
#include "base/strings.h"
#include "image/changes.h"
#include "image/image_store.h"
#include "image/internal/impl.h"

namespace berth::image {
namespace {

// The container's Config JSON as an oci::ContainerConfig (unmodelled keys such as Hostname or
// Image stay in `extra`, as Docker keeps them in a committed image's config).
Result<oci::ContainerConfig> ParseContainerConfig(const std::string& json) {
  std::string wrapped = R"({"rootfs":{"type":"layers","diff_ids":[]},"config":)" +
                        (json.empty() ? std::string("{}") : json) + "}";
  Result<oci::ImageConfig> parsed = oci::ParseImageConfig(wrapped);
  if (!parsed) return std::move(parsed).error().WithContext("commit: container config");
  return std::move(parsed->config);
}

}  // namespace

Result<Image> ImageStore::Commit(Reader& layer, const CommitOptions& options) {
  BERTH_ASSIGN_OR_RETURN(oci::ContainerConfig container_config,
                         ParseContainerConfig(options.container_config_json));
  oci::ContainerConfig config_after = container_config;
  // Bad changes are refused before a byte of the diff is read.
  BERTH_RETURN_IF_ERROR(ApplyChanges(options.changes, config_after));

  std::lock_guard op(impl_->op_mu);
  BERTH_ASSIGN_OR_RETURN(Image base, impl_->LoadImage(options.image_id));
  Undo undo;
  Cleanup rollback([&] { impl_->Rollback(undo); });

  oci::Digest parent = base.layers.empty() ? oci::Digest() : base.layers.back().chain_id;
  Result<LayerInfo> diff = impl_->UnpackLayer(layer, parent, /*store_blob=*/true, undo);
  if (!diff) return std::move(diff).error().WithContext("commit");

  std::string now = FormatRfc3339Nano(NowUnixNanos());
  oci::ImageConfig config = base.config;
  config.created = now;
  config.author = options.author;
  config.config = std::move(config_after);
  config.rootfs.diff_ids.push_back(diff->diff_id);
  oci::History h;
  h.created = now;
  h.created_by = options.created_by;
  h.author = options.author;
  h.comment = options.comment;
  config.history.push_back(h);
  // Docker's image.NewChildImage: the comment replaces the parent's, the container and its
  // config (before --change) are recorded.
  config.extra.erase("comment");
  if (!options.comment.empty()) config.extra["comment"] = nlohmann::json(options.comment).dump();
  config.extra["container"] = nlohmann::json(options.container_id).dump();
  {
    oci::ImageConfig cc;
    cc.config = container_config;
    nlohmann::json j = nlohmann::json::parse(oci::SerializeImageConfig(cc), nullptr, false);
    if (j.is_object() && j.contains("config"))
      config.extra["container_config"] = j["config"].dump();
  }

  std::vector<LayerInfo> layers = base.layers;
  layers.push_back(*diff);
  BERTH_ASSIGN_OR_RETURN(Image image, impl_->AssembleImage(oci::SerializeImageConfig(config),
                                                           std::move(layers), undo));
  std::vector<oci::Reference> tags;
  if (options.tag) tags.push_back(options.tag->TagNameOnly());
  BERTH_RETURN_IF_ERROR(impl_->CommitImage(image, tags));
  rollback.Cancel();
  return impl_->LoadImage(image.id);
}

}  // namespace berth::image
