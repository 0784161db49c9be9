// What the registry needs to know of a pushed manifest: its media type, what it references
// (blobs for an image manifest, manifests for an index), its subject, artifact type and
// annotations (for the referrers API). No I/O.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "oci/digest.h"

namespace berth::registry {

struct ManifestInfo {
  std::string media_type;
  std::vector<oci::Digest> blobs;      // config and layers (foreign layers with urls excluded)
  std::vector<oci::Digest> manifests;  // children of an index / manifest list
  std::optional<oci::Digest> subject;
  std::string artifact_type;     // artifactType, else config.mediaType (image manifests)
  std::string annotations_json;  // "" if none
};

// Parses `bytes` as an OCI image manifest or index, or a Docker schema2 manifest or manifest
// list. `content_type` is the request's Content-Type ("" if none). InvalidArgument (-> the
// spec's MANIFEST_INVALID) for anything that is not one of those: not JSON, not an object,
// a mediaType field that contradicts the Content-Type, missing config or layers, malformed
// digests, schema1.
Result<ManifestInfo> AnalyzeManifest(std::string_view bytes, std::string_view content_type);

}  // namespace berth::registry
