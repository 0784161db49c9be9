#include "oci/manifest.h"

#include "oci/internal/json.h"
#include "oci/media_types.h"

namespace berth::oci {
namespace {

using internal::Json;
using internal::OrderedJson;

constexpr std::string_view kWhat = "manifest";

Result<Manifest> ManifestFromJson(const Json& j) {
  Manifest m;
  if (j.contains("manifests") && !j.contains("config")) {
    return MakeError(Code::kInvalidArgument, "manifest: this is an image index, not a manifest");
  }
  BERTH_ASSIGN_OR_RETURN(std::optional<std::string> media_type,
                         internal::GetString(j, "mediaType", kWhat));
  m.media_type = media_type.value_or("");
  if (m.media_type == kMediaTypeDockerManifestSchema1 ||
      m.media_type == kMediaTypeDockerManifestSchema1Signed) {
    return MakeError(Code::kNotImplemented,
                     "manifest: Docker image manifest schema 1 is not supported");
  }
  BERTH_ASSIGN_OR_RETURN(std::optional<int64_t> version,
                         internal::GetInt64(j, "schemaVersion", kWhat));
  if (version && *version == 1) {
    return MakeError(Code::kNotImplemented,
                     "manifest: Docker image manifest schema 1 is not supported");
  }
  BERTH_RETURN_IF_ERROR(internal::CheckSchemaVersion2(j, kWhat));
  m.schema_version = 2;
  BERTH_ASSIGN_OR_RETURN(std::optional<std::string> artifact_type,
                         internal::GetString(j, "artifactType", kWhat));
  m.artifact_type = artifact_type.value_or("");

  auto config = j.find("config");
  if (config == j.end() || config->is_null()) {
    return MakeError(Code::kInvalidArgument, "manifest.config: required");
  }
  BERTH_ASSIGN_OR_RETURN(m.config, internal::DescriptorFromJson(*config, "manifest.config"));

  if (auto layers = j.find("layers"); layers != j.end() && !layers->is_null()) {
    if (!layers->is_array()) return internal::TypeError(kWhat, "layers", "an array");
    m.layers.reserve(layers->size());
    for (size_t i = 0; i < layers->size(); ++i) {
      BERTH_ASSIGN_OR_RETURN(
          Descriptor d,
          internal::DescriptorFromJson((*layers)[i], "manifest.layers[" + std::to_string(i) + "]"));
      m.layers.push_back(std::move(d));
    }
  }
  if (auto subject = j.find("subject"); subject != j.end() && !subject->is_null()) {
    BERTH_ASSIGN_OR_RETURN(Descriptor d,
                           internal::DescriptorFromJson(*subject, "manifest.subject"));
    m.subject = std::move(d);
  }
  BERTH_ASSIGN_OR_RETURN(m.annotations, internal::GetStringMap(j, "annotations", kWhat));
  BERTH_RETURN_IF_ERROR(ValidateManifest(m));
  return m;
}

}  // namespace

Status ValidateManifest(const Manifest& m) {
  if (m.schema_version != 2) {
    return MakeError(Code::kInvalidArgument, "manifest.schemaVersion: unsupported " +
                                                 std::to_string(m.schema_version) + ", want 2");
  }
  if (!m.media_type.empty() && !IsManifest(m.media_type)) {
    return MakeError(Code::kInvalidArgument,
                     "manifest.mediaType: \"" + m.media_type + "\" is not an image manifest type");
  }
  Status s = ValidateDescriptor(m.config);
  if (!s) return std::move(s).error().WithContext("manifest.config");
  for (size_t i = 0; i < m.layers.size(); ++i) {
    s = ValidateDescriptor(m.layers[i]);
    if (!s) return std::move(s).error().WithContext("manifest.layers[" + std::to_string(i) + "]");
  }
  if (m.subject) {
    s = ValidateDescriptor(*m.subject);
    if (!s) return std::move(s).error().WithContext("manifest.subject");
  }
  if (m.config.media_type == kMediaTypeOciEmpty && m.artifact_type.empty()) {
    return MakeError(Code::kInvalidArgument,
                     "manifest.artifactType: required when config is the empty descriptor");
  }
  return Ok();
}

Result<Manifest> ParseManifest(std::string_view bytes) {
  BERTH_ASSIGN_OR_RETURN(Json j, internal::ParseJsonObject(bytes, kWhat));
  try {
    return ManifestFromJson(j);
  } catch (const Json::exception& e) {
    return MakeError(Code::kInvalidArgument, std::string("manifest: ") + e.what());
  }
}

std::string SerializeManifest(const Manifest& m) {
  OrderedJson j = OrderedJson::object();
  j["schemaVersion"] = m.schema_version;
  if (!m.media_type.empty()) j["mediaType"] = m.media_type;
  if (!m.artifact_type.empty()) j["artifactType"] = m.artifact_type;
  j["config"] = internal::DescriptorToJson(m.config);
  OrderedJson layers = OrderedJson::array();
  for (const Descriptor& d : m.layers) layers.push_back(internal::DescriptorToJson(d));
  j["layers"] = std::move(layers);
  if (m.subject) j["subject"] = internal::DescriptorToJson(*m.subject);
  if (!m.annotations.empty()) j["annotations"] = m.annotations;
  return internal::Dump(j);
}

Result<std::string> DetectManifestMediaType(std::string_view bytes) {
  BERTH_ASSIGN_OR_RETURN(Json j, internal::ParseJsonObject(bytes, kWhat));
  BERTH_ASSIGN_OR_RETURN(std::optional<std::string> media_type,
                         internal::GetString(j, "mediaType", kWhat));
  if (media_type && !media_type->empty()) return std::move(*media_type);
  BERTH_ASSIGN_OR_RETURN(std::optional<int64_t> version,
                         internal::GetInt64(j, "schemaVersion", kWhat));
  if (version && *version == 1) {
    return std::string(j.contains("signatures") ? kMediaTypeDockerManifestSchema1Signed
                                                : kMediaTypeDockerManifestSchema1);
  }
  if (j.contains("manifests")) return std::string(kMediaTypeOciIndex);
  if (j.contains("config")) return std::string(kMediaTypeOciManifest);
  return MakeError(Code::kInvalidArgument, "manifest: cannot tell what kind of document this is");
}

}  // namespace berth::oci
