// stats (one sample per container with --no-stream, else one a second) and events (the daemon's event stream, printed
// line by line as it arrives). Numbers and wording follow docker/cli's stats and events.
#include <time.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <thread>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "base/strings.h"
#include "cli/format/list.h"
#include "cli/format/template.h"
#include "cli/internal/command.h"
#include "cli/internal/container_rows.h"

namespace berth::cli {
namespace {

using json = nlohmann::ordered_json;

double Num(const json& j, std::initializer_list<const char*> path) {
  const json* cur = &j;
  for (const char* key : path) {
    if (!cur->is_object() || !cur->contains(key)) return 0;
    cur = &(*cur)[key];
  }
  return cur->is_number() ? cur->get<double>() : 0;
}

}  // namespace

// One row of docker's stats formatter from a GET /containers/{id}/stats?stream=0 reply.
json StatsRow(const json& s, const std::string& requested) {
  double cpu_delta = Num(s, {"cpu_stats", "cpu_usage", "total_usage"}) -
                     Num(s, {"precpu_stats", "cpu_usage", "total_usage"});
  double system_delta =
      Num(s, {"cpu_stats", "system_cpu_usage"}) - Num(s, {"precpu_stats", "system_cpu_usage"});
  double online = Num(s, {"cpu_stats", "online_cpus"});
  if (online == 0 && s.contains("cpu_stats") && s["cpu_stats"].contains("cpu_usage") &&
      s["cpu_stats"]["cpu_usage"].contains("percpu_usage") &&
      s["cpu_stats"]["cpu_usage"]["percpu_usage"].is_array()) {
    online = static_cast<double>(s["cpu_stats"]["cpu_usage"]["percpu_usage"].size());
  }
  double cpu = system_delta > 0 && cpu_delta > 0 ? cpu_delta / system_delta * online * 100.0 : 0;
  // calculateMemUsageUnixNoCache: usage minus inactive file pages (cgroup v2, then v1).
  double usage = Num(s, {"memory_stats", "usage"});
  double inactive = Num(s, {"memory_stats", "stats", "inactive_file"});
  if (inactive == 0) inactive = Num(s, {"memory_stats", "stats", "total_inactive_file"});
  double mem = inactive < usage ? usage - inactive : usage;
  double limit = Num(s, {"memory_stats", "limit"});
  double mem_percent = limit != 0 ? mem / limit * 100.0 : 0;
  double rx = 0, tx = 0;
  if (s.contains("networks") && s["networks"].is_object()) {
    for (const auto& [name, n] : s["networks"].items()) {
      (void)name;
      rx += Num(n, {"rx_bytes"});
      tx += Num(n, {"tx_bytes"});
    }
  }
  double read = 0, write = 0;
  if (s.contains("blkio_stats") && s["blkio_stats"].contains("io_service_bytes_recursive") &&
      s["blkio_stats"]["io_service_bytes_recursive"].is_array()) {
    for (const json& e : s["blkio_stats"]["io_service_bytes_recursive"]) {
      std::string op = ToLower(e.value("op", ""));
      if (op.starts_with("r")) read += Num(e, {"value"});
      if (op.starts_with("w")) write += Num(e, {"value"});
    }
  }
  std::string name = s.value("name", "");
  if (name.starts_with("/")) name.erase(0, 1);
  std::string id = s.value("id", requested);
  return json{
      {"Container", requested},
      {"ID", TruncateId(id)},
      {"Name", name.empty() ? "--" : name},
      {"CPUPerc", fmt::format("{:.2f}%", cpu)},
      {"MemUsage", BytesSize(mem) + " / " + BytesSize(limit)},
      {"MemPerc", fmt::format("{:.2f}%", mem_percent)},
      {"NetIO", HumanSize(rx) + " / " + HumanSize(tx)},
      {"BlockIO", HumanSize(read) + " / " + HumanSize(write)},
      {"PIDs", fmt::format("{}", static_cast<int64_t>(Num(s, {"pids_stats", "current"})))},
  };
}

namespace {

struct StatsOptions {
  bool all = false;
  bool no_stream = false;
  bool no_trunc = false;
  std::string format;
  std::vector<std::string> args;
  CommandInfo info;
};

const format::ListFormat& StatsFormat() {
  static const json headers = {{"Container", "CONTAINER"},
                               {"ID", "CONTAINER ID"},
                               {"Name", "NAME"},
                               {"CPUPerc", "CPU %"},
                               {"MemUsage", "MEM USAGE / LIMIT"},
                               {"MemPerc", "MEM %"},
                               {"NetIO", "NET I/O"},
                               {"BlockIO", "BLOCK I/O"},
                               {"PIDs", "PIDS"}};
  static const format::ListFormat f{
      "table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t"
      "{{.BlockIO}}\t{{.PIDs}}",
      "{{.ID}}", headers};
  return f;
}

// Without --no-stream: a sample of each container a second, the screen cleared before each
// table as docker's (ANSI "clear, home"), until interrupted. Each sample is one-shot; the
// previous one's cpu_stats become its precpu_stats, so CPU % is over the last interval.
Status StreamStats(Context& ctx, ApiClient& api, const StatsOptions& o,
                   const std::vector<std::string>& names, const std::string& fmt_string) {
  std::map<std::string, json> previous;
  while (true) {
    std::vector<json> rows;
    for (const std::string& name : names) {
      Result<json> sample =
          api.GetJson("/containers/" + name + "/stats", {{"stream", "0"}, {"one-shot", "1"}});
      if (!sample) {
        if (sample.error().code == Code::kUnavailable) return std::move(sample).error();
        continue;  // removed meanwhile: no longer shown
      }
      if (auto prev = previous.find(name); prev != previous.end()) {
        (*sample)["precpu_stats"] = prev->second.value("cpu_stats", json::object());
      }
      json row = StatsRow(*sample, name);
      if (o.no_trunc) row["ID"] = sample->value("id", name);
      rows.push_back(std::move(row));
      previous[name] = std::move(*sample);
    }
    BERTH_ASSIGN_OR_RETURN(std::string out,
                           format::RenderList(fmt_string, rows, StatsFormat().headers));
    BERTH_RETURN_IF_ERROR(ctx.Out("\033[2J\033[H" + out));
    if (rows.empty() && !o.all) return Ok();
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
}

Status RunStats(Context& ctx, const StatsOptions& o) {
  BERTH_ASSIGN_OR_RETURN(ApiClient * api, ctx.Client());
  std::vector<std::string> names = o.args;
  if (names.empty()) {
    Params query;
    if (o.all) query.emplace_back("all", "1");
    BERTH_ASSIGN_OR_RETURN(json list, api->GetJson("/containers/json", query));
    for (const json& c : list.is_array() ? list : json::array()) names.push_back(c.value("Id", ""));
  }
  std::string fmt_string = format::ResolveFormat(
      o.format.empty() ? ctx.ConfigString("statsFormat") : o.format, StatsFormat(), false);
  if (!o.no_stream) {
    // Unknown names are an error before anything is drawn, as docker's.
    for (const std::string& name : o.args) {
      BERTH_ASSIGN_OR_RETURN(json info, api->GetJson("/containers/" + name + "/json"));
      (void)info;
    }
    return StreamStats(ctx, *api, o, names, fmt_string);
  }
  std::vector<json> rows;
  std::vector<std::string> errors;
  for (const std::string& name : names) {
    Result<json> sample = api->GetJson("/containers/" + name + "/stats", {{"stream", "0"}});
    if (!sample) {
      if (sample.error().code == Code::kUnavailable) return std::move(sample).error();
      errors.push_back(sample.error().message);
      continue;
    }
    json row = StatsRow(*sample, name);
    if (o.no_trunc) row["ID"] = sample->value("id", name);
    rows.push_back(std::move(row));
  }
  if (!errors.empty() && !o.args.empty()) return MakeError(Code::kNotFound, Join(errors, "\n"));
  BERTH_ASSIGN_OR_RETURN(std::string out,
                         format::RenderList(fmt_string, rows, StatsFormat().headers));
  return ctx.Out(out);
}

void AddStatsCommand(CLI::App& parent, const std::string& name, const std::string& path,
                     Action* selected) {
  auto o = std::make_shared<StatsOptions>();
  o->info = {path, path + " [OPTIONS] [CONTAINER...]",
             "Display a live stream of container(s) resource usage statistics"};
  CLI::App* cmd = AddCommand(parent, name, o->info.description, selected,
                             [o](Context& ctx) { return RunStats(ctx, *o); });
  cmd->add_flag("-a,--all", o->all, "Show all containers (default shows just running)");
  cmd->add_option("--format", o->format, "Format output using a custom template");
  cmd->add_flag("--no-stream", o->no_stream,
                "Disable streaming stats and only pull the first "
                "result");
  cmd->add_flag("--no-trunc", o->no_trunc, "Do not truncate output");
  cmd->add_option("CONTAINER", o->args, "Containers");
}

// ---------------------------------------------------------------------------------------------
// events

struct EventsOptions {
  std::string since;
  std::string until;
  std::vector<std::string> filters;
  std::string format;
  std::vector<std::string> args;
  CommandInfo info;
};

// jsonmessage.RFC3339NanoFixed in local time: 2006-01-02T15:04:05.000000000Z07:00.
std::string Rfc3339NanoFixed(int64_t unix_nanos) {
  time_t secs = static_cast<time_t>(unix_nanos / 1000000000);
  int64_t nanos = unix_nanos % 1000000000;
  struct tm tm {};
  localtime_r(&secs, &tm);
  char buf[64], zone[16];
  strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
  strftime(zone, sizeof(zone), "%z", &tm);
  std::string z = zone;
  std::string tz = z == "+0000" ? "Z" : z.substr(0, 3) + ":" + z.substr(3);
  return fmt::format("{}.{:09d}{}", buf, nanos, tz);
}

Status PrintEvent(Context& ctx, const json& e) {
  std::string out;
  int64_t time_nano = e.value("timeNano", int64_t{0});
  int64_t time = e.value("time", int64_t{0});
  if (time_nano != 0) {
    out += Rfc3339NanoFixed(time_nano) + " ";
  } else if (time != 0) {
    out += Rfc3339NanoFixed(time * 1000000000) + " ";
  }
  json actor = e.value("Actor", json::object());
  out += fmt::format("{} {} {}", e.value("Type", ""), e.value("Action", ""), actor.value("ID", ""));
  if (actor.contains("Attributes") && actor["Attributes"].is_object() &&
      !actor["Attributes"].empty()) {
    std::vector<std::string> attrs;
    for (const auto& [k, v] : actor["Attributes"].items()) {
      attrs.push_back(k + "=" + format::GoString(v));
    }
    std::sort(attrs.begin(), attrs.end());
    out += " (" + Join(attrs, ", ") + ")";
  }
  return ctx.Out(out + "\n");
}

Status RunEvents(Context& ctx, const EventsOptions& o) {
  BERTH_RETURN_IF_ERROR(NoArgs(o.info, o.args));
  BERTH_ASSIGN_OR_RETURN(nlohmann::json filters, ParseFilters(o.filters));
  Request req;
  req.path = "/events";
  if (!o.since.empty()) req.query.emplace_back("since", DockerTimestamp(o.since, ctx.Now()));
  if (!o.until.empty()) req.query.emplace_back("until", DockerTimestamp(o.until, ctx.Now()));
  if (!filters.empty()) req.query.emplace_back("filters", filters.dump());
  std::string fmt_string = o.format == "json" ? "{{json .}}" : o.format;
  BERTH_ASSIGN_OR_RETURN(ApiClient * api, ctx.Client());
  return api->StreamLines(req, [&](std::string_view line) -> Status {
    if (TrimSpace(line).empty()) return Ok();
    auto event = json::parse(line, nullptr, false);
    if (event.is_discarded()) {
      return MakeError(Code::kDataLoss, "events: the daemon sent invalid JSON");
    }
    if (fmt_string.empty()) return PrintEvent(ctx, event);
    BERTH_ASSIGN_OR_RETURN(std::string out, format::RenderOne(fmt_string, event, false));
    return ctx.Out(out + "\n");
  });
}

void AddEventsCommand(CLI::App& parent, const std::string& name, const std::string& path,
                      Action* selected) {
  auto o = std::make_shared<EventsOptions>();
  o->info = {path, path + " [OPTIONS]", "Get real time events from the server"};
  CLI::App* cmd = AddCommand(parent, name, o->info.description, selected,
                             [o](Context& ctx) { return RunEvents(ctx, *o); });
  cmd->add_option("-f,--filter", o->filters, "Filter output based on conditions provided")
      ->allow_extra_args(false);
  cmd->add_option("--format", o->format, "Format output using a custom template");
  cmd->add_option("--since", o->since, "Show all events created since timestamp");
  cmd->add_option("--until", o->until, "Stream events until this timestamp");
  cmd->add_option("args", o->args)->group("");
}

}  // namespace

void AddStatsCommands(CLI::App& root, CLI::App& container, Action* selected) {
  AddStatsCommand(root, "stats", "berth stats", selected);
  AddStatsCommand(container, "stats", "berth container stats", selected);
  AddEventsCommand(root, "events", "berth events", selected);
}

}  // namespace berth::cli
