#include "oci/index.h"

#include <algorithm>
#include <cstdint>

#include "oci/internal/json.h"
#include "oci/media_types.h"

namespace berth::oci {
namespace {

using internal::Json;
using internal::OrderedJson;

constexpr std::string_view kWhat = "index";

Result<Index> IndexFromJson(const Json& j) {
  Index index;
  BERTH_ASSIGN_OR_RETURN(std::optional<std::string> media_type,
                         internal::GetString(j, "mediaType", kWhat));
  index.media_type = media_type.value_or("");
  BERTH_RETURN_IF_ERROR(internal::CheckSchemaVersion2(j, kWhat));
  BERTH_ASSIGN_OR_RETURN(std::optional<std::string> artifact_type,
                         internal::GetString(j, "artifactType", kWhat));
  index.artifact_type = artifact_type.value_or("");
  auto manifests = j.find("manifests");
  if (manifests == j.end() || manifests->is_null()) {
    if (j.contains("config") || j.contains("layers")) {
      return MakeError(Code::kInvalidArgument, "index: this is an image manifest, not an index");
    }
    return MakeError(Code::kInvalidArgument, "index.manifests: required");
  }
  if (!manifests->is_array()) return internal::TypeError(kWhat, "manifests", "an array");
  index.manifests.reserve(manifests->size());
  for (size_t i = 0; i < manifests->size(); ++i) {
    BERTH_ASSIGN_OR_RETURN(
        Descriptor d, internal::DescriptorFromJson((*manifests)[i],
                                                   "index.manifests[" + std::to_string(i) + "]"));
    index.manifests.push_back(std::move(d));
  }
  if (auto subject = j.find("subject"); subject != j.end() && !subject->is_null()) {
    BERTH_ASSIGN_OR_RETURN(Descriptor d, internal::DescriptorFromJson(*subject, "index.subject"));
    index.subject = std::move(d);
  }
  BERTH_ASSIGN_OR_RETURN(index.annotations, internal::GetStringMap(j, "annotations", kWhat));
  BERTH_RETURN_IF_ERROR(ValidateIndex(index));
  return index;
}

}  // namespace

Status ValidateIndex(const Index& index) {
  if (index.schema_version != 2) {
    return MakeError(Code::kInvalidArgument, "index.schemaVersion: unsupported " +
                                                 std::to_string(index.schema_version) + ", want 2");
  }
  if (!index.media_type.empty() && !IsIndex(index.media_type)) {
    return MakeError(Code::kInvalidArgument,
                     "index.mediaType: \"" + index.media_type + "\" is not an image index type");
  }
  for (size_t i = 0; i < index.manifests.size(); ++i) {
    Status s = ValidateDescriptor(index.manifests[i]);
    if (!s) return std::move(s).error().WithContext("index.manifests[" + std::to_string(i) + "]");
  }
  if (index.subject) {
    Status s = ValidateDescriptor(*index.subject);
    if (!s) return std::move(s).error().WithContext("index.subject");
  }
  return Ok();
}

Result<Index> ParseIndex(std::string_view bytes) {
  BERTH_ASSIGN_OR_RETURN(Json j, internal::ParseJsonObject(bytes, kWhat));
  try {
    return IndexFromJson(j);
  } catch (const Json::exception& e) {
    return MakeError(Code::kInvalidArgument, std::string("index: ") + e.what());
  }
}

std::string SerializeIndex(const Index& index) {
  OrderedJson j = OrderedJson::object();
  j["schemaVersion"] = index.schema_version;
  if (!index.media_type.empty()) j["mediaType"] = index.media_type;
  if (!index.artifact_type.empty()) j["artifactType"] = index.artifact_type;
  OrderedJson manifests = OrderedJson::array();
  for (const Descriptor& d : index.manifests) manifests.push_back(internal::DescriptorToJson(d));
  j["manifests"] = std::move(manifests);
  if (index.subject) j["subject"] = internal::DescriptorToJson(*index.subject);
  if (!index.annotations.empty()) j["annotations"] = index.annotations;
  return internal::Dump(j);
}

std::vector<Descriptor> MatchManifests(const Index& index, const PlatformMatcher& matcher) {
  struct Candidate {
    size_t rank;  // SIZE_MAX for "no platform": after every ranked entry
    const Descriptor* desc;
  };
  std::vector<Candidate> candidates;
  for (const Descriptor& d : index.manifests) {
    if (!d.platform) {
      candidates.push_back({SIZE_MAX, &d});
    } else if (std::optional<size_t> rank = matcher.Rank(*d.platform)) {
      candidates.push_back({*rank, &d});
    }
  }
  std::stable_sort(candidates.begin(), candidates.end(),
                   [](const Candidate& a, const Candidate& b) { return a.rank < b.rank; });
  std::vector<Descriptor> out;
  out.reserve(candidates.size());
  for (const Candidate& c : candidates) out.push_back(*c.desc);
  return out;
}

Result<Descriptor> SelectManifest(const Index& index, const Platform& platform) {
  std::vector<Descriptor> matches = MatchManifests(index, PlatformMatcher(platform));
  if (matches.empty()) {
    return MakeError(Code::kNotFound, "no matching manifest for " + FormatPlatform(platform) +
                                          " in the manifest list entries");
  }
  return std::move(matches.front());
}

}  // namespace berth::oci
