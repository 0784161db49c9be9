// Index: an OCI image index (image-index.md) or a Docker manifest list ("fat manifest"): one
// descriptor per platform-specific manifest. Parse/serialize, and choosing the manifest for a
// platform the way containerd does. No I/O. Thread-compatible.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "oci/descriptor.h"
#include "oci/platform.h"

namespace berth::oci {

struct Index {
  int schema_version = 2;
  std::string media_type;  // kMediaTypeOciIndex, kMediaTypeDockerManifestList, or empty (OCI)
  std::string artifact_type;
  std::vector<Descriptor> manifests;  // may be empty
  std::optional<Descriptor> subject;
  Annotations annotations;

  friend bool operator==(const Index&, const Index&) = default;
};

// Parses and validates: a JSON object, schemaVersion 2, mediaType (when present) an index type,
// "manifests" present (an array, possibly empty) of valid descriptors, a valid subject. Entries
// with media types we do not know are kept (the spec forbids erroring on them).
Result<Index> ParseIndex(std::string_view bytes);
Status ValidateIndex(const Index& index);
// Compact JSON: schemaVersion, mediaType, artifactType, manifests, subject, annotations.
std::string SerializeIndex(const Index& index);

// The entries of `index` that `matcher` accepts, best first (stable: equal entries keep index
// order, as the spec asks "the first matching entry SHOULD be used"). As in containerd's
// images.Manifest, an entry with no platform matches anything but sorts after every entry that
// has one.
std::vector<Descriptor> MatchManifests(const Index& index, const PlatformMatcher& matcher);

// The best entry for `platform` (PlatformMatcher(platform), i.e. containerd's platforms.Only).
// NotFound "no matching manifest for linux/arm64/v8 in the manifest list entries" (Docker's
// wording) when none matches.
Result<Descriptor> SelectManifest(const Index& index, const Platform& platform);

}  // namespace berth::oci
