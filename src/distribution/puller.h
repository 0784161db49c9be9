// Puller: an image from a registry into the engine's stores.
//
//   resolve   GET manifest by tag or digest (Accept: OCI + Docker manifests and indexes); its
//             digest checked (against the requested digest, and Docker-Content-Digest); an
//             index resolved to the manifest for the requested platform, which is checked
//             against the index's descriptor
//   config    GET, verified, parsed; diff_ids give the chain IDs, so layers unpacked already
//             (the ImageSink says which) are not downloaded ("Already exists")
//   download  up to max_concurrent_downloads layers at once, each streamed into a content
//             ingest named by its digest ("pull-<hex>"): hashed as it streams and committed
//             only when digest and size match. An ingest left by an interrupted pull (even a
//             killed daemon) is resumed with a Range request. A blob stored already is not
//             fetched again. The blobs are held by the lease "lease:pull-<manifest hex>"
//             until the image holds them.
//   unpack    in layer order, while later layers still download. The first layer the
//             unpacker asks for whose download has not begun is streamed to it as it arrives
//             (a bounded pipe; end of stream only after the ingest verified the digest, so a
//             corrupt blob fails the unpack with the digest error); the others are read from
//             the content store once downloaded. Then the image is recorded with the manifest
//             as pulled (its digest is the repo digest) and named by tag and/or digest.
//
// Progress goes to a callback, shaped as Docker's JSON progress messages (status, id,
// progressDetail), from several threads but never concurrently.
// Thread-safety: Pull may be called concurrently (two pulls of one blob: the second waits).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/io.h"
#include "base/result.h"
#include "distribution/auth.h"
#include "distribution/registry_client.h"
#include "oci/descriptor.h"
#include "oci/digest.h"
#include "oci/platform.h"
#include "oci/reference.h"

namespace berth::content {
class Store;
}  // namespace berth::content

namespace berth::distribution {

// An image as pulled: what the ImageSink records.
struct PulledImage {
  std::string manifest_bytes;
  std::string config_bytes;
  std::vector<oci::Descriptor> layers;
  std::vector<oci::Reference> names;  // the tag pulled, and name@<digest pulled>
};

// The engine's image store as the puller sees it (engine/ wires image::ImageStore in).
class ImageSink {
 public:
  // Feeds the layers to Add, in order.
  class Layers {
   public:
    virtual ~Layers() = default;
    // Layer `index`'s blob; blocks until it is downloaded. The download's error if it failed.
    virtual Result<std::unique_ptr<Reader>> Open(size_t index) = 0;
    virtual void Unpacked(size_t index) = 0;
  };
  virtual ~ImageSink() = default;
  // Per layer: true when it needs no download (unpacked here, its blob stored).
  virtual Result<std::vector<bool>> PresentLayers(const PulledImage& image) = 0;
  // Unpacks what is missing and records the image; returns its ID (the config digest).
  virtual Result<oci::Digest> Add(const PulledImage& image, Layers& layers) = 0;
  // The image a name points at now, if any ("Image is up to date" when unchanged).
  virtual std::optional<oci::Digest> Resolve(const oci::Reference& name) = 0;
};

struct ProgressMessage {
  std::string status;
  std::string id;
  bool has_detail = false;  // progressDetail present ({} when current/total are unset)
  int64_t current = -1;
  int64_t total = -1;
  std::string aux;  // a JSON object sent as "aux" (push's {"Tag","Digest","Size"}); "" if none
};
using ProgressFn = std::function<void(const ProgressMessage&)>;

class BlobSources;

struct PullerOptions {
  std::vector<std::string> insecure_registries;  // host[:port] or CIDR
  // Where blobs were seen (borrowed; may be null): pulls remember their sources, pushes mount
  // from them.
  BlobSources* sources = nullptr;
  // Push: uncompressed layers go to registries gzip-compressed (ISA-L, level 1) as Docker
  // pushes them, through a temporary file in `temp_dir`.
  bool compress_plain_layers = true;
  std::string temp_dir = "/var/tmp";
  int max_concurrent_downloads = 3;
  ClientOptions client;
};

struct PullOptions {
  oci::Platform platform;  // chosen from an index
  AuthConfig auth;
  ProgressFn progress;  // may be empty
};

struct PullResult {
  oci::Digest digest;    // what the name resolved to in the registry (index or manifest)
  oci::Digest image_id;  // the config digest
  bool updated = false;  // the name points at another image than before
};

class Puller {
 public:
  Puller(content::Store& content, ImageSink& images, PullerOptions options);
  // `ref` is normalised (docker.io/library/busybox:latest) and has a tag or a digest.
  Result<PullResult> Pull(const oci::Reference& ref, const PullOptions& options);
  // pull -a: every tag of `repository` (a name alone), in the registry's order. Stops at the
  // first tag that fails. The result is the last tag's.
  Result<PullResult> PullAllTags(const oci::Reference& repository, const PullOptions& options);
  // docker login's check (POST /auth): GET /v2/ of the registry `auth.server_address` names
  // ("host[:port]", "https://host/...", Docker Hub's "https://index.docker.io/v1/"), through
  // its auth challenge with these credentials.
  Status Login(const AuthConfig& auth);

 private:
  content::Store& content_;
  ImageSink& images_;
  PullerOptions options_;
};

}  // namespace berth::distribution
