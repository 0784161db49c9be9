// Descriptor: a typed, sized, content-addressed reference to a blob (OCI descriptor.md), the link
// every manifest, index and layout uses. Plain value; JSON in and out; no I/O. Thread-compatible.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "oci/digest.h"
#include "oci/platform.h"

namespace berth::oci {

using Annotations = std::map<std::string, std::string>;

struct Descriptor {
  std::string media_type;
  Digest digest;
  int64_t size = 0;
  std::vector<std::string> urls;
  Annotations annotations;
  std::string data;  // "data": the embedded blob, base64 as in the JSON (not decoded here)
  std::optional<Platform> platform;
  std::string artifact_type;

  friend bool operator==(const Descriptor&, const Descriptor&) = default;
};

// Checks what parsing checks, for descriptors built in code: media type present, digest valid,
// size >= 0, platform (if any) has os and architecture.
Status ValidateDescriptor(const Descriptor& d);

// One descriptor as a JSON object (application/vnd.oci.descriptor.v1+json). Unknown fields are
// ignored. InvalidArgument for anything that is not a valid descriptor.
Result<Descriptor> ParseDescriptor(std::string_view json);
// Compact JSON, keys in the spec's order, optional fields omitted when empty.
std::string SerializeDescriptor(const Descriptor& d);

}  // namespace berth::oci
