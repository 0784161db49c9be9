// exec, logs, export and commit: commands that stream from a container (exec hijacked, logs and
// export as framed or raw bodies written as they arrive) or make an image of it.
#include <fcntl.h>

#include <cctype>
#include <cmath>
#include <map>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "base/file.h"
#include "base/strings.h"
#include "base/unique_fd.h"
#include "cli/internal/command.h"
#include "cli/internal/streams.h"
#include "cli/stdcopy.h"

namespace berth::cli {
namespace {

using json = nlohmann::ordered_json;

// ---------------------------------------------------------------------------------------------
// exec

struct ExecOptions {
  bool interactive = false;
  bool tty = false;
  bool detach = false;
  bool privileged = false;
  std::string user;
  std::string workdir;
  std::string detach_keys;
  std::vector<std::string> env;
  std::vector<std::string> env_files;
  std::vector<std::string> args;
  CommandInfo info;
};

Status RunExec(Context& ctx, const ExecOptions& o) {
  std::vector<std::string> args = o.args;
  for (const std::string& a : ctx.trailing_args()) args.push_back(a);
  BERTH_RETURN_IF_ERROR(MinArgs(o.info, args, 2));
  Environment& env = ctx.env();
  std::string detach_bytes = *DetachKeyBytes(kDefaultDetachKeys);
  if (!o.detach_keys.empty()) {
    BERTH_ASSIGN_OR_RETURN(detach_bytes, DetachKeyBytes(o.detach_keys));
  }
  std::vector<std::string> env_vars;
  for (const std::string& file : o.env_files) {
    BERTH_ASSIGN_OR_RETURN(std::string text, ReadFile(file));
    for (const std::string& line : Split(text, '\n')) {
      std::string_view l = TrimSpace(line);
      if (l.empty() || l.starts_with("#")) continue;
      env_vars.emplace_back(l);
    }
  }
  for (const std::string& e : o.env) {
    if (e.find('=') == std::string::npos) {
      if (std::optional<std::string> local = env.getenv(e)) {
        env_vars.push_back(e + "=" + *local);
        continue;
      }
    }
    env_vars.push_back(e);
  }
  bool attach_in = o.interactive && !o.detach;
  bool attach_out = !o.detach;
  if (o.tty && attach_in && !env.in_is_terminal) {
    return MakeError(Code::kFailedPrecondition, "the input device is not a TTY");
  }
  json console = nullptr;
  if (o.tty && env.out_is_terminal && env.terminal_width > 0) {
    console = json::array({env.terminal_height, env.terminal_width});
  }
  // container.ExecOptions, in its field order.
  json body = json::object();
  body["User"] = o.user;
  body["Privileged"] = o.privileged;
  body["Tty"] = o.tty;
  if (!console.is_null()) body["ConsoleSize"] = console;
  body["AttachStdin"] = attach_in;
  body["AttachStderr"] = attach_out;
  body["AttachStdout"] = attach_out;
  body["Detach"] = o.detach;
  body["DetachKeys"] = o.detach_keys;
  body["Env"] = env_vars.empty() ? json(nullptr) : json(env_vars);
  body["WorkingDir"] = o.workdir;
  body["Cmd"] = std::vector<std::string>(args.begin() + 1, args.end());

  BERTH_ASSIGN_OR_RETURN(ApiClient * api, ctx.Client());
  Request create;
  create.method = "POST";
  create.path = "/containers/" + args[0] + "/exec";
  create.headers = {{"Content-Type", "application/json"}};
  create.body = body.dump() + "\n";
  BERTH_ASSIGN_OR_RETURN(Response created, api->Do(create));
  auto reply = json::parse(created.body, nullptr, false);
  if (!reply.is_object() || !reply.contains("Id") || !reply["Id"].is_string()) {
    return MakeError(Code::kDataLoss, "exec create: the daemon sent no Id");
  }
  std::string exec_id = reply["Id"].get<std::string>();

  json start_body = json::object();
  start_body["Detach"] = o.detach;
  start_body["Tty"] = o.tty;
  if (!console.is_null()) start_body["ConsoleSize"] = console;
  Request start;
  start.method = "POST";
  start.path = "/exec/" + exec_id + "/start";
  start.headers = {{"Content-Type", "application/json"}};
  start.body = start_body.dump() + "\n";
  if (o.detach) {
    BERTH_ASSIGN_OR_RETURN(Response started, api->Do(start));
    (void)started;
    return Ok();
  }
  std::unique_ptr<RawTerminal> raw;
  if (o.tty && attach_in && env.in_is_terminal) raw = RawTerminal::Enter(env.in_fd);
  Result<std::unique_ptr<HijackedConn>> conn = api->Hijack(start);
  if (!conn) return std::move(conn).error();
  std::unique_ptr<ResizeMonitor> resize;
  if (o.tty && env.out_is_terminal && env.out_fd >= 0) {
    resize = std::make_unique<ResizeMonitor>(*api, "/exec/" + exec_id + "/resize", env.out_fd);
  }
  Result<PumpEnd> end = PumpStreams(env, **conn, AttachStreams{o.tty, attach_in, detach_bytes});
  resize.reset();
  raw.reset();
  BERTH_RETURN_IF_ERROR(end);
  if (*end == PumpEnd::kDetached) return Ok();
  BERTH_ASSIGN_OR_RETURN(json inspect, api->GetJson("/exec/" + exec_id + "/json"));
  int64_t code =
      inspect.is_object() && inspect.contains("ExitCode") && inspect["ExitCode"].is_number_integer()
          ? inspect["ExitCode"].get<int64_t>()
          : 0;
  if (code != 0) ctx.SetExitCode(static_cast<int>(code));
  return Ok();
}

void AddExecCommand(CLI::App& parent, const std::string& name, const std::string& path,
                    Action* selected) {
  auto o = std::make_shared<ExecOptions>();
  o->info = {path, path + " [OPTIONS] CONTAINER COMMAND [ARG...]",
             "Execute a command in a running container"};
  CLI::App* cmd = AddCommand(parent, name, o->info.description, selected,
                             [o](Context& ctx) { return RunExec(ctx, *o); });
  cmd->prefix_command();
  cmd->add_flag("-d,--detach", o->detach, "Detached mode: run command in the background");
  cmd->add_option("--detach-keys", o->detach_keys,
                  "Override the key sequence for detaching a container");
  cmd->add_option("-e,--env", o->env, "Set environment variables")->allow_extra_args(false);
  cmd->add_option("--env-file", o->env_files, "Read in a file of environment variables")
      ->allow_extra_args(false);
  cmd->add_flag("-i,--interactive", o->interactive, "Keep STDIN open even if not attached");
  cmd->add_flag("--privileged", o->privileged, "Give extended privileges to the command");
  cmd->add_flag("-t,--tty", o->tty, "Allocate a pseudo-TTY");
  cmd->add_option("-u,--user", o->user, "Username or UID (format: \"<name|uid>[:<group|gid>]\")");
  cmd->add_option("-w,--workdir", o->workdir, "Working directory inside the container");
  cmd->add_option("CONTAINER", o->args, "CONTAINER COMMAND [ARG...]");
}

// ---------------------------------------------------------------------------------------------
// logs

struct LogsOptions {
  bool follow = false;
  bool timestamps = false;
  bool details = false;
  std::string tail = "all";
  std::string since;
  std::string until;
  std::vector<std::string> args;
  CommandInfo info;
};

// docker's GetTimestamp: a Go duration ("10m", "1h30m") is that long before now; RFC 3339 is
// converted; anything else (Unix seconds) goes as it is.
}  // namespace

std::string DockerTimestamp(const std::string& value, int64_t now) {
  if (value.empty()) return value;
  double total = 0;
  size_t i = 0;
  bool duration = true;
  static const std::map<std::string, double> kUnits = {{"ns", 1e-9}, {"us", 1e-6}, {"ms", 1e-3},
                                                       {"s", 1},     {"m", 60},    {"h", 3600}};
  while (i < value.size()) {
    size_t start = i;
    while (i < value.size() &&
           (std::isdigit(static_cast<unsigned char>(value[i])) || value[i] == '.')) {
      ++i;
    }
    size_t unit_start = i;
    while (i < value.size() && std::isalpha(static_cast<unsigned char>(value[i]))) ++i;
    auto unit = kUnits.find(value.substr(unit_start, i - unit_start));
    if (start == unit_start || unit == kUnits.end()) {
      duration = false;
      break;
    }
    total += std::strtod(value.substr(start, unit_start - start).c_str(), nullptr) * unit->second;
  }
  if (duration) return std::to_string(now - static_cast<int64_t>(total));
  int64_t nanos = 0;
  if (value.find('T') != std::string::npos && ParseRfc3339(value, &nanos)) {
    return fmt::format("{}.{:09d}", nanos / 1000000000, nanos % 1000000000);
  }
  return value;
}

namespace {

// Writes a framed or raw body to stdout/stderr as it arrives.
class OutputSink : public Writer {
 public:
  OutputSink(Environment& env, bool tty) : env_(env), tty_(tty), demux_(env.out, env.err) {}
  Status Write(std::string_view data) override {
    return tty_ ? env_.out->Write(data) : demux_.Write(data);
  }

