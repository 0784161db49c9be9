#include "registry/v2_path.h"

#include <vector>

namespace berth::registry {
namespace {

bool IsLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

// One component: [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*
bool IsValidComponent(std::string_view c) {
  if (c.empty() || !IsLowerAlnum(c.front()) || !IsLowerAlnum(c.back())) return false;
  size_t i = 0;
  while (i < c.size()) {
    if (IsLowerAlnum(c[i])) {
      ++i;
      continue;
    }
    // A separator run: ".", "_", "__", or one or more "-".
    size_t j = i;
    while (j < c.size() && !IsLowerAlnum(c[j])) ++j;
    std::string_view sep = c.substr(i, j - i);
    bool ok = sep == "." || sep == "_" || sep == "__" ||
              sep.find_first_not_of('-') == std::string_view::npos;
    if (!ok) return false;
    i = j;
  }
  return true;
}

}  // namespace

bool IsValidRepositoryName(std::string_view name) {
  if (name.empty() || name.size() > 255) return false;
  size_t start = 0;
  for (;;) {
    size_t slash = name.find('/', start);
    std::string_view part = name.substr(start, slash == std::string_view::npos ? slash : slash - start);
    if (!IsValidComponent(part)) return false;
    if (slash == std::string_view::npos) return true;
    start = slash + 1;
  }
}

bool IsValidTagName(std::string_view tag) {
  if (tag.empty() || tag.size() > 128) return false;
  auto word = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  };
  if (!word(tag.front())) return false;
  for (char c : tag) {
    if (!word(c) && c != '.' && c != '-') return false;
  }
  return true;
}

std::optional<V2Path> ParseV2Path(std::string_view path) {
  if (path == "/v2" || path == "/v2/") return V2Path{V2Path::Kind::kBase, "", ""};
  if (!path.starts_with("/v2/")) return std::nullopt;
  std::string_view rest = path.substr(4);
  if (rest == "_catalog") return V2Path{V2Path::Kind::kCatalog, "", ""};
  bool trailing_slash = rest.ends_with('/');
  if (trailing_slash) rest.remove_suffix(1);
  std::vector<std::string_view> parts;
  size_t start = 0;
  for (;;) {
    size_t slash = rest.find('/', start);
    parts.push_back(rest.substr(start, slash == std::string_view::npos ? slash : slash - start));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  size_t n = parts.size();
  // The repository is parts[0, k) joined; k >= 1.
  auto name_of = [&](size_t k) {
    std::string out;
    for (size_t i = 0; i < k; ++i) {
      if (i) out += '/';
      out += parts[i];
    }
    return out;
  };
  auto at = [&](size_t from_end) { return parts[n - from_end]; };
  if (trailing_slash) {
    if (n >= 3 && at(2) == "blobs" && at(1) == "uploads") {
      return V2Path{V2Path::Kind::kUploads, name_of(n - 2), ""};
    }
    return std::nullopt;
  }
  if (n >= 3 && at(2) == "tags" && at(1) == "list") {
    return V2Path{V2Path::Kind::kTags, name_of(n - 2), ""};
  }
  if (n >= 4 && at(3) == "blobs" && at(2) == "uploads") {
    return V2Path{V2Path::Kind::kUpload, name_of(n - 3), std::string(at(1))};
  }
  if (n >= 3 && at(2) == "blobs" && at(1) == "uploads") {
    // "/v2/<name>/blobs/uploads" without the slash: the upload start endpoint too.
    return V2Path{V2Path::Kind::kUploads, name_of(n - 2), ""};
  }
  if (n >= 3 && at(2) == "manifests") {
    return V2Path{V2Path::Kind::kManifest, name_of(n - 2), std::string(at(1))};
  }
  if (n >= 3 && at(2) == "blobs") {
    return V2Path{V2Path::Kind::kBlob, name_of(n - 2), std::string(at(1))};
  }
  if (n >= 3 && at(2) == "referrers") {
    return V2Path{V2Path::Kind::kReferrers, name_of(n - 2), std::string(at(1))};
  }
  return std::nullopt;
}

}  // namespace berth::registry
