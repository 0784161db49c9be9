// ResponseWriter: how a handler answers. One complete response (WriteBody, WriteJson,
// WriteEmpty, WriteError), or a chunked stream (StartStream, Write..., End) that reaches the
// client as each Write returns (JSON progress, `docker save` tars), or Hijack(): the raw
// connection for attach/exec, after "101 UPGRADED".
//
// Every response carries dockerd's headers (Api-Version, Docker-Experimental, Ostype, Server,
// Date); handlers add their own with SetHeader before the response starts. Implemented over
// a socket by the server; one writer per request, used by one thread.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

#include "base/io.h"
#include "base/result.h"

namespace berth::api {

// The connection after Hijack(): bytes from the client (starting with any it sent after the
// request headers) and to it, unframed. Borrowed from the server: valid until the handler
// returns; the server closes the socket afterwards.
class HijackedStream : public Reader, public Writer {
 public:
  // Half-closes our side so the client reads EOF while it can still send (stdin).
  virtual Status CloseWrite() = 0;
  // For splicing with poll(2): the bytes the client already sent that the server has read
  // (call once, first), then the socket itself. The stream keeps owning the socket.
  virtual std::string TakeBuffered() = 0;
  virtual int NativeHandle() = 0;
};

class ResponseWriter : public Writer {
 public:
  ~ResponseWriter() override = default;

  // Adds a header to the response; ignored once the response has started.
  virtual void SetHeader(std::string_view name, std::string_view value) = 0;

  // A complete response with Content-Length. To HEAD requests the body is not sent.
  virtual Status WriteBody(int status, std::string_view content_type, std::string_view body) = 0;
  // A complete response without a body (201, 204, ...).
  virtual Status WriteEmpty(int status) = 0;

  // Starts a chunked response; each Write() sends one chunk and returns once it is written
  // to the socket. End() sends the last chunk. Write() with no data sends nothing.
  virtual Status StartStream(int status, std::string_view content_type) = 0;
  Status Write(std::string_view chunk) override = 0;
  virtual Status End() = 0;

  // Answers "101 UPGRADED" (or 200 OK if the client did not ask to upgrade) with
  // `content_type`, as dockerd's attach does, and hands over the raw connection.
  virtual Result<std::unique_ptr<HijackedStream>> Hijack(std::string_view content_type) = 0;

  // True once the status line has been sent (the status can no longer change).
  virtual bool started() const = 0;
  // True if the client has closed its side (for handlers that wait long: /wait, logs -f).
  virtual bool ClientGone() = 0;
  // The API version of the request, which decides the error format.
  virtual std::string_view api_version() const = 0;

  // JSON as Go's json.Encoder writes it (with a trailing newline), Content-Type
  // application/json.
  Status WriteJson(int status, const nlohmann::ordered_json& value);
  // The status from errors.h and {"message": ...}; text/plain for API versions <= 1.23, as
  // dockerd does.
  Status WriteError(const Error& error);
};

}  // namespace berth::api
