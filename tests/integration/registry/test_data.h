// Test content for the registry conformance tests, built fresh in each test: random blobs, an
// image config, OCI image manifests (with layers, with a subject and artifactType), an OCI index,
// a Docker schema2 manifest. Each is the exact bytes pushed plus their digest and size.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace berth::registry_conformance {

inline constexpr char kOciManifest[] = "application/vnd.oci.image.manifest.v1+json";
inline constexpr char kOciIndex[] = "application/vnd.oci.image.index.v1+json";
inline constexpr char kOciConfig[] = "application/vnd.oci.image.config.v1+json";
inline constexpr char kOciLayerGzip[] = "application/vnd.oci.image.layer.v1.tar+gzip";
inline constexpr char kOciEmpty[] = "application/vnd.oci.empty.v1+json";
inline constexpr char kDockerManifest[] = "application/vnd.docker.distribution.manifest.v2+json";
inline constexpr char kDockerConfig[] = "application/vnd.docker.container.image.v1+json";
inline constexpr char kDockerLayer[] = "application/vnd.docker.image.rootfs.diff.tar.gzip";

// Bytes and their address.
struct Content {
  std::string bytes;
  std::string digest;  // "sha256:<hex>"
  std::string media_type;
  size_t size() const { return bytes.size(); }
};

Content MakeContent(std::string bytes, std::string media_type = "application/octet-stream");
std::string Sha256(const std::string& bytes);
std::string RandomBytes(size_t n);
std::string RandomName(size_t n);  // [a-z0-9]
Content RandomBlob(size_t n, std::string media_type = kOciLayerGzip);
// An image config with a random author, so every call gives a new digest.
Content MakeConfig(std::string media_type = kOciConfig);
// The empty JSON blob "{}" (image-spec "empty descriptor").
Content EmptyJson();

struct ManifestSpec {
  std::optional<std::string> media_type = std::string(kOciManifest);  // nullopt: no field
  Content config;
  std::vector<Content> layers;
  std::optional<Content> subject;
  std::optional<std::string> artifact_type;
  std::map<std::string, std::string> annotations;
  // Put the config's bytes in its descriptor's "data" field and an unknown field beside it,
  // as the upstream suite does: a registry must accept both.
  bool config_data = false;
};
// An OCI image manifest (or, with media_type kDockerManifest, a Docker schema2 one).
Content MakeManifest(const ManifestSpec& spec);

struct IndexSpec {
  std::vector<Content> manifests;
  std::optional<Content> subject;
  std::optional<std::string> artifact_type;
  std::map<std::string, std::string> annotations;
};
Content MakeIndex(const IndexSpec& spec);

// The upstream suite's image: a fresh config (with "data" in its descriptor) and `layers`
// random layers of 64..256 bytes.
ManifestSpec ImageSpec(size_t layers = 1);

// A descriptor of `c` as a JSON string (for manifests built by hand).
std::string DescriptorJson(const Content& c);

}  // namespace berth::registry_conformance
