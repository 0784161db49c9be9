// Router: maps (method, path) to a handler, with path parameters, like the gorilla/mux
// routes dockerd registers.
//
// Patterns are '/'-separated: literal segments, "{name}" (one non-empty segment) and at most
// one "{name:.*}", which takes one or more whole segments, slashes included, so image names
// like "localhost:5000/me/busybox:1" fit "/images/{name:.*}/json". Literal segments after it
// are matched from the end. The first registered route that matches wins, so register
// "/images/json" before "/images/{name:.*}/json". A path that matches no route, or a route
// of another method only, is "page not found" (dockerd sets MethodNotAllowedHandler to its
// 404 handler). Paths given here have their "/v1.NN" prefix already removed.
//
// Thread-safety: register everything before the server starts; Find() is then const and
// safe from any thread.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace berth::api {

class Request;
class ResponseWriter;

// A handler writes its response through the writer. If it returns an error before writing
// anything, the server answers with the error's status (errors.h); after a stream started,
// an error cuts the connection so the client sees a truncated response, never a clean end.
using Handler = std::function<Status(Request&, ResponseWriter&)>;

class Router {
 public:
  // `method` is upper case ("GET"); HEAD must be registered explicitly where it is served.
  // A malformed pattern is a programming error and aborts.
  void Handle(std::string_view method, std::string_view pattern, Handler handler);

  struct Match {
    const Handler* handler;
    std::map<std::string, std::string> params;
  };
  std::optional<Match> Find(std::string_view method, std::string_view path) const;

 private:
  struct Segment {
    enum class Kind { kLiteral, kParam, kGreedy } kind;
    std::string text;  // the literal, or the parameter name
  };
  struct Route {
    std::string method;
    std::vector<Segment> segments;
    Handler handler;
  };
  static bool MatchRoute(const Route& route, const std::vector<std::string_view>& parts,
                         std::map<std::string, std::string>& params);

  std::vector<Route> routes_;
};

}  // namespace berth::api
