#include "oci/image_layout.h"

#include "oci/internal/json.h"
#include "oci/reference.h"

namespace berth::oci {
namespace {

using internal::Json;
using internal::OrderedJson;

Result<DockerArchiveEntry> EntryFromJson(const Json& j, const std::string& what) {
  if (!j.is_object()) return MakeError(Code::kInvalidArgument, what + ": expected an object");
  DockerArchiveEntry e;
  BERTH_ASSIGN_OR_RETURN(e.config, internal::GetRequiredString(j, "Config", what));
  Status s = ValidateArchivePath(e.config);
  if (!s) return std::move(s).error().WithContext(what + ".Config");

  BERTH_ASSIGN_OR_RETURN(auto repo_tags, internal::GetStringArray(j, "RepoTags", what));
  e.repo_tags = repo_tags.value_or(std::vector<std::string>());
  for (const std::string& repo_tag : e.repo_tags) {
    Result<Reference> ref = ParseNormalizedNamed(repo_tag);
    if (!ref) return std::move(ref).error().WithContext(what + ".RepoTags");
    if (!ref->has_tag() || ref->has_digest()) {
      return MakeError(Code::kInvalidArgument,
                       what + ".RepoTags: invalid tag \"" + repo_tag + "\"");
    }
  }

  BERTH_ASSIGN_OR_RETURN(auto layers, internal::GetStringArray(j, "Layers", what));
  e.layers = layers.value_or(std::vector<std::string>());
  for (size_t i = 0; i < e.layers.size(); ++i) {
    s = ValidateArchivePath(e.layers[i]);
    if (!s) return std::move(s).error().WithContext(what + ".Layers[" + std::to_string(i) + "]");
  }

  BERTH_ASSIGN_OR_RETURN(auto parent, internal::GetString(j, "Parent", what));
  e.parent = parent.value_or("");

  if (auto sources = j.find("LayerSources"); sources != j.end() && !sources->is_null()) {
    if (!sources->is_object()) return internal::TypeError(what, "LayerSources", "an object");
    for (const auto& [key, value] : sources->items()) {
      std::string field = what + ".LayerSources[" + key + "]";
      Result<Digest> diff_id = Digest::Parse(key);
      if (!diff_id) return std::move(diff_id).error().WithContext(field);
      BERTH_ASSIGN_OR_RETURN(Descriptor d, internal::DescriptorFromJson(value, field));
      e.layer_sources.emplace(key, std::move(d));
    }
  }
  return e;
}

Result<std::vector<DockerArchiveEntry>> ManifestFromJson(const Json& j) {
  if (!j.is_array()) {
    return MakeError(Code::kInvalidArgument,
                     std::string("manifest.json: expected a JSON array, got ") + j.type_name());
  }
  std::vector<DockerArchiveEntry> out;
  out.reserve(j.size());
  for (size_t i = 0; i < j.size(); ++i) {
    BERTH_ASSIGN_OR_RETURN(DockerArchiveEntry e,
                           EntryFromJson(j[i], "manifest.json[" + std::to_string(i) + "]"));
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace

std::string BlobPath(const Digest& digest) {
  return std::string(kOciBlobsDir) + "/" + std::string(AlgorithmName(digest.algorithm())) + "/" +
         digest.hex();
}

std::string SerializeOciLayout() {
  OrderedJson j = OrderedJson::object();
  j["imageLayoutVersion"] = kOciLayoutVersion;
  return internal::Dump(j);
}

Status ParseOciLayout(std::string_view bytes) {
  BERTH_ASSIGN_OR_RETURN(Json j, internal::ParseJsonObject(bytes, "oci-layout"));
  BERTH_ASSIGN_OR_RETURN(std::string version,
                         internal::GetRequiredString(j, "imageLayoutVersion", "oci-layout"));
  if (version != kOciLayoutVersion) {
    return MakeError(Code::kNotImplemented,
                     "oci-layout: unsupported imageLayoutVersion \"" + version + "\"");
  }
  return Ok();
}

Result<std::vector<DockerArchiveEntry>> ParseDockerArchiveManifest(std::string_view bytes) {
  BERTH_ASSIGN_OR_RETURN(Json j, internal::ParseJson(bytes, "manifest.json"));
  try {
    return ManifestFromJson(j);
  } catch (const Json::exception& e) {
    return MakeError(Code::kInvalidArgument, std::string("manifest.json: ") + e.what());
  }
}

std::string SerializeDockerArchiveManifest(const std::vector<DockerArchiveEntry>& entries) {
  OrderedJson out = OrderedJson::array();
  for (const DockerArchiveEntry& e : entries) {
    OrderedJson j = OrderedJson::object();
    j["Config"] = e.config;
    j["RepoTags"] = e.repo_tags;  // Docker writes null for none; [] reads the same
    j["Layers"] = e.layers;
    if (!e.parent.empty()) j["Parent"] = e.parent;
    if (!e.layer_sources.empty()) {
      OrderedJson sources = OrderedJson::object();
      for (const auto& [diff_id, d] : e.layer_sources)
        sources[diff_id] = internal::DescriptorToJson(d);
      j["LayerSources"] = std::move(sources);
    }
    out.push_back(std::move(j));
  }
  return internal::Dump(out);
}

Status ValidateArchivePath(std::string_view path) {
  auto bad = [&](std::string_view why) {
    return MakeError(Code::kInvalidArgument,
                     "unsafe path \"" + std::string(path) + "\" in archive: " + std::string(why));
  };
  if (path.empty()) return bad("empty");
  if (path.front() == '/') return bad("absolute");
  if (path.find('\0') != std::string_view::npos) return bad("contains NUL");
  if (path.find('\\') != std::string_view::npos) return bad("contains a backslash");
  size_t start = 0;
  while (true) {
    size_t slash = path.find('/', start);
    std::string_view part = path.substr(
        start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (part == "..") return bad("leaves the archive");
    if (part.empty() || part == ".") return bad("not clean");
    if (slash == std::string_view::npos) return Ok();
    start = slash + 1;
  }
}

}  // namespace berth::oci
