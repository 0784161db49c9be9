// Docker image references ("busybox", "docker.io/library/busybox:latest",
// "localhost:5000/x@sha256:..."), parsed and printed exactly as distribution/reference does
// (reference.go, normalize.go, regexp.go, helpers.go), with Docker's error messages. No I/O.
// Thread-compatible.
//
//   reference        := name [ ":" tag ] [ "@" digest ]
//   name             := [domain '/'] remote-name           (at most 255 characters)
//   domain           := host [':' port-number]
//   host             := domain-name | IPv4address | '[' IPv6address ']'
//   domain-name      := domain-component ['.' domain-component]*
//   domain-component := /([a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])/
//   remote-name      := path-component ['/' path-component]*
//   path-component   := /[a-z0-9]+/ [separator /[a-z0-9]+/]*
//   separator        := /[_.]|__|[-]+/
//   tag              := /[\w][\w.-]{0,127}/
//   digest           := algorithm ":" hex   (sha256 or sha512 here, see oci/digest.h)
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"
#include "oci/digest.h"

namespace berth::oci {

inline constexpr std::string_view kDefaultDomain = "docker.io";
inline constexpr std::string_view kLegacyDefaultDomain = "index.docker.io";
inline constexpr std::string_view kOfficialRepoPrefix = "library/";
inline constexpr std::string_view kDefaultTag = "latest";
inline constexpr size_t kMaxNameLength = 255;

class Reference {
 public:
  Reference() = default;  // empty: no name, tag or digest

  // distribution's reference.Parse: the grammar above, no normalisation ("busybox" keeps no
  // domain). The name may be empty only for a bare digest ("sha256:...").
  static Result<Reference> Parse(std::string_view s);

  const std::string& domain() const { return domain_; }  // "docker.io", "localhost:5000", ""
  const std::string& path() const { return path_; }      // "library/busybox"
  std::string Name() const;                              // domain + "/" + path, or path
  const std::string& tag() const { return tag_; }        // "" when none
  const std::optional<Digest>& digest() const { return digest_; }
  bool has_tag() const { return !tag_.empty(); }
  bool has_digest() const { return digest_.has_value(); }
  bool has_name() const { return !path_.empty(); }
  bool IsNameOnly() const { return !has_tag() && !has_digest(); }

  // Full form: "docker.io/library/busybox:latest@sha256:...".
  std::string String() const;
  // Docker's UI form: "docker.io/" dropped, and "library/" too for single-component paths.
  // "docker.io/library/busybox" -> "busybox", "docker.io/me/x" -> "me/x", others unchanged.
  std::string FamiliarName() const;
  std::string FamiliarString() const;  // FamiliarName() [":" tag] ["@" digest]

  // Same name, this tag (digest kept). InvalidArgument "invalid tag format".
  Result<Reference> WithTag(std::string_view tag) const;
  Reference WithDigest(const Digest& digest) const;  // same name, this digest (tag kept)
  Reference TrimNamed() const;                       // the name alone
  Reference TagNameOnly() const;                     // adds ":latest" to a bare name

  friend bool operator==(const Reference&, const Reference&) = default;

 private:
  std::string domain_;
  std::string path_;
  std::string tag_;
  std::optional<Digest> digest_;
};

// A familiar name as typed by users, made fully qualified: "busybox" -> "docker.io/library/
// busybox", "index.docker.io/x" -> "docker.io/library/x". Refuses 64-hex strings ("cannot specify
// 64-byte hexadecimal strings") and upper case in the path.
Result<Reference> ParseNormalizedNamed(std::string_view s);
// ParseNormalizedNamed, then: a bare name gets ":latest"; tag and digest together keep the digest
// only (Docker pulls by digest then).
Result<Reference> ParseDockerRef(std::string_view s);
// A 64-hex image ID ("sha256:" assumed), a digest, or else ParseNormalizedNamed.
Result<Reference> ParseAnyReference(std::string_view s);
// ParseNormalizedNamed, requiring the input already be in canonical (full) form.
Result<Reference> ParseNamed(std::string_view s);
// A name alone (no tag, no digest), not normalised: reference.WithName.
Result<Reference> WithName(std::string_view name);
bool IsValidTag(std::string_view tag);

// Engine API helpers.
//
// `repo` + `tag` form values (POST /images/{name}/tag, /commit, /images/create?fromSrc) ->
// a name with a tag, "latest" when tag is empty (moby's httputils.RepoTagReference). A digest in
// repo is refused ("cannot import digest reference").
Result<Reference> RepoTagReference(std::string_view repo, std::string_view tag);
// `fromImage` + `tag` of POST /images/create (pull): the tag may also be a digest, which then
// replaces any tag ("busybox" + "sha256:..." -> busybox@sha256:...).
Result<Reference> ImageTagOrDigestReference(std::string_view image, std::string_view tag);

// Splits "name[:tag]" or "name@digest" without validating (moby's ParseRepositoryTag): the tag
// is what follows the last ':' unless a '/' follows it (a registry port, "host:5000/x").
struct RepositoryTag {
  std::string name;
  std::string tag;  // the tag, or the digest text when is_digest
  bool is_digest = false;
};
RepositoryTag SplitRepositoryTag(std::string_view s);

}  // namespace berth::oci
