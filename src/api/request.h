// Request: one Engine API request as a handler sees it. Method, decoded path parameters and
// query, headers, the negotiated API version, and the body as a streaming berth::Reader.
//
// The body is read from the socket as the handler pulls it (`docker load` sends gigabytes;
// nothing buffers it whole); chunked uploads arrive de-chunked. ReadJson() is the bounded
// path for JSON bodies. A Request lives for one handler call and is not thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "base/io.h"
#include "base/result.h"

namespace berth::api {

inline constexpr size_t kMaxJsonBody = 4 << 20;

class Request {
 public:
  using Pairs = std::vector<std::pair<std::string, std::string>>;

  // `body` is borrowed and must outlive the Request; pass an empty StringReader for none.
  Request(std::string method, std::string path, std::string api_version,
          std::map<std::string, std::string> params, Pairs query, Pairs headers, Reader* body);

  const std::string& method() const { return method_; }
  const std::string& path() const { return path_; }  // without the version prefix
  const std::string& api_version() const { return api_version_; }

  // A path parameter of the matched route ("name" of "/images/{name:.*}/json").
  std::string_view Param(std::string_view name) const;

  bool HasQuery(std::string_view key) const;
  // The first value of `key`, or "" (Go's r.Form.Get).
  std::string_view Query(std::string_view key) const;
  std::vector<std::string> QueryAll(std::string_view key) const;
  // Docker's httputils.BoolValue: absent, "", "0", "no", "false", "none" (any case) are
  // false, anything else is true. Absent keys give `absent` (BoolValueOrDefault).
  bool QueryBool(std::string_view key, bool absent = false) const;
  // An integer query value; absent or "" gives `absent`; garbage is InvalidArgument.
  Result<int64_t> QueryInt(std::string_view key, int64_t absent = 0) const;

  // Case-insensitive; "" when absent.
  std::string_view Header(std::string_view name) const;

  Reader& body() { return *body_; }

  // Reads the whole body (at most kMaxJsonBody) and parses it. InvalidArgument (400) for a
  // non-JSON Content-Type, an empty body, malformed JSON or a body over the limit, with
  // dockerd's wording.
  Result<nlohmann::json> ReadJson();

 private:
  std::string method_;
  std::string path_;
  std::string api_version_;
  std::map<std::string, std::string> params_;
  Pairs query_;
  Pairs headers_;
  Reader* body_;
};

}  // namespace berth::api
