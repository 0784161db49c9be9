// Media types of the OCI image spec (media-types.md) and of Docker's image manifest v2 schema 2
// (docker-manifest-v2-2.md), with the few questions callers ask of them: is this a manifest, an
// index, a config, a layer, and how is a layer compressed. No I/O. Thread-safe (constants and
// pure functions).
#pragma once

#include <string_view>

#include "base/result.h"

namespace berth::oci {

// OCI image spec.
inline constexpr std::string_view kMediaTypeOciDescriptor =
    "application/vnd.oci.descriptor.v1+json";
inline constexpr std::string_view kMediaTypeOciLayoutHeader =
    "application/vnd.oci.layout.header.v1+json";
inline constexpr std::string_view kMediaTypeOciIndex = "application/vnd.oci.image.index.v1+json";
inline constexpr std::string_view kMediaTypeOciManifest =
    "application/vnd.oci.image.manifest.v1+json";
inline constexpr std::string_view kMediaTypeOciConfig = "application/vnd.oci.image.config.v1+json";
inline constexpr std::string_view kMediaTypeOciLayer = "application/vnd.oci.image.layer.v1.tar";
inline constexpr std::string_view kMediaTypeOciLayerGzip =
    "application/vnd.oci.image.layer.v1.tar+gzip";
inline constexpr std::string_view kMediaTypeOciLayerZstd =
    "application/vnd.oci.image.layer.v1.tar+zstd";
inline constexpr std::string_view kMediaTypeOciEmpty = "application/vnd.oci.empty.v1+json";
// Deprecated by the spec, still found in Windows images.
inline constexpr std::string_view kMediaTypeOciLayerNonDistributable =
    "application/vnd.oci.image.layer.nondistributable.v1.tar";
inline constexpr std::string_view kMediaTypeOciLayerNonDistributableGzip =
    "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip";
inline constexpr std::string_view kMediaTypeOciLayerNonDistributableZstd =
    "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd";

// Docker image manifest v2, schema 2.
inline constexpr std::string_view kMediaTypeDockerManifest =
    "application/vnd.docker.distribution.manifest.v2+json";
inline constexpr std::string_view kMediaTypeDockerManifestList =
    "application/vnd.docker.distribution.manifest.list.v2+json";
inline constexpr std::string_view kMediaTypeDockerConfig =
    "application/vnd.docker.container.image.v1+json";
inline constexpr std::string_view kMediaTypeDockerLayer =
    "application/vnd.docker.image.rootfs.diff.tar";
inline constexpr std::string_view kMediaTypeDockerLayerGzip =
    "application/vnd.docker.image.rootfs.diff.tar.gzip";
inline constexpr std::string_view kMediaTypeDockerLayerZstd =
    "application/vnd.docker.image.rootfs.diff.tar.zstd";
inline constexpr std::string_view kMediaTypeDockerForeignLayer =
    "application/vnd.docker.image.rootfs.foreign.diff.tar";
inline constexpr std::string_view kMediaTypeDockerForeignLayerGzip =
    "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip";
inline constexpr std::string_view kMediaTypeDockerPluginConfig =
    "application/vnd.docker.plugin.v1+json";
// Schema 1 (pre-2016): recognised so it can be refused with a clear message, never parsed.
inline constexpr std::string_view kMediaTypeDockerManifestSchema1 =
    "application/vnd.docker.distribution.manifest.v1+json";
inline constexpr std::string_view kMediaTypeDockerManifestSchema1Signed =
    "application/vnd.docker.distribution.manifest.v1+prettyjws";

// An image manifest: OCI or Docker schema 2 (they share one shape, see manifest.h).
bool IsManifest(std::string_view media_type);
// An image index: OCI index or Docker manifest list.
bool IsIndex(std::string_view media_type);
// An image config: OCI or Docker container image config.
bool IsConfig(std::string_view media_type);
// A filesystem layer: any "application/vnd.oci.image.layer." type, or one of Docker's rootfs diff
// types (after containerd's images.IsLayerType).
bool IsLayer(std::string_view media_type);
// A layer that registries do not serve (Docker foreign layers, OCI non-distributable layers):
// pull fetches it from its descriptor's urls, push skips it.
bool IsNonDistributableLayer(std::string_view media_type);
bool IsDockerMediaType(std::string_view media_type);

enum class Compression { kNone, kGzip, kZstd };
std::string_view CompressionName(Compression c);  // "none", "gzip", "zstd"

// How the blob of a layer media type is compressed. InvalidArgument for a type that is not a
// layer, NotImplemented for a layer with another suffix (e.g. "+encrypted").
Result<Compression> LayerCompression(std::string_view media_type);

// The media type to write for a new layer: OCI (tar, tar+gzip, tar+zstd) or Docker.
std::string_view LayerMediaType(Compression c, bool docker);

}  // namespace berth::oci
