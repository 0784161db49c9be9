#include "registry/manifest_info.h"

#include <nlohmann/json.hpp>

#include "oci/media_types.h"

namespace berth::registry {
namespace {

using nlohmann::json;

constexpr std::string_view kOciManifest = "application/vnd.oci.image.manifest.v1+json";
constexpr std::string_view kOciIndex = "application/vnd.oci.image.index.v1+json";
constexpr std::string_view kDockerManifest = "application/vnd.docker.distribution.manifest.v2+json";
constexpr std::string_view kDockerList = "application/vnd.docker.distribution.manifest.list.v2+json";

Error Invalid(std::string message) { return MakeError(Code::kInvalidArgument, std::move(message)); }

// "application/json; charset=utf-8" -> "application/json".
std::string_view BareType(std::string_view content_type) {
  size_t semi = content_type.find(';');
  std::string_view t = content_type.substr(0, semi);
  while (!t.empty() && t.back() == ' ') t.remove_suffix(1);
  return t;
}

Result<oci::Digest> DescriptorDigest(const json& d, std::string_view where) {
  if (!d.is_object()) return Invalid(std::string(where) + " is not a descriptor object");
  auto it = d.find("digest");
  if (it == d.end() || !it->is_string()) return Invalid(std::string(where) + " has no digest");
  auto digest = oci::Digest::Parse(it->get<std::string>());
  if (!digest) return Invalid(std::string(where) + ": " + digest.error().message);
  auto size = d.find("size");
  if (size != d.end() && !(size->is_number_integer() && size->get<int64_t>() >= 0)) {
    return Invalid(std::string(where) + " has an invalid size");
  }
  return *digest;
}

}  // namespace

Result<ManifestInfo> AnalyzeManifest(std::string_view bytes, std::string_view content_type) {
  json doc = json::parse(bytes, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return Invalid("manifest is not valid JSON");
  if (!doc.is_object()) return Invalid("manifest is not a JSON object");

  std::string declared;
  if (auto it = doc.find("mediaType"); it != doc.end()) {
    if (!it->is_string()) return Invalid("mediaType is not a string");
    declared = it->get<std::string>();
  }
  // Only a manifest media type in the Content-Type says anything (clients send
  // application/json, application/octet-stream, even form encodings).
  std::string header(BareType(content_type));
  if (header != kOciManifest && header != kOciIndex && header != kDockerManifest &&
      header != kDockerList && !header.starts_with("application/vnd.docker.distribution.manifest.v1")) {
    header.clear();
  }
  if (!declared.empty() && !header.empty() && declared != header) {
    return Invalid("mediaType " + declared + " does not match the Content-Type " + header);
  }
  ManifestInfo info;
  info.media_type = !declared.empty() ? declared : header;
  if (info.media_type.empty()) {
    // Neither says: an OCI document by its shape (image-spec allows mediaType to be absent).
    info.media_type = doc.contains("manifests") ? kOciIndex : kOciManifest;
  }
  if (info.media_type.starts_with("application/vnd.docker.distribution.manifest.v1")) {
    return Invalid("schema1 manifests are not supported (" + info.media_type + ")");
  }
  if (auto it = doc.find("schemaVersion"); it == doc.end() || !it->is_number_integer() ||
                                           it->get<int64_t>() != 2) {
    return Invalid("schemaVersion must be 2");
  }

  bool is_index = info.media_type == kOciIndex || info.media_type == kDockerList;
  bool is_manifest = info.media_type == kOciManifest || info.media_type == kDockerManifest;
  if (!is_index && !is_manifest) {
    return Invalid("unsupported manifest media type " + info.media_type);
  }
  if (is_index) {
    auto it = doc.find("manifests");
    if (it == doc.end() || !it->is_array()) return Invalid("index has no manifests array");
    for (size_t i = 0; i < it->size(); ++i) {
      auto d = DescriptorDigest((*it)[i], "manifests[" + std::to_string(i) + "]");
      if (!d) return d.error();
      info.manifests.push_back(*d);
    }
  } else {
    auto config = doc.find("config");
    if (config == doc.end()) return Invalid("manifest has no config");
    auto cd = DescriptorDigest(*config, "config");
    if (!cd) return cd.error();
    info.blobs.push_back(*cd);
    auto layers = doc.find("layers");
    if (layers == doc.end() || !layers->is_array()) return Invalid("manifest has no layers array");
    for (size_t i = 0; i < layers->size(); ++i) {
      const json& layer = (*layers)[i];
      auto d = DescriptorDigest(layer, "layers[" + std::to_string(i) + "]");
      if (!d) return d.error();
      // Foreign layers live elsewhere (their urls); the registry need not have them.
      std::string mt = layer.value("mediaType", "");
      if (layer.contains("urls") && oci::IsNonDistributableLayer(mt)) continue;
      info.blobs.push_back(*d);
    }
    if (auto at = doc.find("artifactType"); at != doc.end() && at->is_string()) {
      info.artifact_type = at->get<std::string>();
    } else if (config->is_object() && config->contains("mediaType") &&
               (*config)["mediaType"].is_string()) {
      info.artifact_type = (*config)["mediaType"].get<std::string>();
    }
  }
  if (is_index) {
    if (auto at = doc.find("artifactType"); at != doc.end() && at->is_string()) {
      info.artifact_type = at->get<std::string>();
    }
  }
  if (auto it = doc.find("subject"); it != doc.end()) {
    auto d = DescriptorDigest(*it, "subject");
    if (!d) return d.error();
    info.subject = *d;
  }
  if (auto it = doc.find("annotations"); it != doc.end()) {
    if (!it->is_object()) return Invalid("annotations is not an object");
    for (const auto& [k, v] : it->items()) {
      if (!v.is_string()) return Invalid("annotation " + k + " is not a string");
    }
    if (!it->empty()) info.annotations_json = it->dump();
  }
  return info;
}

}  // namespace berth::registry
