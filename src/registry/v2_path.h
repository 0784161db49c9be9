// Parsing of /v2/ request paths (distribution spec "Endpoints") and repository names.
// No I/O.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace berth::registry {

// A repository name per the spec: path components of [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*
// joined by '/', 255 characters at most.
bool IsValidRepositoryName(std::string_view name);
// A tag: [a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}.
bool IsValidTagName(std::string_view tag);

struct V2Path {
  enum class Kind {
    kBase,         // /v2/
    kCatalog,      // /v2/_catalog
    kTags,         // /v2/<name>/tags/list
    kManifest,     // /v2/<name>/manifests/<reference>
    kBlob,         // /v2/<name>/blobs/<digest>
    kUploads,      // /v2/<name>/blobs/uploads/
    kUpload,       // /v2/<name>/blobs/uploads/<id>
    kReferrers,    // /v2/<name>/referrers/<digest>
  } kind = Kind::kBase;
  std::string name;       // the repository, not yet validated
  std::string reference;  // tag or digest, blob digest, upload id (not yet validated)
};

// Which endpoint `path` (percent-decoded, no query) is; nullopt for anything else. The
// repository part is whatever precedes the endpoint's fixed tail, so names containing
// "blobs" or "manifests" components still parse.
std::optional<V2Path> ParseV2Path(std::string_view path);

}  // namespace berth::registry
