// Volume commands: volume create, ls, inspect, rm, prune. Plain Engine API calls; rows and
// wording follow docker/cli's cli/command/volume.
#include <algorithm>
#include <map>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "base/strings.h"
#include "cli/format/list.h"
#include "cli/format/template.h"
#include "cli/internal/command.h"

namespace berth::cli {
namespace {

using json = nlohmann::ordered_json;

std::string IndentedJson(const json& value) {
  return value.dump(4, ' ', false, json::error_handler_t::replace);
}

// "k=v" -> {k: v}; "k" -> {k: ""} (docker's ConvertKVStringsToMap).
nlohmann::json KeyValues(const std::vector<std::string>& items) {
  nlohmann::json out = nlohmann::json::object();
  for (const std::string& item : items) {
    size_t eq = item.find('=');
    if (eq == std::string::npos) {
      out[item] = "";
    } else {
      out[item.substr(0, eq)] = item.substr(eq + 1);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// volume create

struct CreateOptions {
  std::string driver = "local";
  std::string name;
  std::vector<std::string> labels;
  std::vector<std::string> opts;
  std::vector<std::string> args;
  CommandInfo info;
};

Status RunCreate(Context& ctx, const CreateOptions& opts) {
  BERTH_RETURN_IF_ERROR(RangeArgs(opts.info, opts.args, 0, 1));
  std::string name = opts.name;
  if (!opts.args.empty()) {
    if (!name.empty() && name != opts.args[0]) {
      return MakeError(Code::kInvalidArgument,
                       fmt::format("conflicting options: either specify --name or provide "
                                   "positional arg, not both"));
    }
    name = opts.args[0];
  }
  for (const std::string& o : opts.opts) {
    if (o.find('=') == std::string::npos) {
      ctx.SetExitCode(125);
      return MakeError(Code::kInvalidArgument,
                       fmt::format("invalid argument \"{}\" for \"-o, --opt\" flag: bad format "
                                   "for option: {}",
                                   o, o));
    }
  }
  nlohmann::ordered_json body = {{"Driver", opts.driver}, {"Name", name}};
  if (!opts.opts.empty()) body["DriverOpts"] = KeyValues(opts.opts);
  if (!opts.labels.empty()) body["Labels"] = KeyValues(opts.labels);
  Request req;
  req.method = "POST";
  req.path = "/volumes/create";
  req.headers.emplace_back("Content-Type", "application/json");
  req.body = body.dump();
  BERTH_ASSIGN_OR_RETURN(ApiClient * api, ctx.Client());
  BERTH_ASSIGN_OR_RETURN(Response response, api->Do(req));
  json v = json::parse(response.body, nullptr, false);
  return ctx.Out((v.is_object() ? v.value("Name", "") : "") + "\n");
}

void AddCreateCommand(CLI::App& parent, Action* selected) {
  auto opts = std::make_shared<CreateOptions>();
  opts->info = {"berth volume create", "berth volume create [OPTIONS] [VOLUME]",
                "Create a volume"};
  CLI::App* cmd = AddCommand(parent, "create", opts->info.description, selected,
                             [opts](Context& ctx) { return RunCreate(ctx, *opts); });
  cmd->add_option("-d,--driver", opts->driver, "Specify volume driver name");
  cmd->add_option("--name", opts->name, "Specify volume name")->group("");
  cmd->add_option("--label", opts->labels, "Set metadata for a volume")->allow_extra_args(false);
  cmd->add_option("-o,--opt", opts->opts, "Set driver specific options")->allow_extra_args(false);
  cmd->add_option("VOLUME", opts->args);
}

// ---------------------------------------------------------------------------------------------
// volume ls

struct LsOptions {
  bool quiet = false;
  std::string format;
  std::vector<std::string> filters;
  std::vector<std::string> args;
  CommandInfo info;
};

const format::ListFormat& VolumeFormat() {
  static const format::ListFormat f{
      "table {{.Driver}}\t{{.Name}}", "{{.Name}}",
      json{{"Name", "VOLUME NAME"}, {"Driver", "DRIVER"}, {"Scope", "SCOPE"},
           {"Mountpoint", "MOUNTPOINT"}, {"Labels", "LABELS"}, {"Links", "LINKS"},
           {"Size", "SIZE"}, {"Availability", "AVAILABILITY"}, {"Group", "GROUP"}}};
  return f;
}

json VolumeRow(const json& v) {
  std::string labels;
  if (auto it = v.find("Labels"); it != v.end() && it->is_object()) {
    std::vector<std::string> parts;
    for (const auto& [k, val] : it->items()) {
      parts.push_back(k + "=" + (val.is_string() ? val.get<std::string>() : ""));
    }
    labels = Join(parts, ",");
  }
  return json{{"Name", v.value("Name", "")},
              {"Driver", v.value("Driver", "")},
              {"Scope", v.value("Scope", "")},
              {"Mountpoint", v.value("Mountpoint", "")},
              {"Labels", labels},
              {"Links", "N/A"},
              {"Size", "N/A"},
              {"Availability", "N/A"},
              {"Group", "N/A"}};
}

Status RunLs(Context& ctx, const LsOptions& opts) {
  BERTH_RETURN_IF_ERROR(NoArgs(opts.info, opts.args));
  BERTH_ASSIGN_OR_RETURN(nlohmann::json filters, ParseFilters(opts.filters));
  Params query;
  if (!filters.empty()) query.emplace_back("filters", filters.dump());
  BERTH_ASSIGN_OR_RETURN(ApiClient * api, ctx.Client());
  BERTH_ASSIGN_OR_RETURN(json reply, api->GetJson("/volumes", query));
  std::vector<json> rows;
  if (auto it = reply.find("Volumes"); it != reply.end() && it->is_array()) {
    for (const json& v : *it) rows.push_back(VolumeRow(v));
  }
  std::sort(rows.begin(), rows.end(), [](const json& a, const json& b) {
    return a["Name"].get<std::string>() < b["Name"].get<std::string>();
  });
  std::string user_format = opts.format.empty() ? ctx.ConfigString("volumesFormat") : opts.format;
  std::string fmt_text = format::ResolveFormat(user_format, VolumeFormat(), opts.quiet);
  BERTH_ASSIGN_OR_RETURN(std::string out, format::RenderList(fmt_text, rows, VolumeFormat().headers));
  return ctx.Out(out);
}

void AddLsCommand(CLI::App& parent, Action* selected) {
  auto opts = std::make_shared<LsOptions>();
  opts->info = {"berth volume ls", "berth volume ls [OPTIONS]", "List volumes"};
  CLI::App* cmd = AddCommand(parent, "ls", opts->info.description, selected,
                             [opts](Context& ctx) { return RunLs(ctx, *opts); });
  cmd->alias("list");
  cmd->add_flag("-q,--quiet", opts->quiet, "Only display volume names");
  cmd->add_option("--format", opts->format, "Format output using a custom template");
  cmd->add_option("-f,--filter", opts->filters, "Provide filter values (e.g. \"dangling=true\")")
      ->allow_extra_args(false);
  cmd->add_option("args", opts->args)->group("");
}

// ---------------------------------------------------------------------------------------------
// volume inspect

struct InspectOptions {
  std::string format;
  std::vector<std::string> args;
  CommandInfo info;
};

Status RunInspect(Context& ctx, const InspectOptions& opts) {
  BERTH_RETURN_IF_ERROR(MinArgs(opts.info, opts.args, 1));
  BERTH_ASSIGN_OR_RETURN(ApiClient * api, ctx.Client());
  json elements = json::array();
  std::string formatted;
  std::vector<std::string> errors;
  for (const std::string& name : opts.args) {
    Result<json> got = api->GetJson("/volumes/" + name);
    if (!got.ok()) {
      if (got.error().code == Code::kUnavailable) return std::move(got).error();
      errors.push_back(got.error().message);
      continue;
    }
    if (!opts.format.empty()) {
      BERTH_ASSIGN_OR_RETURN(std::string out, format::RenderOne(opts.format, *got, true));
      formatted += out + "\n";
    } else {
      elements.push_back(*std::move(got));
    }
  }
  BERTH_RETURN_IF_ERROR(ctx.Out(opts.format.empty() ? IndentedJson(elements) + "\n" : formatted));
  if (!errors.empty()) return MakeError(Code::kNotFound, Join(errors, "\n"));
  return Ok();
}

void AddInspectCommand(CLI::App& parent, Action* selected) {
  auto opts = std::make_shared<InspectOptions>();
  opts->info = {"berth volume inspect", "berth volume inspect [OPTIONS] VOLUME [VOLUME...]",
                "Display detailed information on one or more volumes"};
  CLI::App* cmd = AddCommand(parent, "inspect", opts->info.description, selected,
                             [opts](Context& ctx) { return RunInspect(ctx, *opts); });
  cmd->add_option("-f,--format", opts->format, "Format output using a custom template");
  cmd->add_option("VOLUME", opts->args);
}

// ---------------------------------------------------------------------------------------------
// volume rm

struct RmOptions {
  bool force = false;
  std::vector<std::string> args;
  CommandInfo info;
};

Status RunRm(Context& ctx, const RmOptions& opts) {
  BERTH_RETURN_IF_ERROR(MinArgs(opts.info, opts.args, 1));
  BERTH_ASSIGN_OR_RETURN(ApiClient * api, ctx.Client());
  std::vector<std::string> errors;
  for (const std::string& name : opts.args) {
    Request req;
    req.method = "DELETE";
    req.path = "/volumes/" + name;
    if (opts.force) req.query.emplace_back("force", "1");
    Result<Response> got = api->Do(req);
    if (!got.ok()) {
      if (got.error().code == Code::kUnavailable) return std::move(got).error();
      errors.push_back(got.error().message);
      continue;
    }
    BERTH_RETURN_IF_ERROR(ctx.Out(name + "\n"));
  }
  if (!errors.empty()) return MakeError(Code::kInternal, Join(errors, "\n"));
  return Ok();
}

void AddRmCommand(CLI::App& parent, Action* selected) {
  auto opts = std::make_shared<RmOptions>();
  opts->info = {"berth volume rm", "berth volume rm [OPTIONS] VOLUME [VOLUME...]",
                "Remove one or more volumes"};
  CLI::App* cmd = AddCommand(parent, "rm", opts->info.description, selected,
                             [opts](Context& ctx) { return RunRm(ctx, *opts); });
  cmd->alias("remove");
  cmd->add_flag("-f,--force", opts->force, "Force the removal of one or more volumes");
  cmd->add_option("VOLUME", opts->args);
}

// ---------------------------------------------------------------------------------------------
// volume prune

struct PruneOptions {
  bool all = false;
  bool force = false;
  std::vector<std::string> filters;
  std::vector<std::string> args;
  CommandInfo info;
};

Status RunPrune(Context& ctx, const PruneOptions& opts) {
  BERTH_RETURN_IF_ERROR(NoArgs(opts.info, opts.args));
  BERTH_ASSIGN_OR_RETURN(nlohmann::json filters, ParseFilters(opts.filters));
  if (opts.all) filters["all"]["true"] = true;
  if (!opts.force) {
    std::string warning =
        opts.all ? "WARNING! This will remove all local volumes not used by at least one "
                   "container.\nAre you sure you want to continue?"
                 : "WARNING! This will remove anonymous local volumes not used by at least one "
                   "container.\nAre you sure you want to continue?";
    BERTH_ASSIGN_OR_RETURN(bool yes, ctx.Confirm(warning));
    if (!yes) return MakeError(Code::kCancelled, "");
  }
  Request req;
  req.method = "POST";
  req.path = "/volumes/prune";
  if (!filters.empty()) req.query = {{"filters", filters.dump()}};
  BERTH_ASSIGN_OR_RETURN(ApiClient * api, ctx.Client());
  BERTH_ASSIGN_OR_RETURN(Response response, api->Do(req));
  json report = json::parse(response.body, nullptr, false);
  if (!report.is_object()) report = json::object();
  json deleted = report.value("VolumesDeleted", json::array());
  double reclaimed = 0;
  if (deleted.is_array() && !deleted.empty()) {
    std::string out = "Deleted Volumes:\n";
    for (const json& name : deleted) out += format::GoString(name) + "\n";
    BERTH_RETURN_IF_ERROR(ctx.Out(out + "\n"));
    auto it = report.find("SpaceReclaimed");
    if (it != report.end() && it->is_number()) reclaimed = it->get<double>();
  }
  return ctx.Out("Total reclaimed space: " + HumanSize(reclaimed) + "\n");
}

void AddPruneCommand(CLI::App& parent, Action* selected) {
  auto opts = std::make_shared<PruneOptions>();
  opts->info = {"berth volume prune", "berth volume prune [OPTIONS]",
                "Remove unused local volumes"};
  CLI::App* cmd = AddCommand(parent, "prune", opts->info.description, selected,
                             [opts](Context& ctx) { return RunPrune(ctx, *opts); });
  cmd->add_flag("-a,--all", opts->all, "Remove all unused volumes, not just anonymous ones");
  cmd->add_flag("-f,--force", opts->force, "Do not prompt for confirmation");
  cmd->add_option("--filter", opts->filters, "Provide filter values (e.g. \"label=<label>\")")
      ->allow_extra_args(false);
  cmd->add_option("args", opts->args)->group("");
}

}  // namespace

void AddVolumeCommands(CLI::App& volume, Action* selected) {
  AddCreateCommand(volume, selected);
  AddLsCommand(volume, selected);
  AddInspectCommand(volume, selected);
  AddRmCommand(volume, selected);
  AddPruneCommand(volume, selected);
}

}  // namespace berth::cli
