// Manifest: an OCI image manifest (manifest.md) or a Docker image manifest v2 schema 2
// (docker-manifest-v2-2.md); the two share one shape and differ in media types. Parse validates;
// Serialize writes compact JSON in the spec's key order. No I/O. Thread-compatible.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "oci/descriptor.h"

namespace berth::oci {

struct Manifest {
  int schema_version = 2;
  std::string media_type;     // kMediaTypeOciManifest, kMediaTypeDockerManifest, or empty (OCI)
  std::string artifact_type;  // OCI 1.1 artifacts
  Descriptor config;
  std::vector<Descriptor> layers;  // base layer first
  std::optional<Descriptor> subject;
  Annotations annotations;

  friend bool operator==(const Manifest&, const Manifest&) = default;
};

// Parses and validates: a JSON object, schemaVersion 2, mediaType (when present) an image
// manifest type, a valid config descriptor, valid layer descriptors, a valid subject, and
// artifactType set when config is the empty descriptor. Unknown fields are ignored.
// InvalidArgument on any failure (NotImplemented for a schema 1 manifest).
Result<Manifest> ParseManifest(std::string_view bytes);

// The checks ParseManifest makes, for a Manifest built in code.
Status ValidateManifest(const Manifest& m);

// Compact JSON: schemaVersion, mediaType, artifactType, config, layers, subject, annotations;
// empty optional fields omitted. "layers" is always written (Docker requires it).
std::string SerializeManifest(const Manifest& m);

// The media type of a manifest-like document that came without one we can trust (a registry
// that sends no Content-Type, a blob in a layout): its "mediaType" field if it has one, else
// by shape ("manifests" -> OCI index, "config" -> OCI manifest, schemaVersion 1 -> Docker
// schema 1). InvalidArgument when it is not JSON or matches none of these.
Result<std::string> DetectManifestMediaType(std::string_view bytes);

}  // namespace berth::oci
