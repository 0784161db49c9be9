// Pusher: an image of the engine's store to a registry (OCI distribution spec: "Pushing").
//
//   per layer, base first: HEAD the blob; present -> "Layer already exists"; known to be in
//   another repository of the registry (BlobSources) -> a mount ("Mounted from REPO"); else a monolithic
//   upload (POST /blobs/uploads/, PUT <Location>?digest=) streamed from the image store (a layer
//   kept as tree + tar-split is regenerated and verified as it streams); then the config the
//   same way; then PUT the manifest under the tag: as stored (so the registry's digest is the
//   local one) unless uncompressed layers were pushed gzip-compressed, as Docker does, which
//   makes a manifest with their compressed descriptors. The compressed digest of each such
//   layer is remembered, so a second push of it is a HEAD. Tokens are asked for
//   "repository:<path>:pull,push".
//
// Progress as Docker's push stream: "The push refers to repository [NAME]", per layer
// "Preparing", "Pushing" (progressDetail), "Pushed" / "Layer already exists", then
// "TAG: digest: sha256:.. size: N" and aux {"Tag","Digest","Size"}.
// Thread-safety: Push may be called concurrently.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/io.h"
#include "base/result.h"
#include "distribution/auth.h"
#include "distribution/puller.h"
#include "oci/descriptor.h"
#include "oci/digest.h"
#include "oci/reference.h"

namespace berth::distribution {

struct PushableImage {
  oci::Digest id;
  std::string manifest_bytes;
  std::string manifest_media_type;
  oci::Descriptor config;
  std::string config_bytes;
  std::vector<oci::Descriptor> layers;
};

// The engine's image store as the pusher sees it (engine/ wires image::ImageStore in).
class ImageSource {
 public:
  virtual ~ImageSource() = default;
  // NotFound "An image does not exist locally with the tag: NAME".
  virtual Result<PushableImage> Get(const oci::Reference& name) = 0;
  virtual Result<std::unique_ptr<Reader>> OpenLayer(const oci::Digest& id, size_t index) = 0;
  // Every tagged name in `repository` (push -a).
  virtual Result<std::vector<oci::Reference>> Tags(const oci::Reference& repository) = 0;
};

class Pusher {
 public:
  Pusher(ImageSource& images, PullerOptions options);
  // `ref` is normalised; with a tag that tag is pushed, with neither tag nor digest every tag
  // of the repository (push -a).
  Status Push(const oci::Reference& ref, const AuthConfig& auth, const ProgressFn& progress);

 private:
  Status PushTag(RegistryClient& client, const oci::Reference& tagged, const ProgressFn& progress);
  // Pushes layer `index` of `image`, an uncompressed tar, as a gzip blob: one pushed before
  // (BlobSources::Compressed) is looked for by HEAD and mount first; otherwise the layer is
  // compressed into a temporary file, hashed, and uploaded. Returns its descriptor.
  Result<oci::Descriptor> PushCompressed(RegistryClient& client, const oci::Reference& tagged,
                                         const PushableImage& image, size_t index,
                                         const ProgressFn& progress);
  // Whether `tagged`'s repository has `digest` already (HEAD) or got it by a mount; says
  // which through `status` ("Layer already exists", "Mounted from REPO") and remembers it.
  Result<bool> AlreadyThere(RegistryClient& client, const oci::Reference& tagged,
                            const oci::Digest& digest,
                            const std::function<void(const std::string&)>& status);
  // Notes that `ref`'s repository holds `digest` (options_.sources).
  void Remember(const oci::Reference& ref, const oci::Digest& digest);
  // Mounts `digest` into `ref`'s repository from another repository known to hold it; the
  // repository it came from, or nullopt (upload it).
  Result<std::optional<std::string>> TryMount(RegistryClient& client, const oci::Reference& ref,
                                              const oci::Digest& digest);

  ImageSource& images_;
  PullerOptions options_;
};

}  // namespace berth::distribution
