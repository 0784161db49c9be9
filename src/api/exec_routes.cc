#include "api/exec_routes.h"

#include <optional>
#include <string>
#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "api/internal/splice.h"
#include "api/request.h"
#include "api/response_writer.h"
#include "api/router.h"
#include "engine/execs.h"
#include "shim/protocol.h"

namespace berth::api {
namespace {

using Json = nlohmann::json;
using OJson = nlohmann::ordered_json;

Result<std::vector<std::string>> Strings(const Json& body, const char* key) {
  std::vector<std::string> out;
  auto it = body.find(key);
  if (it == body.end() || it->is_null()) return out;
  if (!it->is_array()) return MakeError(Code::kInvalidArgument, fmt::format("{}: not a list", key));
  for (const auto& v : *it) {
    if (!v.is_string()) {
      return MakeError(Code::kInvalidArgument, fmt::format("{}: not a list of strings", key));
    }
    out.push_back(v.get<std::string>());
  }
  return out;
}

bool Bool(const Json& body, const char* key) {
  auto it = body.find(key);
  return it != body.end() && it->is_boolean() && it->get<bool>();
}

std::string String(const Json& body, const char* key) {
  auto it = body.find(key);
  return it != body.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// ConsoleSize: [height, width]; absent, null or [0, 0] for none.
std::optional<std::pair<unsigned, unsigned>> ConsoleSize(const Json& body) {
  auto it = body.find("ConsoleSize");
  if (it == body.end() || !it->is_array() || it->size() != 2) return std::nullopt;
  if (!(*it)[0].is_number_unsigned() || !(*it)[1].is_number_unsigned()) return std::nullopt;
  unsigned h = (*it)[0].get<unsigned>();
  unsigned w = (*it)[1].get<unsigned>();
  if (h == 0 && w == 0) return std::nullopt;
  return std::make_pair(h, w);
}

OJson InspectJson(const engine::ExecInfo& x) {
  OJson j;
  j["ID"] = x.id;
  j["Running"] = x.running;
  j["ExitCode"] = x.exit_code ? OJson(*x.exit_code) : OJson(nullptr);
  j["ProcessConfig"] = OJson{{"tty", x.config.tty},
                             {"entrypoint", x.entrypoint},
                             {"arguments", x.arguments},
                             {"privileged", x.config.privileged}};
  if (!x.user.empty()) j["ProcessConfig"]["user"] = x.user;
  j["OpenStdin"] = x.config.attach_stdin;
  j["OpenStderr"] = x.config.attach_stderr;
  j["OpenStdout"] = x.config.attach_stdout;
  j["CanRemove"] = false;
  j["ContainerID"] = x.container_id;
  j["DetachKeys"] = x.config.detach_keys;
  j["Pid"] = x.pid;
  return j;
}

}  // namespace

void RegisterExecRoutes(Router& router, engine::ExecService& execs) {
  router.Handle("POST", "/containers/{name}/exec",
                [&execs](Request& req, ResponseWriter& w) -> Status {
                  BERTH_ASSIGN_OR_RETURN(Json body, req.ReadJson());
                  if (!body.is_object())
                    return MakeError(Code::kInvalidArgument, "invalid exec config");
                  engine::ExecConfig c;
                  c.attach_stdin = Bool(body, "AttachStdin");
                  c.attach_stdout = Bool(body, "AttachStdout");
                  c.attach_stderr = Bool(body, "AttachStderr");
                  c.tty = Bool(body, "Tty");
                  BERTH_ASSIGN_OR_RETURN(c.env, Strings(body, "Env"));
                  BERTH_ASSIGN_OR_RETURN(c.cmd, Strings(body, "Cmd"));
                  c.working_dir = String(body, "WorkingDir");
                  c.user = String(body, "User");
                  c.privileged = Bool(body, "Privileged");
                  c.detach_keys = String(body, "DetachKeys");
                  c.console_size = ConsoleSize(body);
                  BERTH_ASSIGN_OR_RETURN(std::string id, execs.Create(req.Param("name"), c));
                  return w.WriteJson(201, OJson{{"Id", id}});
                });

  router.Handle("POST", "/exec/{id}/start", [&execs](Request& req, ResponseWriter& w) -> Status {
    Json body = Json::object();
    if (auto parsed = req.ReadJson(); parsed && parsed->is_object()) body = *parsed;
    bool detach = Bool(body, "Detach");
    BERTH_ASSIGN_OR_RETURN(engine::ExecInfo x, execs.Inspect(req.Param("id")));
    bool tty = x.config.tty;
    if (detach) {
      BERTH_ASSIGN_OR_RETURN(UniqueFd none, execs.Start(x.id, true, ConsoleSize(body)));
      (void)none;
      return w.WriteEmpty(200);
    }
    if (x.started) {
      return MakeError(Code::kConflict,
                       fmt::format("Error: Exec command {} has already run", x.id));
    }
    BERTH_ASSIGN_OR_RETURN(auto client,
                           w.Hijack(tty ? "application/vnd.docker.raw-stream"
                                        : "application/vnd.docker.multiplexed-stream"));
    auto stream = execs.Start(x.id, false, ConsoleSize(body));
    if (!stream) {
      // The 101 is out: the error goes on the stream, as dockerd writes it.
      std::string msg = fmt::format(
          "OCI runtime exec failed: exec failed: unable to start container process: {}: "
          "unknown\r\n",
          stream.error().message);
      if (!tty) {
        (void)client->Write(
            shim::FrameHeader(shim::StreamType::kStdout, static_cast<uint32_t>(msg.size())));
      }
      (void)client->Write(msg);
      return {};
    }
    return internal::Splice(*client, stream->get(), x.config.attach_stdin);
  });

  router.Handle("GET", "/exec/{id}/json", [&execs](Request& req, ResponseWriter& w) -> Status {
    BERTH_ASSIGN_OR_RETURN(engine::ExecInfo x, execs.Inspect(req.Param("id")));
    return w.WriteJson(200, InspectJson(x));
  });

  router.Handle("POST", "/exec/{id}/resize", [&execs](Request& req, ResponseWriter& w) -> Status {
    BERTH_ASSIGN_OR_RETURN(int64_t h, req.QueryInt("h"));
    BERTH_ASSIGN_OR_RETURN(int64_t wd, req.QueryInt("w"));
    if (h < 0 || wd < 0) return MakeError(Code::kInvalidArgument, "invalid size");
    BERTH_RETURN_IF_ERROR(
        execs.Resize(req.Param("id"), static_cast<unsigned>(h), static_cast<unsigned>(wd)));
    return w.WriteEmpty(200);
  });
}

}  // namespace berth::api
