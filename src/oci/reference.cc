#include "oci/reference.h"

#include "base/strings.h"

namespace berth::oci {
namespace {

// Error texts of distribution/reference and go-digest, word for word: Docker prints them.
constexpr std::string_view kErrInvalidFormat = "invalid reference format";
constexpr std::string_view kErrTagInvalidFormat = "invalid tag format";
constexpr std::string_view kErrNameContainsUppercase = "repository name must be lowercase";
constexpr std::string_view kErrNameEmpty = "repository name must have at least one component";
constexpr std::string_view kErrNameNotCanonical = "repository name must be canonical";
constexpr std::string_view kErrDigestInvalidFormat = "invalid checksum digest format";
constexpr std::string_view kErrDigestInvalidLength = "invalid checksum digest length";
constexpr std::string_view kErrDigestUnsupported = "unsupported digest algorithm";

Error Invalid(std::string_view message) {
  return MakeError(Code::kInvalidArgument, std::string(message));
}

Error NameTooLong() {
  return Invalid("repository name must not be more than " + std::to_string(kMaxNameLength) +
                 " characters");
}

bool IsLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool IsAlnum(char c) { return IsLowerAlnum(c) || (c >= 'A' && c <= 'Z'); }
bool IsWord(char c) { return IsAlnum(c) || c == '_'; }
bool IsHex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
bool IsDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// domain-component := /([a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])/
bool IsDomainComponent(std::string_view s) {
  if (s.empty() || !IsAlnum(s.front()) || !IsAlnum(s.back())) return false;
  for (char c : s) {
    if (!IsAlnum(c) && c != '-') return false;
  }
  return true;
}

// domain := (domain-name | '[' ipv6 ']') [':' port]
bool IsDomain(std::string_view s) {
  std::string_view host = s;
  std::string_view rest;
  if (s.starts_with('[')) {
    size_t close = s.find(']');
    if (close == std::string_view::npos || close == 1) return false;
    for (char c : s.substr(1, close - 1)) {
      if (!IsHex(c) && c != ':') return false;
    }
    rest = s.substr(close + 1);
    if (rest.empty()) return true;
    return rest.front() == ':' && IsDigits(rest.substr(1));
  }
  if (size_t colon = s.find(':'); colon != std::string_view::npos) {
    host = s.substr(0, colon);
    if (!IsDigits(s.substr(colon + 1))) return false;
  }
  size_t start = 0;
  while (true) {
    size_t dot = host.find('.', start);
    if (!IsDomainComponent(host.substr(
            start, dot == std::string_view::npos ? std::string_view::npos : dot - start))) {
      return false;
    }
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

// path-component := [a-z0-9]+ (separator [a-z0-9]+)*, separator := [._] | __ | [-]+
bool IsPathComponent(std::string_view s) {
  if (s.empty() || !IsLowerAlnum(s.front()) || !IsLowerAlnum(s.back())) return false;
  size_t i = 0;
  while (i < s.size()) {
    if (IsLowerAlnum(s[i])) {
      ++i;
      continue;
    }
    size_t start = i;
    while (i < s.size() && !IsLowerAlnum(s[i])) ++i;
    std::string_view sep = s.substr(start, i - start);
    bool dashes = sep.find_first_not_of('-') == std::string_view::npos;
    if (sep != "." && sep != "_" && sep != "__" && !dashes) return false;
  }
  return true;
}

bool IsRemoteName(std::string_view s) {
  size_t start = 0;
  while (true) {
    size_t slash = s.find('/', start);
    if (!IsPathComponent(s.substr(
            start, slash == std::string_view::npos ? std::string_view::npos : slash - start))) {
      return false;
    }
    if (slash == std::string_view::npos) return true;
    start = slash + 1;
  }
}

// digest := algorithm ':' /[0-9a-fA-F]{32,}/, algorithm components [A-Za-z][A-Za-z0-9]* joined
// by [-_+.].
bool IsDigestPattern(std::string_view s) {
  size_t colon = s.find(':');
  if (colon == std::string_view::npos) return false;
  std::string_view alg = s.substr(0, colon);
  std::string_view hex = s.substr(colon + 1);
  if (hex.size() < 32) return false;
  for (char c : hex) {
    if (!IsHex(c)) return false;
  }
  bool need_letter = true;
  for (char c : alg) {
    bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    if (need_letter) {
      if (!letter) return false;
      need_letter = false;
    } else if (c == '-' || c == '_' || c == '+' || c == '.') {
      need_letter = true;
    } else if (!IsAlnum(c)) {
      return false;
    }
  }
  return !need_letter;
}

struct NameParts {
  std::string_view domain;
  std::string_view path;
};

// anchoredNameRegexp: the domain is taken when the first component can be one.
std::optional<NameParts> SplitName(std::string_view name) {
  if (size_t slash = name.find('/'); slash != std::string_view::npos) {
    std::string_view domain = name.substr(0, slash);
    std::string_view rest = name.substr(slash + 1);
    if (IsDomain(domain) && IsRemoteName(rest)) return NameParts{domain, rest};
  }
  if (IsRemoteName(name)) return NameParts{std::string_view(), name};
  return std::nullopt;
}

struct Match {
  std::string_view name;
  std::string_view tag;
  std::string_view digest;
};

// referenceRegexp: name [":" tag] ["@" digest].
std::optional<Match> MatchReference(std::string_view s) {
  Match m;
  std::string_view name_tag = s;
  if (size_t at = s.find('@'); at != std::string_view::npos) {
    m.digest = s.substr(at + 1);
    if (!IsDigestPattern(m.digest)) return std::nullopt;
    name_tag = s.substr(0, at);
  }
  m.name = name_tag;
  // A ':' with no '/' after it can only start a tag: the name has ':' only in its domain.
  if (size_t colon = name_tag.rfind(':');
      colon != std::string_view::npos && name_tag.find('/', colon) == std::string_view::npos) {
    m.tag = name_tag.substr(colon + 1);
    if (!IsValidTag(m.tag)) return std::nullopt;
    m.name = name_tag.substr(0, colon);
  }
  if (!SplitName(m.name)) return std::nullopt;
  return m;
}

// go-digest's Parse, with the algorithms oci::Digest supports.
Result<Digest> ParseReferenceDigest(std::string_view s) {
  size_t colon = s.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == s.size()) {
    return Invalid(kErrDigestInvalidFormat);
  }
  std::string_view alg = s.substr(0, colon);
  std::string_view hex = s.substr(colon + 1);
  std::optional<Algorithm> parsed = AlgorithmFromName(alg);
  if (!parsed) {
    return Invalid(IsDigestPattern(s) ? kErrDigestUnsupported : kErrDigestInvalidFormat);
  }
  Algorithm a = *parsed;
  if (hex.size() != AlgorithmHexLength(a)) return Invalid(kErrDigestInvalidLength);
  if (!IsHexLower(hex)) return Invalid(kErrDigestInvalidFormat);
  return Digest::FromHex(a, std::string(hex));
}

bool IsIdentifier(std::string_view s) { return s.size() == 64 && IsHexLower(s); }

// normalize.go splitDockerDomain.
std::pair<std::string, std::string> SplitDockerDomain(std::string_view name) {
  std::string domain;
  std::string remainder;
  size_t slash = name.find('/');
  if (slash == std::string_view::npos) {
    return {std::string(kDefaultDomain), std::string(kOfficialRepoPrefix) + std::string(name)};
  }
  std::string_view maybe_domain = name.substr(0, slash);
  if (maybe_domain == "localhost" || maybe_domain.find_first_of(".:") != std::string_view::npos ||
      ToLower(maybe_domain) != maybe_domain) {
    domain = maybe_domain;
    remainder = name.substr(slash + 1);
  } else {
    domain = kDefaultDomain;
    remainder = name;
  }
  if (domain == kLegacyDefaultDomain) domain = kDefaultDomain;  // "index.docker.io/x"
  if (domain == kDefaultDomain && remainder.find('/') == std::string::npos) {
    remainder = std::string(kOfficialRepoPrefix) + remainder;
  }
  return {domain, remainder};
}

}  // namespace

bool IsValidTag(std::string_view tag) {
  if (tag.empty() || tag.size() > 128 || !IsWord(tag.front())) return false;
  for (char c : tag) {
    if (!IsWord(c) && c != '.' && c != '-') return false;
  }
  return true;
}

Result<Reference> Reference::Parse(std::string_view s) {
  if (s.empty()) return Invalid(kErrNameEmpty);
  std::optional<Match> m = MatchReference(s);
  if (!m) {
    std::string lower = ToLower(s);
    if (lower != s && MatchReference(lower)) return Invalid(kErrNameContainsUppercase);
    return Invalid(kErrInvalidFormat);
  }
  if (m->name.size() > kMaxNameLength) return NameTooLong();
  std::optional<NameParts> parts = SplitName(m->name);
  if (!parts) return Invalid(kErrInvalidFormat);
  Reference r;
  r.domain_ = parts->domain;
  r.path_ = parts->path;
  r.tag_ = m->tag;
  if (!m->digest.empty()) {
    BERTH_ASSIGN_OR_RETURN(Digest d, ParseReferenceDigest(m->digest));
    r.digest_ = std::move(d);
  }
  return r;
}

std::string Reference::Name() const {
  if (domain_.empty()) return path_;
  return domain_ + "/" + path_;
}

std::string Reference::String() const {
  std::string out = Name();
  if (!tag_.empty()) out += ":" + tag_;
  if (digest_) {
    if (!out.empty()) out += "@";
    out += digest_->ToString();
  }
  return out;
}

std::string Reference::FamiliarName() const {
  if (domain_ != kDefaultDomain) return Name();
  if (path_.starts_with(kOfficialRepoPrefix)) {
    std::string_view rest = std::string_view(path_).substr(kOfficialRepoPrefix.size());
    if (rest.find('/') == std::string_view::npos) return std::string(rest);
  }
  return path_;
}

std::string Reference::FamiliarString() const {
  if (!has_name()) return String();
  std::string out = FamiliarName();
  if (!tag_.empty()) out += ":" + tag_;
  if (digest_) out += "@" + digest_->ToString();
  return out;
}

Result<Reference> Reference::WithTag(std::string_view tag) const {
  if (!IsValidTag(tag)) return Invalid(kErrTagInvalidFormat);
  Reference r = *this;
  r.tag_ = tag;
  return r;
}

Reference Reference::WithDigest(const Digest& digest) const {
  Reference r = *this;
  r.digest_ = digest;
  return r;
}

Reference Reference::TrimNamed() const {
  Reference r;
  r.domain_ = domain_;
  r.path_ = path_;
  return r;
}

Reference Reference::TagNameOnly() const {
  if (!IsNameOnly()) return *this;
  Reference r = *this;
  r.tag_ = kDefaultTag;
  return r;
}

Result<Reference> ParseNormalizedNamed(std::string_view s) {
  if (IsIdentifier(s)) {
    return Invalid("invalid repository name (" + std::string(s) +
                   "), cannot specify 64-byte hexadecimal strings");
  }
  auto [domain, remainder] = SplitDockerDomain(s);
  std::string remote = remainder.substr(0, remainder.find(':'));
  if (ToLower(remote) != remote) {
    return Invalid("invalid reference format: repository name (" + remote + ") must be lowercase");
  }
  BERTH_ASSIGN_OR_RETURN(Reference r, Reference::Parse(domain + "/" + remainder));
  if (!r.has_name()) return Invalid("reference " + r.String() + " has no name");
  return r;
}

Result<Reference> ParseDockerRef(std::string_view s) {
  BERTH_ASSIGN_OR_RETURN(Reference r, ParseNormalizedNamed(s));
  if (r.has_tag() && r.has_digest()) return r.TrimNamed().WithDigest(*r.digest());
  return r.TagNameOnly();
}

Result<Reference> ParseAnyReference(std::string_view s) {
  if (IsIdentifier(s)) {
    return Reference().WithDigest(Digest::FromHex(Algorithm::kSha256, std::string(s)));
  }
  if (Result<Digest> d = Digest::Parse(s)) return Reference().WithDigest(*d);
  return ParseNormalizedNamed(s);
}

Result<Reference> ParseNamed(std::string_view s) {
  BERTH_ASSIGN_OR_RETURN(Reference r, ParseNormalizedNamed(s));
  if (r.String() != s) return Invalid(kErrNameNotCanonical);
  return r;
}

Result<Reference> WithName(std::string_view name) {
  if (name.size() > kMaxNameLength) return NameTooLong();
  std::optional<NameParts> parts = SplitName(name);
  if (!parts) return Invalid(kErrInvalidFormat);
  BERTH_ASSIGN_OR_RETURN(Reference r, Reference::Parse(name));
  return r;
}

Result<Reference> RepoTagReference(std::string_view repo, std::string_view tag) {
  if (repo.empty()) return Reference();
  BERTH_ASSIGN_OR_RETURN(Reference r, ParseNormalizedNamed(repo));
  if (r.has_digest()) return Invalid("cannot import digest reference");
  if (!tag.empty()) return r.WithTag(tag);
  return r.TagNameOnly();
}

Result<Reference> ImageTagOrDigestReference(std::string_view image, std::string_view tag) {
  BERTH_ASSIGN_OR_RETURN(Reference r, ParseNormalizedNamed(image));
  if (tag.empty()) return r;
  if (Result<Digest> d = Digest::Parse(tag)) return r.TrimNamed().WithDigest(*d);
  return r.WithTag(tag);
}

RepositoryTag SplitRepositoryTag(std::string_view s) {
  RepositoryTag out;
  if (size_t at = s.find('@'); at != std::string_view::npos) {
    out.name = s.substr(0, at);
    out.tag = s.substr(at + 1);
    out.is_digest = true;
    return out;
  }
  size_t colon = s.rfind(':');
  if (colon != std::string_view::npos && s.find('/', colon) == std::string_view::npos) {
    out.name = s.substr(0, colon);
    out.tag = s.substr(colon + 1);
    return out;
  }
  out.name = s;
  return out;
}

}  // namespace berth::oci
