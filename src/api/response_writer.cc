#include "api/response_writer.h"

#include <nlohmann/json.hpp>

#include "api/errors.h"
#include "api/version.h"

namespace berth::api {

Status ResponseWriter::WriteJson(int status, const nlohmann::ordered_json& value) {
  std::string body = value.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
  body += '\n';
  return WriteBody(status, "application/json", body);
}

Status ResponseWriter::WriteError(const Error& error) {
  int status = HttpStatusFor(error.code);
  if (SupportsJsonErrors(api_version())) {
    return WriteBody(status, "application/json", ErrorJson(error.message));
  }
  // Go's http.Error.
  SetHeader("X-Content-Type-Options", "nosniff");
  return WriteBody(status, "text/plain; charset=utf-8", error.message + "\n");
}

}  // namespace berth::api
