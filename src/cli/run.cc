// create, run, start and attach: the commands that make a container and hook the terminal to it,
// in the order the docker CLI sends them (wire notes §7): create (pulling on "No such image"),
// attach (hijacked), wait on its own connection, start, stream, exit with the StatusCode.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "base/strings.h"
#include "cli/internal/command.h"
#include "cli/internal/container_opts.h"
#include "cli/internal/streams.h"
#include "cli/jsonmessage.h"
#include "cli/stdcopy.h"

namespace berth::cli {

Status ReportRunError(Context& ctx, const std::string& command, const Error& error, int code,
                      bool period) {
  std::string message = error.message;
  if (period) {
    while (!message.empty() && message.back() == '.') message.pop_back();
    message += ".";
  }
  ctx.SetExitCode(code);
  (void)ctx.Err(
      fmt::format("berth: {}\n\nRun 'berth {} --help' for more information\n", message, command));
  return MakeError(error.code, "");
}

// reference.ParseNormalizedNamed + the tag or digest: "busybox" -> docker.io/library/busybox,
// "latest".
std::pair<std::string, std::string> PullTarget(const std::string& image) {
  std::string name = image, tag = "latest";
  size_t at = name.find('@');
  if (at != std::string::npos) {
    tag = name.substr(at + 1);
    name = name.substr(0, at);
  } else {
    size_t slash = name.rfind('/');
    size_t colon = name.rfind(':');
    if (colon != std::string::npos && (slash == std::string::npos || colon > slash)) {
      tag = name.substr(colon + 1);
      name = name.substr(0, colon);
    }
  }
  size_t slash = name.find('/');
  std::string first = slash == std::string::npos ? "" : name.substr(0, slash);
  bool has_domain = !first.empty() && (first.find_first_of(".:") != std::string::npos ||
                                       first == "localhost" || ToLower(first) != first);
  if (!has_domain) {
    name = (slash == std::string::npos ? "docker.io/library/" : "docker.io/") + name;
  }
  return {name, tag};
}

namespace {

using json = nlohmann::ordered_json;

// docker's toStatusError: what a failed start says about the command.
int StartFailureCode(const std::string& message) {
  if (message.find("executable file not found") != std::string::npos ||
      message.find("no such file or directory") != std::string::npos ||
      message.find("system cannot find the file specified") != std::string::npos) {
    return 127;
  }
  if (message.find("permission denied") != std::string::npos ||
      message.find("is a directory") != std::string::npos) {
    return 126;
  }
  return 125;
}

// Swallows the pull's progress for run -q.
class Discard : public Writer {
 public:
  Status Write(std::string_view) override { return Ok(); }
};

Status Pull(Context& ctx, ApiClient& api, const std::string& image, bool quiet) {
  auto [from, tag] = PullTarget(image);
  Request req;
  req.method = "POST";
  req.path = "/images/create";
  req.query = {{"fromImage", from}, {"tag", tag}};
  req.headers = {{"X-Registry-Auth", RegistryAuthFor(ctx, from)}};
  // docker shows the pull's progress on stderr, so that stdout stays the container's.
  Discard discard;
  Writer& out = quiet ? static_cast<Writer&>(discard) : *ctx.env().err;
  JsonMessageDisplay display(out, ctx.env().out_is_terminal, ctx.env().terminal_width);
  return api.StreamLines(req, [&display](std::string_view line) { return display.Handle(line); });
}

// POST /containers/create, pulling the image first when the daemon does not have it.
Result<std::string> CreateContainer(Context& ctx, ApiClient& api, const json& body,
                                    const std::string& name, const std::string& platform,
                                    const std::string& pull_policy, bool quiet) {
  std::string image = body["Image"].get<std::string>();
  Request req;
  req.method = "POST";
  req.path = "/containers/create";
  if (!name.empty()) req.query.emplace_back("name", name);
  if (!platform.empty()) req.query.emplace_back("platform", platform);
  req.headers = {{"Content-Type", "application/json"}};
  // json.Encoder's output, newline included (the capture's Content-Length counts it).
  req.body = body.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
  if (pull_policy == "always") BERTH_RETURN_IF_ERROR(Pull(ctx, api, image, quiet));
  Result<Response> created = api.Do(req);
  if (!created && created.error().code == Code::kNotFound && pull_policy == "missing") {
    BERTH_RETURN_IF_ERROR(ctx.Err(fmt::format("Unable to find image '{}' locally\n", image)));
    BERTH_RETURN_IF_ERROR(Pull(ctx, api, image, quiet));
    created = api.Do(req);
  }
  if (!created) return std::move(created).error();
  auto reply = json::parse(created->body, nullptr, false);
  if (!reply.is_object() || !reply.contains("Id") || !reply["Id"].is_string()) {
    return MakeError(Code::kDataLoss, "containers/create: the daemon sent no Id");
  }
  if (reply.contains("Warnings") && reply["Warnings"].is_array()) {
    for (const json& w : reply["Warnings"]) {
      if (w.is_string()) BERTH_RETURN_IF_ERROR(ctx.Err("WARNING: " + w.get<std::string>() + "\n"));
    }
  }
  return reply["Id"].get<std::string>();
}

Result<std::unique_ptr<HijackedConn>> Attach(ApiClient& api, const std::string& id, bool in,
                                             bool out, bool err, const std::string& detach_keys,
                                             bool logs = false) {
  Request req;
  req.method = "POST";
  req.path = "/containers/" + id + "/attach";
  req.query = {{"stream", "1"}};
  if (in) req.query.emplace_back("stdin", "1");
  if (out) req.query.emplace_back("stdout", "1");
  if (err) req.query.emplace_back("stderr", "1");
  if (logs) req.query.emplace_back("logs", "1");
  if (!detach_keys.empty()) req.query.emplace_back("detachKeys", detach_keys);
  return api.Hijack(req);
}

// The StatusCode of a wait reply ({"StatusCode":N,"Error":{"Message":...}}).
Result<int> WaitStatus(const Response& response) {
  auto reply = json::parse(response.body, nullptr, false);
  if (!reply.is_object()) return MakeError(Code::kDataLoss, "wait: the daemon sent invalid JSON");
  if (reply.contains("Error") && reply["Error"].is_object()) {
    std::string message = reply["Error"].value("Message", "");
    if (!message.empty()) return MakeError(Code::kInternal, message);
  }
  return static_cast<int>(reply.value("StatusCode", int64_t{0}));
}

Status StartContainer(ApiClient& api, const std::string& id) {
  Request req;
  req.method = "POST";
  req.path = "/containers/" + id + "/start";
  Result<Response> started = api.Do(req);
  if (!started) return std::move(started).error();
  return Ok();
}

// ---------------------------------------------------------------------------------------------
// create / run

struct RunOptions {
  ContainerFlags flags;
  bool detach = false;
  bool sig_proxy = true;
  bool quiet = false;
  std::string detach_keys;
  std::vector<std::string> args;
  CommandInfo info;
  bool run = true;  // false for create
};

Status RunRun(Context& ctx, RunOptions& o) {
  std::string command = o.run ? "run" : "create";
  std::vector<std::string> args = o.args;
  for (const std::string& a : ctx.trailing_args()) args.push_back(a);
  if (args.empty()) {
    return MakeError(Code::kInvalidArgument,
                     fmt::format("berth: '{}' requires at least 1 argument\n\nUsage:  {}\n\nSee "
                                 "'{} --help' for more information",
                                 o.info.path, o.info.use, o.info.path));
  }
  Environment& env = ctx.env();
  CreateInput in;
  in.image = args[0];
  in.command.assign(args.begin() + 1, args.end());
  in.detach = o.detach;
  in.getenv = env.getenv;
  in.cwd = env.cwd;
  if (o.run && o.flags.tty && env.out_is_terminal) {
    in.console_height = static_cast<uint32_t>(env.terminal_height);
    in.console_width = static_cast<uint32_t>(env.terminal_width);
  }
  if (o.flags.pull != "missing" && o.flags.pull != "always" && o.flags.pull != "never") {
    return ReportRunError(
        ctx, command,
        MakeError(Code::kInvalidArgument,
                  fmt::format("invalid pull option: '{}': must be one of \"always\", "
                              "\"missing\" or \"never\"",
                              o.flags.pull)),
        125);
  }
  std::string detach_bytes;
  if (!o.detach_keys.empty()) {
    Result<std::string> keys = DetachKeyBytes(o.detach_keys);
    if (!keys) return ReportRunError(ctx, command, keys.error(), 125);
    detach_bytes = *keys;
  } else {
    detach_bytes = *DetachKeyBytes(kDefaultDetachKeys);
  }
  Result<json> body = BuildCreateBody(o.flags, in);
  if (!body) {
    if (IsFlagValueError(body.error())) {
      ctx.SetExitCode(125);
      return MakeError(Code::kInvalidArgument,
                       fmt::format("{}\nSee '{} --help'.", body.error().message, o.info.path));
    }
    return ReportRunError(ctx, command, body.error(), 125);
  }
  Result<ApiClient*> client = ctx.Client();
  if (!client) return ReportRunError(ctx, command, client.error(), 125);
  ApiClient& api = **client;
  Result<std::string> version = api.Version();
  if (!version) return ReportRunError(ctx, command, version.error(), 125);
  if (CompareApiVersions(*version, "1.25") < 0) {
    (*body)["HostConfig"]["AutoRemove"] = false;
  }
  bool attach_in = (*body)["AttachStdin"].get<bool>();
  bool attach_out = (*body)["AttachStdout"].get<bool>();
  bool attach_err = (*body)["AttachStderr"].get<bool>();
  if (o.run && !o.detach && o.flags.tty && attach_in && !env.in_is_terminal) {
    ctx.SetExitCode(1);
    return MakeError(Code::kFailedPrecondition, "the input device is not a TTY");
  }

  Result<std::string> id =
      CreateContainer(ctx, api, *body, o.flags.name, o.flags.platform, o.flags.pull, o.quiet);
  if (!id) return ReportRunError(ctx, command, id.error(), 125);
  if (!o.run) return ctx.Out(*id + "\n");

  Request wait;
  wait.method = "POST";
  wait.path = "/containers/" + *id + "/wait";
  wait.query = {{"condition", o.flags.rm ? "removed" : "next-exit"}};
  if (o.detach) {
    Result<std::unique_ptr<PendingResponse>> pending = api.Send(wait);
    if (!pending) return ReportRunError(ctx, command, pending.error(), 125);
    Status started = StartContainer(api, *id);
    if (!started)
      return ReportRunError(ctx, command, started.error(),
                            StartFailureCode(started.error().message));
    return ctx.Out(*id + "\n");
  }

  std::unique_ptr<HijackedConn> conn;
  if (attach_in || attach_out || attach_err) {
    Result<std::unique_ptr<HijackedConn>> attached =
        Attach(api, *id, attach_in, attach_out, attach_err, o.detach_keys);
    if (!attached) return ReportRunError(ctx, command, attached.error(), 125);
    conn = std::move(*attached);
  }
  Result<std::unique_ptr<PendingResponse>> pending = api.Send(wait);
  if (!pending) return ReportRunError(ctx, command, pending.error(), 125);
  // The wait is in place before the start: a program that ends at once is not missed.
  if (Status st = (*pending)->AwaitHeader(); !st) {
    return ReportRunError(ctx, command, st.error(), 125);
  }

  std::unique_ptr<RawTerminal> raw;
  if (o.flags.tty && attach_in && env.in_is_terminal) raw = RawTerminal::Enter(env.in_fd);
  Status started = StartContainer(api, *id);
  if (!started) {
    raw.reset();
    if (conn) conn->Shutdown();
    if (o.flags.rm) (void)(*pending)->Await();
    return ReportRunError(ctx, command, started.error(), StartFailureCode(started.error().message));
  }
  std::unique_ptr<ResizeMonitor> resize;
  if (o.flags.tty && env.out_is_terminal && env.out_fd >= 0) {
    resize = std::make_unique<ResizeMonitor>(api, "/containers/" + *id + "/resize", env.out_fd);
  }
  std::unique_ptr<SignalProxy> proxy;
  if (o.sig_proxy && !o.flags.tty && env.in_fd >= 0) {
    proxy = std::make_unique<SignalProxy>(api, *id);
  }
  if (conn) {
    AttachStreams streams{o.flags.tty, attach_in, detach_bytes};
    Result<PumpEnd> end = PumpStreams(env, *conn, streams);
    resize.reset();
    raw.reset();
    if (!end) return end.error();
    if (*end == PumpEnd::kDetached) return Ok();
  }
  resize.reset();
  raw.reset();
  Result<Response> waited = (*pending)->Await();
  if (!waited) return ReportRunError(ctx, command, waited.error(), 125);
  Result<int> status = WaitStatus(*waited);
  if (!status) return ReportRunError(ctx, command, status.error(), 125);
  ctx.SetExitCode(*status);
  return Ok();
}

void AddRunCommand(CLI::App& parent, const std::string& name, const std::string& path, bool run,
                   Action* selected) {
  auto o = std::make_shared<RunOptions>();
  o->run = run;
  std::string description =
      run ? "Create and run a new container from an image" : "Create a new container";
  o->info = {path, path + " [OPTIONS] IMAGE [COMMAND] [ARG...]", description};
  CLI::App* cmd = AddCommand(parent, name, description, selected,
                             [o](Context& ctx) { return RunRun(ctx, *o); });
  cmd->prefix_command();
  AddContainerFlags(*cmd, o->flags);
  if (run) {
    cmd->add_flag("-d,--detach", o->detach, "Run container in background and print container ID");
    cmd->add_option("--detach-keys", o->detach_keys,
                    "Override the key sequence for detaching a container");
    cmd->add_flag("--sig-proxy", o->sig_proxy, "Proxy received signals to the process");
  }
  cmd->add_flag("-q,--quiet", o->quiet, "Suppress the pull output");
  cmd->add_option("IMAGE", o->args, "Image [COMMAND] [ARG...]");
}

// ---------------------------------------------------------------------------------------------
// start / attach

struct StartOptions {
  bool attach = false;
  bool interactive = false;
  std::string detach_keys;
  std::vector<std::string> args;
  CommandInfo info;
};

// Attaches to `id` as docker start -a / attach do: inspect for Tty and OpenStdin, attach, wait,
// optionally start, stream, exit with the status.
Status AttachAndWait(Context& ctx, ApiClient& api, const std::string& name, bool in,
                     const std::string& detach_keys, bool start, bool sig_proxy,
                     const std::string& command) {
  BERTH_ASSIGN_OR_RETURN(json info, api.GetJson("/containers/" + name + "/json"));
  std::string id = info.value("Id", name);
  bool tty = info.contains("Config") && info["Config"].value("Tty", false);
  bool open_stdin = info.contains("Config") && info["Config"].value("OpenStdin", false);
  if (!start && info.contains("State") && !info["State"].value("Running", false)) {
    return MakeError(Code::kFailedPrecondition,
                     "You cannot attach to a stopped container, "
                     "start it first");
  }
  in = in && open_stdin;
  std::string keys_bytes = *DetachKeyBytes(kDefaultDetachKeys);
  if (!detach_keys.empty()) {
    BERTH_ASSIGN_OR_RETURN(keys_bytes, DetachKeyBytes(detach_keys));
  }
  Environment& env = ctx.env();
  if (tty && in && !env.in_is_terminal) {
    return MakeError(Code::kFailedPrecondition, "the input device is not a TTY");
  }
  BERTH_ASSIGN_OR_RETURN(std::unique_ptr<HijackedConn> conn,
                         Attach(api, id, in, true, true, detach_keys));
  Request wait;
  wait.method = "POST";
  wait.path = "/containers/" + id + "/wait";
  // start -a waits for the next exit (wire notes); attach, already running, for not-running.
  if (start) wait.query = {{"condition", "next-exit"}};
  BERTH_ASSIGN_OR_RETURN(std::unique_ptr<PendingResponse> pending, api.Send(wait));
  BERTH_RETURN_IF_ERROR(pending->AwaitHeader());
  std::unique_ptr<RawTerminal> raw;
  if (tty && in && env.in_is_terminal) raw = RawTerminal::Enter(env.in_fd);
  if (start) {
    Status started = StartContainer(api, id);
    if (!started) {
      raw.reset();
      conn->Shutdown();
      return ReportRunError(ctx, command, started.error(),
                            StartFailureCode(started.error().message));
    }
  }
  std::unique_ptr<ResizeMonitor> resize;
  if (tty && env.out_is_terminal && env.out_fd >= 0) {
    resize = std::make_unique<ResizeMonitor>(api, "/containers/" + id + "/resize", env.out_fd);
  }
  std::unique_ptr<SignalProxy> proxy;
  if (sig_proxy && !tty && env.in_fd >= 0) proxy = std::make_unique<SignalProxy>(api, id);
  Result<PumpEnd> end = PumpStreams(env, *conn, AttachStreams{tty, in, keys_bytes});
  proxy.reset();
  resize.reset();
  raw.reset();
  BERTH_RETURN_IF_ERROR(end);
  if (*end == PumpEnd::kDetached) return Ok();
  BERTH_ASSIGN_OR_RETURN(Response waited, pending->Await());
  BERTH_ASSIGN_OR_RETURN(int status, WaitStatus(waited));
  ctx.SetExitCode(status);
  return Ok();
}

Status RunStart(Context& ctx, const StartOptions& o) {
  BERTH_RETURN_IF_ERROR(MinArgs(o.info, o.args, 1));
  BERTH_ASSIGN_OR_RETURN(ApiClient * api, ctx.Client());
  if (o.attach || o.interactive) {
    if (o.args.size() > 1) {
      return MakeError(Code::kInvalidArgument,
                       "you cannot start and attach multiple containers at once");
    }
    return AttachAndWait(ctx, *api, o.args[0], o.interactive, o.detach_keys, true,
                         /*sig_proxy=*/true, "start");
  }
  std::vector<std::string> errors;
  for (const std::string& name : o.args) {
    Status started = StartContainer(*api, name);
    if (!started) {
      if (started.error().code == Code::kUnavailable) return started;
      errors.push_back(started.error().message);
      continue;
    }
    BERTH_RETURN_IF_ERROR(ctx.Out(name + "\n"));
  }
  if (!errors.empty()) return MakeError(Code::kInternal, Join(errors, "\n"));
  return Ok();
}

void AddStartCommand(CLI::App& parent, const std::string& name, const std::string& path,
                     Action* selected) {
  auto o = std::make_shared<StartOptions>();
  o->info = {path, path + " [OPTIONS] CONTAINER [CONTAINER...]",
             "Start one or more stopped containers"};
  CLI::App* cmd = AddCommand(parent, name, o->info.description, selected,
                             [o](Context& ctx) { return RunStart(ctx, *o); });
  cmd->add_flag("-a,--attach", o->attach, "Attach STDOUT/STDERR and forward signals");
  cmd->add_option("--detach-keys", o->detach_keys,
                  "Override the key sequence for detaching a container");
  cmd->add_flag("-i,--interactive", o->interactive, "Attach container's STDIN");
  cmd->add_option("CONTAINER", o->args, "Containers to start");
}

struct AttachOptions {
  bool no_stdin = false;
  bool sig_proxy = true;
  std::string detach_keys;
  std::vector<std::string> args;
  CommandInfo info;
};

void AddAttachCommand(CLI::App& parent, const std::string& name, const std::string& path,
                      Action* selected) {
  auto o = std::make_shared<AttachOptions>();
  o->info = {path, path + " [OPTIONS] CONTAINER",
             "Attach local standard input, output, and error streams to a running container"};
  CLI::App* cmd =
      AddCommand(parent, name, o->info.description, selected, [o](Context& ctx) -> Status {
        BERTH_RETURN_IF_ERROR(ExactArgs(o->info, o->args, 1));
        BERTH_ASSIGN_OR_RETURN(ApiClient * api, ctx.Client());
        return AttachAndWait(ctx, *api, o->args[0], !o->no_stdin, o->detach_keys, false,
                             o->sig_proxy, "attach");
      });
  cmd->add_option("--detach-keys", o->detach_keys,
                  "Override the key sequence for detaching a container");
  cmd->add_flag("--no-stdin", o->no_stdin, "Do not attach STDIN");
  cmd->add_flag("--sig-proxy", o->sig_proxy, "Proxy all received signals to the process");
  cmd->add_option("CONTAINER", o->args, "Container to attach to");
}

}  // namespace

void AddRunCommands(CLI::App& root, CLI::App& container, Action* selected) {
  AddRunCommand(root, "run", "berth run", true, selected);
  AddRunCommand(container, "run", "berth container run", true, selected);
  AddRunCommand(root, "create", "berth create", false, selected);
  AddRunCommand(container, "create", "berth container create", false, selected);
  AddStartCommand(root, "start", "berth start", selected);
  AddStartCommand(container, "start", "berth container start", selected);
  AddAttachCommand(root, "attach", "berth attach", selected);
  AddAttachCommand(container, "attach", "berth container attach", selected);
}

}  // namespace berth::cli
