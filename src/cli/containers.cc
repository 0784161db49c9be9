// Container commands that are plain Engine API calls: ps (container ls), stop, kill, rm,
// restart, pause, unpause, wait, rename, port, top, diff, container prune. Rows and wording
// follow docker/cli's formatter and commands.
#include <algorithm>
#include <map>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "base/strings.h"
#include "cli/format/list.h"
#include "cli/format/tabwriter.h"
#include "cli/format/template.h"
#include "cli/internal/command.h"
#include "cli/internal/container_rows.h"

namespace berth::cli {
namespace {

using json = nlohmann::ordered_json;

int64_t Int(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_number() ? it->get<int64_t>() : 0;
}

std::string Str(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

// net.JoinHostPort.
std::string JoinHostPort(const std::string& host, const std::string& port) {
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + port;
  return host + ":" + port;
}

}  // namespace

std::string DisplayablePorts(const json& ports) {
  struct Port {
    std::string ip;
    int64_t private_port;
    int64_t public_port;
    std::string type;
  };
  std::vector<Port> list;
  if (ports.is_array()) {
    for (const json& p : ports) {
      list.push_back({Str(p, "IP"), Int(p, "PrivatePort"), Int(p, "PublicPort"), Str(p, "Type")});
    }
  }
  std::sort(list.begin(), list.end(), [](const Port& a, const Port& b) {
    if (a.private_port != b.private_port) return a.private_port < b.private_port;
    if (a.ip != b.ip) return a.ip < b.ip;
    if (a.public_port != b.public_port) return a.public_port < b.public_port;
    return a.type < b.type;
  });
  struct Group {
    int64_t first, last;
  };
  std::map<std::string, Group> groups;
  std::vector<std::string> keys, result, host_mappings;
  auto form = [](const std::string& key, int64_t first, int64_t last) {
    size_t slash = key.rfind('/');
    std::string type = slash == std::string::npos ? key : key.substr(slash + 1);
    std::string ip = slash == std::string::npos ? "" : key.substr(0, slash);
    std::string group = std::to_string(first);
    if (first != last) group += "-" + std::to_string(last);
    if (!ip.empty()) group = JoinHostPort(ip, "") + group + "->" + group;
    return group + "/" + type;
  };
  for (const Port& p : list) {
    std::string key = p.type;
    if (!p.ip.empty()) {
      if (p.public_port != p.private_port) {
        host_mappings.push_back(fmt::format("{}->{}/{}",
                                            JoinHostPort(p.ip, std::to_string(p.public_port)),
                                            p.private_port, p.type));
        continue;
      }
      key = p.ip + "/" + p.type;
    }
    auto it = groups.find(key);
    if (it == groups.end()) {
      groups[key] = {p.private_port, p.private_port};
      keys.push_back(key);
      continue;
    }
    if (p.private_port == it->second.last + 1) {
      it->second.last = p.private_port;
      continue;
    }
    result.push_back(form(key, it->second.first, it->second.last));
    it->second = {p.private_port, p.private_port};
  }
  for (const std::string& key : keys)
    result.push_back(form(key, groups[key].first, groups[key].last));
  result.insert(result.end(), host_mappings.begin(), host_mappings.end());
  return Join(result, ", ");
}

json ContainerRow(const json& c, bool trunc, int64_t now) {
  std::string id = Str(c, "Id");
  std::string image = Str(c, "Image");
  if (image.empty()) image = "<no image>";
  if (trunc) {
    std::string image_id = Str(c, "ImageID");
    if (!image_id.empty() && TruncateId(image_id) == TruncateId(image)) image = TruncateId(image);
    // reference.FamiliarString without the digest: "docker.io/library/x@sha256:.." -> "x".
    size_t at = image.find('@');
    if (at != std::string::npos && !image.starts_with("sha256:")) image = image.substr(0, at);
    if (image.starts_with("docker.io/library/")) {
      image.erase(0, 18);
    } else if (image.starts_with("docker.io/")) {
      image.erase(0, 10);
    }
  }
  std::vector<std::string> names;
  if (c.contains("Names") && c["Names"].is_array()) {
    for (const json& n : c["Names"]) {
      std::string name = n.is_string() ? n.get<std::string>() : "";
      if (name.starts_with("/")) name.erase(0, 1);
      names.push_back(name);
    }
  }
  if (trunc) {
    for (const std::string& n : names) {
      if (n.find('/') == std::string::npos) {
        names = {n};
        break;
      }
    }
  }
  std::string command = Str(c, "Command");
  if (trunc) command = Ellipsis(command, 20);
  int64_t created = Int(c, "Created");
  int64_t size_rw = Int(c, "SizeRw"), size_root = Int(c, "SizeRootFs");
  std::string size = HumanSize(static_cast<double>(size_rw));
  if (size_root > 0) size += " (virtual " + HumanSize(static_cast<double>(size_root)) + ")";
  std::vector<std::string> labels;
  if (c.contains("Labels") && c["Labels"].is_object()) {
    for (auto it = c["Labels"].begin(); it != c["Labels"].end(); ++it) {
      labels.push_back(it.key() + "=" + (it->is_string() ? it->get<std::string>() : ""));
    }
  }
  std::sort(labels.begin(), labels.end());
  std::vector<std::string> mounts;
  int local_volumes = 0;
  if (c.contains("Mounts") && c["Mounts"].is_array()) {
    for (const json& m : c["Mounts"]) {
      std::string name = Str(m, "Name");
      if (name.empty()) name = Str(m, "Source");
      if (trunc) name = Ellipsis(name, 15);
      mounts.push_back(name);
      if (Str(m, "Driver") == "local") ++local_volumes;
    }
  }
  std::vector<std::string> networks;
  if (c.contains("NetworkSettings") && c["NetworkSettings"].is_object() &&
      c["NetworkSettings"].contains("Networks") && c["NetworkSettings"]["Networks"].is_object()) {
    for (auto it = c["NetworkSettings"]["Networks"].begin();
         it != c["NetworkSettings"]["Networks"].end(); ++it) {
      networks.push_back(it.key());
    }
  }
  std::sort(networks.begin(), networks.end());
  return json{
      {"ID", trunc ? TruncateId(id) : id},
      {"Image", image},
      {"Command", GoQuote(command)},
      {"CreatedAt", GoTimeString(created)},
      {"RunningFor", HumanDuration(now - created) + " ago"},
      {"Ports", DisplayablePorts(c.value("Ports", json::array()))},
      {"State", Str(c, "State")},
      {"Status", Str(c, "Status")},
      {"Size", size},
      {"Names", Join(names, ",")},
      {"Labels", Join(labels, ",")},
      {"Mounts", Join(mounts, ",")},
      {"LocalVolumes", std::to_string(local_volumes)},
      {"Networks", Join(networks, ",")},
  };
}

namespace {

// ---------------------------------------------------------------------------------------------
// ps

struct PsOptions {
  bool all = false;
  bool quiet = false;
  bool latest = false;
  bool size = false;
  bool no_trunc = false;
  int last = -1;
  std::vector<std::string> filters;
  std::string format;
  std::vector<std::string> args;
  CommandInfo info;
};

const format::ListFormat& PsFormat(bool size) {
  static const json headers = {{"ID", "CONTAINER ID"},
                               {"Image", "IMAGE"},
                               {"Command", "COMMAND"},
                               {"CreatedAt", "CREATED AT"},
                               {"RunningFor", "CREATED"},
                               {"Ports", "PORTS"},
                               {"State", "STATE"},
                               {"Status", "STATUS"},
                               {"Size", "SIZE"},
                               {"Names", "NAMES"},
                               {"Labels", "LABELS"},
                               {"Mounts", "MOUNTS"},
                               {"LocalVolumes", "LOCAL VOLUMES"},
                               {"Networks", "NETWORKS"}};
  static const std::string base =
      "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t"
      "{{.Names}}";
  static const format::ListFormat plain{base, "{{.ID}}", headers};
  static const format::ListFormat with_size{base + "\t{{.Size}}", "{{.ID}}", headers};
  return size ? with_size : plain;
}

Status RunPs(Context& ctx, const PsOptions& o) {
  BERTH_RETURN_IF_ERROR(NoArgs(o.info, o.args));
  BERTH_ASSIGN_OR_RETURN(nlohmann::json filters, ParseFilters(o.filters));
  std::string user_format = o.format;
  if (user_format.empty() && !o.quiet) user_format = ctx.ConfigString("psFormat");
  // -s adds the SIZE column to the default table only (docker's NewContainerFormat); a format
  // that shows .Size asks the daemon for sizes too.
  std::string fmt_string = format::ResolveFormat(user_format, PsFormat(o.size), o.quiet);
  bool size = o.size || (!o.quiet && format::FormatMentions(fmt_string, "Size"));
  int limit = o.last;
  if (o.latest && limit == -1) limit = 1;
  Params query;
  // The daemon lists every state when a limit is given; docker sends no all=1 for -n/-l.
  if (o.all) query.emplace_back("all", "1");
  if (limit > 0) query.emplace_back("limit", std::to_string(limit));
  if (size) query.emplace_back("size", "1");
  if (!filters.empty()) query.emplace_back("filters", filters.dump());
  BERTH_ASSIGN_OR_RETURN(ApiClient * api, ctx.Client());
  BERTH_ASSIGN_OR_RETURN(json containers, api->GetJson("/containers/json", query));
  std::vector<json> rows;
  if (containers.is_array()) {
    for (const json& c : containers) rows.push_back(ContainerRow(c, !o.no_trunc, ctx.Now()));
  }
  BERTH_ASSIGN_OR_RETURN(std::string out,
                         format::RenderList(fmt_string, rows, PsFormat(o.size).headers));
  return ctx.Out(out);
}

void AddPsCommand(CLI::App& parent, const std::string& name, const std::string& path,
                  Action* selected) {
  auto o = std::make_shared<PsOptions>();
  o->info = {path, path + " [OPTIONS]", "List containers"};
  CLI::App* cmd = AddCommand(parent, name, "List containers", selected,
                             [o](Context& ctx) { return RunPs(ctx, *o); });
  cmd->add_flag("-a,--all", o->all, "Show all containers (default shows just running)");
  cmd->add_option("-f,--filter", o->filters, "Filter output based on conditions provided")
      ->allow_extra_args(false);
  cmd->add_option("--format", o->format,
                  "Format output using a custom template ('table', 'table TEMPLATE', 'json', "
                  "'TEMPLATE')");
  cmd->add_option("-n,--last", o->last, "Show n last created containers (includes all states)");
  cmd->add_flag("-l,--latest", o->latest,
                "Show the latest created container (includes all "
                "states)");
  cmd->add_flag("--no-trunc", o->no_trunc, "Don't truncate output");
  cmd->add_flag("-q,--quiet", o->quiet, "Only display container IDs");
  cmd->add_flag("-s,--size", o->size, "Display total file sizes");
  cmd->add_option("args", o->args)->group("");
}

// ---------------------------------------------------------------------------------------------
// stop, kill, restart, pause, unpause, rm, wait: one request per container, names echoed.

struct EachOptions {
  std::string time;    // stop/restart -t
  std::string signal;  // stop/restart/kill -s
  bool force = false;  // rm -f
  bool volumes = false;
  bool link = false;
  std::vector<std::string> args;
  CommandInfo info;
};

enum class Each { kStop, kRestart, kKill, kPause, kUnpause, kRm, kWait };

Status RunEach(Context& ctx, const EachOptions& o, Each what) {
  BERTH_RETURN_IF_ERROR(MinArgs(o.info, o.args, 1));
  if (!o.time.empty()) {
    char* end = nullptr;
    (void)std::strtol(o.time.c_str(), &end, 10);
    if (*end != '\0') {
      ctx.SetExitCode(125);
      return MakeError(Code::kInvalidArgument,
                       fmt::format("invalid argument \"{}\" for \"-t, --timeout\" flag: "
                                   "strconv.ParseInt: parsing \"{}\": invalid syntax\nSee '{} "
                                   "--help'.",
                                   o.time, o.time, o.info.path));
    }
  }
  BERTH_ASSIGN_OR_RETURN(ApiClient * api, ctx.Client());
  std::vector<std::string> errors;
  for (const std::string& name : o.args) {
    Request req;
    req.method = "POST";
    switch (what) {
      case Each::kStop:
      case Each::kRestart:
        req.path = "/containers/" + name + (what == Each::kStop ? "/stop" : "/restart");
        if (!o.signal.empty()) req.query.emplace_back("signal", o.signal);
        if (!o.time.empty()) req.query.emplace_back("t", o.time);
        break;
      case Each::kKill:
        req.path = "/containers/" + name + "/kill";
        if (!o.signal.empty()) req.query.emplace_back("signal", o.signal);
        break;
      case Each::kPause:
        req.path = "/containers/" + name + "/pause";
        break;
      case Each::kUnpause:
        req.path = "/containers/" + name + "/unpause";
        break;
      case Each::kRm:
        req.method = "DELETE";
        req.path = "/containers/" + name;
        if (o.force) req.query.emplace_back("force", "1");
        if (o.link) req.query.emplace_back("link", "1");
        if (o.volumes) req.query.emplace_back("v", "1");
        break;
      case Each::kWait:
        req.path = "/containers/" + name + "/wait";
        break;
    }
    Result<Response> got = api->Do(req);
    if (!got) {
      if (got.error().code == Code::kUnavailable) return std::move(got).error();
      std::string message = got.error().message;
      if (what == Each::kRm && got.error().code == Code::kNotFound && o.force) continue;
      errors.push_back(message);
      continue;
    }
    if (what == Each::kWait) {
      auto reply = json::parse(got->body, nullptr, false);
      int64_t code = reply.is_object() ? Int(reply, "StatusCode") : 0;
      BERTH_RETURN_IF_ERROR(ctx.Out(std::to_string(code) + "\n"));
    } else {
      BERTH_RETURN_IF_ERROR(ctx.Out(name + "\n"));
    }
  }
  if (!errors.empty()) return MakeError(Code::kInternal, Join(errors, "\n"));
  return Ok();
}

void AddEachCommand(CLI::App& parent, const std::string& name, const std::string& path, Each what,
                    Action* selected) {
  static const std::map<Each, std::pair<std::string, std::string>> kText = {
      {Each::kStop, {"Stop one or more running containers", "CONTAINER [CONTAINER...]"}},
      {Each::kRestart, {"Restart one or more containers", "CONTAINER [CONTAINER...]"}},
      {Each::kKill, {"Kill one or more running containers", "CONTAINER [CONTAINER...]"}},
      {Each::kPause,
       {"Pause all processes within one or more containers", "CONTAINER [CONTAINER...]"}},
      {Each::kUnpause,
       {"Unpause all processes within one or more containers", "CONTAINER [CONTAINER...]"}},
      {Each::kRm, {"Remove one or more containers", "CONTAINER [CONTAINER...]"}},
      {Each::kWait,
       {"Block until one or more containers stop, then print their exit codes",
        "CONTAINER [CONTAINER...]"}},
  };
  auto o = std::make_shared<EachOptions>();
  const auto& [description, operands] = kText.at(what);
  bool has_options = what != Each::kPause && what != Each::kUnpause && what != Each::kWait;
  o->info = {path, path + (has_options ? " [OPTIONS] " : " ") + operands, description};
  CLI::App* cmd = AddCommand(parent, name, description, selected,
                             [o, what](Context& ctx) { return RunEach(ctx, *o, what); });
  if (what == Each::kStop || what == Each::kRestart) {
    cmd->add_option("-s,--signal", o->signal, "Signal to send to the container");
    cmd->add_option("-t,--timeout,--time", o->time,
                    "Seconds to wait before killing the container");
  }
  if (what == Each::kKill) {
    cmd->add_option("-s,--signal", o->signal, "Signal to send to the container");
  }
  if (what == Each::kRm) {
    cmd->add_flag("-f,--force", o->force,
                  "Force the removal of a running container (uses SIGKILL)");
    cmd->add_flag("-l,--link", o->link, "Remove the specified link");
    cmd->add_flag("-v,--volumes", o->volumes,
                  "Remove anonymous volumes associated with the container");
  }
  cmd->add_option("CONTAINER", o->args, "Containers");
}

// ---------------------------------------------------------------------------------------------
// rename, port, top, diff

struct ArgsOptions {
  std::vector<std::string> args;
  CommandInfo info;
};

Status RunRename(Context& ctx, const ArgsOptions& o) {
  BERTH_RETURN_IF_ERROR(ExactArgs(o.info, o.args, 2));
  std::string new_name(TrimSpace(o.args[1]));
  if (new_name.empty()) {
    return MakeError(Code::kInvalidArgument, "Error: Neither old nor new names may be empty");
  }
  Request req;
  req.method = "POST";
  req.path = "/containers/" + o.args[0] + "/rename";
  req.query = {{"name", new_name}};
  BERTH_ASSIGN_OR_RETURN(ApiClient * api, ctx.Client());
  BERTH_ASSIGN_OR_RETURN(Response response, api->Do(req));
  (void)response;
  return Ok();
}

Status RunPort(Context& ctx, const ArgsOptions& o) {
  BERTH_RETURN_IF_ERROR(RangeArgs(o.info, o.args, 1, 2));
  BERTH_ASSIGN_OR_RETURN(ApiClient * api, ctx.Client());
  BERTH_ASSIGN_OR_RETURN(json info, api->GetJson("/containers/" + o.args[0] + "/json"));
  json ports = json::object();
  if (info.contains("NetworkSettings") && info["NetworkSettings"].is_object()) {
    ports = info["NetworkSettings"].value("Ports", json::object());
  }
  if (!ports.is_object()) ports = json::object();
  std::vector<std::string> lines;
  auto bindings_of = [&](const std::string& port, bool with_key) {
    const json& bindings = ports[port];
    if (!bindings.is_array()) return;
    for (const json& b : bindings) {
      std::string host = JoinHostPort(Str(b, "HostIp"), Str(b, "HostPort"));
      lines.push_back(with_key ? port + " -> " + host : host);
    }
  };
  if (o.args.size() == 2) {
    // docker/cli's runPort: the number must be a uint16 (strconv.ParseUint's error), the
    // protocol defaults to tcp, and the message names the port as given.
    const std::string& given = o.args[1];
    size_t slash = given.find('/');
    std::string number = given.substr(0, slash);
    std::string proto = slash == std::string::npos ? "" : given.substr(slash + 1);
    if (proto.empty()) proto = "tcp";
    bool digits = !number.empty() && number.find_first_not_of("0123456789") == std::string::npos;
    uint64_t value = 0;
    for (char ch : digits ? number : std::string()) {
      value = std::min<uint64_t>(value * 10 + static_cast<uint64_t>(ch - '0'), 1u << 16);
    }
    if (!digits || value > 65535) {
      return MakeError(Code::kInvalidArgument,
                       fmt::format("Error: invalid port ({}): strconv.ParseUint: parsing {}: {}",
                                   number, GoQuote(number),
                                   digits ? "value out of range" : "invalid syntax"));
    }
    std::string port = number + "/" + proto;
    if (!ports.contains(port) || !ports[port].is_array() || ports[port].empty()) {
      return MakeError(Code::kNotFound, fmt::format("Error: No public port '{}' published for {}",
                                                    given, o.args[0]));
    }
    bindings_of(port, false);
  } else {
    std::vector<std::string> keys;
    for (auto it = ports.begin(); it != ports.end(); ++it) keys.push_back(it.key());
    for (const std::string& k : keys) bindings_of(k, true);
    std::sort(lines.begin(), lines.end());
  }
  std::string out;
  for (const std::string& l : lines) out += l + "\n";
  return ctx.Out(out);
}

Status RunTop(Context& ctx, const ArgsOptions& opts) {
  ArgsOptions o = opts;
  for (const std::string& a : ctx.trailing_args()) o.args.push_back(a);
  BERTH_RETURN_IF_ERROR(MinArgs(o.info, o.args, 1));
  Params query;
  if (o.args.size() > 1) {
    std::vector<std::string> ps_args(o.args.begin() + 1, o.args.end());
    query.emplace_back("ps_args", Join(ps_args, " "));
  }
  BERTH_ASSIGN_OR_RETURN(ApiClient * api, ctx.Client());
  BERTH_ASSIGN_OR_RETURN(json top, api->GetJson("/containers/" + o.args[0] + "/top", query));
  format::TabWriter w(20, 3);
  std::vector<std::string> titles;
  for (const json& t : top.value("Titles", json::array())) titles.push_back(format::GoString(t));
  w.Write(Join(titles, "\t") + "\n");
  for (const json& p : top.value("Processes", json::array())) {
    std::vector<std::string> cells;
    for (const json& cell : p) cells.push_back(format::GoString(cell));
    w.Write(Join(cells, "\t") + "\n");
  }
  return ctx.Out(w.Flush());
}

Status RunDiff(Context& ctx, const ArgsOptions& o) {
  BERTH_RETURN_IF_ERROR(ExactArgs(o.info, o.args, 1));
  BERTH_ASSIGN_OR_RETURN(ApiClient * api, ctx.Client());
  BERTH_ASSIGN_OR_RETURN(json changes, api->GetJson("/containers/" + o.args[0] + "/changes"));
  std::string out;
  for (const json& c : changes.is_array() ? changes : json::array()) {
    int64_t kind = Int(c, "Kind");
    const char* k = kind == 0 ? "C" : kind == 1 ? "A" : kind == 2 ? "D" : "?";
    out += fmt::format("{} {}\n", k, Str(c, "Path"));
  }
  return ctx.Out(out);
}

void AddArgsCommand(CLI::App& parent, const std::string& name, const std::string& path,
                    const std::string& operands, const std::string& description,
                    Status (*run)(Context&, const ArgsOptions&), Action* selected) {
  auto o = std::make_shared<ArgsOptions>();
  o->info = {path, path + " " + operands, description};
  CLI::App* cmd = AddCommand(parent, name, description, selected,
                             [o, run](Context& ctx) { return run(ctx, *o); });
  cmd->add_option("ARGS", o->args, operands);
}

// ---------------------------------------------------------------------------------------------
// container prune

struct PruneOptions {
  bool force = false;
  std::vector<std::string> filters;
  std::vector<std::string> args;
  CommandInfo info;
};

Status RunPrune(Context& ctx, const PruneOptions& o) {
  BERTH_RETURN_IF_ERROR(NoArgs(o.info, o.args));
  BERTH_ASSIGN_OR_RETURN(nlohmann::json filters, ParseFilters(o.filters));
  if (!o.force) {
    BERTH_ASSIGN_OR_RETURN(bool yes, ctx.Confirm("WARNING! This will remove all stopped "
                                                 "containers.\nAre you sure you want to "
                                                 "continue?"));
    if (!yes) return MakeError(Code::kCancelled, "");
  }
  Request req;
  req.method = "POST";
  req.path = "/containers/prune";
  if (!filters.empty()) req.query = {{"filters", filters.dump()}};
  BERTH_ASSIGN_OR_RETURN(ApiClient * api, ctx.Client());
  BERTH_ASSIGN_OR_RETURN(Response response, api->Do(req));
  auto report = json::parse(response.body, nullptr, false);
  if (!report.is_object()) report = json::object();
  json deleted = report.value("ContainersDeleted", json::array());
  std::string out;
  if (deleted.is_array() && !deleted.empty()) {
    out = "Deleted Containers:\n";
    for (const json& id : deleted) out += format::GoString(id) + "\n";
    out += "\n";
  }
  out += "Total reclaimed space: " + HumanSize(static_cast<double>(Int(report, "SpaceReclaimed"))) +
         "\n";
  return ctx.Out(out);
}

void AddPruneCommand(CLI::App& container, Action* selected) {
  auto o = std::make_shared<PruneOptions>();
  o->info = {"berth container prune", "berth container prune [OPTIONS]",
             "Remove all stopped containers"};
  CLI::App* cmd = AddCommand(container, "prune", o->info.description, selected,
                             [o](Context& ctx) { return RunPrune(ctx, *o); });
  cmd->add_flag("-f,--force", o->force, "Do not prompt for confirmation");
  cmd->add_option("--filter", o->filters, "Provide filter values (e.g. \"until=<timestamp>\")")
      ->allow_extra_args(false);
  cmd->add_option("args", o->args)->group("");
}

}  // namespace

void AddContainerCommands(CLI::App& root, CLI::App& container, Action* selected) {
  AddPsCommand(root, "ps", "berth ps", selected);
  AddPsCommand(container, "ls", "berth container ls", selected);
  container.get_subcommand("ls")->alias("ps")->alias("list");
  struct Named {
    const char* name;
    Each what;
  };
  for (const Named& n :
       {Named{"stop", Each::kStop}, Named{"restart", Each::kRestart}, Named{"kill", Each::kKill},
        Named{"pause", Each::kPause}, Named{"unpause", Each::kUnpause}, Named{"rm", Each::kRm},
        Named{"wait", Each::kWait}}) {
    AddEachCommand(root, n.name, std::string("berth ") + n.name, n.what, selected);
    AddEachCommand(container, n.name, std::string("berth container ") + n.name, n.what, selected);
  }
  container.get_subcommand("rm")->alias("remove");
  struct Simple {
    const char* name;
    const char* operands;
    const char* description;
    Status (*run)(Context&, const ArgsOptions&);
  };
  for (const Simple& s :
       {Simple{"rename", "CONTAINER NEW_NAME", "Rename a container", &RunRename},
        Simple{"port", "CONTAINER [PRIVATE_PORT[/PROTO]]",
               "List port mappings or a specific mapping for the container", &RunPort},
        Simple{"top", "CONTAINER [ps OPTIONS]", "Display the running processes of a container",
               &RunTop},
        Simple{"diff", "CONTAINER",
               "Inspect changes to files or directories on a container's filesystem", &RunDiff}}) {
    AddArgsCommand(root, s.name, std::string("berth ") + s.name, s.operands, s.description, s.run,
                   selected);
    AddArgsCommand(container, s.name, std::string("berth container ") + s.name, s.operands,
                   s.description, s.run, selected);
  }
  container.get_subcommand("top")->prefix_command();
  root.get_subcommand("top")->prefix_command();
  AddPruneCommand(container, selected);
  AddInspectCommand(container, "inspect", "berth container inspect", "container", selected);
}

}  // namespace berth::cli