 private:
  Environment& env_;
  bool tty_;
  StdDemuxer demux_;
};

Status RunLogs(Context& ctx, const LogsOptions& o) {
  BERTH_RETURN_IF_ERROR(ExactArgs(o.info, o.args, 1));
  BERTH_ASSIGN_OR_RETURN(ApiClient * api, ctx.Client());
  BERTH_ASSIGN_OR_RETURN(json info, api->GetJson("/containers/" + o.args[0] + "/json"));
  bool tty =
      info.contains("Config") && info["Config"].is_object() && info["Config"].value("Tty", false);
  Request req;
  req.path = "/containers/" + o.args[0] + "/logs";
  req.query = {{"stdout", "1"}, {"stderr", "1"}};
  if (!o.since.empty()) req.query.emplace_back("since", DockerTimestamp(o.since, ctx.Now()));
  if (!o.until.empty()) req.query.emplace_back("until", DockerTimestamp(o.until, ctx.Now()));
  if (o.timestamps) req.query.emplace_back("timestamps", "1");
  if (o.details) req.query.emplace_back("details", "1");
  if (o.follow) req.query.emplace_back("follow", "1");
  req.query.emplace_back("tail", o.tail);
  OutputSink sink(ctx.env(), tty);
  BERTH_ASSIGN_OR_RETURN(Response response, api->Do(req, &sink));
  (void)response;
  return Ok();
}

void AddLogsCommand(CLI::App& parent, const std::string& name, const std::string& path,
                    Action* selected) {
  auto o = std::make_shared<LogsOptions>();
  o->info = {path, path + " [OPTIONS] CONTAINER", "Fetch the logs of a container"};
  CLI::App* cmd = AddCommand(parent, name, o->info.description, selected,
                             [o](Context& ctx) { return RunLogs(ctx, *o); });
  cmd->add_flag("--details", o->details, "Show extra details provided to logs");
  cmd->add_flag("-f,--follow", o->follow, "Follow log output");
  cmd->add_option("--since", o->since,
                  "Show logs since timestamp (e.g. \"2013-01-02T13:23:37Z\") or relative (e.g. "
                  "\"42m\" for 42 minutes)");
  cmd->add_option("-n,--tail", o->tail, "Number of lines to show from the end of the logs");
  cmd->add_flag("-t,--timestamps", o->timestamps, "Show timestamps");
  cmd->add_option("--until", o->until,
                  "Show logs before a timestamp (e.g. \"2013-01-02T13:23:37Z\") or relative "
                  "(e.g. \"42m\" for 42 minutes)");
  cmd->add_option("CONTAINER", o->args, "Container");
}

// ---------------------------------------------------------------------------------------------
// export

struct ExportOptions {
  std::string output;
  std::vector<std::string> args;
  CommandInfo info;
};

Status RunExport(Context& ctx, const ExportOptions& o) {
  BERTH_RETURN_IF_ERROR(ExactArgs(o.info, o.args, 1));
  if (o.output.empty() && ctx.env().out_is_terminal) {
    return MakeError(Code::kInvalidArgument,
                     "cowardly refusing to save to a terminal. Use the -o flag or redirect");
  }
  BERTH_ASSIGN_OR_RETURN(ApiClient * api, ctx.Client());
  Request req;
  req.path = "/containers/" + o.args[0] + "/export";
  if (o.output.empty()) {
    BERTH_ASSIGN_OR_RETURN(Response response, api->Do(req, ctx.env().out));
    (void)response;
    return Ok();
  }
  BERTH_ASSIGN_OR_RETURN(UniqueFd fd,
                         OpenFile(o.output, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  FdWriter file(fd.get());
  Result<Response> response = api->Do(req, &file);
  if (!response) return std::move(response).error().WithContext("failed to export container");
  return Ok();
}

void AddExportCommand(CLI::App& parent, const std::string& name, const std::string& path,
                      Action* selected) {
  auto o = std::make_shared<ExportOptions>();
  o->info = {path, path + " [OPTIONS] CONTAINER",
             "Export a container's filesystem as a tar archive"};
  CLI::App* cmd = AddCommand(parent, name, o->info.description, selected,
                             [o](Context& ctx) { return RunExport(ctx, *o); });
  cmd->add_option("-o,--output", o->output, "Write to a file, instead of STDOUT");
  cmd->add_option("CONTAINER", o->args, "Container");
}

// ---------------------------------------------------------------------------------------------
// commit

struct CommitOptions {
  std::string author;
  std::string message;
  std::vector<std::string> changes;
  bool pause = true;
  std::vector<std::string> args;
  CommandInfo info;
};

Status RunCommit(Context& ctx, const CommitOptions& o) {
  BERTH_RETURN_IF_ERROR(RangeArgs(o.info, o.args, 1, 2));
  Request req;
  req.method = "POST";
  req.path = "/commit";
  req.query = {{"container", o.args[0]}, {"author", o.author}, {"comment", o.message}};
  if (!o.pause) req.query.emplace_back("pause", "0");
  for (const std::string& c : o.changes) req.query.emplace_back("changes", c);
  // Like docker's ContainerCommit: repo and tag always sent, empty without a reference; the
  // repository normalised (docker.io/...), the tag only when one was given.
  std::string repo, tag;
  if (o.args.size() == 2) {
    repo = o.args[1];
    size_t slash = repo.rfind('/');
    size_t colon = repo.rfind(':');
    if (colon != std::string::npos && (slash == std::string::npos || colon > slash)) {
      tag = repo.substr(colon + 1);
      repo = repo.substr(0, colon);
    }
    size_t first = repo.find('/');
    std::string domain = first == std::string::npos ? "" : repo.substr(0, first);
    if (domain.empty() ||
        (domain.find_first_of(".:") == std::string::npos && domain != "localhost")) {
      repo = (first == std::string::npos ? "docker.io/library/" : "docker.io/") + repo;
    }
  }
  req.query.emplace_back("repo", repo);
  req.query.emplace_back("tag", tag);
  BERTH_ASSIGN_OR_RETURN(ApiClient * api, ctx.Client());
  BERTH_ASSIGN_OR_RETURN(Response response, api->Do(req));
  auto reply = json::parse(response.body, nullptr, false);
  std::string id = reply.is_object() ? reply.value("Id", "") : "";
  return ctx.Out(id + "\n");
}

void AddCommitCommand(CLI::App& parent, const std::string& name, const std::string& path,
                      Action* selected) {
  auto o = std::make_shared<CommitOptions>();
  o->info = {path, path + " [OPTIONS] CONTAINER [REPOSITORY[:TAG]]",
             "Create a new image from a container's changes"};
  CLI::App* cmd = AddCommand(parent, name, o->info.description, selected,
                             [o](Context& ctx) { return RunCommit(ctx, *o); });
  cmd->add_option("-a,--author", o->author,
                  "Author (e.g., \"John Hannibal Smith <hannibal@a-team.com>\")");
  cmd->add_option("-c,--change", o->changes, "Apply Dockerfile instruction to the created image")
      ->allow_extra_args(false);
  cmd->add_option("-m,--message", o->message, "Commit message");
  cmd->add_flag("-p,--pause", o->pause, "Pause container during commit");
  cmd->add_option("ARGS", o->args, "CONTAINER [REPOSITORY[:TAG]]");
}

}  // namespace

void AddExecCommands(CLI::App& root, CLI::App& container, Action* selected) {
  AddExecCommand(root, "exec", "berth exec", selected);
  AddExecCommand(container, "exec", "berth container exec", selected);
  AddLogsCommand(root, "logs", "berth logs", selected);
  AddLogsCommand(container, "logs", "berth container logs", selected);
  AddExportCommand(root, "export", "berth export", selected);
  AddExportCommand(container, "export", "berth container export", selected);
  AddCommitCommand(root, "commit", "berth commit", selected);
  AddCommitCommand(container, "commit", "berth container commit", selected);
}

}  // namespace berth::cli
