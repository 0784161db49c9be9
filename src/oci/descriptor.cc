#include "oci/descriptor.h"

#include "oci/internal/json.h"

namespace berth::oci {

Status ValidateDescriptor(const Descriptor& d) {
  if (d.media_type.empty())
    return MakeError(Code::kInvalidArgument, "descriptor: mediaType required");
  if (!d.digest.valid()) return MakeError(Code::kInvalidArgument, "descriptor: digest required");
  if (d.size < 0) {
    return MakeError(Code::kInvalidArgument,
                     "descriptor: size must not be negative (" + std::to_string(d.size) + ")");
  }
  if (!d.data.empty() && !internal::IsBase64(d.data)) {
    return MakeError(Code::kInvalidArgument, "descriptor: data is not base64");
  }
  if (d.platform && (d.platform->os.empty() || d.platform->architecture.empty())) {
    return MakeError(Code::kInvalidArgument, "descriptor: platform needs os and architecture");
  }
  return Ok();
}

Result<Descriptor> ParseDescriptor(std::string_view json) {
  BERTH_ASSIGN_OR_RETURN(internal::Json j, internal::ParseJsonObject(json, "descriptor"));
  try {
    return internal::DescriptorFromJson(j, "descriptor");
  } catch (const internal::Json::exception& e) {
    return MakeError(Code::kInvalidArgument, std::string("descriptor: ") + e.what());
  }
}

std::string SerializeDescriptor(const Descriptor& d) {
  return internal::Dump(internal::DescriptorToJson(d));
}

}  // namespace berth::oci
