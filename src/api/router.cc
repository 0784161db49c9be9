#include "api/router.h"

#include "base/strings.h"

namespace berth::api {
namespace {

std::vector<std::string_view> SplitPath(std::string_view path) {
  std::vector<std::string_view> parts;
  if (path.starts_with('/')) path.remove_prefix(1);
  while (true) {
    size_t slash = path.find('/');
    parts.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return parts;
}

}  // namespace

void Router::Handle(std::string_view method, std::string_view pattern, Handler handler) {
  BERTH_CHECK(pattern.starts_with('/'));
  Route route{std::string(method), {}, std::move(handler)};
  bool greedy_seen = false;
  for (std::string_view part : SplitPath(pattern)) {
    if (part.starts_with('{') && part.ends_with('}')) {
      std::string_view inner = part.substr(1, part.size() - 2);
      size_t colon = inner.find(':');
      if (colon == std::string_view::npos) {
        BERTH_CHECK(!inner.empty());
        route.segments.push_back({Segment::Kind::kParam, std::string(inner)});
      } else {
        BERTH_CHECK(inner.substr(colon + 1) == ".*" && colon > 0 && !greedy_seen);
        greedy_seen = true;
        route.segments.push_back({Segment::Kind::kGreedy, std::string(inner.substr(0, colon))});
      }
    } else {
      BERTH_CHECK(part.find_first_of("{}") == std::string_view::npos);
      route.segments.push_back({Segment::Kind::kLiteral, std::string(part)});
    }
  }
  routes_.push_back(std::move(route));
}

bool Router::MatchRoute(const Route& route, const std::vector<std::string_view>& parts,
                        std::map<std::string, std::string>& params) {
  const std::vector<Segment>& segs = route.segments;
  size_t greedy = segs.size();
  for (size_t i = 0; i < segs.size(); ++i) {
    if (segs[i].kind == Segment::Kind::kGreedy) greedy = i;
  }
  auto match_one = [&](const Segment& seg, std::string_view part) {
    if (seg.kind == Segment::Kind::kLiteral) return seg.text == part;
    if (part.empty()) return false;
    params[seg.text] = std::string(part);
    return true;
  };
  if (greedy == segs.size()) {
    if (parts.size() != segs.size()) return false;
    for (size_t i = 0; i < segs.size(); ++i) {
      if (!match_one(segs[i], parts[i])) return false;
    }
    return true;
  }
  size_t after = segs.size() - greedy - 1;
  if (parts.size() < greedy + 1 + after) return false;
  for (size_t i = 0; i < greedy; ++i) {
    if (!match_one(segs[i], parts[i])) return false;
  }
  for (size_t i = 0; i < after; ++i) {
    if (!match_one(segs[segs.size() - 1 - i], parts[parts.size() - 1 - i])) return false;
  }
  std::string value;
  for (size_t i = greedy; i < parts.size() - after; ++i) {
    if (i > greedy) value += '/';
    value += parts[i];
  }
  params[segs[greedy].text] = std::move(value);
  return true;
}

std::optional<Router::Match> Router::Find(std::string_view method, std::string_view path) const {
  if (!path.starts_with('/')) return std::nullopt;
  std::vector<std::string_view> parts = SplitPath(path);
  for (const Route& route : routes_) {
    if (route.method != method) continue;
    std::map<std::string, std::string> params;
    if (MatchRoute(route, parts, params)) return Match{&route.handler, std::move(params)};
  }
  return std::nullopt;
}

}  // namespace berth::api
