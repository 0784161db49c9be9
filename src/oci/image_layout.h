// Archive layouts an image travels in: the OCI image layout (image-layout.md) and the
// docker-archive manifest.json that `docker save` writes beside it. Names, paths and JSON only;
// reading and writing the tar is archive/'s and image/'s job. Thread-safe (pure functions).
//
//   <root>/
//     oci-layout                  {"imageLayoutVersion":"1.0.0"}
//     index.json                  an image index (oci/index.h); tags in the
//                                 "org.opencontainers.image.ref.name" annotation
//     blobs/<alg>/<hex>           every blob by digest: manifests, configs, layers
//     manifest.json               docker-archive: [{"Config","RepoTags","Layers"}]
//     repositories                docker-archive (legacy): {"name":{"tag":"<layer id>"}}
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "oci/descriptor.h"
#include "oci/digest.h"

namespace berth::oci {

inline constexpr std::string_view kOciLayoutFile = "oci-layout";
inline constexpr std::string_view kOciLayoutVersion = "1.0.0";
inline constexpr std::string_view kOciIndexFile = "index.json";
inline constexpr std::string_view kOciBlobsDir = "blobs";
inline constexpr std::string_view kDockerArchiveManifestFile = "manifest.json";
inline constexpr std::string_view kDockerArchiveRepositoriesFile = "repositories";

// Annotation keys (annotations.md) used in layouts and by containerd.
inline constexpr std::string_view kAnnotationRefName = "org.opencontainers.image.ref.name";
inline constexpr std::string_view kAnnotationCreated = "org.opencontainers.image.created";
inline constexpr std::string_view kAnnotationContainerdImageName = "io.containerd.image.name";

// "blobs/sha256/<hex>".
std::string BlobPath(const Digest& digest);

// The oci-layout file: {"imageLayoutVersion":"1.0.0"}.
std::string SerializeOciLayout();
// Requires a JSON object whose imageLayoutVersion is "1.0.0" (other fields are allowed).
// InvalidArgument for bad JSON, NotImplemented for another version.
Status ParseOciLayout(std::string_view bytes);

// One image in a docker-archive manifest.json (moby's tarexport manifestItem).
struct DockerArchiveEntry {
  std::string config;                  // "blobs/sha256/<hex>" or "<hex>.json"
  std::vector<std::string> repo_tags;  // "busybox:latest", familiar form
  std::vector<std::string> layers;     // "blobs/sha256/<hex>" or "<id>/layer.tar", base first
  std::string parent;                  // "Parent", omitted when empty
  // "LayerSources": diff ID -> descriptor, for foreign layers that are not in the archive.
  std::map<std::string, Descriptor> layer_sources;

  friend bool operator==(const DockerArchiveEntry&, const DockerArchiveEntry&) = default;
};

// Parses manifest.json and validates it: an array of objects; Config and each Layers entry a
// safe path (ValidateArchivePath); each RepoTags entry a name with a tag (as `docker load`
// demands); LayerSources keys digests and values valid descriptors. InvalidArgument on failure.
Result<std::vector<DockerArchiveEntry>> ParseDockerArchiveManifest(std::string_view bytes);
std::string SerializeDockerArchiveManifest(const std::vector<DockerArchiveEntry>& entries);

// A path from inside an archive that is safe to join to the extraction root: not empty,
// relative, already clean (no "", "." or ".." components, no trailing '/'), no NUL or '\\'.
// InvalidArgument naming the path otherwise. This is lexical only: symlinks inside the archive
// are archive/'s to resolve (RESOLVE_IN_ROOT).
Status ValidateArchivePath(std::string_view path);

}  // namespace berth::oci
