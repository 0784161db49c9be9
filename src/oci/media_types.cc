#include "oci/media_types.h"

#include <string>

namespace berth::oci {

bool IsManifest(std::string_view media_type) {
  return media_type == kMediaTypeOciManifest || media_type == kMediaTypeDockerManifest;
}

bool IsIndex(std::string_view media_type) {
  return media_type == kMediaTypeOciIndex || media_type == kMediaTypeDockerManifestList;
}

bool IsConfig(std::string_view media_type) {
  return media_type == kMediaTypeOciConfig || media_type == kMediaTypeDockerConfig;
}

bool IsLayer(std::string_view media_type) {
  if (media_type.starts_with("application/vnd.oci.image.layer.")) return true;
  // Docker's types, with any "+suffix" (e.g. "+encrypted") stripped first.
  std::string_view base = media_type.substr(0, media_type.find('+'));
  return base == kMediaTypeDockerLayer || base == kMediaTypeDockerLayerGzip ||
         base == kMediaTypeDockerLayerZstd || base == kMediaTypeDockerForeignLayer ||
         base == kMediaTypeDockerForeignLayerGzip;
}

bool IsNonDistributableLayer(std::string_view media_type) {
  return media_type.starts_with("application/vnd.oci.image.layer.nondistributable.") ||
         media_type.starts_with("application/vnd.docker.image.rootfs.foreign.");
}

bool IsDockerMediaType(std::string_view media_type) {
  return media_type.starts_with("application/vnd.docker.");
}

std::string_view CompressionName(Compression c) {
  switch (c) {
    case Compression::kNone:
      return "none";
    case Compression::kGzip:
      return "gzip";
    case Compression::kZstd:
      return "zstd";
  }
  return "unknown";
}

Result<Compression> LayerCompression(std::string_view media_type) {
  if (!IsLayer(media_type)) {
    return MakeError(Code::kInvalidArgument,
                     "media type \"" + std::string(media_type) + "\" is not a layer");
  }
  if (media_type.starts_with("application/vnd.docker.")) {
    if (media_type.ends_with(".tar")) return Compression::kNone;
    if (media_type.ends_with(".tar.gzip")) return Compression::kGzip;
    if (media_type.ends_with(".tar.zstd")) return Compression::kZstd;
  } else {
    if (media_type.ends_with(".tar")) return Compression::kNone;
    if (media_type.ends_with(".tar+gzip")) return Compression::kGzip;
    if (media_type.ends_with(".tar+zstd")) return Compression::kZstd;
  }
  return MakeError(Code::kNotImplemented,
                   "unsupported layer media type \"" + std::string(media_type) + "\"");
}

std::string_view LayerMediaType(Compression c, bool docker) {
  switch (c) {
    case Compression::kNone:
      return docker ? kMediaTypeDockerLayer : kMediaTypeOciLayer;
    case Compression::kGzip:
      return docker ? kMediaTypeDockerLayerGzip : kMediaTypeOciLayerGzip;
    case Compression::kZstd:
      return docker ? kMediaTypeDockerLayerZstd : kMediaTypeOciLayerZstd;
  }
  return kMediaTypeOciLayer;
}

}  // namespace berth::oci
